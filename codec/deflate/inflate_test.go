package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

var dataKinds = []struct {
	name string
	gen  func(seed uint64, n int) []byte
}{
	{"text", textData},
	{"random", randomData},
	{"repetitive", repetitiveData},
	{"runs", runsData},
}

// checkFlushed feeds each flushed segment and requires that all the
// plaintext written before its flush has come out once it is fed.
func checkFlushed(t *testing.T, opt Options, chunks, segs [][]byte, sizes func() int) {
	t.Helper()
	f := NewInflater(opt)
	var out, want []byte
	for i, seg := range segs {
		var err error
		if out, err = feed(f, out, seg, sizes); err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		want = append(want, chunks[i]...)
		if !bytes.Equal(out, want) {
			t.Fatalf("after segment %d: have %d bytes, want %d (first difference at %d)",
				i, len(out), len(want), firstDiff(out, want))
		}
	}
	if !f.Finished() {
		t.Fatal("stream not finished after the final block")
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRoundTripFlush(t *testing.T) {
	size := 300_000
	if testing.Short() {
		size = 60_000
	}
	for level := -2; level <= 9; level++ {
		for _, kind := range dataKinds {
			t.Run(fmt.Sprintf("%s/level%d", kind.name, level), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(level+10), 7))
				plain := kind.gen(uint64(level+3), size)
				chunks := randomChunks(r, plain, 40_000)
				segs := flushedStream(t, level, chunks)
				t.Run("whole", func(t *testing.T) { checkFlushed(t, Options{}, chunks, segs, wholeSize()) })
				t.Run("random", func(t *testing.T) { checkFlushed(t, Options{}, chunks, segs, randomSizes(r, 5000)) })
				t.Run("bytes", func(t *testing.T) { checkFlushed(t, Options{}, chunks, segs, oneByte()) })
				t.Run("capped", func(t *testing.T) {
					checkFlushed(t, Options{MaxOutput: 1 + int64(r.IntN(3000))}, chunks, segs, randomSizes(r, 700))
				})
			})
		}
	}
}

// The server side compresses with klauspost/compress/flate; each Flush
// must leave nothing undecoded.
func TestKlauspostWriterFlush(t *testing.T) {
	for level := kflate.HuffmanOnly; level <= kflate.BestCompression; level++ {
		for _, kind := range dataKinds {
			t.Run(fmt.Sprintf("%s/level%d", kind.name, level), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(level+20), 9))
				plain := kind.gen(uint64(level+5), 150_000)
				chunks := randomChunks(r, plain, 20_000)
				var buf bytes.Buffer
				w, err := kflate.NewWriter(&buf, level)
				if err != nil {
					t.Fatal(err)
				}
				f := NewInflater(Options{})
				var out, want []byte
				for i, c := range chunks {
					w.Write(c)
					if err := w.Flush(); err != nil {
						t.Fatal(err)
					}
					if out, err = feed(f, out, buf.Bytes(), randomSizes(r, 3000)); err != nil {
						t.Fatalf("chunk %d: %v", i, err)
					}
					buf.Reset()
					want = append(want, c...)
					if !bytes.Equal(out, want) {
						t.Fatalf("after flush %d: have %d bytes, want %d", i, len(out), len(want))
					}
				}
				w.Close()
				if out, err = feed(f, out, buf.Bytes(), wholeSize()); err != nil || !f.Finished() {
					t.Fatalf("close: err %v, finished %v", err, f.Finished())
				}
				if !bytes.Equal(out, plain) {
					t.Fatal("output differs after close")
				}
			})
		}
	}
}

