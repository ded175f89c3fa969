package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
)

// Output beyond this is not compared: a few fuzzed bytes can expand a
// thousandfold, and slow executions stall the fuzzer.
const fuzzOutLimit = 1 << 18

type fuzzResult struct {
	out      []byte
	err      error
	finished bool
	big      bool // stopped at fuzzOutLimit
}

// splitSizes turns a fuzzed number into a repeating pattern of piece sizes.
func splitSizes(seed uint16) func() int {
	sizes := []int{int(seed%7) + 1, int(seed>>3%61) + 1, int(seed>>9%997) + 1}
	i := 0
	return func() int {
		i++
		return sizes[i%len(sizes)]
	}
}

// One Inflater serves every decode: allocating its window each time
// would dominate a fuzz execution.
var fuzzInflater Inflater

func fuzzDecode(in []byte, sizes func() int, maxOutput int64) fuzzResult {
	f := &fuzzInflater
	f.Reset()
	f.opt.MaxOutput = maxOutput
	var r fuzzResult
	for len(in) > 0 && !f.Finished() {
		piece := in[:min(sizes(), len(in))]
		in = in[len(piece):]
		for {
			before := len(r.out)
			var n int
			r.out, n, r.err = f.Inflate(r.out, piece)
			if r.err != nil {
				return r
			}
			if len(r.out) > fuzzOutLimit {
				r.big = true
				return r
			}
			piece = piece[n:]
			if (len(piece) == 0 && len(r.out) == before) || f.Finished() {
				break // with a cap, an empty piece may still release output
			}
			if n == 0 && len(r.out) == before {
				r.err = errNoProgress
				return r
			}
		}
	}
	r.finished = f.Finished()
	return r
}

func sameResult(t *testing.T, a, b fuzzResult, what string) {
	t.Helper()
	if a.big || b.big {
		n := min(len(a.out), len(b.out))
		if !bytes.Equal(a.out[:n], b.out[:n]) {
			t.Fatalf("%s: output differs within the first %d bytes", what, n)
		}
		return
	}
	if !bytes.Equal(a.out, b.out) || a.finished != b.finished || (a.err == nil) != (b.err == nil) ||
		(a.err != nil && a.err.Error() != b.err.Error()) {
		t.Fatalf("%s: %d bytes, finished %v, err %v; whole: %d bytes, finished %v, err %v",
			what, len(b.out), b.finished, b.err, len(a.out), a.finished, a.err)
	}
}

func fuzzSeeds(t testing.TB) [][]byte {
	text := textData(1, 3000)
	seeds := [][]byte{
		nil, {0}, {1}, {3, 0}, {0xff, 0xff},
		compress(t, 6, text),
		compress(t, 1, randomData(2, 500)),
		compress(t, 9, runsData(3, 2000)),
		compress(t, -2, text[:300]),
		compress(t, 0, text[:300]),
		new(bitWriter).stored(true, []byte("stored")).bytes(),
		new(bitWriter).bits(1, 1).bits(3, 2).bytes(),
		new(bitWriter).bits(1, 1).bits(1, 2).fixedLit(257).code(0, 5).bytes(),
		zeros(dynHeader(257, 1), 256).code(2, 2).code(1, 2).bytes(),
	}
	// A partial flush: the data block, then an empty fixed block.
	w := new(bitWriter).bits(0, 1).bits(1, 2)
	for _, c := range []byte("a1 NOOP\r\n") {
		w.fixedLit(int(c))
	}
	w.fixedLit(256).bits(0, 1).bits(1, 2).fixedLit(256)
	seeds = append(seeds, w.bytes())
	return seeds
}

// FuzzInflate feeds any bytes split in any way: the Inflater must not
// panic or loop, must give the same result however the input is split,
// and must agree with compress/flate on streams it fully decodes. The
// same bytes, compressed by compress/flate with flushes, must decode back
// to themselves with every flushed byte out at its flush.
func FuzzInflate(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(s, uint16(i*1231), int8(i))
	}
	f.Fuzz(fuzzInflate)
}

func fuzzInflate(t *testing.T, data []byte, split uint16, level int8) {
	fuzzStream(t, data, split)
	fuzzPlaintext(t, data, split, level)
}

// fuzzStream decodes data as a stream.
func fuzzStream(t *testing.T, data []byte, split uint16) {
	whole := fuzzDecode(data, wholeSize(), 0)
	sameResult(t, whole, fuzzDecode(data, splitSizes(split), 0), "split")
	sameResult(t, whole, fuzzDecode(data, splitSizes(split), int64(split%300)+1), "split and capped")
	if len(data) <= 4096 {
		sameResult(t, whole, fuzzDecode(data, oneByte(), 0), "byte at a time")
	}
	if !whole.big {
		ref, refErr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data)), fuzzOutLimit+1))
		if len(ref) <= fuzzOutLimit {
			if refErr == nil && (!whole.finished || !bytes.Equal(whole.out, ref)) {
				t.Fatalf("compress/flate decodes %d bytes; here: %d bytes, finished %v, err %v",
					len(ref), len(whole.out), whole.finished, whole.err)
			}
			if whole.finished && (refErr != nil || !bytes.Equal(whole.out, ref)) {
				t.Fatalf("decoded %d bytes; compress/flate: %d bytes, err %v", len(whole.out), len(ref), refErr)
			}
		}
	}
}

// fuzzPlaintext compresses data with flushes and decodes it back.
func fuzzPlaintext(t *testing.T, data []byte, split uint16, level int8) {
	lvl := int(uint8(level))%12 - 2
	chunks := [][]byte{data}
	if scale := int(level>>2&3) * 4; scale > 0 {
		chunks = chunks[:0]
		next := splitSizes(split ^ 0x5555)
		for rest := data; ; {
			n := min(next()*scale, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
			if len(rest) == 0 {
				break
			}
		}
	}
	segs := flushedStream(t, lvl, chunks)
	inf := &fuzzInflater
	inf.Reset()
	inf.opt.MaxOutput = int64(split % 5)
	var out, want []byte
	sizes := splitSizes(split >> 3)
	for i, seg := range segs {
		var err error
		if out, err = feed(inf, out, seg, sizes); err != nil {
			t.Fatalf("level %d, segment %d: %v", lvl, i, err)
		}
		want = append(want, chunks[i]...)
		if !bytes.Equal(out, want) {
			t.Fatalf("level %d, after segment %d: %d bytes out, want %d", lvl, i, len(out), len(want))
		}
	}
	if !inf.Finished() {
		t.Fatalf("level %d: not finished", lvl)
	}
}
