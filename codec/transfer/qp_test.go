package transfer

import (
	"bytes"
	"errors"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
)

func encodeQP(t tester, l QPLayout, text []byte, sizes []int) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewQPEncoder(&out, l)
	for off, k := 0, 0; off < len(text); k++ {
		size := len(text) - off
		if len(sizes) > 0 {
			size = min(max(sizes[k%len(sizes)], 1), size)
		}
		if n, err := w.Write(text[off : off+size]); err != nil || n != size {
			t.Fatalf("QP Write = %d, %v", n, err)
		}
		off += size
	}
	if err := w.Close(); err != nil {
		t.Fatalf("QP Close: %v", err)
	}
	return out.Bytes()
}

func checkQP(body []byte, sizes []int) (QPLayout, bool) {
	var c QPChecker
	for off, k := 0, 0; off < len(body); k++ {
		size := len(body) - off
		if len(sizes) > 0 {
			size = min(max(sizes[k%len(sizes)], 1), size)
		}
		c.Write(body[off : off+size])
		off += size
	}
	return c.Close()
}

func readAll(t tester, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func TestQPEncoderTable(t *testing.T) {
	crlf := QPLayout{CRLF: true}
	x := strings.Repeat("x", 100)
	tests := []struct {
		name string
		l    QPLayout
		text string
		want string
	}{
		{"plain", crlf, "Hello, world!", "Hello, world!"},
		{"empty", crlf, "", ""},
		{"empty final", QPLayout{CRLF: true, FinalEOL: true}, "", ""},
		{"equals", crlf, "a=b", "a=3Db"},
		{"utf-8", crlf, "café", "caf=C3=A9"},
		{"hard breaks", crlf, "one\r\ntwo\r\n", "one\r\ntwo\r\n"},
		{"LF breaks", QPLayout{}, "one\ntwo\n", "one\ntwo\n"},
		{"trailing space", crlf, "a \r\nb\t", "a=20\r\nb=09"},
		{"inner spaces", crlf, "a  b\tc", "a  b\tc"},
		{"bare LF in CRLF text", crlf, "a\nb", "a=0Ab"},
		{"bare CR", crlf, "a\rb\r", "a=0Db=0D"},
		{"CRLF in LF text", QPLayout{}, "a\r\nb", "a=0D\nb"},
		{"control and high bytes", crlf, "\x00\x7f\xff", "=00=7F=FF"},
		{"76 fits", crlf, x[:76], x[:76]},
		{"76 then break", crlf, x[:76] + "\r\n", x[:76] + "\r\n"},
		{"77 wraps", crlf, x[:77], x[:75] + "=\r\n" + "xx"},
		{"76 with final EOL", QPLayout{CRLF: true, FinalEOL: true}, x[:76], x[:75] + "=\r\nx=\r\n"},
		{"final EOL", QPLayout{CRLF: true, FinalEOL: true}, "abc", "abc=\r\n"},
		{"final EOL after break", QPLayout{CRLF: true, FinalEOL: true}, "abc\r\n", "abc\r\n"},
		{"escape does not split", crlf, x[:74] + "=", x[:74] + "=\r\n=3D"},
		{"escape at 76", crlf, x[:73] + "=", x[:73] + "=3D"},
		{"escape past 75 mid line", crlf, x[:73] + "=y", x[:73] + "=\r\n=3Dy"},
		{"space before soft break", crlf, x[:74] + " yy", x[:74] + " =\r\nyy"},
		{"trailing space at 76", crlf, x[:75] + " ", x[:75] + "=\r\n=20"},
		{"Max75 breaks a 76 line", QPLayout{CRLF: true, Max75: true}, x[:76] + "\r\n", x[:75] + "=\r\nx\r\n"},
		{"Max75 escape at 75", QPLayout{CRLF: true, Max75: true}, x[:73] + "=", x[:73] + "=\r\n=3D"},
		{"Max75 short line", QPLayout{Max75: true}, "a b \n", "a b=20\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeQP(t, tc.l, []byte(tc.text), nil)
			if string(got) != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
			if again := encodeQP(t, tc.l, []byte(tc.text), []int{1}); !bytes.Equal(again, got) {
				t.Fatalf("byte-at-a-time encoding %q", again)
			}
			if back := readAll(t, NewQPReader(bytes.NewReader(got))); string(back) != tc.text {
				t.Fatalf("decodes back to %q", back)
			}
			l, ok := checkQP(got, nil)
			if !ok {
				t.Fatalf("checker rejects the encoder's output")
			}
			if re := encodeQP(t, l, []byte(tc.text), nil); !bytes.Equal(re, got) {
				t.Fatalf("checker layout %+v re-encodes to %q", l, re)
			}
		})
	}
}