// A match reaching back exactly 32 KiB, into bytes returned by an earlier
// call, with the stream cut at every bit-level position around it.
func TestMaxDistanceAcrossCalls(t *testing.T) {
	hist := randomData(11, histSize)
	w := new(bitWriter).stored(false, hist)
	prefix := len(w.out)
	w.bits(1, 1).bits(1, 2) // final fixed block
	w.fixedLit(285)         // length 258
	w.code(29, 5)           // distance code 29 ...
	w.bits(8191, 13)        // ... + 8191 = 32768
	w.fixedLit(256)
	stream := w.bytes()
	want := append(bytes.Clone(hist), hist[:258]...)

	for cut := prefix - 2; cut <= len(stream); cut++ {
		f := new(Inflater)
		out, _, err := f.Inflate(nil, stream[:cut])
		if err != nil {
			t.Fatal(err)
		}
		out, err = feed(f, out, stream[cut:], oneByte())
		if err != nil || !f.Finished() || !bytes.Equal(out, want) {
			t.Fatalf("cut %d: err %v, finished %v, equal %v", cut, err, f.Finished(), bytes.Equal(out, want))
		}
	}

	// One byte further is before the start of the stream.
	w = new(bitWriter).stored(false, hist[1:])
	w.bits(1, 1).bits(1, 2).fixedLit(285).code(29, 5).bits(8191, 13).fixedLit(256)
	if _, _, err := new(Inflater).Inflate(nil, w.bytes()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("distance past the start: err %v", err)
	}
}

// Every byte of a symbol must come out as soon as its last bit arrives,
// even in the middle of a block.
func TestOutputWithinBlock(t *testing.T) {
	w := new(bitWriter).bits(1, 1).bits(1, 2)
	msg := "a1 NOOP\r\n"
	var ends []int // bit position after each literal
	for i := range len(msg) {
		w.fixedLit(int(msg[i]))
		ends = append(ends, len(w.out)*8+int(w.nbits))
	}
	w.fixedLit(256)
	stream := w.bytes()
	f := new(Inflater)
	var out []byte
	for i := range stream {
		var err error
		if out, _, err = f.Inflate(out, stream[i:i+1]); err != nil {
			t.Fatal(err)
		}
		decodable := 0
		for _, e := range ends {
			if e <= (i+1)*8 {
				decodable++
			}
		}
		if string(out) != msg[:decodable] {
			t.Fatalf("after %d bytes: have %q, want %q", i+1, out, msg[:decodable])
		}
	}
	if !f.Finished() {
		t.Fatal("not finished")
	}
}

func TestMaxOutput(t *testing.T) {
	plain := textData(3, 200_000)
	stream := compress(t, 9, plain)
	for _, limit := range []int64{1, 7, 258, 1000, 65536} {
		f := NewInflater(Options{MaxOutput: limit})
		var out []byte
		in := stream
		for calls := 0; !f.Finished(); calls++ {
			before := len(out)
			var n int
			var err error
			out, n, err = f.Inflate(out, in)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)-before) > limit {
				t.Fatalf("limit %d: a call appended %d bytes", limit, len(out)-before)
			}
			in = in[n:]
			if calls > len(plain)+len(stream) {
				t.Fatalf("limit %d: no progress", limit)
			}
		}
		if !bytes.Equal(out, plain) {
			t.Fatalf("limit %d: output differs", limit)
		}
	}
}

func TestStoredBlocks(t *testing.T) {
	a, b := randomData(1, 65535), randomData(2, 3)
	w := new(bitWriter).stored(false, a).stored(false, nil).stored(true, b)
	stream := w.bytes()
	want := append(bytes.Clone(a), b...)
	for _, sizes := range []func() int{wholeSize(), oneByte(), randomSizes(rand.New(rand.NewPCG(1, 1)), 100)} {
		for _, limit := range []int64{0, 5} {
			f := NewInflater(Options{MaxOutput: limit})
			out, err := feed(f, nil, stream, sizes)
			if err != nil || !f.Finished() || !bytes.Equal(out, want) {
				t.Fatalf("limit %d: err %v, finished %v, equal %v", limit, err, f.Finished(), bytes.Equal(out, want))
			}
		}
	}
}

// A stored block right after a Huffman block: the wide loads of the
// Huffman decoder have already taken some of its bytes into the bit
// accumulator.
func TestStoredAfterHuffman(t *testing.T) {
	body := randomData(4, 100)
	w := new(bitWriter).bits(0, 1).bits(1, 2).fixedLit('x').fixedLit(256)
	stream := w.stored(true, body).bytes()
	want := append([]byte("x"), body...)
	for _, limit := range []int64{0, 1, 3} {
		f := NewInflater(Options{MaxOutput: limit})
		out, err := feed(f, nil, stream, wholeSize())
		if err != nil || !f.Finished() || !bytes.Equal(out, want) {
			t.Fatalf("limit %d: err %v, finished %v, equal %v", limit, err, f.Finished(), bytes.Equal(out, want))
		}
	}
}

