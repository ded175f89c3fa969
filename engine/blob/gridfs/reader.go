package gridfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// reader reads an object chunk by chunk. Concurrent ReadAt calls are fine;
// they share a one-chunk cache.
type reader struct {
	s         *Store
	ctx       context.Context // of Open: bounds the queries ReadAt makes
	id        engine.BlobID
	upload    bson.Binary
	size      int64
	chunkSize int64
	closed    atomic.Bool

	mu      sync.Mutex
	cachedN int64 // -1: nothing cached
	cached  []byte
}

func (r *reader) Size() int64 { return r.size }

func (r *reader) Close() error {
	r.closed.Store(true)
	r.mu.Lock()
	r.cachedN, r.cached = -1, nil
	r.mu.Unlock()
	return nil
}

// ReadAt reads len(p) bytes at off, fetching only the chunks that cover
// them, and like os.File returns io.EOF with the bytes it got when the
// range reaches past the end.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, fmt.Errorf("blob %s: read after close", r.id)
	}
	if off < 0 {
		return 0, fmt.Errorf("blob %s: negative offset %d", r.id, off)
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	if want == 0 {
		return 0, nil
	}
	first, last := off/r.chunkSize, (off+want-1)/r.chunkSize
	// The cached chunk serves either end of the range: forward reads
	// continue in it, and a container's footer and index are read back to
	// front.
	if r.fromCache(first, p, off, want) {
		first++
	}
	if last >= first && r.fromCache(last, p, off, want) {
		last--
	}
	if last >= first {
		if err := r.fetch(first, last, p, off, want); err != nil {
			return 0, err
		}
	}
	if want < int64(len(p)) {
		return int(want), io.EOF
	}
	return int(want), nil
}

// place copies the part of chunk n (data) that falls in [off, off+want)
// into p.
func (r *reader) place(n int64, data []byte, p []byte, off, want int64) {
	start := n * r.chunkSize
	lo, hi := max(off, start), min(off+want, start+int64(len(data)))
	copy(p[lo-off:hi-off], data[lo-start:hi-start])
}

func (r *reader) fromCache(n int64, p []byte, off, want int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cachedN != n {
		return false
	}
	r.place(n, r.cached, p, off, want)
	return true
}

// fetch reads chunks first..last with one query, in order.
func (r *reader) fetch(first, last int64, p []byte, off, want int64) error {
	cur, err := r.s.chunks.Find(r.ctx,
		bson.D{
			{Key: "files_id", Value: r.upload},
			{Key: "n", Value: bson.D{{Key: "$gte", Value: first}, {Key: "$lte", Value: last}}},
		},
		options.Find().SetSort(bson.D{{Key: "n", Value: 1}}).SetProjection(bson.D{{Key: "n", Value: 1}, {Key: "data", Value: 1}}))
	if err != nil {
		return blobErr("read", r.id, err)
	}
	defer cur.Close(context.WithoutCancel(r.ctx))
	next := first
	var lastData []byte
	for next <= last && cur.Next(r.ctx) {
		var c chunkDoc
		if err := cur.Decode(&c); err != nil {
			return blobErr("read", r.id, err)
		}
		if int64(c.N) != next {
			return r.missing(next)
		}
		if expect := min(r.chunkSize, r.size-next*r.chunkSize); int64(len(c.Data)) != expect {
			return blobErr("read", r.id, fmt.Errorf("%w: chunk %d has %d bytes, want %d", ErrCorrupt, next, len(c.Data), expect))
		}
		r.place(next, c.Data, p, off, want)
		lastData = c.Data
		next++
	}
	if err := cur.Err(); err != nil {
		return blobErr("read", r.id, err)
	}
	if next <= last {
		return r.missing(next)
	}
	r.mu.Lock()
	r.cachedN, r.cached = last, bytes.Clone(lastData)
	r.mu.Unlock()
	return nil
}

// missing explains a chunk that is not there: the object was deleted
// while open, or it is damaged.
func (r *reader) missing(n int64) error {
	f, err := r.s.find(r.ctx, r.id)
	switch {
	case errors.Is(err, engine.ErrNotFound) || err == nil && !bytes.Equal(f.ID.Data, r.upload.Data):
		return fmt.Errorf("blob %s: deleted while open: %w", r.id, engine.ErrNotFound)
	case err != nil:
		return blobErr("read", r.id, err)
	}
	return blobErr("read", r.id, fmt.Errorf("%w: chunk %d missing", ErrCorrupt, n))
}
