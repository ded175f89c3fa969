package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// source is a store filled the way mail arrives and is handled: appends,
// copies (which share text), moves, flag changes and expunges, so UIDs
// have gaps and MODSEQs differ from message to message.
type source struct {
	s     *Store
	users []engine.User
	blobs []engine.BlobID
}

// words fill search text; the non-ASCII ones exercise folding.
var words = []string{"invoice", "Straße", "ÉTÉ", "meeting", "Ωmega", "ｆｕｌｌ", "budget", "naïve", "Release", "日本語"}

func loadMessage(r *rand.Rand, i int, blobs []engine.BlobID) engine.NewMessage {
	pick := func() string { return words[r.IntN(len(words))] }
	zone := time.FixedZone("", (r.IntN(27)-12)*3600)
	m := engine.NewMessage{
		EmailID:      engine.EmailID(r.Uint64() >> 1),
		InternalDate: time.Date(2025, 1, 1, 0, 0, 0, 0, zone).Add(time.Duration(i) * 37 * time.Minute),
		Size:         int64(500 + r.IntN(50000)),
		Envelope:     []byte(fmt.Sprintf("envelope %d", i)),
		Structure:    []byte(fmt.Sprintf("structure %d", i)),
	}
	if r.IntN(4) > 0 {
		m.Inline = make([]byte, r.IntN(3000)+1)
		for j := range m.Inline {
			m.Inline[j] = byte(r.Uint32())
		}
	}
	if r.IntN(6) > 0 {
		m.HeaderText = fmt.Sprintf("From: Sender %d <s%d@example.com>\nSubject: %s %s\n", i, i, pick(), pick())
		m.BodyText = fmt.Sprintf("Message %d about %s and %s.\n%s", i, pick(), pick(), pick())
		m.SentDate = m.InternalDate.Add(-time.Duration(r.IntN(3600)) * time.Second)
	}
	for n := r.IntN(3); n > 0; n-- {
		m.Blobs = append(m.Blobs, blobs[r.IntN(len(blobs))])
	}
	switch r.IntN(5) {
	case 0:
		m.Flags = []string{`\Seen`}
	case 1:
		m.Flags = []string{`\Seen`, `\Flagged`, "$Work"}
	case 2:
		m.Flags = []string{`\Deleted`, "Later"}
	}
	return m
}

// fillSource builds two users with nested mailboxes and n messages each.
func fillSource(t testing.TB, s *Store, n int) *source {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, uint64(n)))
	src := &source{s: s}
	for i := range 20 {
		src.blobs = append(src.blobs, blobID(1000+i))
	}
	for _, name := range []string{"alice", "bob"} {
		id, err := s.CreateUser(ctx, engine.User{Name: name, PasswordHash: "$argon2id$" + name, QuotaBytes: 1 << 40})
		must(t, err)
		u, err := s.User(ctx, id)
		must(t, err)
		src.users = append(src.users, u)
		boxes := map[string]engine.Mailbox{}
		for _, b := range []struct{ name, use string }{{"INBOX", ""}, {"Work", ""}, {"Work/Projects", engine.SpecialArchive}, {"Trash", engine.SpecialTrash}} {
			mb, err := s.CreateMailbox(ctx, id, b.name, b.use)
			must(t, err)
			boxes[b.name] = mb
		}
		must(t, s.SetSubscribed(ctx, id, "INBOX", true))
		must(t, s.SetSubscribed(ctx, id, "Work/Projects", true))
		must(t, s.SetSubscribed(ctx, id, "Gone", true)) // names no mailbox
		inbox, work, projects, trash := boxes["INBOX"].ID, boxes["Work"].ID, boxes["Work/Projects"].ID, boxes["Trash"].ID
		for done := 0; done < n; {
			batch := min(1+r.IntN(40), n-done)
			msgs := make([]engine.NewMessage, batch)
			for i := range msgs {
				msgs[i] = loadMessage(r, done+i, src.blobs)
			}
			_, uids, err := s.Append(ctx, id, inbox, msgs)
			must(t, err)
			done += batch
			some := func() *roaring.Bitmap {
				b := roaring.New()
				for _, u := range uids {
					if r.IntN(4) == 0 {
						b.Add(uint32(u))
					}
				}
				return b
			}
			_, err = s.Copy(ctx, id, inbox, work, some())
			must(t, err)
			_, err = s.Move(ctx, id, inbox, projects, some())
			must(t, err)
			_, _, err = s.StoreFlags(ctx, id, inbox, some(), engine.FlagsAdd, []string{`\Answered`, "Todo"}, 0)
			must(t, err)
			_, _, err = s.Expunge(ctx, id, inbox, some())
			must(t, err)
			_, err = s.Copy(ctx, id, work, trash, some()) // UIDs of inbox: sparse hits
			must(t, err)
		}
	}
	// bob's limit drops below what he stores: a load must still take it all.
	must(t, s.SetQuotaLimit(ctx, src.users[1].ID, 1000))
	return src
}

