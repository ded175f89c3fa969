// Package metatest is the conformance suite of engine.MetaStore. Every
// metadata backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) engine.MetaStore { return openFresh(t) })
//	}
//
// The suite talks to the store only through the interface (and, where the
// interface has no way, through the optional interfaces below), with
// fabricated messages: envelopes, structures and inline segments are opaque
// bytes to a store, blob ids are random.
package metatest

import (
	"cmp"
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// JournalPruner is implemented by stores whose journal is bounded. The
// JournalExpired test needs it and is skipped for stores without it.
type JournalPruner interface {
	// PruneJournal deletes journal entries recorded before the given time
	// and returns how many it deleted.
	PruneJournal(ctx context.Context, before time.Time) (int64, error)
}

// Run runs every conformance test. open must return a new, empty store; the
// suite closes it when the test that opened it ends.
func Run(t *testing.T, open func(t *testing.T) engine.MetaStore) {
	RunWith(t, open, Options{})
}

// RunOnly runs the named conformance tests (all of them when none are
// named): for a second configuration of a backend, or a test double that
// cannot run some of them. Unknown names fail.
func RunOnly(t *testing.T, open func(t *testing.T) engine.MetaStore, names ...string) {
	RunWith(t, open, Options{}, names...)
}

// Options size the suite for a backend that is functionally complete but
// slow on a test server (the MongoDB backend on FerretDB, which has no
// secondary indexes). The zero value is the full size.
type Options struct {
	// Messages is how many messages the Messages test appends, in
	// batches of at most 500 (default 3,000).
	Messages int
}

// RunWith is RunOnly with sizes.
func RunWith(t *testing.T, open func(t *testing.T) engine.MetaStore, opt Options, names ...string) {
	tests := suite(opt)
	for _, n := range names {
		if !slices.ContainsFunc(tests, func(tc conformanceTest) bool { return tc.name == n }) {
			t.Fatalf("metatest: no test named %q", n)
		}
	}
	for _, tc := range tests {
		if len(names) > 0 && !slices.Contains(names, tc.name) {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

type conformanceTest struct {
	name string
	fn   func(t *testing.T, s engine.MetaStore)
}

// suite lists the conformance tests by area, in the order they run.
func suite(opt Options) []conformanceTest {
	messages := cmp.Or(opt.Messages, 3000)
	return []conformanceTest{
		{"Users", testUsers},
		{"Addresses", testAddresses},
		{"Mailboxes", testMailboxes},
		{"Subscriptions", testSubscriptions},
		{"Rename", testRename},
		{"Append", testAppend},
		{"Messages", func(t *testing.T, s engine.MetaStore) { testMessages(t, s, messages) }},
		{"UIDMonotonicConcurrent", testUIDMonotonicConcurrent},
		{"Flags", testFlags},
		{"UnchangedSince", testUnchangedSince},
		{"Expunge", testExpunge},
		{"Copy", testCopy},
		{"Move", testMove},
		{"Journal", testJournal},
		{"JournalExpired", testJournalExpired},
		{"Status", testStatus},
		{"Search", testSearch},
		{"SearchModel", testSearchModel},
		{"Quota", testQuota},
		{"BlobRefs", testBlobRefs},
		{"Recount", testRecount},
		{"Isolation", testIsolation},
		{"Dictionaries", testDictionaries},
	}
}

// ctx is the context of every call the suite makes.
func ctx(t testing.TB) context.Context { return t.Context() }

// gen fabricates test data from a seed derived from the test's name, so a
// failure reproduces.
type gen struct{ r *rand.Rand }

func newGen(t testing.TB) *gen {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return &gen{rand.New(rand.NewPCG(h.Sum64(), 0x6569646572))}
}

func (g *gen) bytes(min, max int) []byte {
	b := make([]byte, min+g.r.IntN(max-min+1))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *gen) blobID() engine.BlobID {
	var id engine.BlobID
	for i := range id {
		id[i] = byte(g.r.Uint32())
	}
	return id
}

// baseDate is the INTERNALDATE of fabricated messages, plus some hours.
var baseDate = time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)

// message fabricates a message with the given flags and blobs.
func (g *gen) message(flags []string, blobs ...engine.BlobID) engine.NewMessage {
	return engine.NewMessage{
		EmailID:      engine.EmailID(g.r.Uint64()),
		Flags:        flags,
		InternalDate: baseDate.Add(time.Duration(g.r.IntN(1000)) * time.Hour),
		SentDate:     baseDate.Add(-time.Duration(g.r.IntN(1000)) * time.Hour),
		Size:         int64(100 + g.r.IntN(5000)),
		Envelope:     g.bytes(20, 200),
		Structure:    g.bytes(20, 200),
		Inline:       g.bytes(0, 300),
		Blobs:        blobs,
		HeaderText:   "from: Someone <someone@example.com>\nsubject: fabricated\n",
		BodyText:     "a fabricated message body",
	}
}

func (g *gen) messages(n int) []engine.NewMessage {
	out := make([]engine.NewMessage, n)
	for i := range out {
		out[i] = g.message(nil, g.blobID())
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustIs(t testing.TB, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func newUser(t testing.TB, s engine.MetaStore, name string) engine.UserID {
	t.Helper()
	id, err := s.CreateUser(ctx(t), engine.User{Name: name, PasswordHash: "$argon2id$test"})
	must(t, err)
	return id
}

func newMailbox(t testing.TB, s engine.MetaStore, user engine.UserID, name string) engine.Mailbox {
	t.Helper()
	mb, err := s.CreateMailbox(ctx(t), user, name, "")
	must(t, err)
	return mb
}

func appendMsgs(t testing.TB, s engine.MetaStore, user engine.UserID, mb engine.MailboxID, msgs ...engine.NewMessage) []engine.UID {
	t.Helper()
	_, uids, err := s.Append(ctx(t), user, mb, msgs)
	must(t, err)
	if len(uids) != len(msgs) {
		t.Fatalf("Append of %d messages returned %d UIDs", len(msgs), len(uids))
	}
	return uids
}

// set builds a UID bitmap.
func set[U ~uint32](uids ...U) *roaring.Bitmap {
	b := roaring.New()
	for _, u := range uids {
		b.Add(uint32(u))
	}
	return b
}

func rangeSet(lo, hi uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddRange(uint64(lo), uint64(hi)+1)
	return b
}

// everything is 1:* as a client sends it: 65,536 roaring containers, so
// use it where a test means it, not as a shortcut.
func everything() *roaring.Bitmap { return rangeSet(1, 1<<32-1) }

// metas reads the messages of uids (all when nil).
func metas(t testing.TB, s engine.MetaStore, user engine.UserID, mb engine.MailboxID, uids *roaring.Bitmap) []engine.MessageMeta {
	t.Helper()
	if uids == nil {
		var err error
		uids, _, err = s.UIDs(ctx(t), user, mb)
		must(t, err)
	}
	var out []engine.MessageMeta
	must(t, s.Messages(ctx(t), user, mb, uids, func(m *engine.MessageMeta) error {
		out = append(out, *m)
		return nil
	}))
	return out
}

func metaByUID(t testing.TB, s engine.MetaStore, user engine.UserID, mb engine.MailboxID, uid engine.UID) engine.MessageMeta {
	t.Helper()
	m := metas(t, s, user, mb, set(uid))
	if len(m) != 1 {
		t.Fatalf("message %d: found %d rows", uid, len(m))
	}
	return m[0]
}

func uidList(t testing.TB, s engine.MetaStore, user engine.UserID, mb engine.MailboxID) []uint32 {
	t.Helper()
	b, _, err := s.UIDs(ctx(t), user, mb)
	must(t, err)
	return b.ToArray()
}

func status(t testing.TB, s engine.MetaStore, user engine.UserID, mb engine.MailboxID) engine.MailboxStatus {
	t.Helper()
	st, err := s.Status(ctx(t), user, mb)
	must(t, err)
	return st
}

func quota(t testing.TB, s engine.MetaStore, user engine.UserID) engine.Quota {
	t.Helper()
	q, err := s.Quota(ctx(t), user)
	must(t, err)
	return q
}

func blobRefs(t testing.TB, s engine.MetaStore, ids ...engine.BlobID) []int64 {
	t.Helper()
	n, err := s.BlobRefs(ctx(t), ids)
	must(t, err)
	if len(n) != len(ids) {
		t.Fatalf("BlobRefs of %d ids returned %d counts", len(ids), len(n))
	}
	return n
}

func sortedFlags(f []string) []string {
	out := slices.Clone(f)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func equalFlags(a, b []string) bool { return slices.Equal(sortedFlags(a), sortedFlags(b)) }

func toUIDs(b *roaring.Bitmap) []engine.UID {
	var out []engine.UID
	b.Iterate(func(x uint32) bool {
		out = append(out, engine.UID(x))
		return true
	})
	return out
}
