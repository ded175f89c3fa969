// Package enginebench measures the storage engine's hot paths on the
// embedded backends: ingest memory and throughput, dedup, range reads,
// storage size and metadata FETCH. Unlike the wire-level load generators in
// bench/, these call the engine directly. `make bench` writes the results
// to perf/results/.
package enginebench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	_ "modernc.org/sqlite"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/testcorpus"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

type store struct {
	e     *engine.Engine
	meta  *metasqlite.Store
	blobs *blobfs.Store
	dir   string
	user  engine.User
	inbox engine.Mailbox
}

func open(b testing.TB) *store { return openWith(b, engine.IngestOptions{}) }

func openWith(b testing.TB, opt engine.IngestOptions) *store {
	b.Helper()
	// Blobs are not fsynced: fsync per blob is the production default, but
	// it measures the disk, not the engine.
	env := enginekit.Open(b, enginekit.Options{Ingest: opt})
	u, inbox := enginekit.User(b, env.Engine, "bench@example.com", "pw", 0)
	return &store{e: env.Engine, meta: env.Meta, blobs: env.Blobs, dir: env.Dir, user: u, inbox: inbox}
}

func (s *store) append(b testing.TB, r io.Reader) engine.AppendResult {
	res, err := s.e.Append(context.Background(), s.user.ID, s.inbox.ID, r, engine.AppendOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func (s *store) blobBytes(b testing.TB) int64 {
	var n int64
	if err := s.blobs.Walk(context.Background(), func(bi engine.BlobInfo) error { n += bi.Size; return nil }); err != nil {
		b.Fatal(err)
	}
	return n
}

// tableSizes returns the bytes each table and index takes in an SQLite
// database file, by its dbstat virtual table.
func tableSizes(b testing.TB, path string) map[string]int64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, sum(pgsize) FROM dbstat GROUP BY name`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			b.Fatal(err)
		}
		out[name] = n
	}
	var free int64
	if err := db.QueryRow(`SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size`).Scan(&free); err != nil {
		b.Fatal(err)
	}
	out["freelist"] = free
	return out
}

func dirSize(b testing.TB, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// heapPeak samples the live heap while fn runs and returns the peak growth
// over the heap before it.
func heapPeak(fn func()) int64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	runtime.GC()
	base := read()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read() - base; v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	if v := read() - base; v > peak.Load() {
		peak.Store(v)
	}
	return peak.Load()
}

// BenchmarkIngestLargeAttachmentHeap: a 50 MB message whose attachment is
// 48 MB as sent (36 MB decoded) must stream (target: peak heap growth under 8 MB).
func BenchmarkIngestLargeAttachmentHeap(b *testing.B) {
	s := openWith(b, engine.IngestOptions{MaxMessageSize: 128 << 20})
	// Warm encoders and pools: small and large inline bytes take encoders
	// of their own, each built once per process.
	s.append(b, bytes.NewReader(testcorpus.WithAttachment(0, make([]byte, 1<<20))))
	s.append(b, bytes.NewReader(sizedMessages(50<<10, 1)[0]))
	var peak int64
	for i := 0; i < b.N; i++ {
		r, size := testcorpus.Large(50<<20, 36<<20, false)
		b.SetBytes(size)
		p := heapPeak(func() { s.append(b, r) })
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkDedupSameAttachment: one 5 MB attachment in 1,000 different
// messages (target: blob storage under 1.05x one copy).
func BenchmarkDedupSameAttachment(b *testing.B) {
	att := make([]byte, 5<<20)
	for i := range att {
		att[i] = byte(i*7 + i>>9)
	}
	var ratio float64
	for i := 0; i < b.N; i++ {
		s := open(b)
		s.append(b, bytes.NewReader(testcorpus.WithAttachment(0, att)))
		one := s.blobBytes(b)
		for j := 1; j < 1000; j++ {
			s.append(b, bytes.NewReader(testcorpus.WithAttachment(j, att)))
		}
		ratio = float64(s.blobBytes(b)) / float64(one)
	}
	b.ReportMetric(ratio, "blob-growth-x")
}

// BenchmarkPartialFetchLargeAttachment: BODY[2]<0.1024> of a message whose
// part 2 is a 20 MB attachment (target: at most one frame read).
func BenchmarkPartialFetchLargeAttachment(b *testing.B) {
	s := open(b)
	r, _ := testcorpus.Large(21<<20, 20<<20, false)
	uid := s.append(b, r).UID
	ctx := context.Background()
	var meta *engine.MessageMeta
	s.e.Messages(ctx, s.user.ID, s.inbox.ID, roaring.BitmapOf(uint32(uid)), func(m *engine.MessageMeta) error { c := *m; meta = &c; return nil })
	b.ResetTimer()
	var st engine.ReadStats
	for i := 0; i < b.N; i++ {
		m, err := s.e.OpenMessage(ctx, s.user.ID, s.inbox.ID, meta)
		if err != nil {
			b.Fatal(err)
		}
		d, err := m.Section(engine.Section{Path: []int{2}, Partial: true, Offset: 0, Count: 1024})
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := io.Copy(io.Discard, d.Body); n != 1024 {
			b.Fatalf("read %d bytes", n)
		}
		st = m.Close()
	}
	b.ReportMetric(float64(st.FramesRead), "frames-read")
	b.ReportMetric(float64(st.StoredBytesRead)/1024, "stored-bytes-read/returned")
}

// BenchmarkStorageTextHeavy: stored bytes (metadata + blobs) of a
// text-heavy corpus over its raw size (target: under 0.6).
func BenchmarkStorageTextHeavy(b *testing.B) {
	msgs := testcorpus.TextHeavy(1, 5000)
	var raw int64
	for _, m := range msgs {
		raw += int64(len(m.Data))
	}
	var ratio float64
	for i := 0; i < b.N; i++ {
		s := open(b)
		for _, m := range msgs {
			s.append(b, bytes.NewReader(m.Data))
		}
		// At rest, as the store's background worker leaves it: the text
		// index caught up and merged. The pages the queue of texts not
		// indexed yet took stay in the file, free for the next rows
		// (reported as freelist/raw).
		if _, err := s.meta.IndexText(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := s.meta.OptimizeTextIndex(context.Background()); err != nil {
			b.Fatal(err)
		}
		s.e.Close() // checkpoint the WAL so the file sizes are final
		ratio = float64(dirSize(b, s.dir)) / float64(raw)
		if i == b.N-1 {
			for name, n := range tableSizes(b, filepath.Join(s.dir, "meta.db")) {
				if n*100 > raw {
					b.ReportMetric(float64(n)/float64(raw), name+"/raw")
				}
			}
			b.ReportMetric(float64(s.e.CompressionDictionaries()), "dictionaries")
		}
	}
	b.ReportMetric(ratio, "stored/raw")
	b.ReportMetric(float64(raw)/(1<<20), "raw-MB")
	b.ReportMetric(float64(len(msgs)), "messages")
}

// BenchmarkIngest measures ingest throughput for typical message sizes.
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{2 << 10, 50 << 10, 5 << 20} {
		b.Run(fmt.Sprintf("size=%dKB", size>>10), func(b *testing.B) {
			s := open(b)
			msgs := sizedMessages(size, 16)
			b.SetBytes(int64(len(msgs[0])))
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				s.append(b, bytes.NewReader(msgs[i%len(msgs)]))
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// sizedMessages returns n distinct messages of about size bytes each: text
// for small sizes, a text part plus an attachment for large ones.
func sizedMessages(size, n int) [][]byte {
	out := make([][]byte, n)
	text := testcorpus.TextHeavy(int64(size), n)
	for i := range out {
		if size <= 64<<10 {
			m := text[i].Data
			for len(m) < size {
				m = append(m, text[(i+1)%n].Data...)
			}
			out[i] = m[:size]
			continue
		}
		att := make([]byte, size*3/4)
		for j := range att {
			att[j] = byte(j*31 + i)
		}
		out[i] = testcorpus.WithAttachment(i, att)
	}
	return out
}

// BenchmarkFetchMetadata100k: FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE
// BODYSTRUCTURE) over a 100,000-message mailbox: rows decoded per second.
func BenchmarkFetchMetadata100k(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	msgs := testcorpus.TextHeavy(7, 100)
	const total = 100_000
	batch := make([]engine.AppendSource, 0, 1000)
	for i := 0; i < total; i++ {
		batch = append(batch, engine.AppendSource{Body: bytes.NewReader(msgs[i%len(msgs)].Data)})
		if len(batch) == cap(batch) {
			if _, err := s.e.AppendMany(ctx, s.user.ID, s.inbox.ID, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	uids, _, err := s.e.UIDs(ctx, s.user.ID, s.inbox.ID)
	if err != nil || uids.GetCardinality() != total {
		b.Fatalf("mailbox has %d messages (%v)", uids.GetCardinality(), err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		n := 0
		err := s.e.Messages(ctx, s.user.ID, s.inbox.ID, uids, func(m *engine.MessageMeta) error {
			if _, err := engine.DecodeEnvelope(m.Envelope); err != nil {
				return err
			}
			if _, err := engine.DecodeStructure(m.Structure); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil || n != total {
			b.Fatalf("fetched %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*total)/time.Since(start).Seconds(), "msgs/s")
}