// copyStore loads every user and mailbox of src into dst through Dumper and
// Loader, batch messages per LoadMessages call, and returns the user ids
// in dst by name.
func copyStore(t testing.TB, src, dst *Store, batch int) map[string]engine.UserID {
	t.Helper()
	ctx := context.Background()
	users, err := src.Users(ctx)
	must(t, err)
	ids := map[string]engine.UserID{}
	for _, u := range users {
		id, err := dst.CreateUser(ctx, engine.User{Name: u.Name, PasswordHash: u.PasswordHash, QuotaBytes: u.QuotaBytes, Created: u.Created})
		must(t, err)
		ids[u.Name] = id
		subs, err := src.Subscriptions(ctx, u.ID)
		must(t, err)
		for _, name := range subs {
			must(t, dst.SetSubscribed(ctx, id, name, true))
		}
		boxes, err := src.Mailboxes(ctx, u.ID)
		must(t, err)
		for _, mb := range boxes {
			loaded, err := dst.LoadMailbox(ctx, id, mb)
			must(t, err)
			var pending []*engine.MessageDump
			flush := func() {
				must(t, dst.LoadMessages(ctx, id, loaded.ID, pending))
				pending = pending[:0]
			}
			must(t, src.DumpMessages(ctx, u.ID, mb.ID, 0, func(d *engine.MessageDump) error {
				c := *d
				pending = append(pending, &c)
				if len(pending) == batch {
					flush()
				}
				return nil
			}))
			flush()
		}
	}
	return ids
}

// dumpAll returns every message of a mailbox as DumpMessages gives it.
func dumpAll(t testing.TB, s *Store, user engine.UserID, mb engine.MailboxID) []engine.MessageDump {
	t.Helper()
	var out []engine.MessageDump
	must(t, s.DumpMessages(context.Background(), user, mb, 0, func(d *engine.MessageDump) error {
		out = append(out, *d)
		return nil
	}))
	return out
}

// sameTime reports whether two times are the same instant in the same UTC
// offset: what a client sees of INTERNALDATE.
func sameTime(a, b time.Time) bool {
	_, za := a.Zone()
	_, zb := b.Zone()
	return a.Equal(b) && za == zb && a.IsZero() == b.IsZero()
}

// sameDump compares two dumps field by field, times by instant and offset.
func sameDump(a, b engine.MessageDump) error {
	if !sameTime(a.InternalDate, b.InternalDate) || !sameTime(a.SentDate, b.SentDate) {
		return fmt.Errorf("dates %v/%v, want %v/%v", b.InternalDate, b.SentDate, a.InternalDate, a.SentDate)
	}
	a.InternalDate, b.InternalDate, a.SentDate, b.SentDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(a.Inline) == 0 && len(b.Inline) == 0 {
		a.Inline, b.Inline = nil, nil
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("got %+v\nwant %+v", b, a)
	}
	return nil
}

