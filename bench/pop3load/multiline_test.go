package pop3load

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestReadMultiline(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "Subject: hi\r\n..dot-stuffed\r\n" + long + "\r\n.\r\n+OK next\r\n"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	var got bytes.Buffer
	if err := readMultiline(br, func(l []byte) { got.Write(l) }); err != nil {
		t.Fatal(err)
	}
	if want := "Subject: hi\r\n.dot-stuffed\r\n" + long + "\r\n"; got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
	if rest, _ := br.ReadString('\n'); rest != "+OK next\r\n" {
		t.Errorf("read past the terminator: next line %q", rest)
	}
	if err := readMultiline(bufio.NewReader(strings.NewReader("no end\r\n")), func([]byte) {}); err == nil {
		t.Error("a reply without its terminating dot was accepted")
	}
}

// FuzzReadMultiline: whatever arrives, the reader neither panics nor
// hands out more bytes than it read.
func FuzzReadMultiline(f *testing.F) {
	f.Add([]byte("a\r\n..b\r\n.\r\n"))
	f.Add([]byte(".\n"))
	f.Add([]byte("\r\n.\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		n := 0
		readMultiline(br, func(l []byte) { n += len(l) })
		if n > len(data) {
			t.Fatalf("%d bytes out of %d in", n, len(data))
		}
	})
}
