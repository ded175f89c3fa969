package mime

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// streamedMessage produces a message from stages, each a byte string sent
// a number of times, without ever holding the whole message.
type streamedMessage struct {
	stages []stage
	cur    []byte
}

type stage struct {
	data   []byte
	repeat int
}

func (m *streamedMessage) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(m.cur) == 0 {
			for len(m.stages) > 0 && m.stages[0].repeat == 0 {
				m.stages = m.stages[1:]
			}
			if len(m.stages) == 0 {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			m.stages[0].repeat--
			m.cur = m.stages[0].data
		}
		c := copy(p[n:], m.cur)
		m.cur = m.cur[c:]
		n += c
	}
	return n, nil
}

// newAttachmentMessage streams a multipart/mixed message with a text part of
// about textBytes and a base64 attachment of about attachmentBytes.
func newAttachmentMessage(textBytes, attachmentBytes int) *streamedMessage {
	raw := make([]byte, 57)
	for i := range raw {
		raw[i] = byte(i * 37)
	}
	b64 := []byte(base64.StdEncoding.EncodeToString(raw) + "\r\n")
	text := []byte("A line of the letter that goes with the attachment, long enough to wrap.\r\n")
	return &streamedMessage{stages: []stage{
		{[]byte("From: a@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"=_big\"\r\n\r\n" +
			"--=_big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"), 1},
		{text, textBytes / len(text)},
		{[]byte("--=_big\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n"), 1},
		{b64, attachmentBytes / len(b64)},
		{[]byte("--=_big--\r\n"), 1},
	}}
}

// TestSplitterMemoryBounded streams a 50 MB message with a 48 MB base64
// attachment and checks that the heap does not grow with the message.
func TestSplitterMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 50 MB")
	}
	const attachment = 48 << 20
	src := newAttachmentMessage(2<<20, attachment)
	runtime.GC()
	var before, now runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapInuse

	sp := NewSplitter(src, Options{})
	var pieces, total int64
	for {
		p, err := sp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += int64(len(p.Data))
		if pieces++; pieces%16 == 0 {
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapInuse)
		}
	}
	runtime.ReadMemStats(&now)
	peak = max(peak, now.HeapInuse)

	if total < 50<<20-1000 || sp.Size() != total {
		t.Fatalf("handed out %d bytes, size %d", total, sp.Size())
	}
	nodes := sp.Nodes()
	if len(nodes) != 3 || nodes[2].BodyEnd-nodes[2].BodyStart < attachment-100 {
		t.Fatalf("%d nodes, attachment %d bytes", len(nodes), nodes[len(nodes)-1].BodyEnd-nodes[len(nodes)-1].BodyStart)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	allocated := now.TotalAlloc - before.TotalAlloc
	t.Logf("%d MB in %d pieces: heap in use grew by at most %d KB, %d KB allocated in total",
		total>>20, pieces, growth>>10, allocated>>10)
	if growth > 1<<20 {
		t.Errorf("heap in use grew by %d KB while splitting; want under 1 MB", growth>>10)
	}
	if allocated > 1<<20 {
		t.Errorf("%d KB allocated while splitting; want under 1 MB", allocated>>10)
	}
}

func benchMessages() map[string][]byte {
	var text strings.Builder
	for i := 0; text.Len() < 2<<20; i++ {
		fmt.Fprintf(&text, "Line %d of a long letter, with some words to make it read like prose.\r\n", i)
	}
	var att bytes.Buffer
	if _, err := io.Copy(&att, newAttachmentMessage(0, 6<<20)); err != nil {
		panic(err)
	}
	var mixed strings.Builder
	mixed.WriteString("From: a@example.test\r\nTo: b@example.test\r\nSubject: mixed\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	mixed.WriteString(text.String())
	mixed.WriteString("\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>")
	mixed.WriteString(strings.ReplaceAll(text.String(), "\r\n", "<br>\r\n"))
	mixed.WriteString("</html>\r\n--alt--\r\n\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n" +
		"Subject: forwarded\r\n\r\nshort forwarded body\r\n--outer\r\n")
	mixed.WriteString(strings.TrimPrefix(att.String(), "From: a@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n"))
	mixed.WriteString("\r\n--outer--\r\n")

	small := "From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
		"Message-ID: <1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text.String()[:3000]
	return map[string][]byte{
		"mixed-10MB":     []byte(mixed.String()),
		"attachment-6MB": att.Bytes(),
		"text-2MB":       []byte("Subject: text\r\n\r\n" + text.String()),
		"small-3KB":      []byte(small),
	}
}

// BenchmarkSplit reports MB/s and allocations for whole messages.
func BenchmarkSplit(b *testing.B) {
	for name, msg := range benchMessages() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			r := bytes.NewReader(nil)
			for b.Loop() {
				r.Reset(msg)
				sp := NewSplitter(r, Options{})
				for {
					if _, err := sp.Next(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}