// assertSameStore checks that dst holds what src holds, as every client
// and operator tool sees it.
func assertSameStore(t *testing.T, src, dst *Store, dstUsers map[string]engine.UserID) {
	t.Helper()
	ctx := context.Background()
	users, err := src.Users(ctx)
	must(t, err)
	var allBlobs []engine.BlobID
	for _, u := range users {
		du := dstUsers[u.Name]
		got, err := dst.User(ctx, du)
		must(t, err)
		if got.Name != u.Name || got.PasswordHash != u.PasswordHash || got.QuotaBytes != u.QuotaBytes || !got.Created.Equal(u.Created) {
			t.Errorf("user %+v, want %+v", got, u)
		}
		qs, err := src.Quota(ctx, u.ID)
		must(t, err)
		qd, err := dst.Quota(ctx, du)
		must(t, err)
		if qs != qd {
			t.Errorf("%s: quota %+v, want %+v", u.Name, qd, qs)
		}
		ss, err := src.Subscriptions(ctx, u.ID)
		must(t, err)
		sd, err := dst.Subscriptions(ctx, du)
		must(t, err)
		if !slices.Equal(ss, sd) {
			t.Errorf("%s: subscriptions %q, want %q", u.Name, sd, ss)
		}
		srcBoxes, err := src.Mailboxes(ctx, u.ID)
		must(t, err)
		dstBoxes, err := dst.Mailboxes(ctx, du)
		must(t, err)
		if len(srcBoxes) != len(dstBoxes) {
			t.Fatalf("%s: %d mailboxes, want %d", u.Name, len(dstBoxes), len(srcBoxes))
		}
		for i, sb := range srcBoxes {
			db := dstBoxes[i]
			stS, err := src.Status(ctx, u.ID, sb.ID)
			must(t, err)
			stD, err := dst.Status(ctx, du, db.ID)
			must(t, err)
			stS.ID, stS.UserID, stD.ID, stD.UserID = 0, 0, 0, 0
			if stS != stD {
				t.Errorf("%s/%s: status %+v, want %+v", u.Name, sb.Name, stD, stS)
			}
			uS, hS, err := src.UIDs(ctx, u.ID, sb.ID)
			must(t, err)
			uD, hD, err := dst.UIDs(ctx, du, db.ID)
			must(t, err)
			if !uS.Equals(uD) || hS != hD {
				t.Errorf("%s/%s: UIDs %v (highest %d), want %v (%d)", u.Name, sb.Name, uD.ToArray(), hD, uS.ToArray(), hS)
			}
			dS, dD := dumpAll(t, src, u.ID, sb.ID), dumpAll(t, dst, du, db.ID)
			if len(dS) != len(dD) {
				t.Fatalf("%s/%s: %d messages dumped, want %d", u.Name, sb.Name, len(dD), len(dS))
			}
			for j := range dS {
				if err := sameDump(dS[j], dD[j]); err != nil {
					t.Fatalf("%s/%s UID %d: %v", u.Name, sb.Name, dS[j].UID, err)
				}
				allBlobs = append(allBlobs, dS[j].Blobs...)
			}
			// What FETCH reads: the rows and the inline segments.
			var metaS, metaD []*engine.MessageMeta
			collect := func(out *[]*engine.MessageMeta) func(*engine.MessageMeta) error {
				return func(m *engine.MessageMeta) error { *out = append(*out, m); return nil }
			}
			must(t, src.Messages(ctx, u.ID, sb.ID, uS, collect(&metaS)))
			must(t, dst.Messages(ctx, du, db.ID, uD, collect(&metaD)))
			for j, m := range metaS {
				d := metaD[j]
				if !sameTime(m.InternalDate, d.InternalDate) {
					t.Fatalf("UID %d: internal date %v, want %v", m.UID, d.InternalDate, m.InternalDate)
				}
				a, b := *m, *d
				a.InternalDate, b.InternalDate = time.Time{}, time.Time{}
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s/%s: meta %+v, want %+v", u.Name, sb.Name, b, a)
				}
				iS, err := src.Inline(ctx, u.ID, sb.ID, m.UID)
				must(t, err)
				iD, err := dst.Inline(ctx, du, db.ID, m.UID)
				must(t, err)
				if !slices.Equal(iS, iD) {
					t.Fatalf("UID %d: inline segments differ", m.UID)
				}
			}
			kS, err := src.Keywords(ctx, u.ID, sb.ID)
			must(t, err)
			kD, err := dst.Keywords(ctx, du, db.ID)
			must(t, err)
			if !slices.Equal(kS, kD) {
				t.Errorf("%s/%s: keywords %q, want %q", u.Name, sb.Name, kD, kS)
			}
			for _, w := range words {
				q := &engine.SearchQuery{Op: engine.SearchText, Value: w}
				rS, err := src.Search(ctx, u.ID, sb.ID, q)
				must(t, err)
				rD, err := dst.Search(ctx, du, db.ID, q)
				must(t, err)
				if !rS.Equals(rD) {
					t.Errorf("%s/%s: TEXT %q finds %v, want %v", u.Name, sb.Name, w, rD.ToArray(), rS.ToArray())
				}
			}
			// The journal of the source stays behind: a client that cached
			// an older MODSEQ resynchronises, one that is current sees no change.
			if _, err := dst.Journal(ctx, du, db.ID, db.HighestModSeq-1); !errors.Is(err, engine.ErrJournalExpired) {
				t.Errorf("%s/%s: journal since %d: %v, want ErrJournalExpired", u.Name, sb.Name, db.HighestModSeq-1, err)
			}
			if ch, err := dst.Journal(ctx, du, db.ID, db.HighestModSeq); err != nil || len(ch) != 0 {
				t.Errorf("%s/%s: journal since HIGHESTMODSEQ: %v, %v", u.Name, sb.Name, ch, err)
			}
			if first, last, err := dst.ClaimRecent(ctx, du, db.ID); err != nil || first <= last {
				t.Errorf("%s/%s: loaded messages are \\Recent: %d:%d %v", u.Name, sb.Name, first, last, err)
			}
		}
	}
	rS, err := src.BlobRefs(ctx, allBlobs)
	must(t, err)
	rD, err := dst.BlobRefs(ctx, allBlobs)
	must(t, err)
	if !slices.Equal(rS, rD) {
		t.Errorf("blob references %v, want %v", rD, rS)
	}
	if drift, err := dst.RecountBlobRefs(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("blob reference drift after load: %v %v", drift, err)
	}
	if drift, err := dst.RecountQuota(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("quota drift after load: %v %v", drift, err)
	}
	// Copies share their text in the target as in the source.
	var nS, nD int64
	must(t, src.r.QueryRow(`SELECT count(*) FROM texts`).Scan(&nS))
	must(t, dst.r.QueryRow(`SELECT count(*) FROM texts`).Scan(&nD))
	if nS != nD {
		t.Errorf("%d texts after load, source has %d", nD, nS)
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	src := fillSource(t, openTemp(t, Options{TextIndex: TextIndexInline}), 300)
	for _, mode := range []struct {
		name string
		mode TextIndexMode
	}{{"inline", TextIndexInline}, {"queued", TextIndexManual}, {"background", TextIndexBackground}} {
		t.Run(mode.name, func(t *testing.T) {
			dst := openTemp(t, Options{TextIndex: mode.mode})
			ids := copyStore(t, src.s, dst, 37)
			assertSameStore(t, src.s, dst, ids)
			if mode.mode == TextIndexBackground {
				waitBackground(t, dst)
				_, err := dst.w.Exec(`INSERT INTO words_fts(words_fts) VALUES ('integrity-check')`)
				must(t, err)
			}
			// New mail goes on where the source left off.
			ctx := context.Background()
			alice := ids["alice"]
			inbox, err := dst.MailboxByName(ctx, alice, "INBOX")
			must(t, err)
			_, uids, err := dst.Append(ctx, alice, inbox.ID, []engine.NewMessage{testMessage(1)})
			must(t, err)
			if uids[0] != inbox.UIDNext {
				t.Errorf("first new UID %d, want the loaded UIDNEXT %d", uids[0], inbox.UIDNext)
			}
			st, err := dst.Status(ctx, alice, inbox.ID)
			must(t, err)
			if st.HighestModSeq != inbox.HighestModSeq+1 {
				t.Errorf("HIGHESTMODSEQ after an append %d, want %d", st.HighestModSeq, inbox.HighestModSeq+1)
			}
			ch, err := dst.Journal(ctx, alice, inbox.ID, inbox.HighestModSeq)
			must(t, err)
			if len(ch) != 1 || ch[0].UID != uids[0] || ch[0].Kind != engine.ChangeAppend {
				t.Errorf("journal after the load %+v", ch)
			}
		})
	}
}

