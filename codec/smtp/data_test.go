package smtp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func msgLine(msg string, size int, bare bool) string {
	return fmt.Sprintf("MSG %q size=%d total=%d last=true chunked=false toobig=false barelf=%v", msg, size, size, bare)
}

func TestDataUnstuffing(t *testing.T) {
	tests := []struct {
		name string
		data string // what follows "DATA\r\n"
		msg  string
		bare bool
	}{
		{"simple", "Subject: hi\r\n\r\nhello\r\n.\r\n", "Subject: hi\r\n\r\nhello\r\n", false},
		{"empty message", ".\r\n", "", false},
		{"blank line only", "\r\n.\r\n", "\r\n", false},
		{"stuffed dot line", "a\r\n..\r\n.\r\n", "a\r\n.\r\n", false},
		{"stuffed first line", "..x\r\n.\r\n", ".x\r\n", false},
		{"unstuffed dot text keeps lenient removal", "a\r\n.x\r\n.\r\n", "a\r\nx\r\n", false},
		{"double dots stay inside a line", "a..b\r\n.\r\n", "a..b\r\n", false},
		{"dot at line end", "a.\r\n.\r\n", "a.\r\n", false},
		{"dot CR then text", "a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", false},
		{"dot CR CR LF", "a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", false},
		{"dot CR dot", ".\r.\r\n.\r\n", "\r.\r\n", false},
		{"bare LF terminator", "a\n.\n", "a\n", true},
		{"CRLF then dot LF", "a\r\n.\n", "a\r\n", true},
		{"LF then dot CRLF", "a\n.\r\n", "a\n", true},
		{"empty message bare", ".\n", "", true},
		{"bare LF lines pass through", "a\nb\n\r\nc\r\n.\r\n", "a\nb\n\r\nc\r\n", false},
		{"stuffed line after bare LF", "a\n..b\n.\r\n", "a\n.b\n", true},
		{"CR alone is no line end", "a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", false},
		{"dot space", "a\r\n. \r\n.\r\n", "a\r\n \r\n", false},
		{"binary octets", "\x00\xff\r\n\x80.\r\n.\r\n", "\x00\xff\r\n\x80.\r\n", false},
		{"terminator lookalike split", "x\r\n.\r\n", "x\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := "DATA\r\n" + tt.data + "RSET\r\n"
			checkSplits(t, Config{}, input, []string{
				"CMD DATA", msgLine(tt.msg, len(tt.msg), tt.bare), "CMD RSET",
			})
		})
	}
}

func TestDataAfterBareLFCommand(t *testing.T) {
	// The DATA line's own bare LF is the line ending before an empty message.
	checkSplits(t, Config{}, "DATA\n.\r\nQUIT\r\n", []string{"CMD DATA", msgLine("", 0, true), "CMD QUIT"})
}

func TestDataIncomplete(t *testing.T) {
	for _, data := range []string{"abc", "abc\r\n", "abc\r\n.", "abc\r\n.\r", "abc.\r\n", "abc\r\n..\r\n"} {
		got := runWhole(Config{}, "DATA\r\n"+data)
		if len(got) != 2 || !strings.HasPrefix(got[1], "PARTIAL") {
			t.Errorf("DATA %q ended early: %q", data, got)
		}
	}
}

func TestDataPipelinedAfterTerminator(t *testing.T) {
	input := "LHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" +
		"one\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n"
	checkSplits(t, Config{}, input, []string{
		"CMD LHLO c", "CMD MAIL FROM:<a@example.org>", "CMD RCPT TO:<b@example.org>", "CMD DATA",
		msgLine("one\r\n", 5, false),
		"CMD MAIL FROM:<>", "CMD RCPT TO:<b@example.org>", "CMD DATA",
		msgLine("two\r\n", 5, false),
		"CMD QUIT",
	})
}

