package transfer

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestBase64DecoderTable(t *testing.T) {
	long := strings.Repeat("QUJD", 250) // 1000 characters: the longest line allowed
	tests := []struct {
		name    string
		body    string
		ok      bool
		layout  Layout // checked when ok
		decoded string
		tail    string // checked when not ok
	}{
		{"empty body", "", true, Layout{76, true, false}, "", ""},
		{"only CRLF", "\r\n", true, Layout{76, true, true}, "", ""},
		{"only LF", "\n", true, Layout{76, false, true}, "", ""},
		{"single line", "QUJD", true, Layout{4, true, false}, "ABC", ""},
		{"single line CRLF", "QUJD\r\n", true, Layout{4, true, true}, "ABC", ""},
		{"single line LF", "QUJDRA==\n", true, Layout{8, false, true}, "ABCD", ""},
		{"padding", "QQ==", true, Layout{4, true, false}, "A", ""},
		{"one pad", "QUI=", true, Layout{4, true, false}, "AB", ""},
		{"two lines", "QUJD\r\nRA==\r\n", true, Layout{4, true, true}, "ABCD", ""},
		{"two lines LF no final", "QUJD\nRA==", true, Layout{4, false, false}, "ABCD", ""},
		{"full last line", "QUJD\r\nQUJD", true, Layout{4, true, false}, "ABCABC", ""},
		{"short unpadded last", "QUJDQUJD\r\nQUJD\r\n", true, Layout{8, true, true}, "ABCABCABC", ""},
		{"longest line", long + "\r\n" + long, true, Layout{1000, true, false}, strings.Repeat("ABC", 500), ""},

		{"pad bits set", "QR==", false, Layout{}, "", "QR=="},
		{"pad bits set one pad", "QUJ=", false, Layout{}, "", "QUJ="},
		{"missing padding", "QUI", false, Layout{}, "", "QUI"},
		{"missing padding second line", "QUJD\r\nQQ", false, Layout{}, "ABC", "QQ"},
		{"too much padding", "Q===", false, Layout{}, "", "Q==="},
		{"only padding", "====", false, Layout{}, "", "===="},
		{"two final line endings", "QUJD\r\nRA==\r\n\r\n", false, Layout{}, "ABCD", "\r"},
		{"blank line inside", "QUJD\r\n\r\nQUJD", false, Layout{}, "ABC", "\r\n"},
		{"mixed line endings", "QUJD\r\nQUJD\nRA==", false, Layout{}, "ABC", "QUJD\n"},
		{"LF then CRLF", "QUJD\nQUJD\r\nRA==", false, Layout{}, "ABC", "QUJD\r"},
		{"space in line", "QUJD \r\nRA==", false, Layout{}, "", "QUJD \r\n"},
		{"tab in last line", "QUJD\r\nRA==\t", false, Layout{}, "ABC", "RA==\t"},
		{"junk char", "QUJD\r\nQU*D\r\n", false, Layout{}, "ABC", "QU*D\r\n"},
		{"url alphabet", "QUJD\r\nP-__\r\n", false, Layout{}, "ABC", "P-__\r\n"},
		{"short line inside", "QUJDQUJD\r\nQUJD\r\nQUJDQUJD\r\n", false, Layout{}, "ABCABCABC", "Q"},
		{"long line inside", "QUJD\r\nQUJDQUJD\r\n", false, Layout{}, "ABC", "QUJDQU"},
		{"too long first line", long + "QUJD", false, Layout{}, "", long + "QU"},
		{"first line not quads", "QUJDR\r\nQUJD", false, Layout{}, "", "QUJDR\r\n"},
		{"padding then more", "QQ==\r\nQUJD", false, Layout{}, "A", "Q"},
		{"padding inside line", "QQ==QUJD\r\n", false, Layout{}, "", "QQ==QUJD\r\n"},
		{"bare CR inside", "QUJD\rQUJD", false, Layout{}, "", "QUJD\rQUJD"},
		{"CR at end", "QUJD\r\nQUJD\r", false, Layout{}, "ABC", "QUJD\r"},
		{"blank then data", "\r\nQUJD", false, Layout{}, "", "\r\nQ"},
		{"NUL byte", "QUJD\r\nQU\x00D", false, Layout{}, "ABC", "QU\x00D"},
		{"leading space", " QUJD", false, Layout{}, "", " QUJD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			whole := decodeChunks(body, nil)
			if whole.ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%v)", whole.ok, tc.ok, whole)
			}
			if string(whole.decoded) != tc.decoded {
				t.Fatalf("decoded %q, want %q", whole.decoded, tc.decoded)
			}
			if tc.ok && whole.layout != tc.layout {
				t.Fatalf("layout %v, want %v", whole.layout, tc.layout)
			}
			if !tc.ok && string(whole.tail) != tc.tail {
				t.Fatalf("tail %q, want %q", whole.tail, tc.tail)
			}
			checkFallback(t, body, whole)
			sameResult(t, whole, decodeChunks(body, []int{1}), "byte at a time")
			for cut := 1; cut < len(body) && len(body) < 100; cut++ {
				sameResult(t, whole, decodeChunks(body, []int{cut, len(body)}), "one cut")
			}
		})
	}
}

