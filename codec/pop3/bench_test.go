package pop3

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// benchMessage builds a message of about size octets: a header block, then
// lines of lineLen octets, every dotEvery-th starting with a dot.
func benchMessage(size, lineLen, dotEvery int) []byte {
	var msg bytes.Buffer
	msg.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: benchmark\r\n\r\n")
	line := bytes.Repeat([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3"), 1+lineLen/80)[:lineLen]
	for i := 0; msg.Len() < size; i++ {
		if dotEvery > 0 && i%dotEvery == 0 {
			msg.WriteByte('.')
		}
		msg.Write(line)
		msg.WriteString("\r\n")
	}
	return msg.Bytes()
}

// sink counts octets, like a connection's write buffer without the copy.
type sink struct{ n int64 }

func (s *sink) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	return len(p), nil
}

func BenchmarkRETRStuffer(b *testing.B) {
	cases := []struct {
		name              string
		lineLen, dotEvery int
		piece             int
	}{
		{"base64-lines/32KiB-writes", 76, 0, 32 << 10},
		{"base64-lines/4KiB-writes", 76, 0, 4 << 10},
		{"text-some-dots/32KiB-writes", 72, 40, 32 << 10},
		{"every-line-dot/32KiB-writes", 72, 1, 32 << 10},
	}
	for _, c := range cases {
		msg := benchMessage(1<<20, c.lineLen, c.dotEvery)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			var s sink
			for b.Loop() {
				d := NewDotWriter(&s)
				for i := 0; i < len(msg); i += c.piece {
					if _, err := d.Write(msg[i:min(i+c.piece, len(msg))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := d.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTOPWriter(b *testing.B) {
	msg := benchMessage(1<<20, 76, 0)
	// TOP of the whole message: the cost of counting lines while stuffing.
	b.Run("all-lines", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			w := NewTopWriter(io.Discard, 1<<30)
			for i := 0; i < len(msg); i += 32 << 10 {
				if _, err := w.Write(msg[i:min(i+32<<10, len(msg))]); err != nil {
					b.Fatal(err)
				}
			}
			w.Close()
		}
	})
	// TOP n 10: stops after the first piece.
	b.Run("10-lines", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := NewTopWriter(io.Discard, 10)
			for i := 0; i < len(msg); i += 32 << 10 {
				if _, err := w.Write(msg[i:min(i+32<<10, len(msg))]); errors.Is(err, ErrTopDone) {
					break
				}
			}
			w.Close()
		}
	})
}

func BenchmarkParser(b *testing.B) {
	input := []byte("USER alice\r\nPASS secret\r\nSTAT\r\nUIDL\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n")
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	p := NewParser(Config{})
	for b.Loop() {
		p.Feed(input)
		for {
			ev, err := p.Next()
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == EventNeedInput {
				break
			}
		}
	}
}