func TestLoadMailboxIdentity(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	user, err := s.CreateUser(ctx, engine.User{Name: "alice", PasswordHash: "x"})
	must(t, err)
	future := uint32(time.Now().Unix() + 1e6) // from a source whose clock ran ahead
	mb, err := s.LoadMailbox(ctx, user, engine.Mailbox{ID: 99, UserID: 99, Name: "Work/Old", SpecialUse: engine.SpecialArchive,
		UIDValidity: future, UIDNext: 120, HighestModSeq: 5000, Subscribed: true})
	must(t, err)
	if mb.UserID != user || mb.Name != "Work/Old" || mb.SpecialUse != engine.SpecialArchive || mb.UIDValidity != future ||
		mb.UIDNext != 120 || mb.HighestModSeq != 5000 || !mb.Subscribed {
		t.Errorf("loaded mailbox %+v", mb)
	}
	created, err := s.CreateMailbox(ctx, user, "Work/New", "")
	must(t, err)
	if created.UIDValidity <= future {
		t.Errorf("new mailbox UIDVALIDITY %d not above the loaded %d", created.UIDValidity, future)
	}
	if _, err := s.LoadMailbox(ctx, user, engine.Mailbox{Name: "Work/Old", UIDValidity: 1, UIDNext: 1, HighestModSeq: 1}); !errors.Is(err, engine.ErrExists) {
		t.Errorf("loading over an existing mailbox: %v", err)
	}
	for _, bad := range []engine.Mailbox{
		{Name: "", UIDValidity: 1, UIDNext: 1},
		{Name: "A", UIDValidity: 0, UIDNext: 1},
		{Name: "B", UIDValidity: 1, UIDNext: 0},
	} {
		if _, err := s.LoadMailbox(ctx, user, bad); !errors.Is(err, engine.ErrInvalidName) {
			t.Errorf("LoadMailbox(%+v) = %v, want ErrInvalidName", bad, err)
		}
	}
	if _, err := s.LoadMailbox(ctx, user+1, engine.Mailbox{Name: "X", UIDValidity: 1, UIDNext: 1}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("LoadMailbox for a missing user: %v", err)
	}
	// An empty loaded mailbox behaves like any other.
	if first, last, err := s.ClaimRecent(ctx, user, mb.ID); err != nil || first <= last {
		t.Errorf("empty loaded mailbox claims %d:%d %v", first, last, err)
	}
}

