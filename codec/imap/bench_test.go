package imap

import (
	"bufio"
	"io"
	"testing"
	"time"
)

func benchParse(b *testing.B, line string) {
	p := NewParser(Options{})
	in := []byte(line)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.Feed(in)
		ev, err := p.Next()
		if err != nil || ev.Kind != EventCommand {
			b.Fatalf("%+v %v", ev, err)
		}
		if ev, _ := p.Next(); ev.Kind != EventNeedMore {
			b.Fatal("leftover event")
		}
	}
}

func BenchmarkParseFetch(b *testing.B) {
	benchParse(b, "a123 FETCH 1:100 (FLAGS UID RFC822.SIZE)\r\n")
}

func BenchmarkParseUIDFetchHeaders(b *testing.B) {
	benchParse(b, "a124 UID FETCH 4827313:4828442 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])\r\n")
}

func BenchmarkParseUIDFetchChangedSince(b *testing.B) {
	benchParse(b, "a125 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n")
}

func BenchmarkParseStore(b *testing.B) {
	benchParse(b, "a126 UID STORE 4827313 +FLAGS.SILENT (\\Seen \\Flagged)\r\n")
}

func BenchmarkParseSearch(b *testing.B) {
	benchParse(b, "a127 UID SEARCH RETURN (ALL) CHARSET UTF-8 OR FROM \"alice\" SUBJECT \"report\" SINCE 1-Feb-2024 UNDELETED\r\n")
}

// BenchmarkWriteFetch100k writes 100,000 "* n FETCH (UID n FLAGS (...)
// RFC822.SIZE n)" responses per iteration through a buffered writer.
func BenchmarkWriteFetch100k(b *testing.B) {
	bw := bufio.NewWriterSize(io.Discard, 64<<10)
	w := NewWriter(bw)
	flags := [][]string{{FlagSeen}, {FlagSeen, FlagFlagged}, {}, {FlagAnswered, FlagSeen, "$Forwarded"}}
	b.ReportAllocs()
	for b.Loop() {
		for i := uint32(1); i <= 100_000; i++ {
			f := w.Fetch(i)
			f.UID(1_000_000 + i)
			f.Flags(flags[i%4])
			f.RFC822Size(int64(2000 + i))
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		_ = bw.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/response")
}

func BenchmarkWriteFetchEnvelopeBodyStructure(b *testing.B) {
	bw := bufio.NewWriterSize(io.Discard, 64<<10)
	w := NewWriter(bw)
	env := rfc3501Envelope()
	bs := &BodyStructure{Type: "MULTIPART", Subtype: "ALTERNATIVE", Parts: []*BodyStructure{
		{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "UTF-8"}}, Encoding: "QUOTED-PRINTABLE", Size: 1200, Lines: 30},
		{Type: "TEXT", Subtype: "HTML", Params: []BodyParam{{"CHARSET", "UTF-8"}}, Encoding: "QUOTED-PRINTABLE", Size: 5200, Lines: 90},
	}}
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		f := w.Fetch(7)
		f.UID(77)
		f.InternalDate(date)
		f.Envelope(env)
		f.BodyStructure(bs)
		_ = f.Close()
	}
}

// BenchmarkAppendStream measures handing a 50 MB APPEND through the parser
// in 16 KiB reads.
func BenchmarkAppendStream(b *testing.B) {
	const size = 50 << 20
	chunk := make([]byte, 16<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser(Options{})
		p.Feed([]byte("A1 APPEND INBOX {52428800+}\r\n"))
		var got int
		for fed := 0; fed < size; fed += len(chunk) {
			p.Feed(chunk)
			for {
				ev, _ := p.Next()
				if ev.Kind == EventNeedMore {
					break
				}
				got += len(ev.Data)
			}
		}
		if got != size {
			b.Fatalf("got %d", got)
		}
	}
}
