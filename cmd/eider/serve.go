package main

import (
	"context"
	"io"
	"time"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/tools/blobcheck"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs, cf := newFlagSet("serve", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	e, blobs, err := openEngine(cfg, log)
	if err != nil {
		return err
	}
	defer e.Close()
	// A crash mid-ingest leaves temporary blob files behind; they are never
	// referenced, so anything older than the GC grace can go.
	if n, err := blobs.CleanTemp(ctx, cfg.GC.Grace.std()); err != nil {
		log.Warn("cleaning temporary blobs", "err", err)
	} else if n > 0 {
		log.Info("removed temporary blobs of interrupted deliveries", "count", n)
	}
	ed, err := startEdges(cfg, e, log)
	if err != nil {
		return err
	}
	log.Info("eider serving", "version", version, "data", cfg.DataDir, "meta", cfg.Storage.Path, "blobs", cfg.Storage.Blobs.Path)
	mctx, stopMaintenance := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		maintenance(mctx, cfg, e, blobs)
	}()
	err = ed.serve(ctx)
	stopMaintenance()
	<-done
	log.Info("eider stopped")
	return err
}

// maintenance runs the periodic store chores until ctx ends: blob GC and
// cold-tier migration. (The metadata store prunes its journal itself.)
func maintenance(ctx context.Context, cfg Config, e *engine.Engine, blobs *blobfs.Store) {
	log := e.Logger()
	tick := func(d Duration) <-chan time.Time {
		if d <= 0 {
			return nil
		}
		return time.NewTicker(d.std()).C
	}
	gc := tick(cfg.GC.Interval)
	cold := tick(cfg.Storage.Blobs.Cold.Interval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-gc:
			if _, err := blobcheck.CollectBlobs(ctx, e, blobcheck.GCOptions{Grace: cfg.GC.Grace.std()}); err != nil {
				log.Error("blob gc", "err", err)
			}
		case <-cold:
			res, err := blobs.Migrate(ctx, blobfs.Policy{MinSize: int64(cfg.Storage.Blobs.Cold.MinSize), MinAge: cfg.Storage.Blobs.Cold.MinAge.std()})
			if err != nil {
				log.Error("cold tier migration", "err", err)
			} else if res.Moved > 0 {
				log.Info("cold tier migration", "moved", res.Moved, "bytes", res.Bytes)
			}
		}
	}
}
