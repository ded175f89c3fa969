package gridfs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/eidermail/eider/engine"
)

// writer is an upload: chunks under a random files_id, named at Commit.
type writer struct {
	s       *Store
	ctx     context.Context // of Create: bounds the chunk writes Write makes
	upload  bson.Binary
	buf     []byte // the chunk being filled
	chunks  int32  // chunks written
	size    int64  // bytes written in chunks
	started bool   // the temporary files document exists
	done    bool   // committed or aborted
	err     error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("gridfs blob store: write after commit or abort")
	}
	if w.err != nil {
		return 0, w.err
	}
	cs := int(w.s.chunkSize)
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, cs)
		}
		k := min(len(p), cs-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, written = p[k:], written+k
		if len(w.buf) == cs {
			if err := w.flush(w.ctx); err != nil {
				w.err = fmt.Errorf("gridfs blob store: write: %w", err)
				return written, w.err
			}
		}
	}
	return written, nil
}

// start inserts the upload's files document under its temporary name, so
// that CleanTemp finds the chunks if this node dies before Commit.
func (w *writer) start(ctx context.Context) error {
	if w.started {
		return nil
	}
	_, err := w.s.files.InsertOne(ctx, bson.D{
		{Key: "_id", Value: w.upload},
		{Key: "filename", Value: tmpName(w.upload)},
		{Key: "length", Value: int64(0)},
		{Key: "chunkSize", Value: w.s.chunkSize},
		{Key: "uploadDate", Value: time.Now()},
	})
	if err != nil {
		return err
	}
	w.started = true
	return nil
}

// flush writes the buffered bytes as the next chunk.
func (w *writer) flush(ctx context.Context) error {
	if err := w.start(ctx); err != nil {
		return err
	}
	_, err := w.s.chunks.InsertOne(ctx, bson.D{
		{Key: "files_id", Value: w.upload},
		{Key: "n", Value: w.chunks},
		{Key: "data", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: w.buf}},
	})
	if err != nil {
		return err
	}
	w.chunks++
	w.size += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// Commit names the upload id by renaming its files document. The unique
// index on filename decides a race between nodes committing the same
// content: the loser's rename fails, it removes its chunks and reports
// existed.
func (w *writer) Commit(ctx context.Context, id engine.BlobID) (existed bool, err error) {
	if w.done {
		return false, errors.New("gridfs blob store: commit after commit or abort")
	}
	defer func() {
		if err != nil {
			w.discard()
		}
	}()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if w.err != nil {
		return false, w.err
	}
	// A duplicate that fit in the buffer (most attachments fit in one
	// chunk) is dropped before anything is written.
	if !w.started {
		ok, err := w.s.touch(ctx, id)
		if err != nil {
			return false, blobErr("commit", id, err)
		}
		if ok {
			w.finish()
			return true, nil
		}
	}
	if len(w.buf) > 0 {
		if err := w.flush(ctx); err != nil {
			return false, blobErr("commit", id, err)
		}
	}
	if err := w.start(ctx); err != nil { // an empty object has no chunks, only its document
		return false, blobErr("commit", id, err)
	}
	// Retry once when the object that made the rename fail is deleted
	// before it could be touched.
	for range 2 {
		res, rerr := w.s.files.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: w.upload}, {Key: "filename", Value: tmpName(w.upload)}},
			bson.D{{Key: "$set", Value: bson.D{
				{Key: "filename", Value: id.String()},
				{Key: "length", Value: w.size},
				{Key: "uploadDate", Value: time.Now()},
			}}})
		if rerr == nil {
			if res.MatchedCount == 0 {
				return false, blobErr("commit", id, errors.New("upload removed before its commit (CleanTemp with too short an age?)"))
			}
			w.finish()
			return false, nil
		}
		// The name is taken: a duplicate key error on MongoDB. Whatever the
		// error, an object that now has the name holds the same content.
		ok, terr := w.s.touch(ctx, id)
		if terr != nil {
			return false, blobErr("commit", id, errors.Join(rerr, terr))
		}
		if ok {
			_ = w.discard() // a failure is logged and left for CleanTemp
			return true, nil
		}
		err = rerr
		if ctx.Err() != nil {
			break
		}
	}
	return false, blobErr("commit", id, err)
}

// Abort drops the upload. After Commit it does nothing, so callers can
// defer it.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	if err := w.discard(); err != nil {
		return fmt.Errorf("gridfs blob store: abort: %w", err)
	}
	return nil
}

func (w *writer) finish() {
	w.done = true
	w.buf = nil
}

// discard removes what the upload wrote. It runs even when the caller's
// context is done; what it cannot remove is left for CleanTemp.
func (w *writer) discard() error {
	w.finish()
	if !w.started {
		return nil
	}
	w.started = false
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), cleanupTimeout)
	defer cancel()
	if err := w.s.removeUpload(ctx, w.upload); err != nil {
		w.s.log.Warn("failed upload left for CleanTemp", "err", err)
		return err
	}
	return nil
}
