package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
)

func testUsers(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	created := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	alice, err := s.CreateUser(c, engine.User{Name: "alice", PasswordHash: "$argon2id$a", QuotaBytes: 1000, Created: created})
	must(t, err)
	bob := newUser(t, s, "bob")
	if alice == bob {
		t.Fatalf("two users got id %d", alice)
	}
	_, err = s.CreateUser(c, engine.User{Name: "alice", PasswordHash: "x"})
	mustIs(t, err, engine.ErrExists, "CreateUser with a taken name")

	u, err := s.User(c, alice)
	must(t, err)
	if u.ID != alice || u.Name != "alice" || u.PasswordHash != "$argon2id$a" || u.QuotaBytes != 1000 || !u.Created.Equal(created) {
		t.Errorf("User = %+v", u)
	}
	if b, err := s.User(c, bob); err != nil || b.Created.IsZero() {
		t.Errorf("User(bob) = %+v, %v; want a creation time set by the store", b, err)
	}
	byName, err := s.UserByName(c, "bob")
	must(t, err)
	if byName.ID != bob {
		t.Errorf("UserByName(bob).ID = %d, want %d", byName.ID, bob)
	}
	_, err = s.UserByName(c, "carol")
	mustIs(t, err, engine.ErrNotFound, "UserByName of an unknown name")
	_, err = s.User(c, bob+alice+100)
	mustIs(t, err, engine.ErrNotFound, "User of an unknown id")

	users, err := s.Users(c)
	must(t, err)
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"alice", "bob"}) {
		t.Errorf("Users = %v", names)
	}

	must(t, s.SetPassword(c, bob, "$2y$new"))
	must(t, s.SetQuotaLimit(c, bob, 5000))
	u, err = s.User(c, bob)
	must(t, err)
	if u.PasswordHash != "$2y$new" || u.QuotaBytes != 5000 {
		t.Errorf("after SetPassword/SetQuotaLimit: %+v", u)
	}
	if q := quota(t, s, bob); q.Limit != 5000 || q.Used != 0 || q.Messages != 0 {
		t.Errorf("Quota = %+v", q)
	}
	mustIs(t, s.SetPassword(c, bob+alice+100, "x"), engine.ErrNotFound, "SetPassword of an unknown user")
	mustIs(t, s.SetQuotaLimit(c, bob+alice+100, 1), engine.ErrNotFound, "SetQuotaLimit of an unknown user")

	must(t, s.DeleteUser(c, alice))
	_, err = s.User(c, alice)
	mustIs(t, err, engine.ErrNotFound, "User after DeleteUser")
	_, err = s.UserByName(c, "alice")
	mustIs(t, err, engine.ErrNotFound, "UserByName after DeleteUser")
	_, err = s.Quota(c, alice)
	mustIs(t, err, engine.ErrNotFound, "Quota after DeleteUser")
	mustIs(t, s.DeleteUser(c, alice), engine.ErrNotFound, "DeleteUser twice")
	again := newUser(t, s, "alice") // the name is free again
	if again == bob {
		t.Errorf("recreated user got bob's id")
	}
}