func TestLoadMessagesChecks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	user, err := s.CreateUser(ctx, engine.User{Name: "alice", PasswordHash: "x", QuotaBytes: 10})
	must(t, err)
	mb, err := s.LoadMailbox(ctx, user, engine.Mailbox{Name: "INBOX", UIDValidity: 7, UIDNext: 100, HighestModSeq: 50})
	must(t, err)
	dump := func(uid engine.UID, modseq engine.ModSeq) *engine.MessageDump {
		m := testMessage(int(uid), blobID(int(uid)%3))
		return &engine.MessageDump{
			MessageMeta: engine.MessageMeta{UID: uid, ModSeq: modseq, EmailID: m.EmailID, Flags: []string{"$Label", `\Seen`},
				InternalDate: m.InternalDate, Size: m.Size, Envelope: m.Envelope, Structure: m.Structure},
			Inline: m.Inline, Blobs: m.Blobs, HeaderText: m.HeaderText, BodyText: m.BodyText,
		}
	}
	// Over the quota limit: a load takes the mail the user already has.
	must(t, s.LoadMessages(ctx, user, mb.ID, []*engine.MessageDump{dump(3, 10), dump(20, 50)}))
	before, err := s.Status(ctx, user, mb.ID)
	must(t, err)
	quota, err := s.Quota(ctx, user)
	must(t, err)
	if before.Messages != 2 || before.Unseen != 0 || quota.Used != 1003+1020 || quota.Messages != 2 {
		t.Errorf("after a load: %+v, quota %+v", before, quota)
	}
	for _, c := range []struct {
		name string
		msgs []*engine.MessageDump
		want error
	}{
		{"descending", []*engine.MessageDump{dump(30, 1), dump(25, 1)}, engine.ErrInvalidName},
		{"repeated", []*engine.MessageDump{dump(30, 1), dump(30, 1)}, engine.ErrInvalidName},
		{"below loaded", []*engine.MessageDump{dump(19, 1)}, engine.ErrExists},
		{"equal to loaded", []*engine.MessageDump{dump(20, 1)}, engine.ErrExists},
		{"at UIDNEXT", []*engine.MessageDump{dump(21, 1), dump(100, 1)}, engine.ErrInvalidName},
		{"above HIGHESTMODSEQ", []*engine.MessageDump{dump(21, 1), dump(22, 51)}, engine.ErrInvalidName},
		{"MODSEQ 0", []*engine.MessageDump{dump(21, 0)}, engine.ErrInvalidName},
		{"UID 0", []*engine.MessageDump{dump(0, 1)}, engine.ErrInvalidName},
		{"bad flag", func() []*engine.MessageDump {
			d := dump(21, 1)
			d.Flags = []string{"two words"}
			return []*engine.MessageDump{d}
		}(), engine.ErrInvalidName},
	} {
		if err := s.LoadMessages(ctx, user, mb.ID, c.msgs); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	other, err := s.CreateUser(ctx, engine.User{Name: "mallory", PasswordHash: "x"})
	must(t, err)
	if err := s.LoadMessages(ctx, other, mb.ID, []*engine.MessageDump{dump(21, 1)}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("load into another user's mailbox: %v", err)
	}
	// Nothing of a refused call was written.
	after, err := s.Status(ctx, user, mb.ID)
	must(t, err)
	if after != before {
		t.Errorf("status after refused loads %+v, want %+v", after, before)
	}
	if refs, _ := s.BlobRefs(ctx, []engine.BlobID{blobID(0), blobID(1), blobID(2)}); !slices.Equal(refs, []int64{1, 0, 1}) {
		t.Errorf("blob refs after refused loads %v", refs)
	}
	var texts int64
	must(t, s.r.QueryRow(`SELECT count(*) FROM texts`).Scan(&texts))
	if texts != 2 {
		t.Errorf("%d texts after refused loads, want 2", texts)
	}
	// A cancelled load writes nothing either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.LoadMessages(cctx, user, mb.ID, []*engine.MessageDump{dump(21, 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled load: %v", err)
	}
	// Appending is refused over the limit, as before the load.
	if _, _, err := s.Append(ctx, user, mb.ID, []engine.NewMessage{testMessage(1)}); !errors.Is(err, engine.ErrOverQuota) {
		t.Errorf("append over quota after a load: %v", err)
	}
}

