package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/eidermail/eider/engine"
)

// crashRig is a store whose operations can be stopped after any step, as
// if the node died there, and whose clock can be moved past the recovery
// grace period.
type crashRig struct {
	s      *Store
	offset atomic.Int64 // added to the real clock
	stopAt atomic.Int64 // stop at this step (1-based); 0: never
	steps  atomic.Int64 // steps taken since arm
	names  []string
	user   engine.UserID
	a, b   engine.Mailbox
	shared engine.BlobID
}

func newCrashRig(t *testing.T) *crashRig {
	r := &crashRig{}
	r.s = openTest(t, Options{
		Now: func() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) },
		failpoint: func(step string) error {
			n := r.steps.Add(1)
			r.names = append(r.names, step)
			if stop := r.stopAt.Load(); stop > 0 && n == stop {
				return errors.New("crash")
			}
			return nil
		},
	})
	ctx := t.Context()
	var err error
	if r.user, err = r.s.CreateUser(ctx, engine.User{Name: "crash", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if r.a, err = r.s.CreateMailbox(ctx, r.user, "INBOX", ""); err != nil {
		t.Fatal(err)
	}
	if r.b, err = r.s.CreateMailbox(ctx, r.user, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	copy(r.shared[:], "shared blob")
	msgs := []engine.NewMessage{
		crashMessage(1, []string{`\Seen`}, r.shared, blob("one")),
		crashMessage(2, []string{"$Work"}, r.shared),
		crashMessage(3, nil, blob("three")),
		crashMessage(4, []string{`\Deleted`}),
	}
	if _, _, err := r.s.Append(ctx, r.user, r.a.ID, msgs); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.s.Append(ctx, r.user, r.b.ID, []engine.NewMessage{crashMessage(5, nil, r.shared)}); err != nil {
		t.Fatal(err)
	}
	return r
}

func blob(name string) engine.BlobID {
	var id engine.BlobID
	copy(id[:], name)
	return id
}

func crashMessage(n int, flags []string, blobs ...engine.BlobID) engine.NewMessage {
	return engine.NewMessage{EmailID: engine.EmailID(n), Flags: flags, InternalDate: time.Date(2024, 1, n, 0, 0, 0, 0, time.UTC),
		Size: int64(100 * n), Envelope: []byte("e"), Structure: []byte("s"), Inline: []byte(fmt.Sprint("inline ", n)), Blobs: blobs,
		HeaderText: fmt.Sprintf("subject: message %d\n", n), BodyText: fmt.Sprintf("body number %d", n)}
}

// arm makes the op stop after its n-th step (0: run to the end).
func (r *crashRig) arm(n int) {
	r.steps.Store(0)
	r.names = nil
	r.stopAt.Store(int64(n))
}

// recover moves the clock past the grace period and runs recovery.
func (r *crashRig) recover(t *testing.T) {
	t.Helper()
	r.stopAt.Store(0)
	r.offset.Add(int64(time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := r.s.Recover(ctx); err != nil {
		t.Fatalf("Recover: %v", err)
	}
}

// messages returns the EmailIDs of a mailbox's visible messages (nil when
// the mailbox is gone).
func (r *crashRig) emailIDs(t *testing.T, mb engine.MailboxID) []int {
	t.Helper()
	uids, _, err := r.s.UIDs(t.Context(), r.user, mb)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	if err := r.s.Messages(t.Context(), r.user, mb, uids, func(m *engine.MessageMeta) error {
		out = append(out, int(m.EmailID))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// check verifies what must hold after any crash and recovery: nothing
// half done is left, counters, quota and references equal the messages,
// and each mailbox's journal replays to its UIDs.
func (r *crashRig) check(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	for coll, filter := range map[string]bson.D{
		collOps:       {},
		collMessages:  {{Key: "$or", Value: bson.A{d("pending", d("$exists", true)), d("claim", d("$exists", true))}}},
		collMailboxes: {{Key: "pending", Value: d("$ne", bson.A{})}},
	} {
		n, err := r.s.db.Collection(coll).CountDocuments(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d documents of %s left unfinished", n, coll)
		}
	}
	for _, coll := range []string{collBlobRefs, collTexts} {
		n, err := r.s.db.Collection(coll).CountDocuments(ctx, d("ops", d("$ne", bson.A{})))
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d documents of %s keep op markers", n, coll)
		}
	}
	blobs, err := r.s.RecountBlobRefs(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	quota, err := r.s.RecountQuota(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 0 || len(quota) != 0 {
		t.Errorf("drift after recovery: blobs %+v, quota %+v", blobs, quota)
	}
	r.checkTexts(t)
	boxes, err := r.s.Mailboxes(ctx, r.user)
	if errors.Is(err, engine.ErrNotFound) {
		return // the user is gone
	}
	if err != nil {
		t.Fatal(err)
	}
	var used, count int64
	for _, mb := range boxes {
		st, err := r.s.Status(ctx, r.user, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		uids, highest, err := r.s.UIDs(ctx, r.user, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want engine.MailboxStatus
		if err := r.s.Messages(ctx, r.user, mb.ID, uids, func(m *engine.MessageMeta) error {
			want.Messages++
			want.Size += m.Size
			if !slices.Contains(m.Flags, engine.FlagSeen) {
				want.Unseen++
			}
			if slices.Contains(m.Flags, engine.FlagDeleted) {
				want.Deleted++
			}
			if m.ModSeq > highest {
				t.Errorf("%s: UID %d has MODSEQ %d above the highest %d", mb.Name, m.UID, m.ModSeq, highest)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if st.Messages != want.Messages || st.Unseen != want.Unseen || st.Deleted != want.Deleted || st.Size != want.Size {
			t.Errorf("%s: Status %+v, messages say %+v", mb.Name, st, want)
		}
		used += want.Size
		count += want.Messages
		changes, err := r.s.Journal(ctx, r.user, mb.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		replay := roaring.New()
		for _, c := range changes {
			switch c.Kind {
			case engine.ChangeAppend:
				replay.Add(uint32(c.UID))
			case engine.ChangeExpunge:
				replay.Remove(uint32(c.UID))
			}
		}
		if !replay.Equals(uids) {
			t.Errorf("%s: journal replays to %v, mailbox holds %v", mb.Name, replay.ToArray(), uids.ToArray())
		}
	}
	q, err := r.s.Quota(ctx, r.user)
	if err != nil {
		t.Fatal(err)
	}
	if q.Used != used || q.Messages != count {
		t.Errorf("Quota %+v, messages hold %d bytes in %d", q, used, count)
	}
	// The store still works.
	if _, _, err := r.s.Append(ctx, r.user, boxes[0].ID, []engine.NewMessage{crashMessage(9, nil, r.shared)}); err != nil {
		t.Errorf("Append after recovery: %v", err)
	}
}

// checkTexts compares each text's reference count with the messages using it.
func (r *crashRig) checkTexts(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	uses := map[int64]int64{}
	cur, err := r.s.messages.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []messageDoc
	if err := cur.All(ctx, &msgs); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Text != 0 {
			uses[m.Text]++
		}
	}
	cur, err = r.s.texts.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []textDoc
	if err := cur.All(ctx, &texts); err != nil {
		t.Fatal(err)
	}
	have := map[int64]int64{}
	for _, tx := range texts {
		have[tx.ID] = tx.Refs
	}
	for id, n := range uses {
		if have[id] != n {
			t.Errorf("text %d has %d references, %d messages use it", id, have[id], n)
		}
	}
	for id, n := range have {
		if uses[id] == 0 {
			t.Errorf("text %d (%d references) is used by no message", id, n)
		}
	}
}

// crashCase is an operation run on a fresh rig and what must hold of its
// outcome, whether recovery finished it or undid it.
type crashCase struct {
	name    string
	run     func(ctx context.Context, r *crashRig) error
	outcome func(t *testing.T, r *crashRig)
}

var crashCases = []crashCase{
	{"Append", func(ctx context.Context, r *crashRig) error {
		_, _, err := r.s.Append(ctx, r.user, r.a.ID, []engine.NewMessage{crashMessage(6, nil, r.shared, blob("six")), crashMessage(7, []string{"$New"})})
		return err
	}, func(t *testing.T, r *crashRig) {
		got := r.emailIDs(t, r.a.ID)
		if !slices.Equal(got, []int{1, 2, 3, 4}) && !slices.Equal(got, []int{1, 2, 3, 4, 6, 7}) {
			t.Errorf("INBOX holds %v: a half-done append", got)
		}
	}},
	{"Copy", func(ctx context.Context, r *crashRig) error {
		_, err := r.s.Copy(ctx, r.user, r.a.ID, r.b.ID, rangeOf(1, 3))
		return err
	}, func(t *testing.T, r *crashRig) {
		if got := r.emailIDs(t, r.a.ID); !slices.Equal(got, []int{1, 2, 3, 4}) {
			t.Errorf("copy changed its source: %v", got)
		}
		got := r.emailIDs(t, r.b.ID)
		if !slices.Equal(got, []int{5}) && !slices.Equal(got, []int{1, 2, 3, 5}) {
			t.Errorf("Archive holds %v: a half-done copy", got)
		}
	}},
	{"Move", func(ctx context.Context, r *crashRig) error {
		_, err := r.s.Move(ctx, r.user, r.a.ID, r.b.ID, rangeOf(1, 2))
		return err
	}, func(t *testing.T, r *crashRig) {
		src, dst := r.emailIDs(t, r.a.ID), r.emailIDs(t, r.b.ID)
		moved := slices.Equal(src, []int{3, 4}) && slices.Equal(dst, []int{1, 2, 5})
		stayed := slices.Equal(src, []int{1, 2, 3, 4}) && slices.Equal(dst, []int{5})
		if !moved && !stayed {
			t.Errorf("after a crashed move INBOX holds %v and Archive %v", src, dst)
		}
	}},
	{"MoveWithin", func(ctx context.Context, r *crashRig) error {
		_, err := r.s.Move(ctx, r.user, r.a.ID, r.a.ID, rangeOf(1, 1))
		return err
	}, func(t *testing.T, r *crashRig) {
		if got := r.emailIDs(t, r.a.ID); !slices.Equal(got, []int{1, 2, 3, 4}) {
			t.Errorf("a move within INBOX left %v", got)
		}
	}},
	{"Expunge", func(ctx context.Context, r *crashRig) error {
		_, _, err := r.s.Expunge(ctx, r.user, r.a.ID, rangeOf(2, 3))
		return err
	}, func(t *testing.T, r *crashRig) {
		got := r.emailIDs(t, r.a.ID)
		if !slices.Equal(got, []int{1, 4}) && !slices.Equal(got, []int{1, 2, 3, 4}) {
			t.Errorf("INBOX holds %v: a half-done expunge", got)
		}
	}},
	{"StoreFlags", func(ctx context.Context, r *crashRig) error {
		_, _, err := r.s.StoreFlags(ctx, r.user, r.a.ID, rangeOf(1, 4), engine.FlagsReplace, []string{`\Seen`}, 0)
		return err
	}, func(t *testing.T, r *crashRig) {}},
	{"Rename", func(ctx context.Context, r *crashRig) error {
		if _, err := r.s.CreateMailbox(ctx, r.user, "Archive/2024", ""); err != nil {
			return err
		}
		return r.s.RenameMailbox(ctx, r.user, "Archive", "Old")
	}, func(t *testing.T, r *crashRig) {
		// A rename is rolled forward: the whole tree has its new names.
		boxes, err := r.s.Mailboxes(t.Context(), r.user)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, mb := range boxes {
			names = append(names, mb.Name)
		}
		if !slices.Equal(names, []string{"INBOX", "Old", "Old/2024"}) {
			t.Errorf("after a crashed rename the mailboxes are %v", names)
		}
	}},
	{"DeleteMailbox", func(ctx context.Context, r *crashRig) error {
		return r.s.DeleteMailbox(ctx, r.user, r.a.ID)
	}, func(t *testing.T, r *crashRig) {
		if _, err := r.s.Mailbox(t.Context(), r.user, r.a.ID); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("a deleted mailbox came back: %v", err)
		}
		if got := r.emailIDs(t, r.b.ID); !slices.Equal(got, []int{5}) {
			t.Errorf("deleting INBOX changed Archive: %v", got)
		}
	}},
	{"DeleteUser", func(ctx context.Context, r *crashRig) error {
		return r.s.DeleteUser(ctx, r.user)
	}, func(t *testing.T, r *crashRig) {
		if _, err := r.s.User(t.Context(), r.user); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("a deleted user came back: %v", err)
		}
		refs, err := r.s.BlobRefs(t.Context(), []engine.BlobID{r.shared, blob("one"), blob("three")})
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(refs, func(n int64) bool { return n != 0 }) {
			t.Errorf("blob references %v after the user is gone", refs)
		}
		n, err := r.s.messages.CountDocuments(t.Context(), bson.D{})
		if err != nil || n != 0 {
			t.Errorf("%d messages (%v) left of a deleted user", n, err)
		}
	}},
}

func rangeOf(lo, hi uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddRange(uint64(lo), uint64(hi)+1)
	return b
}

// TestCrashRecovery stops each operation after each of its steps, runs
// recovery and checks that the store is whole: the operation happened
// entirely or not at all.
func TestCrashRecovery(t *testing.T) {
	for _, tc := range crashCases {
		t.Run(tc.name, func(t *testing.T) {
			// A clean run names the steps.
			r := newCrashRig(t)
			r.arm(0)
			if err := tc.run(t.Context(), r); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			steps := slices.Clone(r.names)
			if len(steps) == 0 {
				t.Fatal("the operation reports no steps")
			}
			tc.outcome(t, r)
			r.check(t)
			for i, step := range steps {
				t.Run(fmt.Sprintf("%02d %s", i+1, step), func(t *testing.T) {
					r := newCrashRig(t)
					r.arm(i + 1)
					if err := tc.run(t.Context(), r); err == nil {
						t.Fatalf("the operation did not stop after step %d", i+1)
					}
					r.recover(t)
					tc.outcome(t, r)
					r.check(t)
				})
			}
		})
	}
}