func TestTrailingDataAndReset(t *testing.T) {
	plain := textData(5, 5000)
	stream := compress(t, 6, plain)
	in := append(bytes.Clone(stream), "TRAILER"...)
	var f Inflater // the zero value works
	out, n, err := f.Inflate(nil, in)
	if err != nil || !f.Finished() || n != len(stream) || !bytes.Equal(out, plain) {
		t.Fatalf("err %v, finished %v, consumed %d of %d", err, f.Finished(), n, len(stream))
	}
	if out2, n, err := f.Inflate(out, in[n:]); n != 0 || err != nil || len(out2) != len(out) {
		t.Fatal("input accepted after the final block")
	}

	// With the output cap, calls stop early and resume; the end is still
	// found exactly.
	capped := NewInflater(Options{MaxOutput: 3})
	out, rest := nil, in
	for !capped.Finished() {
		var n int
		if out, n, err = capped.Inflate(out, rest); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if string(rest) != "TRAILER" || !bytes.Equal(out, plain) {
		t.Fatalf("capped: left %q", rest)
	}

	f.Reset()
	if f.Finished() {
		t.Fatal("finished after Reset")
	}
	out, err = feed(&f, nil, stream, oneByte())
	if err != nil || !f.Finished() || !bytes.Equal(out, plain) {
		t.Fatalf("after Reset: err %v", err)
	}
}

// Truncated input is not an error: it is a stream that has not ended.
func TestTruncated(t *testing.T) {
	plain := textData(8, 3000)
	stream := compress(t, 6, plain)
	for cut := range len(stream) {
		f := new(Inflater)
		out, n, err := f.Inflate(nil, stream[:cut])
		if err != nil || f.Finished() || n != cut || !bytes.HasPrefix(plain, out) {
			t.Fatalf("cut %d: err %v, finished %v, consumed %d", cut, err, f.Finished(), n)
		}
	}
}

// dynHeader starts a final dynamic block whose code-length code gives
// two-bit codes to the symbols 0 (00), 1 (01), 2 (10) and 18 (11).
func dynHeader(nlit, ndist int) *bitWriter {
	w := new(bitWriter).bits(1, 1).bits(2, 2)
	w.bits(uint64(nlit-257), 5).bits(uint64(ndist-1), 5).bits(18-4, 4)
	for _, sym := range codeLenOrder[:18] {
		l := uint64(0)
		if sym <= 2 || sym == 18 {
			l = 2
		}
		w.bits(l, 3)
	}
	return w
}

// zeros writes n zero code lengths with symbol 18 (11 to 138 each).
func zeros(w *bitWriter, n int) *bitWriter {
	for n > 0 {
		k := min(n, 138)
		w.code(3, 2).bits(uint64(k-11), 7)
		n -= k
	}
	return w
}

func TestCorrupt(t *testing.T) {
	fixed := func() *bitWriter { return new(bitWriter).bits(1, 1).bits(1, 2) }
	tests := []struct {
		name   string
		stream []byte
		reason string
	}{
		{"reserved block type", new(bitWriter).bits(1, 1).bits(3, 2).bytes(), "invalid block type"},
		{"stored length", new(bitWriter).bits(1, 1).bits(0, 2).align().bits(5, 16).bits(5, 16).bytes(), "complement"},
		{"match before start", fixed().fixedLit(257).code(0, 5).bytes(), "before the start"},
		{"fixed literal 286", fixed().fixedLit('x').fixedLit(286).bytes(), "invalid literal/length code"},
		{"fixed distance 30", fixed().fixedLit('x').fixedLit(257).code(30, 5).bytes(), "invalid distance code"},
		{"too many literal codes", new(bitWriter).bits(1, 1).bits(2, 2).bits(30, 5).bits(0, 5).bits(0, 4).bytes(), "too many"},
		{"too many distance codes", new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(30, 5).bits(0, 4).bytes(), "too many"},
		{"over-subscribed code-length code",
			new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4).bits(1, 3).bits(1, 3).bits(1, 3).bits(1, 3).bytes(),
			"invalid code-length code"},
		{"repeat without previous length",
			// Code-length code: 0 and 16, one bit each; then 16 first.
			new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4).bits(1, 3).bits(0, 3).bits(0, 3).bits(1, 3).code(1, 1).bits(0, 2).bytes(),
			"no previous length"},
		{"lengths overrun", zeros(dynHeader(257, 1), 250).code(3, 2).bits(127, 7).bytes(), "overrun"},
		{"no end-of-block code", zeros(dynHeader(257, 1), 258).bytes(), "no end-of-block"},
		{"incomplete literal code", zeros(dynHeader(257, 1), 256).code(2, 2).code(1, 2).bytes(), "invalid literal/length or distance code"},
		{"over-subscribed literal code", zeros(dynHeader(257, 1), 254).code(1, 2).code(1, 2).code(1, 2).code(1, 2).bytes(), "invalid literal/length or distance code"},
		{"invalid code-length symbol",
			// Code-length code: only 0, one bit; then the missing code 1.
			new(bitWriter).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4).bits(0, 3).bits(0, 3).bits(0, 3).bits(1, 3).bits(1, 1).bits(0, 15).bytes(),
			"invalid code-length symbol"},
		{"missing distance code",
			// Literal/length codes: EOB 0, length 3 1; the only distance
			// code is 0. The block then uses the missing distance code 1.
			zeros(dynHeader(258, 1), 256).code(1, 2).code(1, 2).code(1, 2).code(1, 1).code(1, 1).bits(0, 16).bytes(),
			"invalid distance code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, sizes := range []func() int{wholeSize(), oneByte()} {
				f := new(Inflater)
				_, err := feed(f, nil, tc.stream, sizes)
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || !strings.Contains(ce.Reason, tc.reason) {
					t.Fatalf("err %v, want reason %q", err, tc.reason)
				}
				if ce.Offset < 0 || ce.Offset > int64(len(tc.stream)) {
					t.Fatalf("offset %d outside the stream", ce.Offset)
				}
				if _, n, err2 := f.Inflate(nil, []byte{0}); err2 != err || n != 0 {
					t.Fatalf("error not sticky: %v", err2)
				}
			}
		})
	}
}