func testAddresses(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "bob")
	must(t, s.AddAddress(c, engine.Address{Address: "alice@example.com", UserID: alice}))
	must(t, s.AddAddress(c, engine.Address{Address: "postmaster@example.com", UserID: alice, Alias: true}))
	must(t, s.AddAddress(c, engine.Address{Address: "bob@пример.рф", UserID: bob}))

	mustIs(t, s.AddAddress(c, engine.Address{Address: "alice@example.com", UserID: bob}), engine.ErrExists, "address of another user")
	mustIs(t, s.AddAddress(c, engine.Address{Address: "alice@example.com", UserID: alice, Alias: true}), engine.ErrExists, "address added twice")
	mustIs(t, s.AddAddress(c, engine.Address{Address: "ghost@example.com", UserID: alice + bob + 100}), engine.ErrNotFound, "address of an unknown user")

	for addr, want := range map[string]engine.UserID{"alice@example.com": alice, "postmaster@example.com": alice, "bob@пример.рф": bob} {
		got, err := s.ResolveAddress(c, addr)
		if err != nil || got != want {
			t.Errorf("ResolveAddress(%q) = %d, %v; want %d", addr, got, err, want)
		}
	}
	// Normalisation is the engine's job: the store matches exactly.
	_, err := s.ResolveAddress(c, "Alice@example.com")
	mustIs(t, err, engine.ErrNotFound, "ResolveAddress with other case")

	addrs, err := s.Addresses(c, alice)
	must(t, err)
	slices.SortFunc(addrs, func(a, b engine.Address) int {
		if a.Address < b.Address {
			return -1
		}
		return 1
	})
	want := []engine.Address{{Address: "alice@example.com", UserID: alice}, {Address: "postmaster@example.com", UserID: alice, Alias: true}}
	if !slices.Equal(addrs, want) {
		t.Errorf("Addresses = %+v, want %+v", addrs, want)
	}

	must(t, s.RemoveAddress(c, "postmaster@example.com"))
	_, err = s.ResolveAddress(c, "postmaster@example.com")
	mustIs(t, err, engine.ErrNotFound, "ResolveAddress after RemoveAddress")
	mustIs(t, s.RemoveAddress(c, "postmaster@example.com"), engine.ErrNotFound, "RemoveAddress twice")

	must(t, s.DeleteUser(c, alice))
	_, err = s.ResolveAddress(c, "alice@example.com")
	mustIs(t, err, engine.ErrNotFound, "ResolveAddress after DeleteUser")
	must(t, s.AddAddress(c, engine.Address{Address: "alice@example.com", UserID: bob, Alias: true}))
}

func testMailboxes(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "bob")
	inbox, err := s.CreateMailbox(c, alice, "INBOX", "")
	must(t, err)
	if inbox.Name != "INBOX" || inbox.UserID != alice || inbox.UIDNext != 1 || inbox.HighestModSeq != 1 || inbox.UIDValidity == 0 || inbox.ID == 0 {
		t.Errorf("new INBOX = %+v; want UIDNext 1, HighestModSeq 1, a UIDVALIDITY", inbox)
	}
	sent, err := s.CreateMailbox(c, alice, "Sent", engine.SpecialSent)
	must(t, err)
	if sent.SpecialUse != engine.SpecialSent {
		t.Errorf("SpecialUse = %q", sent.SpecialUse)
	}
	_, err = s.CreateMailbox(c, alice, "INBOX", "")
	mustIs(t, err, engine.ErrExists, "CreateMailbox with a taken name")
	_, err = s.CreateMailbox(c, alice+bob+100, "INBOX", "")
	mustIs(t, err, engine.ErrNotFound, "CreateMailbox for an unknown user")
	bobInbox := newMailbox(t, s, bob, "INBOX") // names are per user
	newMailbox(t, s, alice, "Archive/2024")
	newMailbox(t, s, alice, "Archive")
	newMailbox(t, s, alice, "Ärger")

	list, err := s.Mailboxes(c, alice)
	must(t, err)
	var names []string
	for _, m := range list {
		names = append(names, m.Name)
		if m.UserID != alice {
			t.Errorf("Mailboxes(alice) holds %+v", m)
		}
	}
	if !slices.IsSorted(names) || len(names) != 5 {
		t.Errorf("Mailboxes = %v, want 5 names sorted", names)
	}

	got, err := s.MailboxByName(c, alice, "Sent")
	must(t, err)
	if got.ID != sent.ID || got.UIDValidity != sent.UIDValidity {
		t.Errorf("MailboxByName = %+v, want %+v", got, sent)
	}
	got, err = s.Mailbox(c, alice, inbox.ID)
	must(t, err)
	if got.Name != "INBOX" {
		t.Errorf("Mailbox = %+v", got)
	}
	_, err = s.MailboxByName(c, alice, "inbox")
	mustIs(t, err, engine.ErrNotFound, "MailboxByName is exact")
	_, err = s.Mailbox(c, bob, inbox.ID)
	mustIs(t, err, engine.ErrNotFound, "Mailbox of another user")
	mustIs(t, s.DeleteMailbox(c, bob, inbox.ID), engine.ErrNotFound, "DeleteMailbox of another user")

	// UIDVALIDITY only grows for a user, also across delete and re-create.
	seen := map[uint32]bool{}
	last := uint32(0)
	for _, m := range list {
		seen[m.UIDValidity] = true
		last = max(last, m.UIDValidity)
	}
	for i := 0; i < 3; i++ {
		must(t, s.DeleteMailbox(c, alice, sent.ID))
		_, err = s.Mailbox(c, alice, sent.ID)
		mustIs(t, err, engine.ErrNotFound, "Mailbox after DeleteMailbox")
		again, err := s.CreateMailbox(c, alice, "Sent", engine.SpecialSent)
		must(t, err)
		if again.ID == sent.ID {
			t.Errorf("re-created mailbox kept id %d", sent.ID)
		}
		if again.UIDValidity <= last || seen[again.UIDValidity] {
			t.Errorf("re-created mailbox UIDVALIDITY %d, want more than %d", again.UIDValidity, last)
		}
		last = again.UIDValidity
		seen[last] = true
		sent = again
	}
	if bobInbox.UIDValidity == 0 {
		t.Errorf("bob's INBOX has no UIDVALIDITY")
	}
	mustIs(t, s.DeleteMailbox(c, alice, sent.ID+1000), engine.ErrNotFound, "DeleteMailbox of an unknown id")
}

