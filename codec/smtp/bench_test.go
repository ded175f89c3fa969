package smtp

import (
	"bytes"
	"fmt"
	"testing"
)

// benchMessage builds a stuffed message of about size octets: a header
// block, then lines of lineLen octets, every dotEvery-th starting with a dot.
func benchMessage(size, lineLen, dotEvery int, eol string) []byte {
	var msg bytes.Buffer
	msg.WriteString("From: a@example.org" + eol + "To: b@example.org" + eol + "Subject: benchmark" + eol + eol)
	line := bytes.Repeat([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3"), 1+lineLen/80)[:lineLen]
	for i := 0; msg.Len() < size; i++ {
		if dotEvery > 0 && i%dotEvery == 0 {
			msg.WriteByte('.')
		}
		msg.Write(line)
		msg.WriteString(eol)
	}
	return dotStuff(msg.Bytes())
}

func BenchmarkDataReader(b *testing.B) {
	cases := []struct {
		name              string
		lineLen, dotEvery int
		eol               string
		feed              int
	}{
		{"base64-lines/64KiB-feeds", 76, 0, "\r\n", 64 << 10},
		{"base64-lines/4KiB-feeds", 76, 0, "\r\n", 4 << 10},
		{"text-some-dots/64KiB-feeds", 72, 40, "\r\n", 64 << 10},
		{"every-line-stuffed/64KiB-feeds", 72, 1, "\r\n", 64 << 10},
		{"bare-LF/64KiB-feeds", 76, 0, "\n", 64 << 10},
	}
	for _, c := range cases {
		input := benchMessage(1<<20, c.lineLen, c.dotEvery, c.eol)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			p := NewParser(Config{})
			for b.Loop() {
				p.Feed([]byte("DATA\r\n"))
				p.Next()
				if err := p.BeginData(); err != nil {
					b.Fatal(err)
				}
				var n int64
				done := false
				for i := 0; i < len(input); i += c.feed {
					p.Feed(input[i:min(i+c.feed, len(input))])
					for {
						ev, _ := p.Next()
						if ev.Kind == EventNeedInput {
							break
						}
						if ev.Kind == EventData {
							n += int64(len(ev.Data))
						}
						done = done || ev.Kind == EventDataEnd
					}
				}
				if !done || n == 0 {
					b.Fatal(fmt.Sprintf("message did not end: %d octets", n))
				}
			}
		})
	}
}

func BenchmarkParseCommand(b *testing.B) {
	line := []byte("RCPT TO:<some.recipient+tag@mail.example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCommand(line); err != nil {
			b.Fatal(err)
		}
	}
}