func TestBase64DecoderAfterFailureAndClose(t *testing.T) {
	d := NewBase64Decoder()
	out, n, ok := d.Write(nil, []byte("QUJD\r\nQU*D\r\nQUJD\r\n"))
	if ok || n != 12 || string(out) != "ABC" {
		t.Fatalf("Write = %q, %d, %v", out, n, ok)
	}
	if out, n, ok = d.Write(out, []byte("QUJD")); ok || n != 0 || string(out) != "ABC" {
		t.Fatalf("Write after failure = %q, %d, %v", out, n, ok)
	}
	if _, l, ok := d.Close(nil); ok || l != (Layout{4, true, true}) {
		t.Fatalf("Close after failure = %v, %v", l, ok)
	}

	d.Reset()
	out, _, ok = d.Write(nil, []byte("QUJD\r\n"))
	out, l, ok2 := d.Close(out)
	if !ok || !ok2 || string(out) != "ABC" || l != (Layout{4, true, true}) {
		t.Fatalf("after Reset: %q %v %v %v", out, l, ok, ok2)
	}
	if _, n, ok = d.Write(nil, []byte("QUJD")); ok || n != 0 {
		t.Fatalf("Write after Close = %d, %v", n, ok)
	}
	if _, l2, ok := d.Close(nil); !ok || l2 != l {
		t.Fatalf("second Close = %v, %v", l2, ok)
	}
}

// TestBase64RoundTrip: whatever NewBase64Encoder writes, the decoder accepts
// as exact, in any split, with the same layout and content.
func TestBase64RoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := drawLayout(t)
		content := drawContent(t)
		body := encodeChunks(t, l, content, drawSizes(t, "encSizes"))
		if want := AppendBase64(nil, l, content); !bytes.Equal(body, want) {
			t.Fatalf("encoder and AppendBase64 disagree")
		}
		if got := l.EncodedSize(int64(len(content))); got != int64(len(body)) {
			t.Fatalf("EncodedSize %d, encoding is %d bytes", got, len(body))
		}
		if len(content) > 0 {
			if got, _ := base64.StdEncoding.DecodeString(string(body)); !bytes.Equal(got, content) {
				t.Fatalf("encoding does not decode back with encoding/base64")
			}
		}
		r := decodeChunks(body, drawSizes(t, "decSizes"))
		if !r.ok {
			t.Fatalf("canonical body rejected: %v", r)
		}
		if !bytes.Equal(r.decoded, content) {
			t.Fatalf("decoded content differs")
		}
		checkFallback(t, body, r)
		// A body of two or more lines shows its whole layout; a single line
		// only shows itself (its length becomes LineLen).
		if l.EncodedSize(int64(len(content))) > int64(l.LineLen+l.eolLen()) && r.layout != l {
			t.Fatalf("layout %v, encoded with %v", r.layout, l)
		}
		sameResult(t, decodeChunks(body, nil), r, "random split")
	})
}