// drawText draws text of the kind that ends up quoted-printable: mostly
// printable, with spaces, tabs, line breaks of both kinds, '=' and binary.
func drawText(t *rapid.T) []byte {
	pieces := []string{"a", "Z", "0", ".", "=", " ", "\t", "\r\n", "\n", "\r", "\xc3\xa9", "\x00", "\xff", "hello ", "  ", "==", "=\r\n", "From "}
	n := rapid.OneOf(rapid.IntRange(0, 10), rapid.IntRange(0, 400)).Draw(t, "pieces")
	var b []byte
	for range n {
		if rapid.IntRange(0, 9).Draw(t, "long") == 0 {
			b = append(b, strings.Repeat("x", rapid.IntRange(60, 200).Draw(t, "run"))...)
			continue
		}
		b = append(b, rapid.SampledFrom(pieces).Draw(t, "piece")...)
	}
	return b
}

// TestQPRoundTrip: the encoder's output decodes back, keeps lines within 76
// characters, and the checker accepts it in any split with a layout that
// reproduces it.
func TestQPRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := QPLayout{
			CRLF:     rapid.Bool().Draw(t, "crlf"),
			FinalEOL: rapid.Bool().Draw(t, "final"),
			Max75:    rapid.Bool().Draw(t, "max75"),
		}
		text := drawText(t)
		body := encodeQP(t, l, text, drawSizes(t, "encSizes"))
		if whole := encodeQP(t, l, text, nil); !bytes.Equal(whole, body) {
			t.Fatalf("encoding depends on the write split")
		}
		if back := readAll(t, NewQPReader(iotest.OneByteReader(bytes.NewReader(body)))); !bytes.Equal(back, text) {
			t.Fatalf("round trip\ntext %q\nbody %q\nback %q", text, body, back)
		}
		// The standard library's decoder agrees when line endings are CRLF
		// (it turns bare LF hard breaks into CRLF).
		if l.CRLF {
			std, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
			if err != nil || !bytes.Equal(std, text) {
				t.Fatalf("mime/quotedprintable: %v %q", err, std)
			}
		}
		for line := range bytes.SplitSeq(body, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > qpMaxLine || (l.Max75 && len(line) == qpMaxLine && line[qpMaxLine-1] != '=') {
				t.Fatalf("line of %d characters: %q", len(line), line)
			}
			if n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
				t.Fatalf("line ends in whitespace: %q", line)
			}
		}
		got, ok := checkQP(body, drawSizes(t, "checkSizes"))
		if !ok {
			t.Fatalf("checker rejects encoder output %+v\n%q", l, body)
		}
		if re := encodeQP(t, got, text, nil); !bytes.Equal(re, body) {
			t.Fatalf("checker layout %+v does not reproduce the body", got)
		}
		if bytes.ContainsRune(body, '\n') && got.CRLF != l.CRLF {
			t.Fatalf("checker says CRLF=%v, encoded with %v", got.CRLF, l.CRLF)
		}
		if got.FinalEOL != (len(body) > 0 && body[len(body)-1] == '\n') {
			t.Fatalf("FinalEOL %v for body ending %q", got.FinalEOL, body[max(0, len(body)-2):])
		}
		if got.Max75 && !l.Max75 {
			t.Fatalf("checker says Max75 for an RFC-filled body")
		}
	})
}

