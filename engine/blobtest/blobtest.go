// Package blobtest is the conformance suite every engine.BlobStore backend
// runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) engine.BlobStore { return newEmptyStore(t) })
//	}
//
// open must return an empty store that lives until the test ends (clean up
// with t.Cleanup). Subtests run in parallel, each with its own store.
//
// What the suite pins down beyond the interface's comments:
//   - Abort after a successful Commit does nothing, so callers may
//     `defer w.Abort()`; Abort twice is fine.
//   - A failed Commit leaves no object behind.
//   - Delete of a missing id is not an error.
//   - Open and Stat of a missing id fail with an error that errors.Is
//     engine.ErrNotFound.
//   - A reader opened before Delete either reads the whole object or fails
//     with an error; it never returns other bytes. (The file backend keeps
//     serving the content, by unix unlink semantics.)
//   - BlobReader.ReadAt behaves like os.File's: concurrent calls are fine and
//     a read that reaches the end returns io.EOF with the bytes it got.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/frames"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) engine.BlobStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, engine.BlobStore)
	}{
		{"CommitOpenRead", testCommitOpenRead},
		{"CommitExisting", testCommitExisting},
		{"Abort", testAbort},
		{"AbortAfterCommit", testAbortAfterCommit},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"Walk", testWalk},
		{"WalkStops", testWalkStops},
		{"ConcurrentCommitSameID", testConcurrentCommitSameID},
		{"ConcurrentReaders", testConcurrentReaders},
		{"ReaderOpenAcrossDelete", testReaderOpenAcrossDelete},
		{"FramedContainer", testFramedContainer},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// content returns n deterministic bytes for a seed: text-like for even
// seeds, random for odd ones.
func content(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0xb10b))
	b := make([]byte, n)
	if seed%2 == 0 {
		const line = "Please find the quarterly figures attached.\r\n"
		for i := range b {
			b[i] = line[(i+int(seed))%len(line)]
		}
		return b
	}
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// put stores data under its BLAKE3 hash and returns the id.
func put(t *testing.T, s engine.BlobStore, data []byte) (engine.BlobID, bool) {
	t.Helper()
	id := engine.BlobID(blake3.Sum256(data))
	existed, err := commit(context.Background(), s, id, data, 32<<10)
	if err != nil {
		t.Fatalf("commit %s: %v", id, err)
	}
	return id, existed
}

// commit writes data in chunk-sized writes and commits it as id.
func commit(ctx context.Context, s engine.BlobStore, id engine.BlobID, data []byte, chunk int) (bool, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return false, fmt.Errorf("create: %w", err)
	}
	for p := data; len(p) > 0; {
		k := min(chunk, len(p))
		if _, err := w.Write(p[:k]); err != nil {
			_ = w.Abort()
			return false, fmt.Errorf("write: %w", err)
		}
		p = p[k:]
	}
	return w.Commit(ctx, id)
}

// readAll reads a whole object with one ReadAt.
func readAll(t *testing.T, s engine.BlobStore, id engine.BlobID) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer r.Close()
	p := make([]byte, r.Size())
	if n, err := r.ReadAt(p, 0); n != len(p) || (err != nil && err != io.EOF) {
		t.Fatalf("read %s: %d of %d bytes, %v", id, n, len(p), err)
	}
	return p
}