// TestBase64RangeProperty: any encoded range regenerated from the decoded
// content equals that slice of the full encoding.
func TestBase64RangeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := drawLayout(t)
		content := drawContent(t)
		full := AppendBase64(nil, l, content)
		total := int64(len(full))
		for range 8 {
			off := rapid.Int64Range(0, total).Draw(t, "off")
			n := rapid.Int64Range(0, total-off).Draw(t, "n")
			decOff, decLen, skip := Base64Range(l, int64(len(content)), off, n)
			if decOff < 0 || decLen < 0 || decOff+decLen > int64(len(content)) {
				t.Fatalf("decoded range [%d,+%d) outside content of %d", decOff, decLen, len(content))
			}
			// The decoded range is never more than the lines the range touches.
			if maxLen := (n/int64(l.LineLen+l.eolLen()) + 2) * int64(l.lineBytes()); decLen > maxLen {
				t.Fatalf("decLen %d for %d encoded bytes", decLen, n)
			}
			enc := EncodeRange(nil, l, int64(len(content)), decOff, content[decOff:decOff+decLen])
			if skip+n > int64(len(enc)) {
				t.Fatalf("EncodeRange gave %d bytes, need skip %d + n %d", len(enc), skip, n)
			}
			if got := enc[skip : skip+n]; !bytes.Equal(got, full[off:off+n]) {
				t.Fatalf("range [%d,+%d) of %v: got %q want %q", off, n, l, got, full[off:off+n])
			}
		}
	})
}

func TestBase64RangeClipsAndEmpty(t *testing.T) {
	l := Layout{LineLen: 8, CRLF: true, FinalEOL: true}
	content := []byte("ABCDEFGH") // "QUJDREVG\r\nR0g=\r\n"
	full := AppendBase64(nil, l, content)
	if string(full) != "QUJDREVG\r\nR0g=\r\n" {
		t.Fatalf("encoding %q", full)
	}
	cases := []struct {
		off, n               int64
		decOff, decLen, skip int64
		want                 string
	}{
		{0, 16, 0, 8, 0, "QUJDREVG\r\nR0g=\r\n"},
		{-5, 3, 0, 6, 0, "QUJ"},
		{9, 3, 0, 8, 9, "\nR0"},
		{10, 100, 6, 2, 0, "R0g=\r\n"},
		{15, 1, 6, 2, 5, "\n"},
		{16, 5, 0, 0, 0, ""},
		{3, 0, 0, 0, 0, ""},
	}
	for _, c := range cases {
		decOff, decLen, skip := Base64Range(l, int64(len(content)), c.off, c.n)
		if decOff != c.decOff || decLen != c.decLen || skip != c.skip {
			t.Fatalf("Base64Range(%d,%d) = %d,%d,%d want %d,%d,%d", c.off, c.n, decOff, decLen, skip, c.decOff, c.decLen, c.skip)
		}
		enc := EncodeRange(nil, l, int64(len(content)), decOff, content[decOff:decOff+decLen])
		n := min(int64(len(c.want)), int64(len(enc))-skip)
		if got := string(enc[skip : skip+n]); got != c.want {
			t.Fatalf("range (%d,%d) = %q want %q", c.off, c.n, got, c.want)
		}
	}
	// Empty content with a final line ending: the body is the line ending alone.
	e := Layout{LineLen: 76, CRLF: true, FinalEOL: true}
	if e.EncodedSize(0) != 2 {
		t.Fatalf("EncodedSize(0) = %d", e.EncodedSize(0))
	}
	decOff, decLen, skip := Base64Range(e, 0, 1, 1)
	if got := EncodeRange(nil, e, 0, decOff, nil); decLen != 0 || string(got[skip:skip+1]) != "\n" {
		t.Fatalf("empty range: %d %d %q", decOff, decLen, got)
	}
}

func TestLayoutValidate(t *testing.T) {
	for _, n := range []int{0, -4, 3, 77} {
		if err := (Layout{LineLen: n}).Validate(); err == nil {
			t.Fatalf("LineLen %d accepted", n)
		}
		// The other methods must not panic on it.
		l := Layout{LineLen: n, FinalEOL: true}
		body := AppendBase64(nil, l, []byte("some content"))
		if int64(len(body)) != l.EncodedSize(12) {
			t.Fatalf("LineLen %d: size %d vs %d", n, len(body), l.EncodedSize(12))
		}
		Base64Range(l, 12, 3, 7)
	}
	var buf bytes.Buffer
	w := NewBase64Encoder(&buf, Layout{LineLen: 6})
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("encoder with bad layout accepted a write")
	}
	if (Layout{LineLen: 76}).Validate() != nil {
		t.Fatal("76 rejected")
	}
}