// TestQPCheckerAcceptsGoWriter: what Go's mime/quotedprintable writes (an
// encoder no one here wrote) is reproducible, in the Max75 style when it
// matters, and decodes the same with both decoders.
func TestQPCheckerAcceptsGoWriter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := drawText(t)
		var body bytes.Buffer
		w := quotedprintable.NewWriter(&body)
		if _, err := w.Write(text); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		l, ok := checkQP(body.Bytes(), drawSizes(t, "sizes"))
		if !ok {
			t.Fatalf("Go writer's output rejected:\n%q", body.Bytes())
		}
		ours := readAll(t, NewQPReader(bytes.NewReader(body.Bytes())))
		std := readAll(t, quotedprintable.NewReader(bytes.NewReader(body.Bytes())))
		if !bytes.Equal(ours, std) {
			t.Fatalf("decoders differ:\nours %q\nstd  %q", ours, std)
		}
		if re := encodeQP(t, l, ours, nil); !bytes.Equal(re, body.Bytes()) {
			t.Fatalf("layout %+v does not reproduce the Go writer's output", l)
		}
	})
}

// TestQPCheckerAcceptsPython: bodies written by Python's email package
// (quoprimime.body_encode, RFC filling) and quopri (Max75 filling) from the
// texts beside them are taken as exact and decode back to those texts.
func TestQPCheckerAcceptsPython(t *testing.T) {
	files, err := filepath.Glob("testdata/qp/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	max75 := 0
	for _, textFile := range files {
		base := strings.TrimSuffix(textFile, ".txt")
		text, err := os.ReadFile(textFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range []struct {
			ext   string
			max75 bool
		}{{".email.qp", false}, {".quopri.qp", true}} {
			body, err := os.ReadFile(base + enc.ext)
			if err != nil {
				t.Fatal(err)
			}
			l, ok := checkQP(body, []int{4096})
			if !ok || (l.Max75 && !enc.max75) || !l.CRLF {
				t.Fatalf("%s%s: %+v %v", base, enc.ext, l, ok)
			}
			if l.Max75 {
				max75++
			}
			if got := readAll(t, NewQPReader(bytes.NewReader(body))); !bytes.Equal(got, text) {
				t.Fatalf("%s%s decodes to other text", base, enc.ext)
			}
			if re := encodeQP(t, l, text, nil); !bytes.Equal(re, body) {
				t.Fatalf("%s%s: re-encoding differs", base, enc.ext)
			}
		}
	}
	if max75 == 0 {
		t.Fatal("no fixture needs the Max75 filling")
	}
}

func TestQPCheckerRejects(t *testing.T) {
	x := strings.Repeat("x", 80)
	tests := []struct{ name, body string }{
		{"lowercase hex", "caf=c3=a9"},
		{"encoded printable", "=41bc"},
		{"unencoded equals", "a=b"},
		{"trailing space", "abc \r\ndef"},
		{"trailing tab at end", "abc\t"},
		{"short soft line", "ab=\r\ncd"},
		{"soft break with padding", x[:75] + "= \r\nxx"},
		{"line too long", x[:77]},
		{"first line too long", x + "\r\n"},
		{"raw byte", "caf\xc3\xa9"},
		{"mixed line endings", "one\r\ntwo\nthree"},
		{"bare CR", "one\rtwo"},
		{"encoded space mid line", "a=20b"},
		{"soft break at end without final", "abc=\r\n="},
		{"dangling equals", "abc="},
		{"only soft break", "=\r\n"},
		{"blank line count ok but space", " \r\n"},
		{"missed soft break", x[:70] + "=3D=3D=3D"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if l, ok := checkQP([]byte(tc.body), nil); ok {
				t.Fatalf("accepted as canonical with %+v", l)
			}
			if l, ok := checkQP([]byte(tc.body), []int{1}); ok {
				t.Fatalf("accepted byte at a time with %+v", l)
			}
		})
	}
	// After Close, more input changes nothing.
	var c QPChecker
	c.Write([]byte("abc\r\n"))
	l, ok := c.Close()
	c.Write([]byte("=zz"))
	if l2, ok2 := c.Close(); !ok || !ok2 || l != l2 || l != (QPLayout{CRLF: true, FinalEOL: true}) {
		t.Fatalf("Close = %+v %v, again %+v %v", l, ok, l2, ok2)
	}
}

func TestQPReaderTable(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"plain", "Hello", "Hello"},
		{"escapes any case", "caf=C3=A9 caf=c3=a9", "café café"},
		{"soft break", "ab=\r\ncd", "abcd"},
		{"soft break LF", "ab=\ncd", "abcd"},
		{"soft break padded", "ab= \t\r\ncd", "abcd"},
		{"space before soft break kept", "ab =\r\ncd", "ab cd"},
		{"trailing whitespace dropped", "ab \t\r\ncd  \nef \t", "ab\r\ncd\nef"},
		{"inner whitespace kept", "a \t b", "a \t b"},
		{"lone equals kept", "a = b", "a = b"},
		{"bad escape kept", "=ZZ=4", "=ZZ=4"},
		{"half escape then text", "=4x", "=4x"},
		{"equals at end", "abc=", "abc"},
		{"equals padding at end", "abc=  ", "abc"},
		{"bare CR kept", "a\rb", "a\rb"},
		{"CR at end", "a\r", "a\r"},
		{"space then CR at end", "a \r", "a \r"},
		{"equals CR then text", "a=\rb", "a=\rb"},
		{"padding then text", "a= b", "a= b"},
		{"encoded CRLF", "=0D=0A", "\r\n"},
		{"blank lines", "\r\n\r\n", "\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{
				strings.NewReader(tc.body),
				iotest.OneByteReader(strings.NewReader(tc.body)),
				iotest.DataErrReader(strings.NewReader(tc.body)),
			} {
				if got := readAll(t, NewQPReader(r)); string(got) != tc.want {
					t.Fatalf("got %q want %q", got, tc.want)
				}
			}
			c := NewQPCounter()
			for i := range len(tc.body) {
				c.Write([]byte{tc.body[i]})
			}
			if c.Size() != int64(len(tc.want)) {
				t.Fatalf("counter %d, want %d", c.Size(), len(tc.want))
			}
		})
	}
}

