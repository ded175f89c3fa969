package blobcheck

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/testcorpus"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

type store struct {
	e     *engine.Engine
	meta  *metasqlite.Store
	blobs *blobfs.Store
	user  engine.User
	inbox engine.Mailbox
}

func open(t *testing.T) *store {
	t.Helper()
	env := enginekit.Open(t, enginekit.Options{})
	u, inbox := enginekit.User(t, env.Engine, "gc@example.com", "pw", 0)
	return &store{e: env.Engine, meta: env.Meta, blobs: env.Blobs, user: u, inbox: inbox}
}

func attachment(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	b := make([]byte, 80<<10)
	for j := range b {
		b[j] = byte(r.UintN(256))
	}
	return b
}

// readAll checks every message of the inbox still reads back in full.
func (s *store) readAll(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	uids, _, err := s.e.UIDs(ctx, s.user.ID, s.inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.e.Messages(ctx, s.user.ID, s.inbox.ID, uids, func(m *engine.MessageMeta) error {
		msg, err := s.e.OpenMessage(ctx, s.user.ID, s.inbox.ID, m)
		if err != nil {
			return err
		}
		defer msg.Close()
		d, err := msg.Section(engine.Section{})
		if err != nil {
			return err
		}
		got, err := io.Copy(io.Discard, d.Body)
		if err != nil || got != m.Size {
			return errors.Join(err, errors.New("short read"))
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatalf("reading messages after GC: %v", err)
	}
	return n
}

// TestGCNeverDeletesReferencedBlobs runs random appends, copies and expunges
// with collections in between and concurrently: every message must still
// read back, and blobs of expunged messages must go.
func TestGCNeverDeletesReferencedBlobs(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	trash, _ := s.e.Mailbox(ctx, s.user.ID, "Trash")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := CollectBlobs(ctx, s.e, GCOptions{Grace: time.Nanosecond}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := 0; i < 60; i++ {
		switch rng.IntN(4) {
		case 0, 1:
			// Attachments repeat so that dedup and refcounts are exercised.
			if _, err := s.e.Append(ctx, s.user.ID, s.inbox.ID, bytes.NewReader(testcorpus.WithAttachment(i, attachment(rng.IntN(6)))), engine.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		case 2:
			uids, _, _ := s.e.UIDs(ctx, s.user.ID, s.inbox.ID)
			if !uids.IsEmpty() {
				if _, err := s.e.Copy(ctx, s.user.ID, s.inbox.ID, trash.ID, roaring.BitmapOf(uids.Minimum())); err != nil {
					t.Fatal(err)
				}
			}
		case 3:
			uids, _, _ := s.e.UIDs(ctx, s.user.ID, s.inbox.ID)
			if !uids.IsEmpty() {
				if _, err := s.e.Expunge(ctx, s.user.ID, s.inbox.ID, roaring.BitmapOf(uids.Maximum())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	close(stop)
	wg.Wait()
	s.readAll(t)
	// Delete everything: a final GC must leave no blob behind.
	if err := s.e.DeleteMailbox(ctx, s.user.ID, "Trash"); err != nil {
		t.Fatal(err)
	}
	uids, _, _ := s.e.UIDs(ctx, s.user.ID, s.inbox.ID)
	if _, err := s.e.Expunge(ctx, s.user.ID, s.inbox.ID, uids); err != nil {
		t.Fatal(err)
	}
	if _, err := CollectBlobs(ctx, s.e, GCOptions{Grace: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	left := 0
	s.blobs.Walk(ctx, func(engine.BlobInfo) error { left++; return nil })
	if left != 0 {
		t.Fatalf("%d blobs left after every message was deleted", left)
	}
}

func TestGCGraceProtectsFreshBlobs(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	res, err := s.e.Append(ctx, s.user.ID, s.inbox.ID, bytes.NewReader(testcorpus.WithAttachment(1, attachment(1))), engine.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.e.Expunge(ctx, s.user.ID, s.inbox.ID, roaring.BitmapOf(uint32(res.UID))); err != nil {
		t.Fatal(err)
	}
	r, err := CollectBlobs(ctx, s.e, GCOptions{Grace: time.Hour})
	if err != nil || r.Deleted != 0 || r.Scanned != 1 {
		t.Fatalf("fresh unreferenced blob: %+v, %v; want scanned 1, deleted 0", r, err)
	}
	r, err = CollectBlobs(ctx, s.e, GCOptions{Grace: time.Nanosecond, DryRun: true})
	if err != nil || r.Deleted != 1 {
		t.Fatalf("dry run: %+v, %v", r, err)
	}
	r, err = CollectBlobs(ctx, s.e, GCOptions{Grace: time.Nanosecond})
	if err != nil || r.Deleted != 1 || r.BytesFreed == 0 {
		t.Fatalf("gc: %+v, %v", r, err)
	}
}

func TestFsckCleanStore(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := s.e.Append(ctx, s.user.ID, s.inbox.ID, bytes.NewReader(testcorpus.WithAttachment(i, attachment(i%2))), engine.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Fsck(ctx, s.e, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 2 || len(rep.Corrupt)+len(rep.Missing)+len(rep.RefDrift)+len(rep.QuotaDrift) != 0 {
		t.Fatalf("clean store reported problems: %+v", rep)
	}
}

// TestFsckFindsMissingBlobs: a referenced blob that vanished from the blob
// store (a lost disk, a bad restore) is reported, and fsck exits with problems.
func TestFsckFindsMissingBlobs(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.e.Append(ctx, s.user.ID, s.inbox.ID, bytes.NewReader(testcorpus.WithAttachment(1, attachment(1))), engine.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	var ids []engine.BlobID
	s.blobs.Walk(ctx, func(b engine.BlobInfo) error { ids = append(ids, b.ID); return nil })
	if len(ids) != 1 {
		t.Fatalf("%d blobs, want 1", len(ids))
	}
	if err := s.blobs.Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	rep, err := Fsck(ctx, s.e, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 1 || rep.Missing[0] != ids[0] || len(rep.RefDrift) != 0 {
		t.Fatalf("fsck after losing a referenced blob: %+v", rep)
	}
}
