package gridfs

// These tests run against an in-process FerretDB (SQLite handler), which
// stands in for MongoDB functionally. What FerretDB v1 does not show: that
// the unique filename index holds under concurrent writers on a real
// replica set, write concern majority, and sharded routing; the code relies
// on MongoDB's documented semantics for those.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/blake3"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/blobtest"
	"github.com/eidermail/eider/internal/testkit/ferret"
)

// serverURI is the FerretDB every test of the package shares, each test
// in databases of its own. One server, started before the tests run: two
// FerretDB instances starting at once race on a package variable of
// FerretDB's.
var serverURI string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "gridfs-ferret-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err := ferret.StartServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverURI = srv.URI
	code := m.Run()
	srv.Close()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var dbSeq atomic.Int64

// newDatabase returns a fresh database name on the shared server.
func newDatabase() string { return fmt.Sprintf("blobs%d", dbSeq.Add(1)) }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func openStore(t *testing.T, opt Options) *Store {
	t.Helper()
	if opt.Database == "" {
		opt.Database = newDatabase()
	}
	if opt.Logger == nil {
		opt.Logger = quietLogger()
	}
	s, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// smallChunks adds a conformance run with 4093-byte chunks, where every
// range read crosses chunk boundaries. FerretDB scans a collection for
// each chunk query (it uses no secondary index), which makes that run take
// a minute or more, so it is opt-in: go test -gridfs.smallchunks.
var smallChunks = flag.Bool("gridfs.smallchunks", false, "also run the conformance suite with 4093-byte chunks")

func TestConformance(t *testing.T) {
	t.Parallel()
	uri := serverURI
	sizes := []int32{DefaultChunkSize}
	if *smallChunks {
		sizes = append(sizes, 4093)
	}
	for _, cs := range sizes {
		t.Run(fmt.Sprintf("chunk%d", cs), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) engine.BlobStore {
				return openStore(t, Options{URI: uri, ChunkSize: cs})
			})
		})
	}
}

// chunkCounter counts the chunk documents the server returns to a client.
type chunkCounter struct{ docs atomic.Int64 }

func (c *chunkCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
		if e.CommandName != "find" && e.CommandName != "getMore" {
			return
		}
		ns, _ := e.Reply.Lookup("cursor", "ns").StringValueOK()
		if !strings.HasSuffix(ns, ".chunks") {
			return
		}
		for _, batch := range []string{"firstBatch", "nextBatch"} {
			if arr, ok := e.Reply.Lookup("cursor", batch).ArrayOK(); ok {
				vals, _ := arr.Values()
				c.docs.Add(int64(len(vals)))
			}
		}
	}}
}

