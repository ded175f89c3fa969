package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type seg = segment

const mixedB = "Content-Type: multipart/mixed; boundary=b\n\n"

var splitCases = []struct {
	name string
	in   string
	opt  Options
	want []seg
}{
	{
		name: "simple text",
		in:   "Subject: hi\r\n\r\nbody\r\n",
		want: []seg{{SegHeader, 0, "Subject: hi\r\n\r\n"}, {SegBody, 0, "body\r\n"}},
	},
	{
		name: "empty input",
		in:   "",
		want: []seg{{SegHeader, 0, ""}, {SegBody, 0, ""}},
	},
	{
		name: "no blank line: all header",
		in:   "Subject: hi\r\nX-A: y",
		want: []seg{{SegHeader, 0, "Subject: hi\r\nX-A: y"}, {SegBody, 0, ""}},
	},
	{
		name: "header ending in a line break, no body",
		in:   "Subject: hi\n",
		want: []seg{{SegHeader, 0, "Subject: hi\n"}, {SegBody, 0, ""}},
	},
	{
		name: "starts with the blank line",
		in:   "\r\nbody",
		want: []seg{{SegHeader, 0, "\r\n"}, {SegBody, 0, "body"}},
	},
	{
		name: "bare LF multipart with preamble and epilogue",
		in:   mixedB + "pre\n--b\nContent-Type: text/plain\n\nhello\n--b\n\nx\n--b--\nepi\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegPreamble, 0, "pre"},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 1, "Content-Type: text/plain\n\n"},
			{SegBody, 1, "hello"},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 2, "\n"},
			{SegBody, 2, "x"},
			{SegEpilogue, 0, "\n--b--\nepi\n"},
		},
	},
	{
		name: "first delimiter right after the header's blank line",
		in:   mixedB + "--b\n\nA\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "A"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "empty preamble written as a line break",
		in:   mixedB + "\n--b\n\nA\n--b--",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "A"},
			{SegEpilogue, 0, "\n--b--"},
		},
	},
	{
		name: "body keeps its own trailing line break",
		in:   mixedB + "--b\n\nA\n\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "A\n"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "missing close delimiter: EOF ends the part",
		in:   mixedB + "--b\n\nlast line\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "last line\n"},
		},
	},
	{
		name: "outer delimiter closes an unterminated inner multipart with a prefix boundary",
		in: mixedB + "--b\nContent-Type: multipart/alternative; boundary=b1\n\n--b1\n\ninner\n" +
			"--b\n\nsecond\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: multipart/alternative; boundary=b1\n\n"},
			{SegDelimiter, 1, "--b1\n"},
			{SegHeader, 2, "\n"},
			{SegBody, 2, "inner"},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 3, "\n"},
			{SegBody, 3, "second"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "inner boundary that the outer one prefixes",
		in: "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: multipart/mixed; boundary=b\n\n" +
			"--b\n\nin\n--b--\n--b1--\n",
		want: []seg{
			{SegHeader, 0, "Content-Type: multipart/mixed; boundary=b1\n\n"},
			{SegDelimiter, 0, "--b1\n"},
			{SegHeader, 1, "Content-Type: multipart/mixed; boundary=b\n\n"},
			{SegDelimiter, 1, "--b\n"},
			{SegHeader, 2, "\n"},
			{SegBody, 2, "in"},
			{SegEpilogue, 1, "\n--b--"},
			{SegEpilogue, 0, "\n--b1--\n"},
		},
	},
	{
		name: "part without a blank line before the next delimiter",
		in:   mixedB + "--b\nContent-Type: text/html\n--b--",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: text/html"},
			{SegBody, 1, ""},
			{SegEpilogue, 0, "\n--b--"},
		},
	},
	{
		name: "part that starts with a delimiter",
		in:   mixedB + "--b\n--b\n\nz\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, ""},
			{SegBody, 1, ""},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 2, "\n"},
			{SegBody, 2, "z"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "empty body written with a blank line",
		in:   mixedB + "--b\nX: 1\n\n\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "X: 1\n\n"},
			{SegBody, 1, ""},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "transport padding and CRLF",
		in:   "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b \t\r\n\r\nA\r\n--b-- \r\n",
		want: []seg{
			{SegHeader, 0, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"},
			{SegDelimiter, 0, "--b \t\r\n"},
			{SegHeader, 1, "\r\n"},
			{SegBody, 1, "A"},
			{SegEpilogue, 0, "\r\n--b-- \r\n"},
		},
	},
	{
		name: "lines that only look like delimiters are content",
		in:   mixedB + "--b\n\n--b1\n--bx\n-- b\n--b --x\n--b---\n---b\n --b\n--B\n--b\r\r\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "--b1\n--bx\n-- b\n--b --x\n--b---\n---b\n --b\n--B\n--b\r"},
			{SegEpilogue, 0, "\r\n--b--\n"}, // the CR right before LF makes a CRLF
		},
	},
	{
		name: "CR without LF is not a line end",
		in:   mixedB + "--b\n\na\r--b\rc\r\n--b--\r",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "a\r--b\rc"},
			{SegDelimiter, 0, "\r\n--b--\r"[:0] + "\r\n"}, // placeholder replaced below
		},
	},
	{
		name: "NUL and 8-bit bytes",
		in:   "Subject: \x00caf\xe9\n\x00X: \xff\n\nbody\x00\xfe\n",
		want: []seg{{SegHeader, 0, "Subject: \x00caf\xe9\n\x00X: \xff\n\n"}, {SegBody, 0, "body\x00\xfe\n"}},
	},
	{
		name: "message/rfc822 with a multipart inside",
		in: mixedB + "--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/alternative; boundary=c\n\n" +
			"--c\n\nplain\n--c\nContent-Type: text/html\n\n<p>\n--c--\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: message/rfc822\n\n"},
			{SegHeader, 2, "Subject: inner\nContent-Type: multipart/alternative; boundary=c\n\n"},
			{SegDelimiter, 2, "--c\n"},
			{SegHeader, 3, "\n"},
			{SegBody, 3, "plain"},
			{SegDelimiter, 2, "\n--c\n"},
			{SegHeader, 4, "Content-Type: text/html\n\n"},
			{SegBody, 4, "<p>"},
			{SegEpilogue, 2, "\n--c--"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "base64 message/rfc822 stays a leaf",
		in:   "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0K\n",
		want: []seg{
			{SegHeader, 0, "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"},
			{SegBody, 0, "U3ViamVjdDogeA0K\n"},
		},
	},
	{
		name: "multipart without a boundary is a leaf",
		in:   "Content-Type: multipart/mixed\n\n--b\n\nx\n--b--\n",
		want: []seg{
			{SegHeader, 0, "Content-Type: multipart/mixed\n\n"},
			{SegBody, 0, "--b\n\nx\n--b--\n"},
		},
	},
	{
		name: "header longer than MaxHeaderBytes ends there",
		in:   "Subject: hello\r\n\r\nbody",
		opt:  Options{MaxHeaderBytes: 10},
		want: []seg{{SegHeader, 0, "Subject: h"}, {SegBody, 0, "ello\r\n\r\nbody"}},
	},
	{
		name: "MaxHeaderBytes at a line end leaves the line break to the body",
		in:   "Subject: hello\r\n\r\nbody",
		opt:  Options{MaxHeaderBytes: 14},
		want: []seg{{SegHeader, 0, "Subject: hello"}, {SegBody, 0, "\r\n\r\nbody"}},
	},
	{
		name: "nesting deeper than MaxDepth is a leaf",
		in:   mixedB + "--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\nx\n--c--\n--b--\n",
		opt:  Options{MaxDepth: 1},
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: multipart/mixed; boundary=c\n\n"},
			{SegBody, 1, "--c\n\nx\n--c--"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "past MaxParts a delimiter is content, a close delimiter still closes",
		in:   mixedB + "--b\n\none\n--b\n\ntwo\n--b--\nepi",
		opt:  Options{MaxParts: 2},
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "one\n--b\n\ntwo"},
			{SegEpilogue, 0, "\n--b--\nepi"},
		},
	},
	{
		name: "past MaxParts a message/rfc822 part is a leaf",
		in:   mixedB + "--b\nContent-Type: message/rfc822\n\nSubject: x\n\nhi\n--b--\n",
		opt:  Options{MaxParts: 2},
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: message/rfc822\n\n"},
			{SegBody, 1, "Subject: x\n\nhi"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "multipart/digest parts default to message/rfc822",
		in: "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n" +
			"--d\nContent-Type: text/plain\n\nnot a message\n--d--\n",
		want: []seg{
			{SegHeader, 0, "Content-Type: multipart/digest; boundary=d\n\n"},
			{SegDelimiter, 0, "--d\n"},
			{SegHeader, 1, "\n"},
			{SegHeader, 2, "Subject: one\n\n"},
			{SegBody, 2, "body one"},
			{SegDelimiter, 0, "\n--d\n"},
			{SegHeader, 3, "Content-Type: text/plain\n\n"},
			{SegBody, 3, "not a message"},
			{SegEpilogue, 0, "\n--d--\n"},
		},
	},
	{
		name: "epilogue of a nested multipart runs to the outer delimiter",
		in: mixedB + "--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\nx\n--c--\ninner epilogue\n" +
			"--b\n\ny\n--b--\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: multipart/mixed; boundary=c\n\n"},
			{SegDelimiter, 1, "--c\n"},
			{SegHeader, 2, "\n"},
			{SegBody, 2, "x"},
			{SegEpilogue, 1, "\n--c--\ninner epilogue"},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 3, "\n"},
			{SegBody, 3, "y"},
			{SegEpilogue, 0, "\n--b--\n"},
		},
	},
	{
		name: "after the close delimiter the boundary is content",
		in:   mixedB + "--b\n\nx\n--b--\n--b\nmore\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "\n"},
			{SegBody, 1, "x"},
			{SegEpilogue, 0, "\n--b--\n--b\nmore\n"},
		},
	},
	{
		name: "header of a part cut by an outer delimiter",
		in:   mixedB + "--b\nContent-Type: message/rfc822\n\nSubject: cut\n--b\n\nnext\n",
		want: []seg{
			{SegHeader, 0, mixedB},
			{SegDelimiter, 0, "--b\n"},
			{SegHeader, 1, "Content-Type: message/rfc822\n\n"},
			{SegHeader, 2, "Subject: cut"},
			{SegBody, 2, ""},
			{SegDelimiter, 0, "\n--b\n"},
			{SegHeader, 3, "\n"},
			{SegBody, 3, "next\n"},
		},
	},
}

