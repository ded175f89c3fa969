package migrate

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/testcorpus"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

var messageCount = flag.Int("migrate.messages", 10000, "messages in the source store of TestMigrate")

// store is one side of a migration in a test: an engine over the embedded
// backends in a temporary directory.
type store struct {
	*enginekit.Env
}

func (s store) stores() Stores { return Stores{Meta: s.Meta, Blobs: s.Blobs} }

func openStore(t testing.TB) store {
	// Full-text indexing is the SQLite store's business and its tests';
	// here it would only take the CPU the test measures nothing with.
	return store{enginekit.Open(t, enginekit.Options{Meta: metasqlite.Options{TextIndex: metasqlite.TextIndexManual}})}
}

// mailboxesOf is where the source files mail: nested, with special use.
var mailboxesOf = []struct{ name, use string }{
	{"Projects", ""},
	{"Projects/Eider", ""},
	{"Projects/Eider/Notes", ""},
	{"Receipts", engine.SpecialArchive},
}

// fill delivers n messages through the engine to a few users, then reads,
// flags, copies, moves and expunges some, so UIDs have gaps, MODSEQs
// differ from message to message and blobs are shared.
func fill(t testing.TB, s store, n int) {
	t.Helper()
	ctx := context.Background()
	e := s.Engine
	r := rand.New(rand.NewPCG(2026, 11))
	var users []engine.User
	for i, name := range []string{"alice@example.com", "bob@example.com", "carol"} {
		u, err := e.CreateUser(ctx, name, "password "+name, int64(i)<<30)
		must(t, err)
		users = append(users, u)
		for _, mb := range mailboxesOf {
			_, err := e.CreateMailbox(ctx, u.ID, mb.name, mb.use)
			must(t, err)
		}
		must(t, e.Subscribe(ctx, u.ID, "Projects/Eider", true))
		must(t, e.Subscribe(ctx, u.ID, "Old/Gone", true)) // names no mailbox
	}
	must(t, e.AddAlias(ctx, users[0].ID, "a.smith@example.com"))
	must(t, e.AddAlias(ctx, users[1].ID, "postmaster@example.com"))
	// carol deleted and recreated a mailbox: its UIDVALIDITY is a later one.
	must(t, e.DeleteMailbox(ctx, users[2].ID, "Receipts"))
	_, err := e.CreateMailbox(ctx, users[2].ID, "Receipts", engine.SpecialArchive)
	must(t, err)

	corpus := mailCorpus(r, n)
	date := time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("", 2*3600))
	for done := 0; done < n; {
		switch r.IntN(3) {
		case 0:
			// A delivery to two users: one ingest, blobs shared.
			msg := corpus[done]
			a, b := users[r.IntN(len(users))], users[r.IntN(len(users))]
			rcpts := []engine.Delivery{{User: a.ID}}
			if b.ID != a.ID {
				rcpts = append(rcpts, engine.Delivery{User: b.ID, Flags: []string{`\Flagged`}})
			}
			res, err := e.Deliver(ctx, bytes.NewReader(msg), rcpts, nil)
			must(t, err)
			for _, d := range res {
				must(t, d.Err)
			}
			done++
		default:
			// A MULTIAPPEND into one mailbox.
			u := users[r.IntN(len(users))]
			name := "INBOX"
			if r.IntN(3) == 0 {
				name = mailboxesOf[r.IntN(len(mailboxesOf))].name
			}
			mb, err := e.Mailbox(ctx, u.ID, name)
			must(t, err)
			k := min(1+r.IntN(60), n-done)
			srcs := make([]engine.AppendSource, k)
			for i := range srcs {
				var flags []string
				if r.IntN(2) == 0 {
					flags = []string{`\Seen`}
				}
				date = date.Add(time.Duration(r.IntN(3600)) * time.Second)
				srcs[i] = engine.AppendSource{Body: bytes.NewReader(corpus[done+i]), Options: engine.AppendOptions{Flags: flags, InternalDate: date}}
			}
			_, err = e.AppendMany(ctx, u.ID, mb.ID, srcs)
			must(t, err)
			done += k
		}
	}

	some := func(uids *roaring.Bitmap, share int) *roaring.Bitmap {
		out := roaring.New()
		it := uids.Iterator()
		for it.HasNext() {
			if uid := it.Next(); r.IntN(100) < share {
				out.Add(uid)
			}
		}
		return out
	}
	for _, u := range users {
		inbox, err := e.Mailbox(ctx, u.ID, "INBOX")
		must(t, err)
		notes, err := e.Mailbox(ctx, u.ID, "Projects/Eider/Notes")
		must(t, err)
		receipts, err := e.Mailbox(ctx, u.ID, "Receipts")
		must(t, err)
		uids, _, err := e.UIDs(ctx, u.ID, inbox.ID)
		must(t, err)
		_, _, err = e.StoreFlags(ctx, u.ID, inbox.ID, some(uids, 30), engine.FlagsAdd, []string{`\Seen`, "$Label1"}, 0)
		must(t, err)
		_, _, err = e.StoreFlags(ctx, u.ID, inbox.ID, some(uids, 10), engine.FlagsAdd, []string{`\Answered`, "Project-X", "$MDNSent"}, 0)
		must(t, err)
		_, _, err = e.StoreFlags(ctx, u.ID, inbox.ID, some(uids, 5), engine.FlagsAdd, []string{`\Deleted`}, 0)
		must(t, err)
		_, err = e.Copy(ctx, u.ID, inbox.ID, notes.ID, some(uids, 10))
		must(t, err)
		_, err = e.Move(ctx, u.ID, inbox.ID, receipts.ID, some(uids, 10))
		must(t, err)
		uids, _, err = e.UIDs(ctx, u.ID, inbox.ID)
		must(t, err)
		_, err = e.Expunge(ctx, u.ID, inbox.ID, some(uids, 10))
		must(t, err)
		nu, _, err := e.UIDs(ctx, u.ID, notes.ID)
		must(t, err)
		_, _, err = e.StoreFlags(ctx, u.ID, notes.ID, some(nu, 50), engine.FlagsReplace, []string{"Read-Later"}, 0)
		must(t, err)
	}
	// bob's quota is lowered below his mail: migration must carry it all.
	must(t, s.Meta.SetQuotaLimit(ctx, users[1].ID, 1<<10))
}

