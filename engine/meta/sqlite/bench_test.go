package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// textGen writes mail-like text: common English words, a Zipf-distributed
// vocabulary of made-up words (names, jargon), numbers and some non-ASCII.
type textGen struct {
	r     *rand.Rand
	vocab []string
	zipf  *rand.Zipf
}

var commonWords = strings.Fields(`the of and to in is you that it he was for on are as with his they at be this have from
	or one had by word but not what all were we when your can said there use an each which she do how their if will up other
	about out many then them these so some her would make like him into time has look two more write go see number no way
	could people my than first water been call who oil its now find long down day did get come made may part meeting report
	invoice attached please regards thanks tomorrow project deadline review budget quarterly über straße café Grüße привет`)

func newTextGen(seed uint64) *textGen {
	r := rand.New(rand.NewPCG(seed, 1))
	letters := []rune("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzäöüéè")
	g := &textGen{r: r}
	for i := 0; i < 20000; i++ {
		w := make([]rune, 3+r.IntN(8))
		for j := range w {
			w[j] = letters[r.IntN(len(letters))]
		}
		g.vocab = append(g.vocab, string(w))
	}
	g.zipf = rand.NewZipf(r, 1.1, 2, uint64(len(g.vocab)-1))
	return g
}

func (g *textGen) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		switch x := g.r.IntN(10); {
		case x < 6:
			b.WriteString(commonWords[g.r.IntN(len(commonWords))])
		case x < 9:
			b.WriteString(g.vocab[g.zipf.Uint64()])
		default:
			fmt.Fprintf(&b, "%d", g.r.IntN(100000))
		}
		if g.r.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func (g *textGen) message(i int, bodyBytes int) engine.NewMessage {
	env := make([]byte, 300)
	st := make([]byte, 200)
	for j := range env {
		env[j] = byte(g.r.Uint32())
	}
	for j := range st {
		st[j] = byte(g.r.Uint32())
	}
	m := engine.NewMessage{
		EmailID:      engine.EmailID(g.r.Uint64()),
		InternalDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Size:         int64(2000 + g.r.IntN(20000)),
		Envelope:     env,
		Structure:    st,
		Inline:       make([]byte, 400),
		Blobs:        []engine.BlobID{blobID(g.r.IntN(1000))},
	}
	if bodyBytes > 0 {
		m.HeaderText = fmt.Sprintf("from: %s <user%d@example.com>\nto: team@example.org\nsubject: %s\ndate: Mon, 1 Jan 2024 10:00:00 +0000\n",
			g.vocab[g.zipf.Uint64()], i, g.text(60))
		m.BodyText = g.text(bodyBytes)
	}
	return m
}

