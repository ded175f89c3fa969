package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/engine/notify/local"
	"github.com/eidermail/eider/engine/testcorpus"
)

// textCorpus is testcorpus.TextHeavy as the engine hands it to a MetaStore.
type textCorpus struct {
	msgs      []engine.NewMessage
	raw       int64 // bytes of the raw messages
	blobBytes int64 // bytes the engine's blob store took for them
}

// recorder keeps a copy of every appended row.
type recorder struct {
	engine.MetaStore
	msgs []engine.NewMessage
}

func (r *recorder) Append(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	r.msgs = append(r.msgs, msgs...)
	return r.MetaStore.Append(ctx, user, mailbox, msgs)
}

var textHeavy2000 = sync.OnceValues(func() (*textCorpus, error) { return ingestTextHeavy(1, 2000) })

// ingestTextHeavy runs TextHeavy(seed, n) through the engine, so tests and
// benchmarks replay the rows a real ingest produces without measuring the
// parser.
func ingestTextHeavy(seed int64, n int) (*textCorpus, error) {
	dir, err := os.MkdirTemp("", "textheavy")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	meta, err := Open(filepath.Join(dir, "meta.db"), Options{TextIndex: TextIndexManual})
	if err != nil {
		return nil, err
	}
	rec := &recorder{MetaStore: meta}
	blobs, err := blobfs.Open(blobfs.Options{Path: filepath.Join(dir, "blobs"), NoSync: true})
	if err != nil {
		meta.Close()
		return nil, err
	}
	e, err := engine.New(engine.Config{Meta: rec, Blobs: blobs, Notifier: local.New(),
		Passwords: engine.PasswordParams{Time: 1, MemKiB: 1024, Threads: 1}})
	if err != nil {
		meta.Close()
		return nil, err
	}
	defer e.Close()
	ctx := context.Background()
	u, err := e.CreateUser(ctx, "corpus@example.com", "pw", 0)
	if err != nil {
		return nil, err
	}
	inbox, err := e.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		return nil, err
	}
	c := &textCorpus{}
	for _, m := range testcorpus.TextHeavy(seed, n) {
		c.raw += int64(len(m.Data))
		if _, err := e.Append(ctx, u.ID, inbox.ID, bytes.NewReader(m.Data), engine.AppendOptions{}); err != nil {
			return nil, err
		}
	}
	if err := blobs.Walk(ctx, func(bi engine.BlobInfo) error { c.blobBytes += bi.Size; return nil }); err != nil {
		return nil, err
	}
	c.msgs = rec.msgs
	return c, nil
}

