package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/eidermail/eider/engine"
)

// copyBlobs makes sure the destination holds every blob a batch of
// messages references before the batch is loaded.
//
// A blob the destination's messages already reference is there (a Stat
// checks it: a missing one is copied again). A blob nobody references yet
// is copied even when an interrupted run left it behind: committing it
// again is cheap next to the copy, and it renews the object's age, so blob
// GC's grace period protects it until the load references it.
//
// Objects are copied as stored, already framed and compressed: both
// backends keep the same container format, and a copy is verified by its
// size.
func (m *migration) copyBlobs(ctx context.Context, batch []*engine.MessageDump) error {
	owner := map[engine.BlobID]*engine.MessageDump{}
	var ids []engine.BlobID
	for _, d := range batch {
		for _, id := range d.Blobs {
			if _, ok := owner[id]; !ok {
				owner[id] = d
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	refs, err := m.dst.Meta.BlobRefs(ctx, ids)
	if err != nil {
		return fmt.Errorf("blob references: %w", err)
	}
	var todo []engine.BlobID
	for i, id := range ids {
		if refs[i] > 0 {
			_, err := m.dst.Blobs.Stat(ctx, id)
			if err == nil {
				continue
			}
			if !errors.Is(err, engine.ErrNotFound) {
				return fmt.Errorf("blob %s: %w", id, err)
			}
		}
		todo = append(todo, id)
	}

	work := make(chan engine.BlobID)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(m.opt.BlobWorkers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				n, err := m.copyBlob(ctx, id)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("blob %s of message UID %d: %w", id, owner[id].UID, err))
				} else {
					m.res.Blobs++
					m.res.BlobBytes += n
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range todo {
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ctx.Err()
}

// copyBlob copies one stored object and returns its size.
func (m *migration) copyBlob(ctx context.Context, id engine.BlobID) (int64, error) {
	r, err := m.src.Blobs.Open(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return 0, fmt.Errorf("missing from the source blob store (run fsck there): %w", err)
	}
	if err != nil {
		return 0, err
	}
	defer r.Close()
	size := r.Size()
	w, err := m.dst.Blobs.Create(ctx)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.NewSectionReader(r, 0, size))
	if err == nil && n != size {
		err = fmt.Errorf("read %d of %d bytes", n, size)
	}
	if err != nil {
		w.Abort()
		return 0, err
	}
	existed, err := w.Commit(ctx, id)
	if err != nil {
		return 0, err
	}
	info, err := m.dst.Blobs.Stat(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("after the copy: %w", err)
	}
	// An object that was already there holds the same content but may be
	// framed differently (another engine version wrote it): its size
	// proves nothing.
	if !existed && info.Size != size {
		return 0, fmt.Errorf("the copy holds %d bytes, the source %d", info.Size, size)
	}
	return size, nil
}