func init() {
	// The CR case: "\r\n--b--\r" at EOF: the CR is not a line end, so the
	// last line is not a close delimiter and stays in the body.
	for i := range splitCases {
		if splitCases[i].name == "CR without LF is not a line end" {
			splitCases[i].want = []seg{
				{SegHeader, 0, mixedB},
				{SegDelimiter, 0, "--b\n"},
				{SegHeader, 1, "\n"},
				{SegBody, 1, "a\r--b\rc\r\n--b--\r"},
			}
		}
	}
}

func TestSplitSegments(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 2, 3, 7} {
				opt := tc.opt
				opt.ChunkSize = chunk
				res, err := checkAllReaders([]byte(tc.in), opt)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				got := segments(res.pieces)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("chunk %d: segments\n got %v\nwant %v", chunk, got, tc.want)
				}
			}
		})
	}
}

func TestLongHeaderLine(t *testing.T) {
	line := "X-Long: " + strings.Repeat("a", 1<<20) + "\r\n"
	in := "Content-Type: multipart/mixed; boundary=b\r\n" + line + "\r\n--b\r\n" + line + "\r\nbody\r\n--b--\r\n"
	res, err := splitAll(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSplit([]byte(in), Options{}, res); err != nil {
		t.Fatal(err)
	}
	if len(res.nodes) != 2 {
		t.Fatalf("%d nodes, want 2", len(res.nodes))
	}
	for _, n := range res.nodes {
		if got := len(n.Header.Get("X-Long")); got != 1<<20 {
			t.Errorf("node %d X-Long value has %d bytes", n.Index, got)
		}
	}
	if got := string(res.nodes[1].Header.Raw); got != line+"\r\n" {
		t.Errorf("part header is %d bytes, want %d", len(got), len(line)+2)
	}
	// The same through a one-byte reader, to cover header lines that
	// arrive in many reads.
	if _, err := checkAllReaders([]byte(in[:len(in)/4]), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestDeepNesting(t *testing.T) {
	const depth = 100
	var b strings.Builder
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"n%d\"\r\n\r\n--n%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--n%d--\r\n", i)
	}
	in := []byte(b.String())
	res, err := checkAllReaders(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.nodes) != depth+1 {
		t.Fatalf("%d nodes, want %d", len(res.nodes), depth+1)
	}
	for i, n := range res.nodes {
		if n.Depth != i {
			t.Fatalf("node %d depth %d", i, n.Depth)
		}
		if i < depth && (!n.Multipart || len(n.Children) != 1 || n.Children[0] != i+1) {
			t.Fatalf("node %d: multipart %v children %v", i, n.Multipart, n.Children)
		}
	}
	leaf := res.nodes[depth]
	if got := string(in[leaf.BodyStart:leaf.BodyEnd]); got != "deep" {
		t.Errorf("leaf body %q", got)
	}

	// With a lower MaxDepth the levels below it are one opaque leaf.
	res, err = checkAllReaders(in, Options{MaxDepth: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.nodes) != 11 || res.nodes[10].Multipart || res.nodes[10].Type != "multipart" {
		t.Fatalf("MaxDepth 10: %d nodes, last multipart=%v type=%s", len(res.nodes), res.nodes[10].Multipart, res.nodes[10].Type)
	}
}

func TestManyNestedUnclosed(t *testing.T) {
	// 300 levels, none closed, nothing after: EOF closes everything and the
	// levels past MaxDepth stay one leaf.
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%d\n\n--%d\n", i, i)
	}
	in := []byte(b.String())
	res, err := checkAllReaders(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.nodes); got != defaultMaxDepth+1 {
		t.Fatalf("%d nodes, want %d", got, defaultMaxDepth+1)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	sp := NewSplitter(&failingReader{data: []byte("Subject: x\r\n\r\nsome body"), err: boom}, Options{})
	var err error
	for range 10 {
		if _, err = sp.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) || err == boom {
		t.Fatalf("error %v: want %v wrapped", err, boom)
	}
	if _, err2 := sp.Next(); err2 != err {
		t.Fatalf("error not sticky: %v then %v", err, err2)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestNoProgressReader(t *testing.T) {
	sp := NewSplitter(zeroReader{}, Options{})
	if _, err := sp.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

func TestPiecesRespectChunkSize(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 10000) // one 160 KB line
	in := append([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n"), body...)
	in = append(in, "\n--b--\n"...)
	for _, chunk := range []int{0, 1000, 4096} {
		opt := Options{ChunkSize: chunk}
		res, err := splitAll(bytes.NewReader(in), opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSplit(in, opt, res); err != nil {
			t.Fatal(err)
		}
		var n int
		for _, p := range res.pieces {
			if p.Kind == SegBody {
				n++
			}
		}
		want := len(body) / max(chunk, 1)
		if chunk == 0 {
			want = len(body) / defaultChunkSize
		}
		if n < want {
			t.Errorf("chunk %d: %d body pieces, want at least %d", chunk, n, want)
		}
	}
}

func TestNodeBeforeAndAfterEOF(t *testing.T) {
	in := mixedB + "--b\n\nx\n--b--\n"
	sp := NewSplitter(strings.NewReader(in), Options{})
	if sp.Node(0) == nil || sp.Node(1) != nil || sp.Node(-1) != nil {
		t.Fatal("before reading: want only the root")
	}
	p, err := sp.Next()
	if err != nil || p.Kind != SegHeader || sp.Node(0).Boundary != "b" {
		t.Fatalf("first piece %v %v, boundary %q", p.Kind, err, sp.Node(0).Boundary)
	}
	for err == nil {
		_, err = sp.Next()
	}
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(sp.Nodes()) != 2 || sp.Size() != int64(len(in)) {
		t.Fatalf("%d nodes, size %d", len(sp.Nodes()), sp.Size())
	}
}

func TestMaxPartsBoundsNodes(t *testing.T) {
	// A megabyte of delimiter lines would be a quarter million parts.
	in := mixedB + strings.Repeat("--b\n", 1<<18)
	res, err := splitAll(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSplit([]byte(in), Options{}, res); err != nil {
		t.Fatal(err)
	}
	if got := len(res.nodes); got != defaultMaxParts {
		t.Fatalf("%d nodes, want %d", got, defaultMaxParts)
	}
	last := res.nodes[len(res.nodes)-1]
	if last.BodyEnd != int64(len(in)) {
		t.Fatalf("last part ends at %d, want the rest of the input (%d)", last.BodyEnd, len(in))
	}
}
