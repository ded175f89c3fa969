package main

import (
	"context"
	"io"
	"runtime/debug"
	"time"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
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
	if cfg.Runtime.GCPercent > 0 {
		debug.SetGCPercent(cfg.Runtime.GCPercent)
	}
	if cfg.Runtime.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.Runtime.MemoryLimit))
	}
	cfg.metrics = newRegistry()
	e, st, err := openEngine(cfg, log)
	if err != nil {
		return err
	}
	defer st.close(e)
	// A crash mid-ingest leaves temporary blob files behind; they are never
	// referenced, so anything older than the GC grace can go.
	if n, err := st.cleanTemp(ctx, cfg.GC.Grace.std()); err != nil {
		log.Warn("cleaning temporary blobs", "err", err)
	} else if n > 0 {
		log.Info("removed temporary blobs of interrupted deliveries", "count", n)
	}
	ed, err := startEdges(cfg, e, log)
	if err != nil {
		return err
	}
	httpSrv, err := startAPI(cfg, log)
	if err != nil {
		ed.close()
		return err
	}
	if httpSrv != nil {
		// Load balancers see /healthz fail as soon as the drain begins.
		stopDrain := context.AfterFunc(ctx, httpSrv.Drain)
		defer stopDrain()
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := httpSrv.Serve(); err != nil {
				log.Error("HTTP API stopped", "err", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := httpSrv.Shutdown(sctx); err != nil {
				log.Warn("HTTP API shutdown", "err", err)
			}
			<-served
		}()
	}
	meta, blobsAt := cfg.Storage.Path, cfg.Storage.Blobs.Path
	if cfg.Storage.Meta == "mongodb" {
		meta = "mongodb database " + cfg.Storage.MongoDB.Database
	}
	if cfg.Storage.Blobs.Backend == "gridfs" {
		blobsAt = "gridfs bucket " + cfg.Storage.Blobs.GridFS.Database + "." + cfg.Storage.Blobs.GridFS.Bucket
	}
	log.Info("eider serving", "version", version, "data", cfg.DataDir, "meta", meta, "blobs", blobsAt, "notify", cfg.Notify)
	if cfg.Storage.Meta == "mongodb" && cfg.Notify == "local" {
		log.Warn("notify is local on a shared store: other nodes' changes reach this node's IDLE clients only on their next command; set notify = \"redis\"")
	}
	mctx, stopMaintenance := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		maintenance(mctx, cfg, e, st.fs)
	}()
	err = ed.serve(ctx)
	stopMaintenance()
	<-done
	log.Info("eider stopped")
	return err
}

// maintenance runs the periodic store chores until ctx ends: blob GC and
// cold-tier migration. (The metadata store prunes its journal itself.)
func maintenance(ctx context.Context, cfg Config, e *engine.Engine, blobs *blobfs.Store) { // blobs: nil unless fs
	log := e.Logger()
	tick := func(d Duration) <-chan time.Time {
		if d <= 0 {
			return nil
		}
		return time.NewTicker(d.std()).C
	}
	gc := tick(cfg.GC.Interval)
	cold := tick(cfg.Storage.Blobs.Cold.Interval)
	gcm := newGCMetrics(cfg.registerer())
	for {
		select {
		case <-ctx.Done():
			return
		case <-gc:
			if _, err := gcm.collect(ctx, e, cfg.GC.Grace.std()); err != nil {
				log.Error("blob gc", "err", err)
			}
		case <-cold:
			if blobs == nil {
				continue
			}
			res, err := blobs.Migrate(ctx, blobfs.Policy{MinSize: int64(cfg.Storage.Blobs.Cold.MinSize), MinAge: cfg.Storage.Blobs.Cold.MinAge.std()})
			if err != nil {
				log.Error("cold tier migration", "err", err)
			} else if res.Moved > 0 {
				log.Info("cold tier migration", "moved", res.Moved, "bytes", res.Bytes)
			}
		}
	}
}
