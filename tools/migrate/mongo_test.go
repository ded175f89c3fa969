package migrate

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/eidermail/eider/engine/blob/gridfs"
	metamongo "github.com/eidermail/eider/engine/meta/mongo"
	"github.com/eidermail/eider/internal/testkit/ferret"
)

var ferretMessages = flag.Int("migrate.ferret.messages", 40, "messages in the source store of TestMigrateThroughMongo")

// openCluster opens the MongoDB metadata store and the GridFS blob store,
// in databases of their own, on the server at uri.
func openCluster(t *testing.T, uri string) Stores {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	meta, err := metamongo.Open(ctx, metamongo.Options{URI: uri, Database: "eider", RecoveryInterval: -1, Logger: quiet})
	must(t, err)
	t.Cleanup(func() { meta.Close() })
	blobs, err := gridfs.Open(ctx, gridfs.Options{URI: uri, Database: "eiderblobs", Logger: quiet})
	must(t, err)
	t.Cleanup(func() { blobs.Close(context.Background()) })
	return Stores{Meta: meta, Blobs: blobs}
}

// TestMigrateThroughMongo moves an embedded store into MongoDB and GridFS
// and back into a new embedded store: everything must survive both ways.
// The cluster is an in-process FerretDB, which is correct for one writer
// at a time only: blobs are copied one at a time toward it, and the store
// is kept small (-migrate.ferret.messages) because FerretDB scans a
// collection for every lookup that MongoDB answers from an index.
func TestMigrateThroughMongo(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	fill(t, src, *ferretMessages)
	total := sourceShape(t, src)
	cluster := openCluster(t, ferret.Start(t))
	// Every message is compared byte for byte at the end, in the embedded
	// store it came back to; through FerretDB, where reading one message
	// scans its collection, Verify rebuilds a sample.
	toCluster := Options{Batch: 8, BlobWorkers: 1, Verify: true, ContentSample: 0.1}

	// Interrupted on the way in, then resumed.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cut := &interrupting{loaderStore: cluster.Meta.(loaderStore), after: 2, fail: func() error { cancel(); return cctx.Err() }}
	first, err := Run(cctx, src.stores(), Stores{Meta: cut, Blobs: cluster.Blobs}, Options{Batch: 8, BlobWorkers: 1})
	if !errors.Is(err, context.Canceled) || first.Messages == 0 {
		t.Fatalf("cancelled run into the cluster: %+v, %v", first, err)
	}
	start := time.Now()
	res, err := Run(ctx, src.stores(), cluster, toCluster)
	must(t, err)
	t.Logf("into the cluster: %+v in %v", res, time.Since(start).Round(time.Millisecond))
	if res.Present != first.Messages || res.Messages+res.Present != total || res.Verified != total || res.ContentVerified == 0 {
		t.Errorf("resumed run into the cluster: %+v after %d, for %d messages", res, first.Messages, total)
	}

	back := openStore(t)
	start = time.Now()
	res, err = Run(ctx, cluster, back.stores(), Options{Verify: true, ContentSample: 0.1})
	must(t, err)
	t.Logf("back out: %+v in %v", res, time.Since(start).Round(time.Millisecond))
	if res.Messages != total || res.Verified != total || res.ContentVerified == 0 {
		t.Errorf("run out of the cluster: %+v for %d messages", res, total)
	}
	if n := assertSame(t, src, back, true); int64(n) != total {
		t.Errorf("compared %d messages, want %d", n, total)
	}
}
