package lmtpload

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("250-lmtp.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354 go ahead\n452 4.2.2 over quota\r\n250\r\n"))
	for _, want := range []struct {
		code int
		text string
	}{{250, "lmtp.test PIPELINING SIZE 1000"}, {354, "go ahead"}, {452, "4.2.2 over quota"}, {250, ""}} {
		code, text, err := readReply(br)
		if err != nil || code != want.code || text != want.text {
			t.Errorf("got %d %q %v, want %d %q", code, text, err, want.code, want.text)
		}
	}
	for _, bad := range []string{"", "25\r\n", "abc ok\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "250-open\r\n", "600 x\r\n"} {
		if code, text, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q gave %d %q", bad, code, text)
		}
	}
}

func TestWriteStuffed(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeStuffed(w, []byte(".hidden\r\nplain\r\n..two\r\nlast"))
	w.Flush()
	if got := b.String(); got != "..hidden\r\nplain\r\n...two\r\nlast\r\n" {
		t.Errorf("%q", got)
	}
}

// FuzzReadReply: no server reply makes the reader panic or loop.
func FuzzReadReply(f *testing.F) {
	f.Add([]byte("250-a\r\n250 b\r\n"))
	f.Add([]byte("220 lmtp.test ready\r\n"))
	f.Add([]byte("550 5.1.1 <x@y> no such user\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for range 100 {
			code, _, err := readReply(br)
			if err != nil {
				return
			}
			if code < 100 || code > 599 {
				t.Fatalf("code %d", code)
			}
		}
	})
}
