package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/notify/local"
)

// openEngine opens the configured backends (creating the data directory on
// first use) and returns the engine over them.
func openEngine(cfg Config, log *slog.Logger) (*engine.Engine, *blobfs.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("data directory: %w", err)
	}
	meta, err := metasqlite.Open(cfg.Storage.Path, metasqlite.Options{JournalRetention: cfg.Journal.Retention.std(), Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("metadata store %s: %w", cfg.Storage.Path, err)
	}
	blobs, err := blobfs.Open(blobfs.Options{Path: cfg.Storage.Blobs.Path, ColdPath: cfg.Storage.Blobs.ColdPath, NoSync: !cfg.Storage.Blobs.Sync})
	if err != nil {
		meta.Close()
		return nil, nil, fmt.Errorf("blob store %s: %w", cfg.Storage.Blobs.Path, err)
	}
	e, err := engine.New(engine.Config{
		Meta:     meta,
		Blobs:    blobs,
		Notifier: local.New(),
		Logger:   log,
		Ingest: engine.IngestOptions{
			InlineMax:      int64(cfg.Ingest.InlineMax),
			FrameSize:      int(cfg.Ingest.FrameSize),
			MaxMessageSize: int64(cfg.Ingest.MaxMessageSize),
			MaxTextExtract: int64(cfg.Ingest.MaxTextExtract),
		},
		Addresses: engine.AddressRules{
			CaseSensitiveLocal: cfg.Addresses.CaseSensitiveLocal,
			LabelSeparator:     cfg.Addresses.LabelSeparator,
			NoLabels:           !cfg.Addresses.Labels,
		},
	})
	if err != nil {
		meta.Close()
		return nil, nil, err
	}
	return e, blobs, nil
}
