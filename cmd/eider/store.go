package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/engine/blob/gridfs"
	"github.com/eidermail/eider/engine/meta/mongo"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/notify/local"
	"github.com/eidermail/eider/engine/notify/redis"
)

// stores are the backends an engine runs on, as configured.
type stores struct {
	meta   engine.MetaStore
	blobs  engine.BlobStore
	fs     *blobfs.Store // the fs blob backend (cold tier, temp files); nil with gridfs
	notify engine.Notifier
	// closeBlobs releases the blob backend (the engine closes meta and notify).
	closeBlobs func() error
}

// close closes the engine (its metadata store and notifier) and the blob store.
func (s *stores) close(e *engine.Engine) error {
	return errors.Join(e.Close(), s.closeBlobs())
}

// cleanTemp removes what interrupted uploads left in the blob store.
func (s *stores) cleanTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	switch b := s.blobs.(type) {
	case *blobfs.Store:
		return b.CleanTemp(ctx, olderThan)
	case *gridfs.Store:
		return b.CleanTemp(ctx, olderThan)
	}
	return 0, nil
}

// openStores opens the configured backends; the embedded ones create the
// data directory on first use.
func openStores(ctx context.Context, cfg Config, log *slog.Logger) (st *stores, err error) {
	st = &stores{closeBlobs: func() error { return nil }}
	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range closers {
				_ = c()
			}
		}
	}()
	if cfg.Storage.Meta == "sqlite" || cfg.Storage.Blobs.Backend == "fs" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	switch cfg.Storage.Meta {
	case "mongodb":
		m := cfg.Storage.MongoDB
		meta, err := mongo.Open(ctx, mongo.Options{URI: m.URI, Database: m.Database, ReadPreference: m.ReadPreference,
			JournalTTL: cfg.Journal.Retention.std(), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("metadata store (mongodb %s): %w", m.Database, err)
		}
		st.meta = meta
	default:
		meta, err := metasqlite.Open(cfg.Storage.Path, metasqlite.Options{JournalRetention: cfg.Journal.Retention.std(), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("metadata store %s: %w", cfg.Storage.Path, err)
		}
		st.meta = meta
	}
	closers = append(closers, st.meta.Close)
	switch cfg.Storage.Blobs.Backend {
	case "gridfs":
		g := cfg.Storage.Blobs.GridFS
		opt := gridfs.Options{URI: g.URI, Database: g.Database, Bucket: g.Bucket, ChunkSize: int32(g.ChunkSize), Logger: log}
		if ms, ok := st.meta.(*mongo.Store); ok && g.URI == cfg.Storage.MongoDB.URI {
			opt.Client = ms.Client() // one connection pool for one cluster
		}
		blobs, err := gridfs.Open(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("blob store (gridfs %s.%s): %w", g.Database, g.Bucket, err)
		}
		st.blobs = blobs
		st.closeBlobs = func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return blobs.Close(ctx)
		}
	default:
		blobs, err := blobfs.Open(blobfs.Options{Path: cfg.Storage.Blobs.Path, ColdPath: cfg.Storage.Blobs.ColdPath, NoSync: !cfg.Storage.Blobs.Sync})
		if err != nil {
			return nil, fmt.Errorf("blob store %s: %w", cfg.Storage.Blobs.Path, err)
		}
		st.blobs, st.fs = blobs, blobs
	}
	closers = append(closers, st.closeBlobs)
	switch cfg.Notify {
	case "redis":
		n, err := redis.New(ctx, redis.Options{URL: cfg.Redis.URL, Prefix: cfg.Redis.Prefix,
			PollInterval: cfg.Redis.PollInterval.std(), PublishTimeout: cfg.Redis.PublishTimeout.std(), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("notifier (redis): %w", err)
		}
		st.notify = n
	default:
		st.notify = local.New()
	}
	return st, nil
}

// authCacheTTL maps users.auth_cache_ttl to the engine's (0 there means the default).
func (c Config) authCacheTTL() time.Duration {
	if c.Users.AuthCacheTTL == 0 {
		return -1
	}
	return c.Users.AuthCacheTTL.std()
}

// openEngine opens the configured backends and returns the engine over
// them; st.close(e) closes it all.
func openEngine(cfg Config, log *slog.Logger) (*engine.Engine, *stores, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	e, err := engine.New(cfg.metered(engine.Config{
		Meta:     st.meta,
		Blobs:    st.blobs,
		Notifier: st.notify,
		Logger:   log,
		Ingest: engine.IngestOptions{
			InlineMax:         int64(cfg.Ingest.InlineMax),
			FrameSize:         int(cfg.Ingest.FrameSize),
			MaxMessageSize:    int64(cfg.Ingest.MaxMessageSize),
			MaxTextExtract:    int64(cfg.Ingest.MaxTextExtract),
			DictionarySamples: cmp.Or(cfg.Ingest.DictionarySamples, -1),
		},
		Auth: engine.AuthOptions{Concurrency: cfg.Users.AuthConcurrency, CacheTTL: cfg.authCacheTTL()},
		Addresses: engine.AddressRules{
			CaseSensitiveLocal: cfg.Addresses.CaseSensitiveLocal,
			LabelSeparator:     cfg.Addresses.LabelSeparator,
			NoLabels:           !cfg.Addresses.Labels,
		},
	}))
	if err != nil {
		err = errors.Join(err, st.notify.Close(), st.meta.Close(), st.closeBlobs())
		return nil, nil, err
	}
	return e, st, nil
}
