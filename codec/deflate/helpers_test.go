package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"
)

// Test data: text with the word frequencies and line structure of mail,
// incompressible bytes, and a 32 KiB block repeated so that the only
// matches reach back exactly 32768 bytes.

var vocabulary = []string{
	"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was",
	"with", "be", "by", "on", "not", "he", "this", "are", "or", "his", "from",
	"at", "which", "but", "have", "an", "had", "they", "you", "were", "their",
	"one", "all", "we", "can", "her", "has", "there", "been", "if", "more",
	"when", "will", "would", "who", "so", "no", "message", "mailbox", "server",
	"folder", "attachment", "meeting", "tomorrow", "regards", "thanks", "please",
	"report", "quarterly", "numbers", "schedule", "project", "deadline",
	"invoice", "delivery", "customer", "account", "password", "subscription",
	"newsletter", "unsubscribe", "conference", "presentation", "budget",
}

func textData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		line := 0
		for line < 70 {
			// Squaring skews the choice towards the common words.
			w := vocabulary[int(r.Float64()*r.Float64()*float64(len(vocabulary)))]
			if r.IntN(12) == 0 {
				w += ","
			}
			b.WriteString(w)
			b.WriteByte(' ')
			line += len(w) + 1
		}
		if r.IntN(5) == 0 {
			b.WriteString("\r\n> quoted reply line number ")
			b.WriteString(vocabulary[r.IntN(len(vocabulary))])
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()[:n]
}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

func repetitiveData(seed uint64, n int) []byte {
	block := randomData(seed, histSize)
	p := make([]byte, 0, n)
	for len(p) < n {
		p = append(p, block...)
	}
	return p[:n]
}

// runsData repeats short patterns many times over: matches that overlap
// the bytes they produce.
func runsData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	p := make([]byte, 0, n+1000)
	for len(p) < n {
		pat := randomData(r.Uint64(), 1+r.IntN(12))
		for range 1 + r.IntN(80) {
			p = append(p, pat...)
		}
		p = append(p, randomData(r.Uint64(), r.IntN(20))...)
	}
	return p[:n]
}

// flushedStream compresses chunks with compress/flate at level, flushing
// after each, and returns the compressed bytes each chunk produced (the
// last segment also holds the final block from Close).
func flushedStream(t testing.TB, level int, chunks [][]byte) [][]byte {
	var buf bytes.Buffer
	w := writer(t, level, &buf)
	defer putWriter(level, w)
	segs := make([][]byte, 0, len(chunks))
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs[len(segs)-1] = append(segs[len(segs)-1], buf.Bytes()...)
	return segs
}

// Writers are reused: a new one allocates up to a megabyte, which slows
// fuzzing down.
var writers struct {
	sync.Mutex
	free map[int][]*flate.Writer
}

func writer(t testing.TB, level int, dst io.Writer) *flate.Writer {
	writers.Lock()
	defer writers.Unlock()
	if ws := writers.free[level]; len(ws) > 0 {
		w := ws[len(ws)-1]
		writers.free[level] = ws[:len(ws)-1]
		w.Reset(dst)
		return w
	}
	w, err := flate.NewWriter(dst, level)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func putWriter(level int, w *flate.Writer) {
	writers.Lock()
	defer writers.Unlock()
	if writers.free == nil {
		writers.free = make(map[int][]*flate.Writer)
	}
	writers.free[level] = append(writers.free[level], w)
}

func compress(t testing.TB, level int, p []byte) []byte {
	var buf bytes.Buffer
	w := writer(t, level, &buf)
	defer putWriter(level, w)
	w.Write(p)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomChunks cuts p into pieces of random sizes (some empty).
func randomChunks(r *rand.Rand, p []byte, maxLen int) [][]byte {
	var out [][]byte
	for len(p) > 0 {
		n := min(r.IntN(maxLen+1), len(p))
		out = append(out, p[:n])
		p = p[n:]
	}
	if len(out) == 0 {
		out = append(out, nil)
	}
	return out
}

// feed passes in to f in pieces whose sizes next chooses, calling again
// whenever the output cap stopped a call short. It returns the output and
// the first error.
func feed(f *Inflater, dst, in []byte, next func() int) ([]byte, error) {
	for len(in) > 0 {
		k := min(max(next(), 1), len(in))
		piece := in[:k]
		for {
			before := len(dst)
			var n int
			var err error
			dst, n, err = f.Inflate(dst, piece)
			if err != nil {
				return dst, err
			}
			piece = piece[n:]
			if len(piece) == 0 || f.Finished() {
				break
			}
			if n == 0 && len(dst) == before {
				return dst, errNoProgress
			}
		}
		in = in[k:]
		if f.Finished() {
			break
		}
	}
	// Drain output held back by the cap.
	for f.opt.MaxOutput > 0 && !f.Finished() {
		before := len(dst)
		var err error
		if dst, _, err = f.Inflate(dst, nil); err != nil {
			return dst, err
		}
		if len(dst) == before {
			break
		}
	}
	return dst, nil
}

var errNoProgress = errors.New("Inflate made no progress")

func wholeSize() func() int { return func() int { return 1 << 30 } }
func oneByte() func() int   { return func() int { return 1 } }

func randomSizes(r *rand.Rand, maxLen int) func() int {
	return func() int { return 1 + r.IntN(maxLen) }
}

// bitWriter builds hand-made streams, LSB first like DEFLATE.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
	return w
}

// code writes a Huffman code, which DEFLATE sends most significant bit first.
func (w *bitWriter) code(c uint64, n uint) *bitWriter {
	return w.bits(uint64(bits.Reverse16(uint16(c)))>>(16-n), n)
}

func (w *bitWriter) align() *bitWriter {
	if w.nbits > 0 {
		w.bits(0, 8-w.nbits)
	}
	return w
}

func (w *bitWriter) bytes() []byte { return w.align().out }

// fixedLitCode writes a literal/length symbol in the fixed code.
func (w *bitWriter) fixedLit(sym int) *bitWriter {
	switch {
	case sym < 144:
		return w.code(uint64(0x30+sym), 8)
	case sym < 256:
		return w.code(uint64(0x190+sym-144), 9)
	case sym < 280:
		return w.code(uint64(sym-256), 7)
	default:
		return w.code(uint64(0xc0+sym-280), 8)
	}
}

func (w *bitWriter) stored(final bool, p []byte) *bitWriter {
	w.bits(b2u(final), 1).bits(0, 2).align()
	w.bits(uint64(len(p)), 16).bits(uint64(^uint16(len(p))), 16)
	w.out = append(w.out, p...)
	return w
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
