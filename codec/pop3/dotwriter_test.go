package pop3

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// stuffPieces streams msg through a DotWriter in pieces of the given
// lengths (cycled) and returns the wire bytes.
func stuffPieces(t tester, msg []byte, lengths []int) []byte {
	var out bytes.Buffer
	d := NewDotWriter(&out)
	for i, k := 0, 0; i < len(msg); k++ {
		n := min(max(lengths[k%len(lengths)], 1), len(msg)-i)
		if w, err := d.Write(msg[i : i+n]); err != nil || w != n {
			t.Fatalf("Write = %d, %v", w, err)
		}
		i += n
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// topPieces streams msg through a TopWriter the same way, stopping at
// ErrTopDone as a caller would.
func topPieces(t tester, msg []byte, lines int, lengths []int) ([]byte, bool) {
	var out bytes.Buffer
	w := NewTopWriter(&out, lines)
	for i, k := 0, 0; i < len(msg); k++ {
		n := min(max(lengths[k%len(lengths)], 1), len(msg)-i)
		c, err := w.Write(msg[i : i+n])
		if c != n {
			t.Fatalf("Write = %d of %d", c, n)
		}
		if errors.Is(err, ErrTopDone) {
			if !w.Done() {
				t.Fatal("ErrTopDone but not Done")
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		i += n
	}
	done := w.Done()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), done
}

func TestDotWriter(t *testing.T) {
	tests := []struct{ msg, wire string }{
		{"", ".\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r", "a\r\n.\r\n"},
		{"a\n", "a\n.\r\n"},
		{".a\r\n", "..a\r\n.\r\n"},
		{".", "..\r\n.\r\n"},
		{"a\r\n.\r\n", "a\r\n..\r\n.\r\n"},
		{"a\n.b\n", "a\n..b\n.\r\n"},
		{"a.b\r\n.", "a.b\r\n..\r\n.\r\n"},
		{"\r\n.\r\n..", "\r\n..\r\n...\r\n.\r\n"},
		{"..\n", "...\n.\r\n"},
		{"x\r.y\r\n", "x\r.y\r\n.\r\n"},
		{"\n\n.\n.", "\n\n..\n..\r\n.\r\n"},
		{"\x00\xff.\r\n\x80", "\x00\xff.\r\n\x80\r\n.\r\n"},
	}
	for _, tt := range tests {
		msg := []byte(tt.msg)
		if got := stuffPieces(t, msg, []int{len(msg) + 1}); string(got) != tt.wire {
			t.Errorf("stuff %q = %q, want %q", tt.msg, got, tt.wire)
		}
		if got := stuffPieces(t, msg, []int{1}); string(got) != tt.wire {
			t.Errorf("stuff %q octet by octet = %q, want %q", tt.msg, got, tt.wire)
		}
		for cut := 1; cut < len(msg); cut++ {
			if got := stuffPieces(t, msg, []int{cut, len(msg)}); string(got) != tt.wire {
				t.Errorf("stuff %q cut at %d = %q, want %q", tt.msg, cut, got, tt.wire)
			}
		}
		if back, ok := referenceUnstuff(t, []byte(tt.wire)); !ok || !bytes.Equal(back, expectedAfterStuffing(msg)) {
			t.Errorf("reference unstuff of %q = %q, %v", tt.wire, back, ok)
		}
	}
}

// failingWriter accepts limit octets, then fails.
type failingWriter struct {
	limit int
	got   []byte
}

var errSink = errors.New("sink failed")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(f.got)+len(p) > f.limit {
		return 0, errSink
	}
	f.got = append(f.got, p...)
	return len(p), nil
}

func TestDotWriterErrors(t *testing.T) {
	fw := &failingWriter{limit: 4}
	d := NewDotWriter(fw)
	if _, err := d.Write([]byte("ab\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write([]byte("\n.more")); !errors.Is(err, errSink) {
		t.Fatalf("want sink error, got %v", err)
	}
	if _, err := d.Write([]byte("x")); !errors.Is(err, errSink) {
		t.Fatalf("error not sticky: %v", err)
	}
	if err := d.Close(); !errors.Is(err, errSink) {
		t.Fatalf("Close after failure: %v", err)
	}

	var buf bytes.Buffer
	d = NewDotWriter(&buf)
	if n, err := d.Write(nil); n != 0 || err != nil {
		t.Fatalf("empty Write = %d, %v", n, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil || buf.String() != ".\r\n" {
		t.Fatalf("second Close: %v, %q", err, buf.String())
	}
	if _, err := d.Write([]byte("late")); err == nil {
		t.Fatal("Write after Close accepted")
	}
	// A leading dot that cannot be written fails the first Write.
	d = NewDotWriter(&failingWriter{limit: 0})
	if n, err := d.Write([]byte(".x")); n != 0 || !errors.Is(err, errSink) {
		t.Fatalf("leading dot to a failing sink: %d, %v", n, err)
	}
}

func TestTopWriter(t *testing.T) {
	msg := "From: a@example.org\r\nSubject: b\r\n\r\nline1\r\nline2\r\n.line3\r\nline4\r\n"
	head := "From: a@example.org\r\nSubject: b\r\n\r\n"
	tests := []struct {
		msg   string
		lines int
		wire  string
		done  bool
	}{
		{msg, 0, head + ".\r\n", true},
		{msg, -3, head + ".\r\n", true},
		{msg, 2, head + "line1\r\nline2\r\n.\r\n", true},
		{msg, 3, head + "line1\r\nline2\r\n..line3\r\n.\r\n", true},
		{msg, 4, head + "line1\r\nline2\r\n..line3\r\nline4\r\n.\r\n", true},
		{msg, 10, head + "line1\r\nline2\r\n..line3\r\nline4\r\n.\r\n", false},
		{"From: a\r\nSubject: no body\r\n", 0, "From: a\r\nSubject: no body\r\n.\r\n", false},
		{"From: a\r\nSubject: cut", 0, "From: a\r\nSubject: cut\r\n.\r\n", false},
		{"A: b\n\nbody\nmore\n", 0, "A: b\n\n.\r\n", true},
		{"A: b\n\nbody\nmore\n", 1, "A: b\n\nbody\n.\r\n", true},
		{"A: b\r\n\rX: not blank\r\n\r\nbody\r\n", 0, "A: b\r\n\rX: not blank\r\n\r\n.\r\n", true},
		{"A: b\r\n\r\nlast line without end", 5, "A: b\r\n\r\nlast line without end\r\n.\r\n", false},
		{"\r\nbody only\r\n", 0, "\r\n.\r\n", true},
		{"\nbody only\n", 1, "\nbody only\n.\r\n", true},
		{".A: b\r\n\r\n.\r\n", 1, "..A: b\r\n\r\n..\r\n.\r\n", true},
		{"", 3, ".\r\n", false},
	}
	for _, tt := range tests {
		m := []byte(tt.msg)
		for _, lengths := range [][]int{{len(m) + 1}, {1}, {2, 5}, {7}} {
			got, done := topPieces(t, m, tt.lines, lengths)
			if string(got) != tt.wire || done != tt.done {
				t.Errorf("TOP %d of %q (pieces %v) = %q done=%v, want %q done=%v",
					tt.lines, tt.msg, lengths, got, done, tt.wire, tt.done)
			}
		}
		if ref := referenceTop(m, tt.lines); string(ref) != tt.wire {
			t.Errorf("reference TOP %d of %q = %q, want %q", tt.lines, tt.msg, ref, tt.wire)
		}
	}
}

func TestTopWriterStopsCopy(t *testing.T) {
	// io.Copy stops at ErrTopDone: the rest of a large message is not read.
	head := "Subject: big\r\n\r\nfirst\r\nsecond\r\n"
	r := &countingReader{r: io.MultiReader(bytes.NewReader([]byte(head)), bytes.NewReader(make([]byte, 10<<20)))}
	var out bytes.Buffer
	w := NewTopWriter(&out, 1)
	_, err := io.CopyBuffer(w, r, make([]byte, 4096))
	if !errors.Is(err, ErrTopDone) {
		t.Fatalf("io.Copy = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Subject: big\r\n\r\nfirst\r\n.\r\n" || r.n > 4096 {
		t.Fatalf("wire %q after reading %d octets", out.String(), r.n)
	}
	if n, err := w.Write([]byte("more")); n != 4 || !errors.Is(err, ErrTopDone) {
		t.Fatalf("Write after done = %d, %v", n, err)
	}
	// A failing sink surfaces through TopWriter.
	tw := NewTopWriter(&failingWriter{limit: 2}, 1)
	if _, err := tw.Write([]byte("Subject: x\r\n")); !errors.Is(err, errSink) {
		t.Fatalf("sink error not returned: %v", err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
