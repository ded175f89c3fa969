package transfer

import (
	"bytes"
	"fmt"

	"pgregory.net/rapid"
)

// tester is what the helpers need from *testing.T, *testing.F and *rapid.T.
type tester interface {
	Helper()
	Fatalf(format string, args ...any)
}

// decodeResult is everything a Base64Decoder says about one body.
type decodeResult struct {
	decoded  []byte
	layout   Layout
	ok       bool
	consumed int    // bytes of the body the decoder took
	tail     []byte // Tail() at the end
}

func (r decodeResult) String() string {
	return fmt.Sprintf("ok=%v layout=%v decoded=%d consumed=%d tail=%q", r.ok, r.layout, len(r.decoded), r.consumed, r.tail)
}

// decodeChunks feeds body to a fresh decoder in pieces of the given sizes
// (repeated; the last piece takes the rest) and closes it if it never failed.
func decodeChunks(body []byte, sizes []int) decodeResult {
	d := NewBase64Decoder()
	var r decodeResult
	r.decoded = []byte{} // distinguish from nil in comparisons
	for off, k := 0, 0; off < len(body); k++ {
		size := len(body) - off
		if len(sizes) > 0 {
			size = min(max(sizes[k%len(sizes)], 1), size)
		}
		var n int
		var ok bool
		r.decoded, n, ok = d.Write(r.decoded, body[off:off+size])
		r.consumed += n
		if !ok {
			r.layout = d.Layout()
			r.tail = bytes.Clone(d.Tail())
			return r
		}
		if n != size {
			panic(fmt.Sprintf("Write consumed %d of %d and said ok", n, size))
		}
		off += size
	}
	r.decoded, r.layout, r.ok = d.Close(r.decoded)
	r.tail = bytes.Clone(d.Tail())
	return r
}

// checkFallback asserts the decoder's contract on body: the verified prefix
// re-encoded, then Tail(), then the unconsumed rest is the body; on success
// the re-encoding alone is the body.
func checkFallback(t tester, body []byte, r decodeResult) {
	t.Helper()
	if r.layout.Validate() != nil {
		t.Fatalf("invalid layout %v", r.layout)
	}
	rebuilt := AppendBase64(nil, r.layout, r.decoded)
	if r.ok {
		if len(r.tail) != 0 {
			t.Fatalf("ok with tail %q", r.tail)
		}
		if !bytes.Equal(rebuilt, body) {
			t.Fatalf("exact but re-encoding differs (%v)\nbody: %q\ngot:  %q", r.layout, body, rebuilt)
		}
		if got := r.layout.EncodedSize(int64(len(r.decoded))); got != int64(len(body)) {
			t.Fatalf("EncodedSize %d, body %d", got, len(body))
		}
		return
	}
	rebuilt = append(rebuilt, r.tail...)
	rebuilt = append(rebuilt, body[r.consumed:]...)
	if !bytes.Equal(rebuilt, body) {
		t.Fatalf("fallback identity broken (%v)\nbody:    %q\nrebuilt: %q", r, body, rebuilt)
	}
	if len(r.tail) > MaxLineLen+3 {
		t.Fatalf("tail of %d bytes", len(r.tail))
	}
}

func sameResult(t tester, want, got decodeResult, what string) {
	t.Helper()
	if want.ok != got.ok || want.layout != got.layout || want.consumed != got.consumed ||
		!bytes.Equal(want.decoded, got.decoded) || !bytes.Equal(want.tail, got.tail) {
		t.Fatalf("%s: result depends on the split\nwhole: %v\nsplit: %v", what, want, got)
	}
}

// drawLayout draws any layout the decoder must accept: 4..996 characters per line.
func drawLayout(t *rapid.T) Layout {
	return Layout{
		LineLen:  4 * rapid.IntRange(1, 249).Draw(t, "quads"),
		CRLF:     rapid.Bool().Draw(t, "crlf"),
		FinalEOL: rapid.Bool().Draw(t, "finalEOL"),
	}
}

// drawContent draws decoded content, sometimes large enough for many lines.
func drawContent(t *rapid.T) []byte {
	n := rapid.OneOf(rapid.IntRange(0, 20), rapid.IntRange(0, 3000), rapid.IntRange(0, 40000)).Draw(t, "size")
	seed := rapid.Uint64().Draw(t, "seed")
	return pseudoRandom(seed, n)
}

// pseudoRandom makes n reproducible bytes from seed (splitmix64).
func pseudoRandom(seed uint64, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(z >> (8 * j))
		}
	}
	return b
}

func drawSizes(t *rapid.T, label string) []int {
	return rapid.SliceOfN(rapid.OneOf(rapid.IntRange(1, 8), rapid.IntRange(1, 3000)), 1, 16).Draw(t, label)
}

// encodeChunks runs NewBase64Encoder over content written in pieces.
func encodeChunks(t tester, l Layout, content []byte, sizes []int) []byte {
	t.Helper()
	var out bytes.Buffer
	e := NewBase64Encoder(&out, l)
	for off, k := 0, 0; off < len(content); k++ {
		size := min(max(sizes[k%len(sizes)], 1), len(content)-off)
		if n, err := e.Write(content[off : off+size]); err != nil || n != size {
			t.Fatalf("encoder Write = %d, %v", n, err)
		}
		off += size
	}
	if err := e.Close(); err != nil {
		t.Fatalf("encoder Close: %v", err)
	}
	return out.Bytes()
}
