package mongo

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/internal/testkit"
)

func TestDetectsFerretDB(t *testing.T) {
	var logs testkit.SyncBuffer
	s := openTest(t, Options{Logger: slogTo(&logs)})
	if !s.ferretDB {
		t.Fatal("FerretDB not recognised from buildInfo")
	}
	if !strings.Contains(logs.String(), "expireAfterSeconds") && !strings.Contains(logs.String(), "not supported") {
		t.Errorf("the skipped TTL index was not logged: %q", logs.String())
	}
	// Open is idempotent on existing indexes.
	again, err := Open(t.Context(), Options{Client: s.client, Database: s.db.Name(), RecoveryInterval: -1, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.client.Ping(t.Context(), nil); err != nil {
		t.Errorf("Close of a store on a shared client disconnected it: %v", err)
	}
}

func TestOptionsRefused(t *testing.T) {
	if _, err := Open(t.Context(), Options{URI: ferretURI, ReadPreference: "fastest"}); err == nil {
		t.Error("an unknown read preference was accepted")
	}
	if _, err := Open(t.Context(), Options{}); err == nil {
		t.Error("Open without a URI or client succeeded")
	}
}

// TestPendingHidden checks what readers see while an operation is in
// progress: neither its messages nor its MODSEQ, and no UID above its own.
func TestPendingHidden(t *testing.T) {
	r := newCrashRig(t)
	ctx := t.Context()
	before, err := r.s.Status(ctx, r.user, r.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	stop := 0
	r.arm(0)
	r.s.Append(ctx, r.user, r.a.ID, []engine.NewMessage{crashMessage(6, nil)}) // names the steps
	for i, name := range r.names {
		if name == "append:journal" {
			stop = i + 1
		}
	}
	mid, err := r.s.Status(ctx, r.user, r.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.arm(stop)
	if _, _, err := r.s.Append(ctx, r.user, r.a.ID, []engine.NewMessage{crashMessage(7, nil)}); err == nil {
		t.Fatal("append did not stop")
	}
	// A later append commits while the first is still pending.
	r.arm(0)
	if _, _, err := r.s.Append(ctx, r.user, r.a.ID, []engine.NewMessage{crashMessage(8, nil)}); err != nil {
		t.Fatal(err)
	}
	uids, highest, err := r.s.UIDs(ctx, r.user, r.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(uids.ToArray(), []uint32{1, 2, 3, 4, 5}) || highest != mid.HighestModSeq {
		t.Errorf("while UID 6 is pending: UIDs %v, highest %d; want 1-5 and %d (before: %d)", uids.ToArray(), highest, mid.HighestModSeq, before.HighestModSeq)
	}
	// STATUS counts completed operations only: the one after it, not the pending one.
	if st, err := r.s.Status(ctx, r.user, r.a.ID); err != nil || st.Messages != mid.Messages+1 || st.HighestModSeq != mid.HighestModSeq {
		t.Errorf("Status while UID 6 is pending = %+v, %v; want %d messages", st, err, mid.Messages+1)
	}
	if ch, err := r.s.Journal(ctx, r.user, r.a.ID, mid.HighestModSeq); err != nil || len(ch) != 0 {
		t.Errorf("journal past the pending append: %+v, %v", ch, err)
	}
	if first, last, err := r.s.ClaimRecent(ctx, r.user, r.a.ID); err != nil || last != 5 {
		t.Errorf("ClaimRecent = %d..%d, %v; want up to 5", first, last, err)
	}
	r.recover(t)
	uids, highest, err = r.s.UIDs(ctx, r.user, r.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(uids.ToArray(), []uint32{1, 2, 3, 4, 5, 7}) || highest <= mid.HighestModSeq {
		t.Errorf("after recovery: UIDs %v, highest %d", uids.ToArray(), highest)
	}
	ch, err := r.s.Journal(ctx, r.user, r.a.ID, mid.HighestModSeq)
	if err != nil || len(ch) != 1 || ch[0].UID != 7 {
		t.Errorf("journal after recovery: %+v, %v", ch, err)
	}
	r.check(t)
}

// TestJournalTTLHorizon checks that entries the TTL index may have
// deleted silently answer ErrJournalExpired, from the mailbox's checkpoints.
func TestJournalTTLHorizon(t *testing.T) {
	var offset time.Duration
	s := openTest(t, Options{JournalTTL: time.Hour, Now: func() time.Time { return time.Now().Add(offset) }})
	ctx := t.Context()
	user, _ := s.CreateUser(ctx, engine.User{Name: "ttl"})
	mb, _ := s.CreateMailbox(ctx, user, "INBOX", "")
	if _, _, err := s.Append(ctx, user, mb.ID, []engine.NewMessage{crashMessage(1, nil)}); err != nil {
		t.Fatal(err)
	}
	offset = 10 * time.Minute
	if _, _, err := s.Append(ctx, user, mb.ID, []engine.NewMessage{crashMessage(2, nil)}); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Journal(ctx, user, mb.ID, 0); err != nil || len(ch) != 2 {
		t.Fatalf("Journal inside the TTL = %+v, %v", ch, err)
	}
	offset = 65 * time.Minute // the first append's entries are past the TTL
	if _, err := s.Journal(ctx, user, mb.ID, 0); !errors.Is(err, engine.ErrJournalExpired) {
		t.Errorf("Journal(0) past the TTL: %v, want ErrJournalExpired", err)
	}
	st, _ := s.Status(ctx, user, mb.ID)
	if ch, err := s.Journal(ctx, user, mb.ID, st.HighestModSeq-1); err != nil || len(ch) != 1 {
		t.Errorf("Journal of the recent change = %+v, %v", ch, err)
	}
}

func TestDumpLoad(t *testing.T) {
	src := openTest(t, Options{})
	dst := openTest(t, Options{})
	ctx := t.Context()
	u1, _ := src.CreateUser(ctx, engine.User{Name: "d"})
	mb, _ := src.CreateMailbox(ctx, u1, "INBOX", engine.SpecialSent)
	src.SetSubscribed(ctx, u1, "INBOX", true)
	msgs := []engine.NewMessage{crashMessage(1, []string{`\Seen`, "$A"}, blob("x")), crashMessage(2, nil, blob("x"), blob("y")), crashMessage(3, []string{`\Deleted`})}
	msgs[1].SentDate = time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	src.Append(ctx, u1, mb.ID, msgs)
	src.Expunge(ctx, u1, mb.ID, roaring.BitmapOf(3))
	src.StoreFlags(ctx, u1, mb.ID, roaring.BitmapOf(2), engine.FlagsAdd, []string{`\Flagged`}, 0)
	st, _ := src.Status(ctx, u1, mb.ID)
	full, _ := src.Mailbox(ctx, u1, mb.ID)

	u2, _ := dst.CreateUser(ctx, engine.User{Name: "d"})
	loaded, err := dst.LoadMailbox(ctx, u2, full)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.UIDValidity != full.UIDValidity || loaded.UIDNext != full.UIDNext || loaded.HighestModSeq != full.HighestModSeq || !loaded.Subscribed || loaded.SpecialUse != engine.SpecialSent {
		t.Errorf("loaded mailbox %+v, source %+v", loaded, full)
	}
	var dumps []*engine.MessageDump
	if err := src.DumpMessages(ctx, u1, mb.ID, 0, func(m *engine.MessageDump) error {
		c := *m
		dumps = append(dumps, &c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dumps) != 2 || dumps[1].SentDate.IsZero() || dumps[1].BodyText != "body number 2" {
		t.Fatalf("dumps = %+v", dumps)
	}
	if err := dst.LoadMessages(ctx, u2, loaded.ID, dumps); err != nil {
		t.Fatal(err)
	}
	if err := dst.LoadMessages(ctx, u2, loaded.ID, dumps[:1]); !errors.Is(err, engine.ErrInvalidName) {
		t.Errorf("loading a UID again: %v", err)
	}
	var a, b []engine.MessageMeta
	src.Messages(ctx, u1, mb.ID, rangeOf(1, 10), func(m *engine.MessageMeta) error { a = append(a, *m); return nil })
	dst.Messages(ctx, u2, loaded.ID, rangeOf(1, 10), func(m *engine.MessageMeta) error { b = append(b, *m); return nil })
	if len(a) != len(b) {
		t.Fatalf("%d messages loaded of %d", len(b), len(a))
	}
	for i := range a {
		if a[i].UID != b[i].UID || a[i].ModSeq != b[i].ModSeq || a[i].EmailID != b[i].EmailID || !slices.Equal(a[i].Flags, b[i].Flags) ||
			!a[i].InternalDate.Equal(b[i].InternalDate) || !bytes.Equal(a[i].Envelope, b[i].Envelope) {
			t.Errorf("loaded %+v, source %+v", b[i], a[i])
		}
	}
	st2, _ := dst.Status(ctx, u2, loaded.ID)
	if st2.Messages != st.Messages || st2.Unseen != st.Unseen || st2.Size != st.Size || st2.HighestModSeq != st.HighestModSeq {
		t.Errorf("loaded status %+v, source %+v", st2, st)
	}
	if refs, _ := dst.BlobRefs(ctx, []engine.BlobID{blob("x"), blob("y")}); !slices.Equal(refs, []int64{2, 1}) {
		t.Errorf("loaded blob references %v", refs)
	}
	if _, err := dst.Journal(ctx, u2, loaded.ID, 1); !errors.Is(err, engine.ErrJournalExpired) {
		t.Errorf("journal below the loaded HIGHESTMODSEQ: %v", err)
	}
	if found, err := dst.Search(ctx, u2, loaded.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: "NUMBER 2"}); err != nil || !slices.Equal(found.ToArray(), []uint32{2}) {
		t.Errorf("search in loaded text: %v, %v", found, err)
	}
}

// TestBigTextSearched checks that a text with too many trigrams for the
// index is still found, and that short needles bypass the index.
func TestBigTextSearched(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	user, _ := s.CreateUser(ctx, engine.User{Name: "big"})
	mb, _ := s.CreateMailbox(ctx, user, "INBOX", "")
	// Random letters and digits: far more distinct trigrams than the
	// index takes for one text.
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789.,;:!?"
	rng := rand.New(rand.NewPCG(1, 2))
	var body strings.Builder
	for body.Len() < 200_000 {
		body.WriteByte(alphabet[rng.IntN(len(alphabet))])
	}
	body.WriteString("needle-in-haystack")
	m := crashMessage(1, nil)
	m.BodyText = body.String()
	if _, _, err := s.Append(ctx, user, mb.ID, []engine.NewMessage{m, crashMessage(2, nil)}); err != nil {
		t.Fatal(err)
	}
	var doc textDoc
	if err := s.texts.FindOne(ctx, bson.D{{Key: "user", Value: int64(user)}, {Key: "big", Value: true}}).Decode(&doc); err != nil {
		t.Fatalf("the long text is not marked big: %v", err)
	}
	for needle, want := range map[string][]uint32{"NEEDLE-in-HAYSTACK": {1}, "number 2": {2}, "2": {1, 2}, "zzzz": nil} {
		found, err := s.Search(ctx, user, mb.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: needle})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(found.ToArray(), want) && !(found.IsEmpty() && want == nil) {
			t.Errorf("BODY %q = %v, want %v", needle, found.ToArray(), want)
		}
	}
}

// TestRecoveryClaimsOps checks that an op a recovery pass has claimed
// cannot commit any more: a node slower than the grace period fails
// instead of racing the pass.
func TestRecoveryClaimsOps(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	op := newOp(opAppend, 1, s.opt.Now())
	if err := s.insertOp(ctx, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ops.UpdateOne(ctx, d("_id", op.ID), d("$set", d("claim", s.opt.Now().Add(time.Minute)))); err != nil {
		t.Fatal(err)
	}
	if err := s.commit(ctx, op); !errors.Is(err, errAborted) {
		t.Errorf("commit of a claimed op: %v, want errAborted", err)
	}
}

func TestRecountRepairs(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	user, _ := s.CreateUser(ctx, engine.User{Name: "r"})
	mb, _ := s.CreateMailbox(ctx, user, "INBOX", "")
	s.Append(ctx, user, mb.ID, []engine.NewMessage{crashMessage(1, nil, blob("a")), crashMessage(2, nil, blob("a"))})
	// Damage: a count too high, a count missing, quota and a counter off.
	s.blobRefs.UpdateOne(ctx, d("_id", blob("a").String()), d("$set", d("refs", 7)))
	s.blobRefs.InsertOne(ctx, bson.D{{Key: "_id", Value: blob("ghost").String()}, {Key: "refs", Value: 3}, {Key: "ops", Value: bson.A{}}})
	s.users.UpdateOne(ctx, d("_id", int64(user)), d("$inc", d("quota_used", 5)))
	s.mailboxes.UpdateOne(ctx, d("_id", int64(mb.ID)), d("$inc", d("unseen", 2)))
	blobs, err := s.RecountBlobRefs(ctx, true)
	if err != nil || len(blobs) != 2 {
		t.Errorf("RecountBlobRefs = %+v, %v", blobs, err)
	}
	quota, err := s.RecountQuota(ctx, true)
	if err != nil || len(quota) != 1 || quota[0].Stored-quota[0].Actual != 5 {
		t.Errorf("RecountQuota = %+v, %v", quota, err)
	}
	if refs, _ := s.BlobRefs(ctx, []engine.BlobID{blob("a"), blob("ghost")}); !slices.Equal(refs, []int64{2, 0}) {
		t.Errorf("after repair: references %v", refs)
	}
	if st, _ := s.Status(ctx, user, mb.ID); st.Unseen != 2 {
		t.Errorf("after repair: unseen %d", st.Unseen)
	}
	if b, _ := s.RecountBlobRefs(ctx, false); len(b) != 0 {
		t.Errorf("drift after repair: %+v", b)
	}
}

// TestSharedClient checks that stores can share a client and see each
// other's writes, as nodes of a cluster do.
func TestSharedClient(t *testing.T) {
	a := openTest(t, Options{})
	client, err := mongo.Connect(options.Client().ApplyURI(ferretURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	b, err := Open(t.Context(), Options{Client: client, Database: a.db.Name(), RecoveryInterval: -1, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	user, _ := a.CreateUser(ctx, engine.User{Name: "shared"})
	mb, _ := a.CreateMailbox(ctx, user, "INBOX", "")
	if _, _, err := b.Append(ctx, user, mb.ID, []engine.NewMessage{crashMessage(1, nil)}); err != nil {
		t.Fatal(err)
	}
	if uids, _, err := a.UIDs(ctx, user, mb.ID); err != nil || uids.GetCardinality() != 1 {
		t.Errorf("the other node's append: %v, %v", uids, err)
	}
	if _, err := b.CreateUser(ctx, engine.User{Name: "shared"}); !errors.Is(err, engine.ErrExists) {
		t.Errorf("a name taken on another node: %v", err)
	}
}

func slogTo(w *testkit.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
