package frames

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Benchmarks of the ingest and FETCH paths. Run with
//
//	go test -run=^$ -bench=. -benchmem ./engine/frames
//
// MB/s is of decoded bytes; "ratio" is decoded/stored; "frames/op" is how
// many frames a read touched.

const benchSize = 20 << 20

func benchInputs() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"text", englishText(42, benchSize)},
		{"attachment", attachmentBytes(42, benchSize)},
	}
}

// BenchmarkWrite measures Writer throughput and the ratio it reaches, per
// zstd level, on English-like text and on decoded base64 attachments.
func BenchmarkWrite(b *testing.B) {
	levels := []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression}
	for _, in := range benchInputs() {
		for _, level := range levels {
			b.Run(fmt.Sprintf("%s/%s", in.name, level), func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				var stored int64
				for b.Loop() {
					w := NewWriter(io.Discard, Options{Level: level})
					for p := in.data; len(p) > 0; {
						k := min(len(p), 64<<10) // the size an ingest pipeline hands over
						if _, err := w.Write(p[:k]); err != nil {
							b.Fatal(err)
						}
						p = p[k:]
					}
					sum, err := w.Close()
					if err != nil {
						b.Fatal(err)
					}
					stored = sum.StoredSize
				}
				b.ReportMetric(float64(len(in.data))/float64(stored), "ratio")
			})
		}
	}
}

// BenchmarkRangeRead measures a partial FETCH: a 1 KiB or 64 KiB range at a
// random offset of a 20 MB blob, through a fresh Reader each time (no cache
// help), and reports the frames each read touched.
func BenchmarkRangeRead(b *testing.B) {
	for _, in := range benchInputs() {
		var buf bytes.Buffer
		w := NewWriter(&buf, Options{})
		if _, err := w.Write(in.data); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Close(); err != nil {
			b.Fatal(err)
		}
		c := buf.Bytes()
		for _, n := range []int{1 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", in.name, n>>10), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				p := make([]byte, n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				var frames int
				for b.Loop() {
					r, err := Open(bytes.NewReader(c), int64(len(c)))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := r.ReadAt(p, rng.Int64N(int64(len(in.data)-n))); err != nil {
						b.Fatal(err)
					}
					f, _ := r.Stats()
					frames += f
					r.Close()
				}
				b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
			})
		}
	}
}

// BenchmarkSequentialRead streams a whole 20 MB blob with io.Copy, as a
// FETCH BODY[] of a large attachment does.
func BenchmarkSequentialRead(b *testing.B) {
	for _, in := range benchInputs() {
		var buf bytes.Buffer
		w := NewWriter(&buf, Options{})
		if _, err := w.Write(in.data); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Close(); err != nil {
			b.Fatal(err)
		}
		c := buf.Bytes()
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := Open(bytes.NewReader(c), int64(len(c)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r.NewSectionReader(0, r.Size())); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