func testSubscriptions(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "bob")
	box := newMailbox(t, s, alice, "Lists/go")
	must(t, s.SetSubscribed(c, alice, "Lists/go", true))
	must(t, s.SetSubscribed(c, alice, "Lists/go", true)) // twice is fine
	must(t, s.SetSubscribed(c, alice, "Nowhere", true))  // need not exist
	must(t, s.SetSubscribed(c, bob, "Lists/go", true))

	got, err := s.Mailbox(c, alice, box.ID)
	must(t, err)
	if !got.Subscribed {
		t.Errorf("Mailbox.Subscribed = false after SetSubscribed")
	}
	subs, err := s.Subscriptions(c, alice)
	must(t, err)
	if !slices.Equal(subs, []string{"Lists/go", "Nowhere"}) {
		t.Errorf("Subscriptions = %v", subs)
	}

	must(t, s.DeleteMailbox(c, alice, box.ID))
	subs, err = s.Subscriptions(c, alice)
	must(t, err)
	if !slices.Contains(subs, "Lists/go") {
		t.Errorf("subscription did not survive DeleteMailbox: %v", subs)
	}
	box = newMailbox(t, s, alice, "Lists/go")
	if !box.Subscribed {
		t.Errorf("re-created mailbox is not subscribed by name")
	}
	must(t, s.SetSubscribed(c, alice, "Lists/go", false))
	must(t, s.SetSubscribed(c, alice, "Lists/go", false))
	subs, err = s.Subscriptions(c, alice)
	must(t, err)
	if !slices.Equal(subs, []string{"Nowhere"}) {
		t.Errorf("Subscriptions after unsubscribe = %v", subs)
	}
	subs, err = s.Subscriptions(c, bob)
	must(t, err)
	if !slices.Equal(subs, []string{"Lists/go"}) {
		t.Errorf("bob's Subscriptions = %v", subs)
	}
}