// TestLoadSharesTextOnlyWhenEqual loads copies whose hinted text has gone
// or differs: each gets a text of its own, and every count stays exact.
func TestLoadSharesTextOnlyWhenEqual(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{TextIndex: TextIndexInline})
	user, err := s.CreateUser(ctx, engine.User{Name: "alice", PasswordHash: "x"})
	must(t, err)
	a, err := s.LoadMailbox(ctx, user, engine.Mailbox{Name: "A", UIDValidity: 1, UIDNext: 10, HighestModSeq: 9})
	must(t, err)
	b, err := s.LoadMailbox(ctx, user, engine.Mailbox{Name: "B", UIDValidity: 2, UIDNext: 10, HighestModSeq: 9})
	must(t, err)
	msg := func(uid engine.UID, body string) *engine.MessageDump {
		return &engine.MessageDump{MessageMeta: engine.MessageMeta{UID: uid, ModSeq: 1, EmailID: 42, Size: 10}, BodyText: body}
	}
	texts := func() (n, refs int64) {
		must(t, s.r.QueryRow(`SELECT count(*), coalesce(sum(refs), 0) FROM texts`).Scan(&n, &refs))
		return n, refs
	}
	must(t, s.LoadMessages(ctx, user, a.ID, []*engine.MessageDump{msg(1, "shared words"), msg(2, "shared words")}))
	must(t, s.LoadMessages(ctx, user, b.ID, []*engine.MessageDump{msg(1, "shared words")}))
	if n, refs := texts(); n != 1 || refs != 3 {
		t.Errorf("three copies: %d texts, %d references; want 1, 3", n, refs)
	}
	must(t, s.LoadMessages(ctx, user, b.ID, []*engine.MessageDump{msg(2, "other words")}))
	if n, refs := texts(); n != 2 || refs != 4 {
		t.Errorf("same EmailID, other text: %d texts, %d references; want 2, 4", n, refs)
	}
	// Expunging every holder deletes the text the hint names.
	_, _, err = s.Expunge(ctx, user, a.ID, roaring.BitmapOf(1, 2))
	must(t, err)
	_, _, err = s.Expunge(ctx, user, b.ID, roaring.BitmapOf(1, 2))
	must(t, err)
	must(t, s.LoadMessages(ctx, user, b.ID, []*engine.MessageDump{msg(3, "other words"), msg(4, "shared words")}))
	if n, refs := texts(); n != 2 || refs != 2 {
		t.Errorf("after the hinted texts went: %d texts, %d references; want 2, 2", n, refs)
	}
	for v, want := range map[string][]uint32{"shared": {4}, "other": {3}} {
		got, err := s.Search(ctx, user, b.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: v})
		must(t, err)
		if !slices.Equal(got.ToArray(), want) {
			t.Errorf("BODY %q = %v, want %v", v, got.ToArray(), want)
		}
	}
	_, err = s.w.Exec(`INSERT INTO words_fts(words_fts) VALUES ('integrity-check')`)
	must(t, err)
}