func TestQPReaderLongWhitespace(t *testing.T) {
	// A run of whitespace longer than any mail line is text, not padding,
	// and is not held back without bound.
	body := "a" + strings.Repeat(" ", 2500) + "b" + strings.Repeat("\t", 1500) + "\r\n"
	want := "a" + strings.Repeat(" ", 2500) + "b" + strings.Repeat("\t", 1000) + "\r\n"
	got := readAll(t, NewQPReader(iotest.HalfReader(strings.NewReader(body))))
	if string(got) != want {
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
	c := NewQPCounter()
	c.Write([]byte(body))
	if c.Size() != int64(len(want)) {
		t.Fatalf("counter %d", c.Size())
	}
}

func TestBase64ReaderTable(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"canonical", "QUJD\r\nRA==\r\n", "ABCD"},
		{"whitespace and junk skipped", " QU JD\t*R\x00A=!=", "ABCD"},
		{"missing padding", "QUJDRA", "ABCD"},
		{"one char group dropped", "QUJDR", "ABC"},
		{"concatenated encodings", "QQ==QUI=QUJD", "AABABC"},
		{"url-safe characters skipped", "QU-JD_", "ABC"},
		{"only junk", "!!\r\n==", ""},
		{"pad bits ignored", "QR==", "A"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{
				strings.NewReader(tc.body),
				iotest.OneByteReader(strings.NewReader(tc.body)),
				iotest.DataErrReader(strings.NewReader(tc.body)),
			} {
				if got := readAll(t, NewBase64Reader(r)); string(got) != tc.want {
					t.Fatalf("got %q want %q", got, tc.want)
				}
			}
			c := NewBase64Counter()
			c.Write([]byte(tc.body))
			if c.Size() != int64(len(tc.want)) {
				t.Fatalf("counter %d, want %d", c.Size(), len(tc.want))
			}
		})
	}
}