// walkAll collects every object Walk reports, failing on a duplicate.
func walkAll(t *testing.T, s engine.BlobStore) map[engine.BlobID]engine.BlobInfo {
	t.Helper()
	seen := make(map[engine.BlobID]engine.BlobInfo)
	err := s.Walk(context.Background(), func(in engine.BlobInfo) error {
		if _, dup := seen[in.ID]; dup {
			return fmt.Errorf("walk reported %s twice", in.ID)
		}
		seen[in.ID] = in
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return seen
}

func testCommitOpenRead(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	for i, size := range []int{0, 1, 4095, 100_000, 1<<20 + 7} {
		data := content(uint64(i), size)
		before := time.Now().Add(-time.Minute)
		id, existed := put(t, s, data)
		if existed {
			t.Fatalf("size %d: new object reported as existing", size)
		}
		r, err := s.Open(ctx, id)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if r.Size() != int64(size) {
			t.Fatalf("Size %d, want %d", r.Size(), size)
		}
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		for range 50 {
			off := rng.IntN(size + 1)
			n := rng.IntN(size - off + 1)
			p := make([]byte, n)
			k, err := r.ReadAt(p, int64(off))
			if k != n || (err != nil && !(err == io.EOF && off+n == size)) {
				t.Fatalf("ReadAt(%d bytes at %d) of %d: %d, %v", n, off, size, k, err)
			}
			if !bytes.Equal(p, data[off:off+n]) {
				t.Fatalf("ReadAt(%d bytes at %d) returned other bytes", n, off)
			}
		}
		// Past the end: the bytes that exist, then io.EOF.
		p := make([]byte, 10)
		k, err := r.ReadAt(p, int64(max(size-3, 0)))
		if want := min(size, 3); k != want || err != io.EOF || !bytes.Equal(p[:k], data[size-want:]) {
			t.Fatalf("ReadAt over the end of %d bytes: %d, %v", size, k, err)
		}
		if k, err := r.ReadAt(p, int64(size)+5); k != 0 || err != io.EOF {
			t.Fatalf("ReadAt past the end: %d, %v", k, err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		in, err := s.Stat(ctx, id)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if in.ID != id || in.Size != int64(size) || in.Tier == "" || in.Modified.Before(before) {
			t.Fatalf("stat %+v, want id %s size %d, a tier and a fresh time", in, id, size)
		}
	}
}

func testCommitExisting(t *testing.T, s engine.BlobStore) {
	data := content(2, 70_000)
	id, existed := put(t, s, data)
	if existed {
		t.Fatal("first commit reported existing")
	}
	if _, existed = put(t, s, data); !existed {
		t.Fatal("second commit of the same id did not report existing")
	}
	all := walkAll(t, s)
	if len(all) != 1 || all[id].Size != int64(len(data)) {
		t.Fatalf("walk after two commits of one id: %v", all)
	}
	if !bytes.Equal(readAll(t, s, id), data) {
		t.Fatal("content changed by the second commit")
	}
}

func testAbort(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	data := content(3, 50_000)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	if _, err := w.Commit(ctx, engine.BlobID(blake3.Sum256(data))); err == nil {
		t.Fatal("commit after abort succeeded")
	}
	if all := walkAll(t, s); len(all) != 0 {
		t.Fatalf("aborted object is listed: %v", all)
	}
	if _, err := s.Open(ctx, engine.BlobID(blake3.Sum256(data))); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open of an aborted object: %v", err)
	}
	// An object created and never written nor committed is dropped too.
	w, err = s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort of an empty object: %v", err)
	}
	if all := walkAll(t, s); len(all) != 0 {
		t.Fatalf("aborted empty object is listed: %v", all)
	}
}

func testAbortAfterCommit(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	data := content(4, 1000)
	id := engine.BlobID(blake3.Sum256(data))
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after commit succeeded")
	}
	if !bytes.Equal(readAll(t, s, id), data) {
		t.Fatal("abort after commit changed the object")
	}
}

func testDelete(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	keep, _ := put(t, s, content(5, 3000))
	gone, _ := put(t, s, content(6, 3000))
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.Open(ctx, gone); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
	if _, err := s.Stat(ctx, gone); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("stat after delete: %v", err)
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	all := walkAll(t, s)
	if _, ok := all[keep]; !ok || len(all) != 1 {
		t.Fatalf("walk after delete: %v", all)
	}
	// A deleted id can be stored again.
	if _, existed := put(t, s, content(6, 3000)); existed {
		t.Fatal("recommit after delete reported existing")
	}
	if !bytes.Equal(readAll(t, s, gone), content(6, 3000)) {
		t.Fatal("recommitted object differs")
	}
}

func testNotFound(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	id := engine.BlobID(blake3.Sum256([]byte("never stored")))
	if _, err := s.Open(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("stat: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("delete of a missing id: %v", err)
	}
}

func testWalk(t *testing.T, s engine.BlobStore) {
	want := make(map[engine.BlobID]int64)
	for i := range 40 {
		data := content(uint64(100+i), 100+i*37)
		id, _ := put(t, s, data)
		want[id] = int64(len(data))
	}
	all := walkAll(t, s)
	if len(all) != len(want) {
		t.Fatalf("walk found %d objects, want %d", len(all), len(want))
	}
	for id, size := range want {
		in, ok := all[id]
		if !ok || in.Size != size || in.ID != id || in.Tier == "" || in.Modified.IsZero() {
			t.Fatalf("walk entry for %s: %+v (found %v), want size %d", id, in, ok, size)
		}
	}
}

func testWalkStops(t *testing.T, s engine.BlobStore) {
	for i := range 5 {
		put(t, s, content(uint64(200+i), 10))
	}
	stop := errors.New("enough")
	calls := 0
	err := s.Walk(context.Background(), func(engine.BlobInfo) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("walk after fn failed: %v after %d calls", err, calls)
	}
}

// testConcurrentCommitSameID: eight ingests of one attachment commit at
// once; exactly one intact object remains and at least one commit reports
// it new.
func testConcurrentCommitSameID(t *testing.T, s engine.BlobStore) {
	data := content(7, 300_000)
	id := engine.BlobID(blake3.Sum256(data))
	var wg sync.WaitGroup
	results := make([]bool, 8)
	errs := make([]error, 8)
	start := make(chan struct{})
	for g := range 8 {
		wg.Go(func() {
			<-start
			results[g], errs[g] = commit(context.Background(), s, id, data, 4096+g*1000)
		})
	}
	close(start)
	wg.Wait()
	fresh := 0
	for g := range 8 {
		if errs[g] != nil {
			t.Fatalf("commit %d: %v", g, errs[g])
		}
		if !results[g] {
			fresh++
		}
	}
	if fresh == 0 {
		t.Fatal("every commit reported an existing object")
	}
	all := walkAll(t, s)
	if len(all) != 1 || all[id].Size != int64(len(data)) {
		t.Fatalf("walk after 8 commits of one id: %v", all)
	}
	if !bytes.Equal(readAll(t, s, id), data) {
		t.Fatal("object damaged by concurrent commits")
	}
}

func testConcurrentReaders(t *testing.T, s engine.BlobStore) {
	data := content(9, 500_000)
	id, _ := put(t, s, data)
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 100 {
				off := rng.IntN(len(data))
				n := min(rng.IntN(10_000), len(data)-off)
				p := make([]byte, n)
				if _, err := r.ReadAt(p, int64(off)); err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(p, data[off:off+n]) {
					errs <- fmt.Errorf("concurrent ReadAt at %d returned other bytes", off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testReaderOpenAcrossDelete(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	data := content(11, 200_000)
	id, _ := put(t, s, data)
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 1000)
	if _, err := r.ReadAt(head, 0); err != nil || !bytes.Equal(head, data[:1000]) {
		t.Fatalf("read before delete: %v", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, len(data))
	n, err := r.ReadAt(p, 0)
	switch {
	case err != nil && err != io.EOF:
		t.Logf("reader after delete fails cleanly: %v", err)
	case n != len(data) || !bytes.Equal(p, data):
		t.Fatalf("reader after delete returned %d other bytes without an error", n)
	}
	if _, err := s.Open(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
}

// testFramedContainer stores a frames container the way ingest does and
// reads a range back through the BlobReader, as a partial FETCH does.
func testFramedContainer(t *testing.T, s engine.BlobStore) {
	ctx := context.Background()
	data := content(12, 3<<20)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fw := frames.NewWriter(w, frames.Options{})
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	sum, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	id := engine.BlobID(sum.Hash)
	if _, err := w.Commit(ctx, id); err != nil {
		t.Fatal(err)
	}
	br, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if br.Size() != sum.StoredSize {
		t.Fatalf("stored %d bytes, container has %d", br.Size(), sum.StoredSize)
	}
	fr, err := frames.Open(br, br.Size())
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 1024)
	off := int64(2<<20 + 12345)
	if _, err := fr.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+1024]) {
		t.Fatalf("range read through the store: %v", err)
	}
	if n, _ := fr.Stats(); n != 1 {
		t.Fatalf("1 KiB range read %d frames", n)
	}
	if err := fr.Verify(); err != nil {
		t.Fatal(err)
	}
}

func testCancelledContext(t *testing.T, s engine.BlobStore) {
	ctx, cancel := context.WithCancel(context.Background())
	data := content(13, 5000)
	id := engine.BlobID(blake3.Sum256(data))
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Commit(ctx, id); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit with a cancelled context: %v", err)
	}
	_ = w.Abort()
	if _, err := s.Stat(context.Background(), id); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("a failed commit left an object: %v", err)
	}
	if all := walkAll(t, s); len(all) != 0 {
		t.Fatalf("a failed commit left an object: %v", all)
	}
}