func TestBase64EncoderWriteAfterClose(t *testing.T) {
	var buf bytes.Buffer
	w := NewBase64Encoder(&buf, DefaultLayout())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after close accepted")
	}
	if buf.Len() != 0 {
		t.Fatalf("empty content encoded as %q", buf.Bytes())
	}
}

// mutation breaks a canonical body in a way that can never stay canonical.
type mutation struct {
	name  string
	apply func(t *rapid.T, body []byte, l Layout, content []byte) []byte // nil: not applicable
}

var junkBytes = []byte{'*', '!', '-', '_', '.', ' ', '\t', 0, 0x80, 0xff, '~', '"'}

var mutations = []mutation{
	{"replace a character with junk", func(t *rapid.T, body []byte, l Layout, _ []byte) []byte {
		pos := charPositions(body)
		if len(pos) == 0 {
			return nil
		}
		i := rapid.SampledFrom(pos).Draw(t, "pos")
		out := bytes.Clone(body)
		out[i] = rapid.SampledFrom(junkBytes).Draw(t, "junk")
		return out
	}},
	{"insert whitespace", func(t *rapid.T, body []byte, _ Layout, _ []byte) []byte {
		i := rapid.IntRange(0, len(body)).Draw(t, "at")
		ws := rapid.SampledFrom([]string{" ", "\t", "  "}).Draw(t, "ws")
		return append(append(bytes.Clone(body[:i]), ws...), body[i:]...)
	}},
	{"insert a blank line or a second final line ending", func(t *rapid.T, body []byte, l Layout, content []byte) []byte {
		eol := "\n"
		if l.CRLF {
			eol = "\r\n"
		}
		ends := lineEnds(body)
		if len(ends) == 0 {
			return nil
		}
		i := rapid.SampledFrom(ends).Draw(t, "after")
		return append(append(bytes.Clone(body[:i]), eol...), body[i:]...)
	}},
	{"break a full line short", func(t *rapid.T, body []byte, l Layout, content []byte) []byte {
		// End a full line that is not the first (the first sets LineLen, so
		// halving it can give another canonical body) and is followed by more
		// early, at a quad boundary.
		if l.LineLen < 8 || (len(content)-1)/l.lineBytes() < 2 {
			return nil
		}
		stride := l.LineLen + l.eolLen()
		line := rapid.IntRange(1, (len(content)-1)/l.lineBytes()-1).Draw(t, "line")
		at := line*stride + 4*rapid.IntRange(1, l.LineLen/4-1).Draw(t, "quad")
		eol := "\n"
		if l.CRLF {
			eol = "\r\n"
		}
		return append(append(bytes.Clone(body[:at]), eol...), body[at:]...)
	}},
	{"join two lines", func(t *rapid.T, body []byte, l Layout, content []byte) []byte {
		// Joining the first two lines can leave a canonical body with a longer
		// LineLen, so join a later line with the one after it.
		var ends []int
		for i, e := range lineEnds(body) {
			if i > 0 && e < len(body) {
				ends = append(ends, e)
			}
		}
		if len(ends) == 0 {
			return nil
		}
		e := rapid.SampledFrom(ends).Draw(t, "join")
		return append(bytes.Clone(body[:e-l.eolLen()]), body[e:]...)
	}},
	{"swap a line ending kind", func(t *rapid.T, body []byte, l Layout, _ []byte) []byte {
		ends := lineEnds(body)
		if len(ends) < 2 {
			return nil // a single line's ending kind is its own
		}
		e := rapid.SampledFrom(ends[1:]).Draw(t, "eol")
		other := "\r\n"
		if l.CRLF {
			other = "\n"
		}
		return append(append(bytes.Clone(body[:e-l.eolLen()]), other...), body[e:]...)
	}},
	{"non-zero pad bits", func(t *rapid.T, body []byte, l Layout, content []byte) []byte {
		if len(content)%3 == 0 {
			return nil
		}
		i := bytes.IndexByte(body, '=') - 1
		out := bytes.Clone(body)
		// The last data character keeps its high bits and gains a low one.
		v := b64Values[out[i]] | 1
		if len(content)%3 == 2 {
			v = b64Values[out[i]] | 2
		}
		out[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[v]
		return out
	}},
	{"missing padding", func(t *rapid.T, body []byte, l Layout, content []byte) []byte {
		if len(content)%3 == 0 {
			return nil
		}
		i := bytes.IndexByte(body, '=')
		k := rapid.IntRange(1, 3-len(content)%3).Draw(t, "drop")
		return append(bytes.Clone(body[:i]), body[i+k:]...)
	}},
	{"trailing junk", func(t *rapid.T, body []byte, _ Layout, _ []byte) []byte {
		return append(bytes.Clone(body), rapid.SampledFrom(junkBytes).Draw(t, "junk"))
	}},
}

// charPositions lists the offsets of base64 characters in body.
func charPositions(body []byte) []int {
	var pos []int
	for i, c := range body {
		if c != '\r' && c != '\n' {
			pos = append(pos, i)
		}
	}
	return pos
}

// lineEnds lists the offsets just past each '\n'.
func lineEnds(body []byte) []int {
	var ends []int
	for i, c := range body {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	return ends
}

// TestBase64Mutations: a damaged body is never taken as exact, and what the
// decoder hands back plus Tail plus the rest is still the body.
func TestBase64Mutations(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				l := drawLayout(t)
				content := drawContent(t)
				body := AppendBase64(nil, l, content)
				bad := m.apply(t, body, l, content)
				if bad == nil {
					t.Skip("mutation does not apply")
				}
				r := decodeChunks(bad, drawSizes(t, "sizes"))
				if r.ok {
					t.Fatalf("mutated body accepted as exact with %v\n%q", r.layout, bad)
				}
				checkFallback(t, bad, r)
				sameResult(t, decodeChunks(bad, nil), r, "random split")
			})
		})
	}
}