func TestReaderPassesReadErrors(t *testing.T) {
	boom := iotest.ErrReader(io.ErrClosedPipe)
	for _, r := range []io.Reader{NewBase64Reader(boom), NewQPReader(boom)} {
		if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), io.ErrClosedPipe.Error()) {
			t.Fatalf("error %v", err)
		}
	}
}

// TestCountersMatchReaders: for any input, in any split, the counters give
// exactly the length the lenient readers produce, and Size can be asked
// midway without disturbing the count.
func TestCountersMatchReaders(t *testing.T) {
	alphabet := []byte("QUJDRAgw+/= \t\r\n*=-3D=0a")
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 300).Draw(t, "body")
		sizes := drawSizes(t, "sizes")
		b64 := readAll(t, NewBase64Reader(iotest.HalfReader(bytes.NewReader(body))))
		qp := readAll(t, NewQPReader(iotest.HalfReader(bytes.NewReader(body))))
		if whole := readAll(t, NewQPReader(bytes.NewReader(body))); !bytes.Equal(whole, qp) {
			t.Fatalf("QP reader depends on read sizes")
		}
		if whole := readAll(t, NewBase64Reader(bytes.NewReader(body))); !bytes.Equal(whole, b64) {
			t.Fatalf("base64 reader depends on read sizes")
		}
		bc, qc := NewBase64Counter(), NewQPCounter()
		for off, k := 0, 0; off < len(body); k++ {
			size := min(sizes[k%len(sizes)], len(body)-off)
			bc.Write(body[off : off+size])
			qc.Write(body[off : off+size])
			bc.Size()
			qc.Size()
			off += size
		}
		if bc.Size() != int64(len(b64)) || qc.Size() != int64(len(qp)) {
			t.Fatalf("counters %d %d, readers %d %d", bc.Size(), qc.Size(), len(b64), len(qp))
		}
	})
}

// TestQPCheckerSplitIndependence: for arbitrary near-QP bodies the checker's
// answer does not depend on the split, and an accepted body is reproduced.
func TestQPCheckerSplitIndependence(t *testing.T) {
	alphabet := []string{"a", "b", " ", "\t", "=", "=3D", "=3d", "=20", "\r\n", "\n", "=\r\n", "=\n", "\r", strings.Repeat("x", 70)}
	rapid.Check(t, func(t *rapid.T) {
		var body []byte
		for _, p := range rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 30).Draw(t, "pieces") {
			body = append(body, p...)
		}
		l, ok := checkQP(body, nil)
		l1, ok1 := checkQP(body, []int{1})
		l2, ok2 := checkQP(body, drawSizes(t, "sizes"))
		if ok != ok1 || ok != ok2 || (ok && (l != l1 || l != l2)) {
			t.Fatalf("split changes the answer: %v %+v / %v %+v / %v %+v", ok, l, ok1, l1, ok2, l2)
		}
		if ok {
			text := readAll(t, NewQPReader(bytes.NewReader(body)))
			if re := encodeQP(t, l, text, nil); !bytes.Equal(re, body) {
				t.Fatalf("accepted %q with %+v but re-encoding gives %q", body, l, re)
			}
		}
	})
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestEncodersPassWriteErrors(t *testing.T) {
	for name, w := range map[string]io.WriteCloser{
		"base64": NewBase64Encoder(failingWriter{}, DefaultLayout()),
		"qp":     NewQPEncoder(failingWriter{}, QPLayout{CRLF: true}),
	} {
		_, werr := w.Write(make([]byte, 100<<10))
		cerr := w.Close()
		if !errors.Is(werr, errDiskFull) || !errors.Is(cerr, errDiskFull) {
			t.Fatalf("%s: Write %v, Close %v", name, werr, cerr)
		}
	}
	// Small bodies reach the writer only at Close.
	w := NewQPEncoder(failingWriter{}, QPLayout{})
	if _, err := w.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close %v", err)
	}
	var buf bytes.Buffer
	w = NewQPEncoder(&buf, QPLayout{})
	w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}