func connect(t *testing.T, uri string, mon *event.CommandMonitor) *mongo.Client {
	t.Helper()
	co := options.Client().ApplyURI(uri)
	if mon != nil {
		co.SetMonitor(mon)
	}
	c, err := mongo.Connect(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func store(t *testing.T, s *Store, data []byte) engine.BlobID {
	t.Helper()
	id := engine.BlobID(blake3.Sum256(data))
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRangeReadFetchesCoveringChunks: a 1 KiB read of a 20 MB object
// fetches one chunk (two when the range straddles a boundary), and the
// next read in the same chunk fetches nothing.
func TestRangeReadFetchesCoveringChunks(t *testing.T) {
	t.Parallel()
	uri := serverURI
	var count chunkCounter
	s := openStore(t, Options{Client: connect(t, uri, count.monitor())})
	data := randomBytes(1, 20<<20)
	id := store(t, s, data)
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	read := func(off int64, n int) int64 {
		t.Helper()
		before := count.docs.Load()
		p := make([]byte, n)
		if k, err := r.ReadAt(p, off); k != n || err != nil {
			t.Fatalf("ReadAt(%d, %d): %d, %v", n, off, k, err)
		}
		if !bytes.Equal(p, data[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d, %d) returned other bytes", n, off)
		}
		return count.docs.Load() - before
	}
	const cs = DefaultChunkSize
	if got := read(13*cs+100, 1024); got != 1 {
		t.Fatalf("1 KiB inside a chunk fetched %d chunks, want 1", got)
	}
	if got := read(13*cs+2000, 1024); got != 0 {
		t.Fatalf("1 KiB in the chunk just read fetched %d chunks, want 0 (cached)", got)
	}
	if got := read(40*cs-512, 1024); got != 2 {
		t.Fatalf("1 KiB across a chunk boundary fetched %d chunks, want 2", got)
	}
	// Reading backwards into the cached chunk (a container's index before
	// its footer): only the earlier chunk is fetched.
	if got := read(40*cs-2000, 2400); got != 1 {
		t.Fatalf("a read ending in the cached chunk fetched %d chunks, want 1", got)
	}
	// Each uncached read above costs FerretDB a scan of the 20 MB
	// collection (seconds); MongoDB answers it from the {files_id, n} index.
}

// TestCleanTemp: an upload abandoned by a crashed node and a delete
// interrupted after its rename leave only temporary files that CleanTemp
// removes with their chunks; committed objects stay.
func TestCleanTemp(t *testing.T) {
	t.Parallel()
	uri := serverURI
	s := openStore(t, Options{URI: uri, ChunkSize: 1000})
	ctx := context.Background()
	keep := store(t, s, randomBytes(2, 5000))

	// A node dies mid-upload: chunks written, no commit, no abort.
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(3, 4500)); err != nil {
		t.Fatal(err)
	}
	// A node dies in Delete after the rename.
	gone := store(t, s, randomBytes(4, 3000))
	f, err := s.find(ctx, gone)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.files.UpdateOne(ctx, bson.D{{Key: "_id", Value: f.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "filename", Value: tmpName(f.ID)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, gone); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open of a half-deleted object: %v", err)
	}
	walked := 0
	if err := s.Walk(ctx, func(in engine.BlobInfo) error {
		walked++
		if in.ID != keep {
			t.Errorf("walk reported %s", in.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if walked != 1 {
		t.Fatalf("walk reported %d objects, want 1", walked)
	}

	if n, err := s.CleanTemp(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("CleanTemp of young uploads: %d, %v", n, err)
	}
	if n, err := s.CleanTemp(ctx, 0); err != nil || n != 2 {
		t.Fatalf("CleanTemp: removed %d, %v; want 2", n, err)
	}
	chunks, err := s.chunks.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if chunks != 5 {
		t.Fatalf("%d chunks left, want the 5 of the kept object", chunks)
	}
	files, err := s.files.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if files != 1 {
		t.Fatalf("%d files left, want 1", files)
	}
	// The abandoned writer's commit now fails cleanly.
	if _, err := w.Commit(ctx, engine.BlobID(blake3.Sum256(randomBytes(3, 4500)))); err == nil {
		t.Fatal("commit of an upload CleanTemp removed succeeded")
	}
	p := make([]byte, 5000)
	r, err := s.Open(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ReadAt(p, 0); err != nil || !bytes.Equal(p, randomBytes(2, 5000)) {
		t.Fatalf("kept object: %v", err)
	}
}

// TestDedupRefreshesModified: committing existing content moves its
// Modified time forward, as the GC grace period expects.
func TestDedupRefreshesModified(t *testing.T) {
	t.Parallel()
	uri := serverURI
	s := openStore(t, Options{URI: uri})
	ctx := context.Background()
	for _, size := range []int{100, 3 * DefaultChunkSize} { // fits the buffer, streams chunks
		data := randomBytes(uint64(size), size)
		id := store(t, s, data)
		old := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		if _, err := s.files.UpdateOne(ctx, bson.D{{Key: "filename", Value: id.String()}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "uploadDate", Value: old}}}}); err != nil {
			t.Fatal(err)
		}
		if in, err := s.Stat(ctx, id); err != nil || !in.Modified.Equal(old) {
			t.Fatalf("stat: %+v, %v", in, err)
		}
		w, _ := s.Create(ctx)
		_, _ = w.Write(data)
		existed, err := w.Commit(ctx, id)
		if err != nil || !existed {
			t.Fatalf("second commit: existed %v, %v", existed, err)
		}
		if in, _ := s.Stat(ctx, id); time.Since(in.Modified) > time.Minute {
			t.Fatalf("size %d: Modified %v not refreshed by a deduplicated commit", size, in.Modified)
		}
		if n, err := s.chunks.CountDocuments(ctx, bson.D{}); err != nil || n != int64((size+DefaultChunkSize-1)/DefaultChunkSize) {
			t.Fatalf("size %d: %d chunks stored after a duplicate, %v", size, n, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGridFSTools: what the store writes is a GridFS bucket any driver
// reads by filename.
func TestGridFSTools(t *testing.T) {
	t.Parallel()
	uri := serverURI
	client := connect(t, uri, nil)
	db := newDatabase()
	s := openStore(t, Options{Client: client, Database: db, Bucket: "attachments", ChunkSize: 10_000})
	data := randomBytes(5, 123_456)
	id := store(t, s, data)
	bucket := client.Database(db).GridFSBucket(options.GridFSBucket().SetName("attachments"))
	var out bytes.Buffer
	if _, err := bucket.DownloadToStreamByName(context.Background(), id.String(), &out); err != nil {
		t.Fatalf("download with the driver's GridFS: %v", err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("the driver's GridFS read other bytes")
	}
	// Closing a store that was handed a client leaves the client usable.
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(context.Background(), nil); err != nil {
		t.Fatalf("client after store Close: %v", err)
	}
}

// TestConcurrentNodes: two stores (two nodes with their own clients)
// commit the same objects at once; each object ends up stored once.
func TestConcurrentNodes(t *testing.T) {
	t.Parallel()
	uri := serverURI
	db := newDatabase()
	a := openStore(t, Options{URI: uri, Database: db, ChunkSize: 3000})
	b := openStore(t, Options{URI: uri, Database: db, ChunkSize: 3000})
	ctx := context.Background()
	objs := make([][]byte, 6)
	for i := range objs {
		objs[i] = randomBytes(uint64(100+i), 1000+i*4000)
	}
	var wg sync.WaitGroup
	fresh := make([]atomic.Int32, len(objs))
	errs := make(chan error, 2*len(objs))
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			for i, data := range objs {
				w, err := s.Create(ctx)
				if err == nil {
					_, err = w.Write(data)
				}
				var existed bool
				if err == nil {
					existed, err = w.Commit(ctx, engine.BlobID(blake3.Sum256(data)))
				}
				if err != nil {
					errs <- err
					return
				}
				if !existed {
					fresh[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, data := range objs {
		if n := fresh[i].Load(); n != 1 {
			t.Errorf("object %d stored as new %d times", i, n)
		}
		r, err := b.Open(ctx, engine.BlobID(blake3.Sum256(data)))
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, len(data))
		if _, err := r.ReadAt(p, 0); err != nil && err != io.EOF || !bytes.Equal(p, data) {
			t.Fatalf("object %d: %v", i, err)
		}
		_ = r.Close()
	}
	if n, _ := a.chunks.CountDocuments(ctx, bson.D{}); n != 1+2+3+5+6+7 {
		t.Fatalf("%d chunks stored, want one set per object", n)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, opt := range map[string]Options{
		"no database":      {URI: "mongodb://127.0.0.1:1"},
		"no uri or client": {Database: "x"},
		"chunk too large":  {URI: "mongodb://127.0.0.1:1", Database: "x", ChunkSize: MaxChunkSize + 1},
		"negative chunk":   {URI: "mongodb://127.0.0.1:1", Database: "x", ChunkSize: -1},
	} {
		if _, err := Open(ctx, opt); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestReaderEdges(t *testing.T) {
	t.Parallel()
	uri := serverURI
	s := openStore(t, Options{URI: uri, ChunkSize: 100})
	data := randomBytes(9, 1000)
	id := store(t, s, data)
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
	if n, err := r.ReadAt(nil, 10); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	// Damage: one chunk gone.
	if _, err := s.chunks.DeleteOne(context.Background(), bson.D{{Key: "n", Value: 4}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 300), 300); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read over a missing chunk: %v, want ErrCorrupt", err)
	}
	_ = r.Close()
	if _, err := r.ReadAt(make([]byte, 1), 0); err == nil {
		t.Fatal("read after close succeeded")
	}
}