func BenchmarkAppend(b *testing.B) {
	for _, mode := range []struct {
		name string
		mode TextIndexMode
	}{{"queued", TextIndexManual}, {"inline", TextIndexInline}} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode.name, batch), func(b *testing.B) {
				s := openTemp(b, Options{TextIndex: mode.mode})
				f := newFixture(b, s)
				g := newTextGen(1)
				pool := make([]engine.NewMessage, 500)
				for i := range pool {
					pool[i] = g.message(i, 2000)
				}
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					msgs := make([]engine.NewMessage, batch)
					for j := range msgs {
						msgs[j] = pool[(i*batch+j)%len(pool)]
					}
					if _, _, err := s.Append(ctx, f.user, f.box.ID, msgs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkIndexText measures the background indexer's work per text.
func BenchmarkIndexText(b *testing.B) {
	s := openTemp(b, Options{TextIndex: TextIndexManual})
	f := newFixture(b, s)
	g := newTextGen(2)
	ctx := context.Background()
	for i := 0; i < b.N; i += 100 {
		msgs := make([]engine.NewMessage, min(100, b.N-i))
		for j := range msgs {
			msgs[j] = g.message(i+j, 2000)
		}
		f.append(b, msgs...)
	}
	b.ResetTimer()
	n, err := s.IndexText(ctx)
	if err != nil || n != b.N {
		b.Fatalf("indexed %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

// fill appends n messages in batches.
func fill(b *testing.B, f fixture, g *textGen, n, bodyBytes int) {
	for i := 0; i < n; i += 1000 {
		msgs := make([]engine.NewMessage, min(1000, n-i))
		for j := range msgs {
			msgs[j] = g.message(i+j, bodyBytes)
		}
		f.append(b, msgs...)
	}
}

// BenchmarkMailbox100k reads a 100,000-message mailbox.
func BenchmarkMailbox100k(b *testing.B) {
	s := openTemp(b, Options{TextIndex: TextIndexManual})
	f := newFixture(b, s)
	fill(b, f, newTextGen(3), 100000, 0)
	ctx := context.Background()
	_, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	must(b, err)
	all := roaring.New()
	all.AddRange(1, 100001)
	everyOther := roaring.New()
	for v := uint32(1); v <= 100000; v += 2 {
		everyOther.Add(v)
	}
	for _, tc := range []struct {
		name string
		set  *roaring.Bitmap
	}{{"Messages/all", all}, {"Messages/every-other", everyOther}} {
		b.Run(tc.name, func(b *testing.B) {
			rows := 0
			for i := 0; i < b.N; i++ {
				if err := s.Messages(ctx, f.user, f.box.ID, tc.set, func(*engine.MessageMeta) error {
					rows++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("UIDs", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			set, _, err := s.UIDs(ctx, f.user, f.box.ID)
			if err != nil || set.GetCardinality() != 100000 {
				b.Fatal(set.GetCardinality(), err)
			}
		}
	})
	b.Run("Status", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Status(ctx, f.user, f.box.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMailbox10k works on a 10,000-message mailbox with 2 KB bodies,
// indexed, and logs the on-disk cost of the text and its index.
func BenchmarkMailbox10k(b *testing.B) {
	s := openTemp(b, Options{TextIndex: TextIndexManual})
	f := newFixture(b, s)
	ctx := context.Background()
	g := newTextGen(4)
	var textBytes int
	for i := 0; i < 10000; i += 1000 {
		msgs := make([]engine.NewMessage, 1000)
		for j := range msgs {
			msgs[j] = g.message(i+j, 2000)
			textBytes += len(msgs[j].HeaderText) + len(msgs[j].BodyText)
		}
		f.append(b, msgs...)
	}
	size := func() int64 {
		_, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		must(b, err)
		return f.count(b, `SELECT page_count * page_size FROM pragma_page_count, pragma_page_size`)
	}
	unindexed := size()
	start := time.Now()
	n, err := s.IndexText(ctx)
	must(b, err)
	took := time.Since(start)
	indexed := size()
	b.Logf("10,000 messages: %.1f MB of text; database %.1f MB without the index, %.1f MB with it (index %.2f× the text); indexing %d texts took %v",
		float64(textBytes)/1e6, float64(unindexed)/1e6, float64(indexed)/1e6, float64(indexed-unindexed)/float64(textBytes), n, took)

	type q = engine.SearchQuery
	for _, tc := range []struct {
		name string
		q    *q
	}{
		{"Search/body-rare", &q{Op: engine.SearchBody, Value: g.vocab[15000]}},
		{"Search/body-common", &q{Op: engine.SearchBody, Value: "meeting"}},
		{"Search/body-phrase", &q{Op: engine.SearchBody, Value: "please find"}},
		{"Search/body-2-chars", &q{Op: engine.SearchBody, Value: "zq"}},
		{"Search/text-absent", &q{Op: engine.SearchText, Value: "no such string"}},
		{"Search/subject", &q{Op: engine.SearchHeader, Field: "subject", Value: "quarterly"}},
		{"Search/or-text-flag", &q{Op: engine.SearchOr, Children: []*q{{Op: engine.SearchText, Value: "deadline"}, {Op: engine.SearchFlag, Flag: engine.FlagFlagged}}}},
		{"Search/unseen", &q{Op: engine.SearchNot, Children: []*q{{Op: engine.SearchFlag, Flag: engine.FlagSeen}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var hits uint64
			for i := 0; i < b.N; i++ {
				r, err := s.Search(ctx, f.user, f.box.ID, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				hits = r.GetCardinality()
			}
			b.ReportMetric(float64(hits), "hits")
		})
	}
	all := roaring.New()
	all.AddRange(1, 10001)
	// After the searches: it changes the flags they count.
	seen := false // the flag state carries over between runs of the sub-benchmark
	b.Run("StoreFlags/1:*", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			op := engine.FlagsAdd
			if seen {
				op = engine.FlagsRemove
			}
			seen = !seen
			changed, _, err := s.StoreFlags(ctx, f.user, f.box.ID, all, op, []string{engine.FlagSeen}, 0)
			if err != nil || len(changed) != 10000 {
				b.Fatal(len(changed), err)
			}
		}
		b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "msgs/s")
	})
}