// zlib writes a one-bit code when a block has a single distance, and a
// block may consist of its end-of-block code alone.
func TestDegenerateCodes(t *testing.T) {
	// Literals 'a' (2 bits), EOB (2 bits), length 3 (1 bit); distance 1
	// has the only (one-bit) distance code.
	w := dynHeader(258, 1)
	zeros(w, 'a').code(2, 2) // 'a': length 2
	zeros(w, 255-'a')
	w.code(2, 2).code(1, 2) // EOB: 2, length symbol 257: 1
	w.code(1, 2)            // distance code 0: 1
	// Codes: 257 -> 0, 'a' -> 10, EOB -> 11; distance 0 -> 0.
	w.code(2, 2).code(0, 1).code(0, 1).code(3, 2)
	stream := w.bytes()
	for _, sizes := range []func() int{wholeSize(), oneByte()} {
		f := new(Inflater)
		out, err := feed(f, nil, stream, sizes)
		if err != nil || !f.Finished() || string(out) != "aaaa" {
			t.Fatalf("have %q, err %v, finished %v", out, err, f.Finished())
		}
	}

	// A block of literals only may give no distance code a length.
	w = dynHeader(257, 1)
	zeros(w, 'b').code(1, 2) // 'b': 1
	zeros(w, 255-'b')
	w.code(1, 2).code(0, 2) // EOB: 1; no distance codes
	w.code(0, 1).code(0, 1).code(1, 1)
	out, _, err := new(Inflater).Inflate(nil, w.bytes())
	if err != nil || string(out) != "bb" {
		t.Fatalf("literals only: have %q, err %v", out, err)
	}
}