// mailCorpus returns n messages as a mailbox holds them: mostly text with
// quoted replies, some with MIME trees of every kind and attachments of
// their own, some carrying one of a few attachments that many messages
// share (stored once), and every broken message of the torture corpus.
func mailCorpus(r *rand.Rand, n int) [][]byte {
	shared := make([][]byte, 12)
	for i := range shared {
		shared[i] = make([]byte, 4<<10+r.IntN(40<<10))
		for j := range shared[i] {
			shared[i][j] = byte(r.Uint32())
		}
	}
	torture := testcorpus.Torture()
	text := testcorpus.TextHeavy(3, n)
	mime := testcorpus.GenerateWith(7, n/5+1, testcorpus.Options{MaxSize: 24 << 10})
	out := make([][]byte, n)
	for i := range out {
		switch {
		case i%10 < 6:
			out[i] = text[i].Data
		case i%10 < 8:
			out[i] = mime[i/5].Data
		case i%10 == 9 && i/10 < len(torture):
			out[i] = torture[i/10].Data
		default:
			out[i] = testcorpus.WithAttachment(i, shared[r.IntN(len(shared))])
		}
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readBody rebuilds a message through the engine, as FETCH BODY[] does.
func readBody(t testing.TB, e *engine.Engine, user engine.UserID, mailbox engine.MailboxID, m *engine.MessageMeta) []byte {
	t.Helper()
	msg, err := e.OpenMessage(context.Background(), user, mailbox, m)
	must(t, err)
	defer msg.Close()
	sec, err := msg.Section(engine.Section{})
	must(t, err)
	b, err := io.ReadAll(sec.Body)
	must(t, err)
	if int64(len(b)) != m.Size {
		t.Fatalf("UID %d: %d bytes read, RFC822.SIZE %d", m.UID, len(b), m.Size)
	}
	return b
}

// assertSame checks, without trusting Verify, that dst holds what src
// holds as clients see it: accounts, mailboxes with their UIDVALIDITY,
// UIDNEXT and HIGHESTMODSEQ, every message's UID, MODSEQ, flags and
// dates, and with content every message's bytes as FETCH BODY[] returns
// them. It returns how many messages it compared.
func assertSame(t *testing.T, src, dst store, content bool) int {
	t.Helper()
	ctx := context.Background()
	users, err := src.Meta.Users(ctx)
	must(t, err)
	got, err := dst.Meta.Users(ctx)
	must(t, err)
	if len(got) != len(users) {
		t.Fatalf("%d users, want %d", len(got), len(users))
	}
	compared := 0
	for _, u := range users {
		du, err := dst.Meta.UserByName(ctx, u.Name)
		must(t, err)
		if du.PasswordHash != u.PasswordHash || du.QuotaBytes != u.QuotaBytes {
			t.Errorf("user %s: %+v, want %+v", u.Name, du, u)
		}
		if _, err := dst.Engine.Authenticate(ctx, u.Name, "password "+u.Name); err != nil {
			t.Errorf("user %s cannot log in after the migration: %v", u.Name, err)
		}
		qs, err := src.Meta.Quota(ctx, u.ID)
		must(t, err)
		qd, err := dst.Meta.Quota(ctx, du.ID)
		must(t, err)
		if qs != qd {
			t.Errorf("user %s: quota %+v, want %+v", u.Name, qd, qs)
		}
		addrs := func(s store, id engine.UserID) []string {
			list, err := s.Meta.Addresses(ctx, id)
			must(t, err)
			var out []string
			for _, a := range list {
				out = append(out, fmt.Sprintf("%s alias=%v", a.Address, a.Alias))
			}
			return out
		}
		if a, b := addrs(src, u.ID), addrs(dst, du.ID); !slices.Equal(a, b) {
			t.Errorf("user %s: addresses %q, want %q", u.Name, b, a)
		}
		ss, err := src.Meta.Subscriptions(ctx, u.ID)
		must(t, err)
		sd, err := dst.Meta.Subscriptions(ctx, du.ID)
		must(t, err)
		if !slices.Equal(ss, sd) {
			t.Errorf("user %s: subscriptions %q, want %q", u.Name, sd, ss)
		}
		boxes, err := src.Meta.Mailboxes(ctx, u.ID)
		must(t, err)
		dboxes, err := dst.Meta.Mailboxes(ctx, du.ID)
		must(t, err)
		if len(boxes) != len(dboxes) {
			t.Fatalf("user %s: %d mailboxes, want %d", u.Name, len(dboxes), len(boxes))
		}
		for i, sb := range boxes {
			db := dboxes[i]
			where := u.Name + "/" + sb.Name
			st, err := src.Meta.Status(ctx, u.ID, sb.ID)
			must(t, err)
			dt, err := dst.Meta.Status(ctx, du.ID, db.ID)
			must(t, err)
			st.ID, st.UserID, dt.ID, dt.UserID = 0, 0, 0, 0
			if st != dt {
				t.Errorf("%s: status %+v, want %+v", where, dt, st)
			}
			us, _, err := src.Meta.UIDs(ctx, u.ID, sb.ID)
			must(t, err)
			ud, _, err := dst.Meta.UIDs(ctx, du.ID, db.ID)
			must(t, err)
			if !us.Equals(ud) {
				t.Fatalf("%s: UIDs differ: %d, want %d", where, ud.GetCardinality(), us.GetCardinality())
			}
			var metas []*engine.MessageMeta
			inUse := map[string]bool{}
			must(t, src.Meta.Messages(ctx, u.ID, sb.ID, us, func(m *engine.MessageMeta) error {
				metas = append(metas, m)
				return nil
			}))
			i := 0
			must(t, dst.Meta.Messages(ctx, du.ID, db.ID, ud, func(m *engine.MessageMeta) error {
				sm := metas[i]
				i++
				_, zs := sm.InternalDate.Zone()
				_, zd := m.InternalDate.Zone()
				if !sm.InternalDate.Equal(m.InternalDate) || zs != zd {
					return fmt.Errorf("%s UID %d: INTERNALDATE %v, want %v", where, m.UID, m.InternalDate, sm.InternalDate)
				}
				a, b := *sm, *m
				a.InternalDate, b.InternalDate = time.Time{}, time.Time{}
				if !reflect.DeepEqual(a, b) {
					return fmt.Errorf("%s UID %d: row %+v, want %+v", where, m.UID, b, a)
				}
				if content && !bytes.Equal(readBody(t, src.Engine, u.ID, sb.ID, sm), readBody(t, dst.Engine, du.ID, db.ID, m)) {
					return fmt.Errorf("%s UID %d: content differs", where, m.UID)
				}
				for _, f := range m.Flags {
					if !strings.HasPrefix(f, `\`) {
						inUse[strings.ToLower(f)] = true
					}
				}
				compared++
				return nil
			}))
			if i != len(metas) {
				t.Fatalf("%s: %d messages read, want %d", where, i, len(metas))
			}
			// FLAGS lists the keywords of the source's list that some
			// message still carries: the contract has no way to carry a
			// keyword no message has any more.
			ks, err := src.Meta.Keywords(ctx, u.ID, sb.ID)
			must(t, err)
			ks = slices.DeleteFunc(ks, func(k string) bool { return !inUse[strings.ToLower(k)] })
			kd, err := dst.Meta.Keywords(ctx, du.ID, db.ID)
			must(t, err)
			if !slices.Equal(ks, kd) {
				t.Errorf("%s: keywords %q, want %q", where, kd, ks)
			}
			// Clients that cached an older MODSEQ resynchronise; none of
			// the loaded messages is \Recent.
			if _, err := dst.Meta.Journal(ctx, du.ID, db.ID, db.HighestModSeq-1); !errors.Is(err, engine.ErrJournalExpired) {
				t.Errorf("%s: journal before HIGHESTMODSEQ: %v, want ErrJournalExpired", where, err)
			}
			if first, last, err := dst.Meta.ClaimRecent(ctx, du.ID, db.ID); err != nil || first <= last {
				t.Errorf("%s: \\Recent %d:%d after the migration (%v)", where, first, last, err)
			}
		}
	}
	if drift, err := dst.Meta.RecountBlobRefs(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("blob reference drift: %v %v", drift, err)
	}
	if drift, err := dst.Meta.RecountQuota(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("quota drift: %v %v", drift, err)
	}
	return compared
}

// sourceShape checks the source is the kind of store the test means:
// gaps in UIDs, MODSEQs that differ, blobs.
func sourceShape(t *testing.T, s store) (messages int64) {
	t.Helper()
	ctx := context.Background()
	users, err := s.Meta.Users(ctx)
	must(t, err)
	gaps, modseqs := false, map[engine.ModSeq]bool{}
	for _, u := range users {
		boxes, err := s.Meta.Mailboxes(ctx, u.ID)
		must(t, err)
		for _, mb := range boxes {
			st, err := s.Meta.Status(ctx, u.ID, mb.ID)
			must(t, err)
			messages += st.Messages
			gaps = gaps || int64(st.UIDNext)-1 > st.Messages
			all := roaring.New()
			all.AddRange(1, uint64(st.UIDNext))
			must(t, s.Meta.Messages(ctx, u.ID, mb.ID, all, func(m *engine.MessageMeta) error {
				modseqs[m.ModSeq] = true
				return nil
			}))
		}
	}
	blobs := 0
	must(t, s.Blobs.Walk(ctx, func(engine.BlobInfo) error { blobs++; return nil }))
	if !gaps || len(modseqs) < 3 || blobs == 0 {
		t.Fatalf("source too plain: gaps %v, %d distinct MODSEQs, %d blobs", gaps, len(modseqs), blobs)
	}
	return messages
}

// loaderStore is a destination metadata store.
type loaderStore interface {
	engine.MetaStore
	engine.Loader
	engine.DictionaryStore
}

// interrupting is a destination store whose LoadMessages calls fail
// after a number of them succeeded.
type interrupting struct {
	loaderStore
	loads, after int
	fail         func() error
}

func (s *interrupting) LoadMessages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []*engine.MessageDump) error {
	if s.loads++; s.loads > s.after {
		return s.fail()
	}
	return s.loaderStore.LoadMessages(ctx, user, mailbox, msgs)
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	src := openStore(t)
	fill(t, src, *messageCount)
	total := sourceShape(t, src)
	t.Logf("source: %d messages delivered, %d stored, in %v", *messageCount, total, time.Since(start).Round(time.Millisecond))

	t.Run("RoundTrip", func(t *testing.T) {
		there, back := openStore(t), openStore(t)
		var progress bytes.Buffer
		start := time.Now()
		res, err := Run(ctx, src.stores(), there.stores(), Options{Verify: true, ContentSample: 0.05, Progress: &progress})
		must(t, err)
		t.Logf("there: %+v in %v", res, time.Since(start).Round(time.Millisecond))
		if res.Messages != total || res.Present != 0 || res.Verified != total || res.ContentVerified == 0 || res.Blobs == 0 {
			t.Errorf("result %+v for %d messages", res, total)
		}
		if out := progress.String(); !strings.Contains(out, fmt.Sprintf("%d messages copied", total)) || !strings.Contains(out, fmt.Sprintf("%d/%d", total, total)) {
			t.Errorf("progress output does not show the count:\n%q", out[max(0, len(out)-400):])
		}
		if n := assertSame(t, src, there, true); int64(n) != total {
			t.Errorf("compared %d messages, want %d", n, total)
		}
		// The messages name the source's compression dictionary.
		want, err := src.Meta.Dictionaries(ctx)
		must(t, err)
		got, err := there.Meta.Dictionaries(ctx)
		must(t, err)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("destination dictionaries %d, source %d", len(got), len(want))
		}

		start = time.Now()
		res, err = Run(ctx, there.stores(), back.stores(), Options{Verify: true, ContentSample: 0.05, Batch: 333})
		must(t, err)
		t.Logf("back: %+v in %v", res, time.Since(start).Round(time.Millisecond))
		if res.Messages != total || res.Verified != total {
			t.Errorf("result %+v for %d messages", res, total)
		}
		assertSame(t, src, back, true)

		// Run again: everything is present, nothing is loaded twice.
		res, err = Run(ctx, there.stores(), back.stores(), Options{Verify: true})
		must(t, err)
		if res.Messages != 0 || res.Present != total || res.Blobs != 0 {
			t.Errorf("second run over a finished migration: %+v", res)
		}
	})

	t.Run("Interrupted", func(t *testing.T) {
		dst := openStore(t)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		const batch = 200
		// First a cancellation (Ctrl-C) after some batches, then a load
		// that fails after its blobs were copied (a crash in between).
		cut := &interrupting{loaderStore: dst.Meta, after: 4, fail: func() error { cancel(); return cctx.Err() }}
		first, err := Run(cctx, src.stores(), Stores{Meta: cut, Blobs: dst.Blobs}, Options{Batch: batch})
		if !errors.Is(err, context.Canceled) || first.Messages == 0 || first.Messages > 4*batch {
			t.Fatalf("cancelled run: %+v, %v; want at most %d messages and context.Canceled", first, err, 4*batch)
		}
		broken := errors.New("connection lost")
		cut = &interrupting{loaderStore: dst.Meta, after: 7, fail: func() error { return broken }}
		second, err := Run(ctx, src.stores(), Stores{Meta: cut, Blobs: dst.Blobs}, Options{Batch: batch})
		if !errors.Is(err, broken) || second.Present != first.Messages || second.Messages == 0 || second.Messages > 7*batch {
			t.Fatalf("failing run: %+v, %v", second, err)
		}
		res, err := Run(ctx, src.stores(), dst.stores(), Options{Batch: batch, Verify: true, ContentSample: 0.05})
		must(t, err)
		if res.Present != first.Messages+second.Messages || res.Messages+res.Present != total {
			t.Errorf("resumed run: %+v after %d and %d, for %d messages", res, first.Messages, second.Messages, total)
		}
		// The round trip read every message's bytes; here the rows decide.
		assertSame(t, src, dst, false)
	})
}

// TestRefusals: a destination that holds something else than an earlier
// run of the same migration is never merged into.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	fill(t, src, 30)
	alice, err := src.Engine.UserByName(ctx, "alice@example.com")
	must(t, err)

	t.Run("OtherPassword", func(t *testing.T) {
		dst := openStore(t)
		_, err := dst.Engine.CreateUser(ctx, "alice@example.com", "another password", 0)
		must(t, err)
		_, err = Run(ctx, src.stores(), dst.stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), `"alice@example.com"`) || !strings.Contains(err.Error(), "password") {
			t.Errorf("merging into another account: %v", err)
		}
	})
	t.Run("OtherMailbox", func(t *testing.T) {
		dst := openStore(t)
		// Same account (same hash), but its INBOX is not the source's.
		id, err := dst.Meta.CreateUser(ctx, engine.User{Name: alice.Name, PasswordHash: alice.PasswordHash})
		must(t, err)
		inbox, err := src.Engine.Mailbox(ctx, alice.ID, "INBOX")
		must(t, err)
		_, err = dst.Meta.LoadMailbox(ctx, id, engine.Mailbox{Name: "INBOX", UIDValidity: inbox.UIDValidity + 1, UIDNext: 1, HighestModSeq: 1})
		must(t, err)
		_, err = Run(ctx, src.stores(), dst.stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), `mailbox "INBOX"`) || !strings.Contains(err.Error(), "UIDVALIDITY") {
			t.Errorf("merging into another mailbox: %v", err)
		}
	})
	t.Run("AddressTaken", func(t *testing.T) {
		dst := openStore(t)
		_, err := dst.Engine.CreateUser(ctx, "mallory", "x", 0)
		must(t, err)
		mallory, err := dst.Engine.UserByName(ctx, "mallory")
		must(t, err)
		must(t, dst.Engine.AddAlias(ctx, mallory.ID, "a.smith@example.com"))
		_, err = Run(ctx, src.stores(), dst.stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), "a.smith@example.com") {
			t.Errorf("an address of another user: %v", err)
		}
	})
	t.Run("SourceChanged", func(t *testing.T) {
		dst := openStore(t)
		_, err := Run(ctx, src.stores(), dst.stores(), Options{})
		must(t, err)
		inbox, err := src.Engine.Mailbox(ctx, alice.ID, "INBOX")
		must(t, err)
		_, err = src.Engine.Append(ctx, alice.ID, inbox.ID, bytes.NewReader(testcorpus.Generate(9, 1)[0].Data), engine.AppendOptions{})
		must(t, err)
		_, err = Run(ctx, src.stores(), dst.stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), "UIDNEXT") {
			t.Errorf("resuming after the source changed: %v", err)
		}
	})
	t.Run("NoDumper", func(t *testing.T) {
		dst := openStore(t)
		type plain struct{ engine.MetaStore }
		_, err := Run(ctx, Stores{Meta: plain{src.Meta}, Blobs: src.Blobs}, dst.stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), "cannot dump") {
			t.Errorf("a source that cannot dump: %v", err)
		}
		_, err = Run(ctx, src.stores(), Stores{Meta: plain{dst.Meta}, Blobs: dst.Blobs}, Options{})
		if err == nil || !strings.Contains(err.Error(), "cannot load") {
			t.Errorf("a destination that cannot load: %v", err)
		}
	})
	t.Run("MissingSourceBlob", func(t *testing.T) {
		broken := openStore(t)
		fill(t, broken, 20)
		var victim engine.BlobID
		must(t, broken.Meta.ReferencedBlobs(ctx, func(id engine.BlobID, _ int64) error { victim = id; return nil }))
		must(t, broken.Blobs.Delete(ctx, victim))
		_, err := Run(ctx, broken.stores(), openStore(t).stores(), Options{})
		if err == nil || !strings.Contains(err.Error(), victim.String()) || !strings.Contains(err.Error(), "fsck") {
			t.Errorf("a blob missing from the source: %v", err)
		}
	})
}

// TestVerifyFindsDifferences changes the destination behind a finished
// migration's back: Verify must name what differs.
func TestVerifyFindsDifferences(t *testing.T) {
	ctx := context.Background()
	src, dst := openStore(t), openStore(t)
	fill(t, src, 40)
	_, err := Run(ctx, src.stores(), dst.stores(), Options{})
	must(t, err)
	// A flag changed in the first INBOX that holds mail.
	var user engine.User
	var inbox engine.Mailbox
	var first uint32
	users, err := dst.Meta.Users(ctx)
	must(t, err)
	for _, u := range users {
		mb, err := dst.Engine.Mailbox(ctx, u.ID, "INBOX")
		must(t, err)
		uids, _, err := dst.Engine.UIDs(ctx, u.ID, mb.ID)
		must(t, err)
		if !uids.IsEmpty() {
			user, inbox, first = u, mb, uids.Minimum()
			break
		}
	}
	if first == 0 {
		t.Fatal("no INBOX holds mail")
	}
	_, _, err = dst.Engine.StoreFlags(ctx, user.ID, inbox.ID, roaring.BitmapOf(first), engine.FlagsAdd, []string{"$Changed"}, 0)
	must(t, err)
	// A blob lost in the destination: a rebuild there fails.
	var lost engine.BlobID
	must(t, dst.Meta.ReferencedBlobs(ctx, func(id engine.BlobID, _ int64) error { lost = id; return nil }))
	must(t, dst.Blobs.Delete(ctx, lost))

	m := &migration{src: src.stores(), dst: dst.stores(), opt: Options{ContentSample: 1}.withDefaults()}
	users, err = src.Meta.Users(ctx)
	must(t, err)
	var plans []userPlan
	for _, u := range users {
		p, err := m.plan(ctx, u)
		must(t, err)
		plans = append(plans, p)
	}
	err = m.verify(ctx, plans)
	var mm *MismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("verify after changes: %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		fmt.Sprintf(`user %q mailbox "INBOX": UIDVALIDITY`, user.Name), // HIGHESTMODSEQ moved
		fmt.Sprintf(`mailbox "INBOX" UID %d: MODSEQ`, first),
		"not found", // the rebuild that needs the lost blob
	} {
		if !strings.Contains(text, want) {
			t.Errorf("verify report lacks %q:\n%s", want, text)
		}
	}
}