func testRename(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "bob")
	before := map[string]engine.Mailbox{}
	for _, name := range []string{"Work", "Work/2024", "Work/2024/Q1", "Workshop", "Other"} {
		before[name] = newMailbox(t, s, alice, name)
	}
	uids := appendMsgs(t, s, alice, before["Work/2024"].ID, g.messages(3)...)

	must(t, s.RenameMailbox(c, alice, "Work", "Jobs"))
	for old, want := range map[string]string{"Work": "Jobs", "Work/2024": "Jobs/2024", "Work/2024/Q1": "Jobs/2024/Q1", "Workshop": "Workshop", "Other": "Other"} {
		got, err := s.Mailbox(c, alice, before[old].ID)
		must(t, err)
		if got.Name != want || got.UIDValidity != before[old].UIDValidity {
			t.Errorf("after rename %q is %q (UIDVALIDITY %d), want %q (%d)", old, got.Name, got.UIDValidity, want, before[old].UIDValidity)
		}
	}
	if _, err := s.MailboxByName(c, alice, "Work/2024"); err == nil {
		t.Errorf("old child name still resolves")
	}
	if got := uidList(t, s, alice, before["Work/2024"].ID); len(got) != len(uids) {
		t.Errorf("renamed mailbox holds %v, want %v", got, uids)
	}

	mustIs(t, s.RenameMailbox(c, alice, "Jobs", "Other"), engine.ErrExists, "rename onto an existing mailbox")
	// A child's new name is taken: nothing may be renamed.
	newMailbox(t, s, alice, "Dest/2024")
	mustIs(t, s.RenameMailbox(c, alice, "Jobs", "Dest"), engine.ErrExists, "rename whose child target exists")
	if _, err := s.MailboxByName(c, alice, "Jobs"); err != nil {
		t.Errorf("failed rename changed the mailbox: %v", err)
	}
	if _, err := s.MailboxByName(c, alice, "Dest"); err == nil {
		t.Errorf("failed rename left a half-renamed tree")
	}
	mustIs(t, s.RenameMailbox(c, alice, "Missing", "Anything"), engine.ErrNotFound, "rename of a missing mailbox")
	mustIs(t, s.RenameMailbox(c, bob, "Jobs", "Mine"), engine.ErrNotFound, "rename of another user's mailbox")
	// A rename below itself.
	must(t, s.RenameMailbox(c, alice, "Jobs", "Jobs/Old"))
	got, err := s.Mailbox(c, alice, before["Work/2024/Q1"].ID)
	must(t, err)
	if got.Name != "Jobs/Old/2024/Q1" {
		t.Errorf("rename below itself: child is %q", got.Name)
	}
}

// testIsolation checks that no message operation reaches another user's mailbox.
func testIsolation(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "bob")
	a := newMailbox(t, s, alice, "INBOX")
	b := newMailbox(t, s, bob, "INBOX")
	appendMsgs(t, s, alice, a.ID, g.messages(2)...)
	all := everything()
	checks := map[string]error{}
	_, _, err := s.Append(c, bob, a.ID, g.messages(1))
	checks["Append"] = err
	_, _, err = s.UIDs(c, bob, a.ID)
	checks["UIDs"] = err
	checks["Messages"] = s.Messages(c, bob, a.ID, all, func(*engine.MessageMeta) error { return nil })
	_, err = s.Inline(c, bob, a.ID, 1)
	checks["Inline"] = err
	_, _, err = s.StoreFlags(c, bob, a.ID, all, engine.FlagsAdd, []string{engine.FlagSeen}, 0)
	checks["StoreFlags"] = err
	_, _, err = s.Expunge(c, bob, a.ID, all)
	checks["Expunge"] = err
	_, err = s.Copy(c, bob, a.ID, b.ID, all)
	checks["Copy from"] = err
	_, err = s.Copy(c, alice, a.ID, b.ID, all)
	checks["Copy to"] = err
	_, err = s.Move(c, bob, a.ID, b.ID, all)
	checks["Move from"] = err
	_, err = s.Move(c, alice, a.ID, b.ID, all)
	checks["Move to"] = err
	_, err = s.Journal(c, bob, a.ID, 0)
	checks["Journal"] = err
	_, err = s.Search(c, bob, a.ID, &engine.SearchQuery{Op: engine.SearchAll})
	checks["Search"] = err
	_, err = s.Status(c, bob, a.ID)
	checks["Status"] = err
	for op, err := range checks {
		mustIs(t, err, engine.ErrNotFound, op+" on another user's mailbox")
	}
	if got := uidList(t, s, alice, a.ID); len(got) != 2 {
		t.Errorf("alice's mailbox changed: %v", got)
	}
	if st := status(t, s, bob, b.ID); st.Messages != 0 {
		t.Errorf("bob's mailbox changed: %+v", st)
	}
}