func loadTextHeavy(b *testing.B) *textCorpus {
	b.Helper()
	c, err := textHeavy2000()
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// tableSizes returns the bytes each table and index takes in the database
// file (after a checkpoint), by the dbstat virtual table.
func tableSizes(tb testing.TB, s *Store) map[string]int64 {
	tb.Helper()
	_, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	must(tb, err)
	rows, err := s.w.Query(`SELECT name, sum(pgsize) FROM dbstat GROUP BY name`)
	must(tb, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		must(tb, rows.Scan(&name, &n))
		out[name] = n
	}
	must(tb, rows.Err())
	return out
}

// reportSizes reports the file's bytes per raw message byte, in total and
// for each table of more than 1% of the raw size.
func reportSizes(b *testing.B, s *Store, c *textCorpus) {
	sizes := tableSizes(b, s)
	var total, other int64
	names := make([]string, 0, len(sizes))
	for name, n := range sizes {
		total += n
		names = append(names, name)
	}
	slices.Sort(names)
	raw := float64(c.raw)
	for _, name := range names {
		if n := sizes[name]; n*100 > c.raw {
			b.ReportMetric(float64(n)/raw, name+"/raw")
		} else {
			other += n
		}
	}
	b.ReportMetric(float64(other)/raw, "other/raw")
	b.ReportMetric(float64(total)/raw, "meta/raw")
	b.ReportMetric(float64(total+c.blobBytes)/raw, "meta+blobs/raw")
}

// BenchmarkStorageTextHeavy reports what TextHeavy(1, 2000) takes in the
// database, indexed, per byte of raw mail, by table; meta+blobs/raw adds the
// blobs the engine stored beside it.
//
//	go test -run '^$' -bench StorageTextHeavy -benchtime 1x ./engine/meta/sqlite
func BenchmarkStorageTextHeavy(b *testing.B) {
	c := loadTextHeavy(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		s := openTemp(b, Options{TextIndex: TextIndexManual})
		f := newFixture(b, s)
		for j := 0; j < len(c.msgs); j += 100 {
			f.append(b, c.msgs[j:min(j+100, len(c.msgs))]...)
		}
		_, err := s.IndexText(ctx)
		must(b, err)
		must(b, s.OptimizeTextIndex(ctx))
		if i == b.N-1 {
			reportSizes(b, s, c)
		}
	}
	b.ReportMetric(float64(c.raw)/1e6, "raw-MB")
}

// BenchmarkAppendTextHeavy appends TextHeavy(1, 2000) one message per
// transaction and reports the mean append latency, how long the index took
// to catch up after the last append, and a few searches afterwards.
//
//	go test -run '^$' -bench AppendTextHeavy -benchtime 1x ./engine/meta/sqlite
func BenchmarkAppendTextHeavy(b *testing.B) {
	c := loadTextHeavy(b)
	ctx := context.Background()
	type q = engine.SearchQuery
	searches := []struct {
		name string
		q    *q
	}{
		{"body-word", &q{Op: engine.SearchBody, Value: "berlin"}},
		{"text-phrase", &q{Op: engine.SearchText, Value: "quarterly report"}},
		{"body-absent", &q{Op: engine.SearchBody, Value: "no such phrase"}},
		{"or-not", &q{Op: engine.SearchOr, Children: []*q{
			{Op: engine.SearchHeader, Field: "subject", Value: "outage"},
			{Op: engine.SearchNot, Children: []*q{{Op: engine.SearchBody, Value: "regards"}}},
		}}},
	}
	for _, mode := range []struct {
		name string
		mode TextIndexMode
	}{{"index=off", TextIndexManual}, {"index=background", TextIndexBackground}, {"index=inline", TextIndexInline}} {
		b.Run(mode.name, func(b *testing.B) {
			var appendTime, drainTime time.Duration
			var latencies []time.Duration
			searchTime := make([]time.Duration, len(searches))
			for i := 0; i < b.N; i++ {
				s := openTemp(b, Options{TextIndex: mode.mode})
				f := newFixture(b, s)
				start := time.Now()
				for j := range c.msgs {
					t := time.Now()
					if _, _, err := s.Append(ctx, f.user, f.box.ID, c.msgs[j:j+1]); err != nil {
						b.Fatal(err)
					}
					latencies = append(latencies, time.Since(t))
				}
				appendTime += time.Since(start)
				start = time.Now()
				if mode.mode != TextIndexManual {
					waitBackground(b, s)
				}
				drainTime += time.Since(start)
				for k, sc := range searches {
					const runs = 5
					start := time.Now()
					for range runs {
						if _, err := s.Search(ctx, f.user, f.box.ID, sc.q); err != nil {
							b.Fatal(err)
						}
					}
					searchTime[k] += time.Since(start) / runs
				}
				if i == b.N-1 {
					reportSizes(b, s, c)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(appendTime.Microseconds())/n/float64(len(c.msgs))/1e3, "ms/append")
			slices.Sort(latencies)
			for _, p := range []int{50, 90, 95, 99} {
				b.ReportMetric(float64(latencies[len(latencies)*p/100].Microseconds())/1e3, fmt.Sprintf("p%d-ms/append", p))
			}
			b.ReportMetric(float64(drainTime.Milliseconds())/n, "catch-up-ms")
			for k, sc := range searches {
				b.ReportMetric(float64(searchTime[k].Microseconds())/n/1e3, sc.name+"-ms")
			}
		})
	}
}
