package mongo

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/metatest"
	"github.com/eidermail/eider/internal/testkit/ferret"
)

// The tests run against one in-process FerretDB per test binary, a fresh
// database per test. FerretDB v1 is correct for one writer at a time only
// (its findOneAndUpdate is not atomic and it uses no secondary indexes),
// so the tests run serially and never in parallel.
var ferretURI string

func TestMain(m *testing.M) {
	flag.Parse()
	// The workload conformance tests run 100 random cases each by default,
	// several minutes on FerretDB; 10 keep the package within its time.
	// -rapid.checks on the command line still wins.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "10")
	}
	dir, err := os.MkdirTemp("", "eider-ferret-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err := ferret.StartServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	ferretURI = srv.URI
	code := m.Run()
	srv.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var databases atomic.Int64

var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// openTest opens a store on a fresh database, closed when the test ends.
func openTest(t testing.TB, opt Options) *Store {
	t.Helper()
	opt.URI = ferretURI
	opt.Database = fmt.Sprintf("eider%d", databases.Add(1))
	if opt.RecoveryInterval == 0 {
		opt.RecoveryInterval = -1
	}
	if opt.Logger == nil {
		opt.Logger = quietLogger
	}
	s, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.db.Drop(context.Background())
		s.Close()
	})
	return s
}

// conformance lists the conformance tests that run on FerretDB: all but
// UIDMonotonicConcurrent, whose eight concurrent writers need an atomic
// findOneAndUpdate, which FerretDB v1 does not have (concurrent updates of
// one document lose writes there). On MongoDB the allocation is one atomic
// compare-and-set write.
var conformance = []string{
	"Users", "Addresses", "Mailboxes", "Subscriptions", "Rename", "Append", "Messages", "Flags", "UnchangedSince",
	"Expunge", "Copy", "Move", "Journal", "JournalExpired", "Status", "Search", "SearchModel", "Quota", "BlobRefs",
	"Recount", "Isolation", "Dictionaries",
}

// TestConformance runs the suite with the Messages test at 150 messages
// instead of 3,000: FerretDB (no secondary indexes, one SQLite statement
// per document updated) takes 20–60 s per batch of 500.
func TestConformance(t *testing.T) {
	metatest.RunWith(t, func(t *testing.T) engine.MetaStore {
		s := openTest(t, Options{})
		return closeOnce{s}
	}, metatest.Options{Messages: 150}, conformance...)
}

// closeOnce lets the suite close the store while the test's cleanup also does.
type closeOnce struct{ *Store }

func (c closeOnce) Close() error { return nil }
