// Package blobcheck holds the blob store's maintenance tools: garbage
// collection of unreferenced blobs and a consistency check (fsck) of blob
// containers, reference counts and quota usage.
package blobcheck

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/frames"
)

// GCOptions tune blob garbage collection.
type GCOptions struct {
	// Grace protects blobs written recently: an ingest commits its blobs before
	// the message row that references them, and a blob store touches a blob that
	// is written again, so a blob younger than Grace may be about to gain a
	// reference. Default 1 hour.
	Grace  time.Duration
	DryRun bool
}

// GCResult says what a collection did.
type GCResult struct {
	Scanned    int
	Deleted    int
	BytesFreed int64
}

const gcBatch = 512

// CollectBlobs deletes blobs that no message references. It is safe to run
// at any time, concurrently with ingest, and to kill at any moment: each
// deletion is independent and only ever removes an unreferenced blob.
func CollectBlobs(ctx context.Context, e *engine.Engine, opt GCOptions) (GCResult, error) {
	if opt.Grace <= 0 {
		opt.Grace = time.Hour
	}
	cutoff := time.Now().Add(-opt.Grace)
	var res GCResult
	batch := make([]engine.BlobInfo, 0, gcBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]engine.BlobID, len(batch))
		for i, b := range batch {
			ids[i] = b.ID
		}
		refs, err := e.Meta().BlobRefs(ctx, ids)
		if err != nil {
			return err
		}
		for i, b := range batch {
			if refs[i] > 0 {
				continue
			}
			if !opt.DryRun {
				if err := e.Blobs().Delete(ctx, b.ID); err != nil {
					return fmt.Errorf("delete blob %s: %w", b.ID, err)
				}
			}
			res.Deleted++
			res.BytesFreed += b.Size
		}
		batch = batch[:0]
		return nil
	}
	err := e.Blobs().Walk(ctx, func(b engine.BlobInfo) error {
		res.Scanned++
		if b.Modified.After(cutoff) {
			return nil
		}
		batch = append(batch, b)
		if len(batch) == gcBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		e.Logger().Info("blob gc", "scanned", res.Scanned, "deleted", res.Deleted, "bytes_freed", res.BytesFreed, "dry_run", opt.DryRun)
	}
	return res, err
}

// FsckReport is what a consistency check found.
type FsckReport struct {
	Blobs      int
	Corrupt    []engine.BlobID // blobs whose container does not validate
	Missing    []engine.BlobID // referenced by messages but absent from the blob store
	RefDrift   []engine.BlobDrift
	QuotaDrift []engine.QuotaDrift
	Repaired   bool
}

// Fsck checks blob containers, reference counts and quota usage against the
// message rows, and repairs counts when repair is true. Like GC it is safe to
// run and to kill at any time.
func Fsck(ctx context.Context, e *engine.Engine, repair bool) (FsckReport, error) {
	rep := FsckReport{Repaired: repair}
	err := e.Blobs().Walk(ctx, func(b engine.BlobInfo) error {
		rep.Blobs++
		r, err := e.Blobs().Open(ctx, b.ID)
		if errors.Is(err, engine.ErrNotFound) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err := frames.Open(r, r.Size()); err != nil {
			rep.Corrupt = append(rep.Corrupt, b.ID)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	drift, err := e.Meta().RecountBlobRefs(ctx, repair)
	if err != nil {
		return rep, err
	}
	rep.RefDrift = drift
	// Every referenced blob must exist; one Stat each keeps fsck's memory flat
	// however many blobs there are.
	err = e.Meta().ReferencedBlobs(ctx, func(id engine.BlobID, _ int64) error {
		if _, err := e.Blobs().Stat(ctx, id); errors.Is(err, engine.ErrNotFound) {
			rep.Missing = append(rep.Missing, id)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if rep.QuotaDrift, err = e.Meta().RecountQuota(ctx, repair); err != nil {
		return rep, err
	}
	return rep, nil
}