func TestDataTooBig(t *testing.T) {
	cfg := Config{MaxMessageSize: 10}
	input := "MAIL FROM:<>\r\nDATA\r\n0123456789abcdef\r\n.\r\nMAIL FROM:<>\r\nDATA\r\n01234567\r\n.\r\n"
	want := []string{
		"CMD MAIL FROM:<>", "CMD DATA", "TOOBIG",
		`MSG "" size=18 total=18 last=true chunked=false toobig=true barelf=false`,
		"CMD MAIL FROM:<>", "CMD DATA", msgLine("01234567\r\n", 10, false),
	}
	// Split points change how much of the too-big message was handed out
	// before the limit passed, so compare only the event lines here.
	for _, got := range [][]string{runWhole(cfg, input), runPieces(cfg, input, []int{1}), runPieces(cfg, input, []int{7})} {
		for i := range got {
			if strings.HasPrefix(got[i], "MSG") && strings.Contains(got[i], "toobig=true") {
				got[i] = `MSG "" ` + got[i][strings.Index(got[i], "size="):]
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q\nwant %q", got, want)
		}
	}
	// Fed octet by octet, exactly the allowed prefix is handed out first.
	tr := newTranscript(cfg)
	for _, c := range []byte("DATA\r\n0123456789abcdef\r\n") {
		tr.feed([]byte{c})
	}
	if string(tr.msg) != "0123456789" {
		t.Errorf("handed out %q before TOOBIG", tr.msg)
	}
}

func TestDataLongLineStreams(t *testing.T) {
	line := bytes.Repeat([]byte("x"), 1<<20)
	p := NewParser(Config{})
	p.Feed([]byte("DATA\r\n"))
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbDATA {
		t.Fatal(ev, err)
	}
	if err := p.BeginData(); err != nil {
		t.Fatal(err)
	}
	var got int64
	var end DataEnd
	input := append(append(line, "\r\n.\r\n"...), "QUIT\r\n"...)
	for i := 0; i < len(input); i += 4096 {
		p.Feed(input[i:min(i+4096, len(input))])
		for {
			ev, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == EventNeedInput {
				break
			}
			switch ev.Kind {
			case EventData:
				if len(ev.Data) > 4096 {
					t.Fatalf("chunk of %d octets from 4096-octet feeds", len(ev.Data))
				}
				got += int64(len(ev.Data))
			case EventDataEnd:
				end = ev.End
			case EventCommand:
				if ev.Command.Verb != VerbQUIT {
					t.Fatalf("unexpected %v", ev.Command.Verb)
				}
			}
		}
	}
	if got != int64(len(line))+2 || end.Size != got || end.BareLF || end.TooBig {
		t.Fatalf("got %d octets, end %+v", got, end)
	}
	if p.input.Retained() != 0 || cap(p.line) > 64 {
		t.Fatalf("parser buffered: own=%d line=%d", p.input.Retained(), cap(p.line))
	}
}

func TestDataZeroCopy(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("DATA\r\n"))
	p.Next()
	if err := p.BeginData(); err != nil {
		t.Fatal(err)
	}
	buf := []byte("Subject: x\r\n\r\nbody\r\n")
	p.Feed(buf)
	ev, _ := p.Next()
	if ev.Kind != EventData || &ev.Data[0] != &buf[0] || len(ev.Data) != len(buf) {
		t.Fatalf("DATA chunk is not the fed buffer: %+v", ev)
	}
}

func TestBDAT(t *testing.T) {
	input := "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n" +
		"BDAT 7\r\nab\r\n.\r\nBDAT 3 LAST\r\nxyzRSET\r\n"
	checkSplits(t, Config{}, input, []string{
		"CMD MAIL FROM:<a@example.org>", "CMD RCPT TO:<b@example.org>",
		"CMD BDAT 7", `MSG "ab\r\n.\r\n" size=7 total=7 last=false chunked=true toobig=false barelf=false`,
		"CMD BDAT 3 LAST", `MSG "xyz" size=3 total=10 last=true chunked=true toobig=false barelf=false`,
		"CMD RSET",
	})
}

func TestBDATZeroLast(t *testing.T) {
	checkSplits(t, Config{}, "BDAT 2\r\nhiBDAT 0 LAST\r\nQUIT\r\n", []string{
		"CMD BDAT 2", `MSG "hi" size=2 total=2 last=false chunked=true toobig=false barelf=false`,
		"CMD BDAT 0 LAST", `MSG "" size=0 total=2 last=true chunked=true toobig=false barelf=false`,
		"CMD QUIT",
	})
}

func TestBDATTooBigAcrossChunks(t *testing.T) {
	input := "MAIL FROM:<>\r\nBDAT 6\r\n123456BDAT 6 LAST\r\n789abcMAIL FROM:<>\r\nBDAT 4 LAST\r\nwxyz"
	got := runWhole(Config{MaxMessageSize: 10}, input)
	want := []string{
		"CMD MAIL FROM:<>",
		"CMD BDAT 6", `MSG "123456" size=6 total=6 last=false chunked=true toobig=false barelf=false`,
		"CMD BDAT 6 LAST", "TOOBIG", `MSG "" size=6 total=12 last=true chunked=true toobig=true barelf=false`,
		"CMD MAIL FROM:<>",
		"CMD BDAT 4 LAST", `MSG "wxyz" size=4 total=4 last=true chunked=true toobig=false barelf=false`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestBDATBadArgumentsSkipsChunk(t *testing.T) {
	checkSplits(t, Config{}, "BDAT 6 NOW\r\nRSET\r\nNOOP\r\n", []string{
		"ERR 501 5.5.4 fatal=false", "CMD NOOP",
	})
	// An unreadable size cannot be skipped: the error says so.
	checkSplits(t, Config{}, "BDAT many\r\nRSET\r\n", []string{"ERR 501 5.5.4 fatal=true", "CMD RSET"})
}

func TestDataEventsNeverEmpty(t *testing.T) {
	// Covered by the transcript ("EMPTY DATA EVENT"); this input walks every
	// unstuffer state across many boundaries.
	input := "DATA\r\n" + strings.Repeat(".\r.\r\n..\n.a\r\n\r\n", 20) + ".\r\n"
	checkSplits(t, Config{}, input, nil)
}
