package metered_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/engine/blobtest"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/metatest"
	"github.com/eidermail/eider/engine/metered"
	"github.com/eidermail/eider/engine/notify/local"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// series returns the metric family name's series whose labels include want.
func series(t *testing.T, g prometheus.Gatherer, name string, want ...string) []*dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(want); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == want[i] && l.GetValue() == want[i+1]
				}
				if !found {
					continue metrics
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// value sums counters, or histogram sample counts, over series.
func value(ms []*dto.Metric) float64 {
	v := 0.0
	for _, m := range ms {
		if m.Histogram != nil {
			v += float64(m.Histogram.GetSampleCount())
		} else {
			v += m.GetCounter().GetValue()
		}
	}
	return v
}

func openMeta(t *testing.T) *metasqlite.Store {
	t.Helper()
	s, err := metasqlite.Open(filepath.Join(t.TempDir(), "meta.db"), metasqlite.Options{TextIndex: metasqlite.TextIndexInline})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openBlobs(t *testing.T) *blobfs.Store {
	t.Helper()
	s, err := blobfs.Open(blobfs.Options{Path: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMetaConformance: the decorated store passes the metadata backends'
// conformance suite (it changes no behaviour) and times what it ran.
func TestMetaConformance(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metered.New(reg)
	t.Run("suite", func(t *testing.T) {
		metatest.Run(t, func(t *testing.T) engine.MetaStore { return m.Meta(openMeta(t), "sqlite") })
	})
	if got := value(series(t, reg, "eider_store_operation_duration_seconds", "store", "meta", "backend", "sqlite", "operation", "Append")); got == 0 {
		t.Error("no Append timed")
	}
	// The suite asks for many missing things; answers are not failures.
	if got := value(series(t, reg, "eider_store_operation_errors_total", "operation", "MailboxByName")); got != 0 {
		t.Errorf("%v MailboxByName failures counted", got)
	}
}

// TestBlobConformance: the same for the blob store, through its writers
// and readers.
func TestBlobConformance(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metered.New(reg)
	// The suite's tests run in parallel; t.Run returns when they are done.
	t.Run("suite", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) engine.BlobStore { return m.Blobs(openBlobs(t), "fs") })
	})
	for _, op := range []string{"Create", "Write", "Commit", "Open", "ReadAt", "Walk"} {
		if got := value(series(t, reg, "eider_store_operation_duration_seconds", "store", "blob", "backend", "fs", "operation", op)); got == 0 {
			t.Errorf("no %s timed", op)
		}
	}
}

// TestIngestCounts: a message delivered twice writes its attachment once;
// the second delivery is a dedup hit; bytes before and after compression
// are counted for blobs and inline rows.
func TestIngestCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metered.New(reg)
	e := enginekit.New(t, m.Meta(openMeta(t), "sqlite"), m.Blobs(openBlobs(t), "fs"),
		engine.IngestOptions{Observer: m.IngestObserver()}, nil)
	u, _ := enginekit.User(t, e, "ann@example.com", "pw", 0)
	attachment := bytes.Repeat([]byte("a compressible attachment line of text\n"), 4000)
	msg := "From: b@example.org\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=r.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(attachment)) + "--b--\r\n"
	for range 2 {
		res, err := e.Deliver(context.Background(), strings.NewReader(msg), []engine.Delivery{{User: u.ID}}, nil)
		if err != nil || res[0].Err != nil {
			t.Fatalf("deliver: %v %v", err, res)
		}
	}
	if got := value(series(t, reg, "eider_ingest_blobs_total", "outcome", "new")); got != 1 {
		t.Errorf("new blobs = %v, want 1", got)
	}
	if got := value(series(t, reg, "eider_ingest_blobs_total", "outcome", "dedup")); got != 1 {
		t.Errorf("dedup hits = %v, want 1", got)
	}
	if got := value(series(t, reg, "eider_ingest_dedup_bytes_total")); got != float64(len(attachment)) {
		t.Errorf("dedup bytes = %v, want %d", got, len(attachment))
	}
	raw := value(series(t, reg, "eider_ingest_bytes_total", "kind", "blob", "form", "raw"))
	stored := value(series(t, reg, "eider_ingest_bytes_total", "kind", "blob", "form", "stored"))
	if raw != float64(len(attachment)) || stored <= 0 || stored >= raw/4 {
		t.Errorf("blob bytes raw %v stored %v; want raw %d, stored well below", raw, stored, len(attachment))
	}
	if got := value(series(t, reg, "eider_ingest_bytes_total", "kind", "inline", "form", "raw")); got <= 0 {
		t.Errorf("inline raw bytes = %v", got)
	}
}

// TestNotifier: Publish is timed, beacons still arrive.
func TestNotifier(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := metered.New(reg).Notifier(local.New(), "local")
	defer n.Close()
	got := make(chan engine.ChangeEvent, 1)
	cancel := n.Subscribe(7, func(ev engine.ChangeEvent) { got <- ev })
	defer cancel()
	if err := n.Publish(context.Background(), engine.ChangeEvent{User: 7, Mailbox: 3, ModSeq: 9}); err != nil {
		t.Fatal(err)
	}
	if ev := <-got; ev.Mailbox != 3 || ev.ModSeq != 9 {
		t.Errorf("beacon %+v", ev)
	}
	if v := value(series(t, reg, "eider_store_operation_duration_seconds", "store", "notify", "backend", "local", "operation", "Publish")); v != 1 {
		t.Errorf("Publish timed %v times, want 1", v)
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

// TestCallbackTimeExcluded: the time a caller spends in a per-message
// callback is its own, not the store's.
func TestCallbackTimeExcluded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metered.New(reg)
	e := enginekit.New(t, m.Meta(openMeta(t), "sqlite"), m.Blobs(openBlobs(t), "fs"), engine.IngestOptions{}, nil)
	u, inbox := enginekit.User(t, e, "ann@example.com", "pw", 0)
	ctx := context.Background()
	for range 3 {
		if _, err := e.Append(ctx, u.ID, inbox.ID, strings.NewReader("Subject: x\r\n\r\nbody\r\n"), engine.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	err := e.Messages(ctx, u.ID, inbox.ID, roaring.BitmapOf(1, 2, 3), func(*engine.MessageMeta) error {
		time.Sleep(40 * time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := series(t, reg, "eider_store_operation_duration_seconds", "operation", "Messages")
	if len(ms) != 1 || ms[0].Histogram.GetSampleCount() != 1 {
		t.Fatalf("Messages series: %v", ms)
	}
	if sum := ms[0].Histogram.GetSampleSum(); sum >= 0.1 {
		t.Errorf("Messages took %.3fs by the histogram: the callbacks' 120ms were counted", sum)
	}
}

// TestUnwrap: tools reach the backend's own interfaces through Unwrap.
func TestUnwrap(t *testing.T) {
	m := metered.New(prometheus.NewRegistry())
	meta := openMeta(t)
	defer meta.Close()
	if _, ok := m.Meta(meta, "sqlite").Unwrap().(engine.Dumper); !ok {
		t.Error("Unwrap does not give the SQLite store (a Dumper)")
	}
}
