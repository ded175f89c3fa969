package metered

import (
	"context"
	"errors"
	"io"

	"github.com/eidermail/eider/engine"
)

var blobOps = []string{"Create", "Write", "Commit", "Open", "ReadAt", "Stat", "Delete", "Walk"}

// Blobs times every call of a BlobStore, and the writes, commits and reads
// of the objects it hands out.
type Blobs struct {
	next engine.BlobStore
	ops  *ops
}

// Blobs wraps s; backend names it in the backend label ("fs", "gridfs").
func (m *Metrics) Blobs(s engine.BlobStore, backend string) *Blobs {
	return &Blobs{next: s, ops: m.ops("blob", backend, blobOps...)}
}

// Unwrap returns the store Blobs decorates.
func (s *Blobs) Unwrap() engine.BlobStore { return s.next }

func (s *Blobs) Create(ctx context.Context) (engine.BlobWriter, error) {
	t := s.ops.start("Create")
	w, err := s.next.Create(ctx)
	if t.done(err) != nil {
		return nil, err
	}
	return &blobWriter{next: w, ops: s.ops}, nil
}

func (s *Blobs) Open(ctx context.Context, id engine.BlobID) (engine.BlobReader, error) {
	t := s.ops.start("Open")
	r, err := s.next.Open(ctx, id)
	if t.done(err) != nil {
		return nil, err
	}
	return &blobReader{next: r, ops: s.ops}, nil
}

func (s *Blobs) Stat(ctx context.Context, id engine.BlobID) (engine.BlobInfo, error) {
	t := s.ops.start("Stat")
	info, err := s.next.Stat(ctx, id)
	return info, t.done(err)
}

func (s *Blobs) Delete(ctx context.Context, id engine.BlobID) error {
	t := s.ops.start("Delete")
	return t.done(s.next.Delete(ctx, id))
}

func (s *Blobs) Walk(ctx context.Context, fn func(engine.BlobInfo) error) error {
	t := s.ops.start("Walk")
	return t.done(s.next.Walk(ctx, callback(t, fn)))
}

type blobWriter struct {
	next engine.BlobWriter
	ops  *ops
}

func (w *blobWriter) Write(p []byte) (int, error) {
	t := w.ops.start("Write")
	n, err := w.next.Write(p)
	return n, t.done(err)
}

func (w *blobWriter) Commit(ctx context.Context, id engine.BlobID) (bool, error) {
	t := w.ops.start("Commit")
	existed, err := w.next.Commit(ctx, id)
	return existed, t.done(err)
}

func (w *blobWriter) Abort() error { return w.next.Abort() }

type blobReader struct {
	next engine.BlobReader
	ops  *ops
}

func (r *blobReader) ReadAt(p []byte, off int64) (int, error) {
	t := r.ops.start("ReadAt")
	n, err := r.next.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		t.done(nil) // the end of the object is an answer, not a failure
		return n, err
	}
	return n, t.done(err)
}

func (r *blobReader) Close() error { return r.next.Close() }
func (r *blobReader) Size() int64  { return r.next.Size() }

var _ engine.BlobStore = (*Blobs)(nil)