func TestDumpMessages(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	n := 2*chunkRows + 7
	msgs := make([]engine.NewMessage, n)
	for i := range msgs {
		msgs[i] = testMessage(i, blobID(i%5), blobID(i%3+10))
	}
	msgs[4].HeaderText, msgs[4].BodyText, msgs[4].Inline = "", "", nil
	f.append(t, msgs...)
	_, _, err := s.Expunge(ctx, f.user, f.box.ID, roaring.BitmapOf(2, chunkRows, chunkRows+1))
	must(t, err)
	var uids []engine.UID
	must(t, s.DumpMessages(ctx, f.user, f.box.ID, 0, func(d *engine.MessageDump) error {
		i := int(d.UID) - 1
		m := msgs[i]
		if d.HeaderText != engine.FoldText(m.HeaderText) || d.BodyText != engine.FoldText(m.BodyText) || !slices.Equal(d.Inline, m.Inline) ||
			!slices.Equal(d.Blobs, m.Blobs) || d.EmailID != m.EmailID || d.Size != m.Size {
			return fmt.Errorf("UID %d dumped as %+v", d.UID, d)
		}
		uids = append(uids, d.UID)
		return nil
	}))
	if len(uids) != n-3 || !slices.IsSorted(uids) {
		t.Errorf("dumped %d UIDs (sorted: %v), want %d", len(uids), slices.IsSorted(uids), n-3)
	}
	// A dump goes on after a given UID, and stops at fn's error.
	var after []engine.UID
	stop := errors.New("stop")
	err = s.DumpMessages(ctx, f.user, f.box.ID, chunkRows-1, func(d *engine.MessageDump) error {
		after = append(after, d.UID)
		if len(after) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(after, []engine.UID{chunkRows + 2, chunkRows + 3, chunkRows + 4}) {
		t.Errorf("dump after %d: %v %v", chunkRows-1, after, err)
	}
	other, err := s.CreateUser(ctx, engine.User{Name: "mallory", PasswordHash: "x"})
	must(t, err)
	err = s.DumpMessages(ctx, other, f.box.ID, 0, func(*engine.MessageDump) error { return nil })
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("dump of another user's mailbox: %v", err)
	}
}

// TestDumpChunksByBytes dumps rows large enough that a chunk ends on its
// byte bound before its row count: every message comes once, in order.
func TestDumpChunksByBytes(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	const n, size = 7, dumpChunkBytes/3 + 1
	for i := range n {
		m := testMessage(i)
		m.Inline = bytes.Repeat([]byte{byte(i)}, size)
		f.append(t, m)
	}
	var got []engine.UID
	must(t, s.DumpMessages(ctx, f.user, f.box.ID, 0, func(d *engine.MessageDump) error {
		if len(d.Inline) != size || d.Inline[0] != byte(d.UID-1) {
			return fmt.Errorf("UID %d: %d inline bytes of %d", d.UID, len(d.Inline), d.Inline[0])
		}
		got = append(got, d.UID)
		return nil
	}))
	if !slices.Equal(got, []engine.UID{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("dumped %v", got)
	}
}

// BenchmarkDumpLoad copies a store (two users, 2,000 messages appended
// each, about 4,200 stored after copies, moves and expunges) into a fresh
// one through DumpMessages and LoadMessages in batches of 500, as eider
// migrate does, with text queued for the index.
func BenchmarkDumpLoad(b *testing.B) {
	ctx := context.Background()
	src := fillSource(b, openTemp(b, Options{TextIndex: TextIndexManual}), 2000)
	var n int64
	users, err := src.s.Users(ctx)
	must(b, err)
	for _, u := range users {
		q, err := src.s.Quota(ctx, u.ID)
		must(b, err)
		n += q.Messages
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		dst := openTemp(b, Options{TextIndex: TextIndexManual})
		b.StartTimer()
		copyStore(b, src.s, dst, 500)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// TestLoadKeywordsComeWithMessages: a load lists the keywords its messages
// carry. A keyword the source still lists after its last message lost it
// has no way through the Loader contract, and is not listed.
func TestLoadKeywordsComeWithMessages(t *testing.T) {
	ctx := context.Background()
	src := openTemp(t, Options{})
	f := newFixture(t, src)
	m := testMessage(0)
	m.Flags = []string{"$Keep", "$Gone"}
	f.append(t, m)
	_, _, err := src.StoreFlags(ctx, f.user, f.box.ID, roaring.BitmapOf(1), engine.FlagsRemove, []string{"$Gone"}, 0)
	must(t, err)
	dst := openTemp(t, Options{})
	ids := copyStore(t, src, dst, 10)
	inbox, err := dst.MailboxByName(ctx, ids["alice"], "INBOX")
	must(t, err)
	kS, err := src.Keywords(ctx, f.user, f.box.ID)
	must(t, err)
	kD, err := dst.Keywords(ctx, ids["alice"], inbox.ID)
	must(t, err)
	if !slices.Equal(kS, []string{"$Gone", "$Keep"}) || !slices.Equal(kD, []string{"$Keep"}) {
		t.Errorf("keywords %q loaded from %q, want [$Keep]", kD, kS)
	}
}