// TestBase64SplitIndependence: for arbitrary bodies near base64, any split
// gives the same answer and the fallback identity holds.
func TestBase64SplitIndependence(t *testing.T) {
	alphabet := []byte("QUJDRA==\r\n \t*AQgw")
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 200).Draw(t, "body")
		whole := decodeChunks(body, nil)
		checkFallback(t, body, whole)
		sameResult(t, whole, decodeChunks(body, []int{1}), "byte at a time")
		sameResult(t, whole, decodeChunks(body, drawSizes(t, "sizes")), "random split")
	})
}

// TestBase64DecoderAgreesWithStdlib: whenever the decoder accepts a body,
// encoding/base64 decodes it to the same bytes.
func TestBase64DecoderAgreesWithStdlib(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := drawLayout(t)
		content := drawContent(t)
		body := AppendBase64(nil, l, content)
		r := decodeChunks(body, nil)
		std, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil || !r.ok || !bytes.Equal(std, r.decoded) {
			t.Fatalf("stdlib %v, decoder %v", err, r)
		}
		lenient, _ := io.ReadAll(NewBase64Reader(bytes.NewReader(body)))
		if !bytes.Equal(lenient, content) {
			t.Fatalf("lenient reader disagrees on a canonical body")
		}
	})
}

// TestBase64DecoderAcceptsOtherEncoders: attachments laid out by encoders no
// one here wrote (Python's base64.encodebytes, openssl base64, coreutils
// base64 -w 72 with CRLF) are exact, with the layout each one uses.
func TestBase64DecoderAcceptsOtherEncoders(t *testing.T) {
	content, err := os.ReadFile("testdata/b64/report.gz")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]Layout{
		"report.python.b64":          {LineLen: 76, FinalEOL: true},
		"report.openssl.b64":         {LineLen: 64, FinalEOL: true},
		"report.coreutils72crlf.b64": {LineLen: 72, CRLF: true, FinalEOL: true},
	} {
		body, err := os.ReadFile("testdata/b64/" + file)
		if err != nil {
			t.Fatal(err)
		}
		r := decodeChunks(body, []int{1000, 7})
		if !r.ok || r.layout != want || !bytes.Equal(r.decoded, content) {
			t.Fatalf("%s: %v, want layout %v", file, r, want)
		}
		checkFallback(t, body, r)
		for off := int64(0); off < int64(len(body)); off += 97 {
			n := min(int64(150), int64(len(body))-off)
			decOff, decLen, skip := Base64Range(r.layout, int64(len(content)), off, n)
			enc := EncodeRange(nil, r.layout, int64(len(content)), decOff, content[decOff:decOff+decLen])
			if !bytes.Equal(enc[skip:skip+n], body[off:off+n]) {
				t.Fatalf("%s: range [%d,+%d) differs", file, off, n)
			}
		}
	}
}
