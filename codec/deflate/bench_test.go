package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// The benchmarks report MB/s of decoded output. Input goes in 16 KiB
// pieces, as it would come off a connection; the reference readers are
// there for comparison.

const benchSize = 4 << 20

func benchInputs(b *testing.B) []struct {
	name          string
	plain, stream []byte
} {
	var out []struct {
		name          string
		plain, stream []byte
	}
	for _, kind := range dataKinds {
		for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
			plain := kind.gen(1, benchSize)
			name := kind.name + "/default"
			if level == flate.BestSpeed {
				name = kind.name + "/speed"
			}
			out = append(out, struct {
				name          string
				plain, stream []byte
			}{name, plain, compress(b, level, plain)})
		}
	}
	return out
}

func BenchmarkInflate(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.plain)))
			f := new(Inflater)
			dst := make([]byte, 0, len(in.plain))
			for b.Loop() {
				f.Reset()
				dst = dst[:0]
				for rest := in.stream; len(rest) > 0; {
					piece := rest[:min(16<<10, len(rest))]
					var n int
					var err error
					if dst, n, err = f.Inflate(dst, piece); err != nil {
						b.Fatal(err)
					}
					rest = rest[n:]
					if f.Finished() {
						break
					}
				}
			}
			if !bytes.Equal(dst, in.plain) {
				b.Fatal("output differs")
			}
			b.ReportMetric(float64(len(in.plain))/float64(len(in.stream)), "ratio")
		})
	}
}

func BenchmarkReference(b *testing.B) {
	readers := []struct {
		name string
		new  func(io.Reader) io.ReadCloser
	}{
		{"stdlib", flate.NewReader},
		{"klauspost", kflate.NewReader},
	}
	for _, rd := range readers {
		for _, in := range benchInputs(b) {
			b.Run(rd.name+"/"+in.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.plain)))
				buf := make([]byte, 32<<10)
				r := rd.new(bytes.NewReader(in.stream))
				for b.Loop() {
					r.(flate.Resetter).Reset(bytes.NewReader(in.stream), nil)
					for {
						_, err := r.Read(buf)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
