// Package ferret starts an in-process FerretDB (SQLite handler) on a
// loopback port for the tests of the MongoDB backends: the metadata store,
// GridFS blobs and the multi-node tests of cmd/eider.
//
// FerretDB v1 is a functional stand-in, not a MongoDB: findOneAndUpdate is
// not atomic across connections, secondary indexes are not used for
// queries, and TTL and partial indexes, transactions, change streams and
// $text are not implemented. Tests that use it run their writers serially.
//
// Only tests import this package.
package ferret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running FerretDB.
type Server struct {
	// URI is the mongodb:// URI of its loopback listener.
	URI string

	cancel context.CancelFunc
	done   chan struct{}
}

// StartServer starts FerretDB with its SQLite files in dir (which must
// exist) on 127.0.0.1 and a free port. It logs errors only, to stderr.
// Stop it with Close. For TestMain, where no testing.TB exists yet.
func StartServer(dir string) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + string(filepath.Separator),
	})
	if err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		f.Run(ctx)
	}()
	// MongoDBURI waits for the listener Run sets up; bound that wait.
	uri := make(chan string, 1)
	go func() { uri <- f.MongoDBURI() }()
	select {
	case s.URI = <-uri:
	case <-time.After(30 * time.Second):
		s.Close()
		return nil, errors.New("ferretdb: listener did not start within 30 s")
	}
	return s, nil
}

// Close stops the server and waits until its listener and handler are closed.
func (s *Server) Close() {
	s.cancel()
	<-s.done
}

// Start starts a FerretDB for one test (its files in t.TempDir()), stops
// it when the test ends and returns its URI.
func Start(t testing.TB) string {
	t.Helper()
	s, err := StartServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.URI
}
