// Package enginekit builds a storage engine for tests on the embedded
// backends in a temporary directory. It is apart from testkit so that tests
// of packages below the engine (edge/netloop) can share testkit's helpers
// without depending on the engine.
//
// Only tests import this package.
package enginekit

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/notify/local"
)

// Options adjusts the engine Open builds; the zero value is a plain engine.
type Options struct {
	Ingest engine.IngestOptions
	Logger *slog.Logger       // nil: discard
	Meta   metasqlite.Options // options of the SQLite metadata store
	// WrapMeta, when set, wraps the metadata store the engine gets (to
	// inject failures); Env.Meta stays the unwrapped store.
	WrapMeta func(engine.MetaStore) engine.MetaStore
}

// Env is an engine and the stores under it.
type Env struct {
	Engine *engine.Engine
	Meta   *metasqlite.Store
	Blobs  *blobfs.Store
	Dir    string // the temp dir holding meta.db and blobs/
}

// Open builds an engine on SQLite metadata, a file blob store and the
// in-process notifier, all in t.TempDir(), and closes it when the test
// ends (after cleanups registered later, such as servers using it). Blobs
// are written without fsync and passwords hashed with the cheapest
// parameters: tests measure the engine, not the disk or Argon2.
func Open(t testing.TB, opt Options) *Env {
	t.Helper()
	dir := t.TempDir()
	meta, err := metasqlite.Open(filepath.Join(dir, "meta.db"), opt.Meta)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobfs.Open(blobfs.Options{Path: filepath.Join(dir, "blobs"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var ms engine.MetaStore = meta
	if opt.WrapMeta != nil {
		ms = opt.WrapMeta(meta)
	}
	e := New(t, ms, blobs, opt.Ingest, opt.Logger)
	return &Env{Engine: e, Meta: meta, Blobs: blobs, Dir: dir}
}

// New builds an engine on the given stores with the in-process notifier and
// cheap password hashing, and closes it when the test ends. Tests that
// reopen stores, or wrap them, use it instead of Open.
func New(t testing.TB, meta engine.MetaStore, blobs engine.BlobStore, ingest engine.IngestOptions, log *slog.Logger) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{
		Meta: meta, Blobs: blobs, Notifier: local.New(), Ingest: ingest, Logger: log,
		Passwords: engine.PasswordParams{Time: 1, MemKiB: 1024, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// User creates a user with the password and quota (0: none) and returns
// it with its INBOX.
func User(t testing.TB, e *engine.Engine, name, password string, quota int64) (engine.User, engine.Mailbox) {
	t.Helper()
	ctx := context.Background()
	u, err := e.CreateUser(ctx, name, password, quota)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := e.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return u, inbox
}
