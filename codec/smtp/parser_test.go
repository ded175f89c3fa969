package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// transcript drives a parser the way an LMTP session does (accepting every
// DATA) and records what came out, one string per reply-worthy event.
type transcript struct {
	p      *Parser
	out    []string
	msg    []byte
	chunks int // EventData count, to check streaming
}

func newTranscript(cfg Config) *transcript { return &transcript{p: NewParser(cfg)} }

func (tr *transcript) feed(b []byte) {
	tr.p.Feed(b)
	for {
		ev, err := tr.p.Next()
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) {
				tr.out = append(tr.out, "BADERR "+err.Error())
				return
			}
			tr.out = append(tr.out, fmt.Sprintf("ERR %d %s fatal=%v", ce.Reply.Code, ce.Reply.Enhanced, ce.Fatal))
			continue
		}
		switch ev.Kind {
		case EventNeedInput:
			return
		case EventCommand:
			tr.out = append(tr.out, "CMD "+ev.Command.String())
			if ev.Command.Verb == VerbDATA {
				if err := tr.p.BeginData(); err != nil {
					tr.out = append(tr.out, "BADERR "+err.Error())
				}
			}
		case EventData:
			if len(ev.Data) == 0 {
				tr.out = append(tr.out, "EMPTY DATA EVENT")
			}
			tr.msg = append(tr.msg, ev.Data...)
			tr.chunks++
		case EventTooBig:
			tr.out = append(tr.out, "TOOBIG")
		case EventDataEnd:
			e := ev.End
			tr.out = append(tr.out, fmt.Sprintf("MSG %q size=%d total=%d last=%v chunked=%v toobig=%v barelf=%v",
				tr.msg, e.Size, e.Total, e.Last, e.Chunked, e.TooBig, e.BareLF))
			tr.msg = tr.msg[:0]
		default:
			tr.out = append(tr.out, fmt.Sprintf("BAD KIND %d", ev.Kind))
		}
	}
}

// result adds a marker for a message still in progress.
func (tr *transcript) result() []string {
	out := tr.out
	if len(tr.msg) > 0 || tr.p.InData() {
		out = append(out[:len(out):len(out)], fmt.Sprintf("PARTIAL %q", tr.msg))
	}
	return out
}

func runWhole(cfg Config, input string) []string {
	tr := newTranscript(cfg)
	tr.feed([]byte(input))
	return tr.result()
}

// runPieces feeds input cut into pieces of the given lengths (cycled), each
// in a fresh buffer that is scribbled over after it is drained, to catch a
// parser that keeps a reference it should not.
func runPieces(cfg Config, input string, lengths []int) []string {
	tr := newTranscript(cfg)
	for i, k := 0, 0; i < len(input); k++ {
		n := max(lengths[k%len(lengths)], 1)
		n = min(n, len(input)-i)
		buf := []byte(input[i : i+n])
		tr.feed(buf)
		for j := range buf {
			buf[j] = '#'
		}
		i += n
	}
	return tr.result()
}

// checkSplits asserts that every way of cutting input in two, and cutting
// it into single octets, gives the same transcript as one Feed.
func checkSplits(t *testing.T, cfg Config, input string, want []string) {
	t.Helper()
	whole := runWhole(cfg, input)
	if want != nil && !reflect.DeepEqual(whole, want) {
		t.Fatalf("input %q\n got %q\nwant %q", input, whole, want)
	}
	if got := runPieces(cfg, input, []int{1}); !reflect.DeepEqual(got, whole) {
		t.Fatalf("input %q fed octet by octet\n got %q\nwant %q", input, got, whole)
	}
	for cut := 1; cut < len(input); cut++ {
		if got := runPieces(cfg, input, []int{cut, len(input)}); !reflect.DeepEqual(got, whole) {
			t.Fatalf("input %q cut at %d\n got %q\nwant %q", input, cut, got, whole)
		}
	}
}

func TestPipelinedCommands(t *testing.T) {
	input := "LHLO mx.example.org\r\nMAIL FROM:<a@example.org> SIZE=10\r\nRCPT TO:<b@example.org>\r\n" +
		"RCPT TO:<c@example.org>\r\nRCPT TO:<>\r\nNOOP\nRSET\r\nQUIT\r\n"
	checkSplits(t, Config{}, input, []string{
		"CMD LHLO mx.example.org",
		"CMD MAIL FROM:<a@example.org> SIZE=10",
		"CMD RCPT TO:<b@example.org>",
		"CMD RCPT TO:<c@example.org>",
		"ERR 501 5.1.3 fatal=false",
		"CMD NOOP",
		"CMD RSET",
		"CMD QUIT",
	})
}

func TestIncompleteCommandWaits(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("MAIL FROM:<a@exa"))
	if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
		t.Fatalf("partial line: %+v, %v", ev, err)
	}
	if p.Buffered() != 0 {
		t.Fatalf("Buffered = %d after a partial line was taken in", p.Buffered())
	}
	p.Feed([]byte("mple.org>\r"))
	if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
		t.Fatalf("line without LF: %+v, %v", ev, err)
	}
	p.Feed([]byte("\n"))
	ev, err := p.Next()
	if err != nil || ev.Kind != EventCommand || ev.Command.Path.Address() != "a@example.org" {
		t.Fatalf("completed line: %+v, %v", ev, err)
	}
}

func TestLineTooLong(t *testing.T) {
	cfg := Config{MaxLineLength: 512}
	okLine := "NOOP " + strings.Repeat("x", 512-len("NOOP ")-2) + "\r\n" // exactly 512 with CRLF
	long := "NOOP " + strings.Repeat("y", 600) + "\r\n"
	huge := "NOOP " + strings.Repeat("z", 5000) + "\n"
	input := okLine + long + "RSET\r\n" + huge + "QUIT\r\n"
	checkSplits(t, cfg, input, []string{
		"CMD " + strings.TrimSuffix(okLine, "\r\n"),
		"ERR 500 5.5.2 fatal=false",
		"CMD RSET",
		"ERR 500 5.5.2 fatal=false",
		"CMD QUIT",
	})
	// The default limit is lenient: a 3000-octet line passes.
	if got := runWhole(Config{}, "NOOP "+strings.Repeat("a", 3000)+"\r\n"); len(got) != 1 || !strings.HasPrefix(got[0], "CMD NOOP") {
		t.Errorf("3000-octet line with the default limit: %q", got)
	}
	// A small configured limit is raised to RFC 5321's 512.
	if got := runWhole(Config{MaxLineLength: 10}, okLine); len(got) != 1 || !strings.HasPrefix(got[0], "CMD NOOP") {
		t.Errorf("limit below 512 not raised: %q", got)
	}
}

func TestOverlongLineHoldsNoMemory(t *testing.T) {
	p := NewParser(Config{MaxLineLength: 1000})
	piece := bytes.Repeat([]byte("A"), 4096)
	for range 256 { // 1 MiB without a line end
		p.Feed(piece)
		if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
			t.Fatalf("got %+v, %v while skipping", ev, err)
		}
	}
	if cap(p.line) > 1000 || p.input.Retained() != 0 {
		t.Fatalf("parser grew to line=%d own=%d while skipping", cap(p.line), p.input.Retained())
	}
	p.Feed([]byte("A\r\nQUIT\r\n"))
	if _, err := p.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("want ErrLineTooLong at the line end, got %v", err)
	}
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbQUIT {
		t.Fatalf("resync: %+v, %v", ev, err)
	}
}

func TestDataRefused(t *testing.T) {
	// Without BeginData the input after DATA is read as commands.
	p := NewParser(Config{})
	p.Feed([]byte("DATA\r\nRSET\r\n"))
	ev, err := p.Next()
	if err != nil || ev.Command.Verb != VerbDATA {
		t.Fatalf("DATA: %+v, %v", ev, err)
	}
	ev, err = p.Next()
	if err != nil || ev.Command.Verb != VerbRSET {
		t.Fatalf("after refused DATA: %+v, %v", ev, err)
	}
	if err := p.BeginData(); !errors.Is(err, ErrNotAfterData) {
		t.Fatalf("BeginData after RSET = %v", err)
	}
	if err := NewParser(Config{}).BeginData(); !errors.Is(err, ErrNotAfterData) {
		t.Fatalf("BeginData on a fresh parser = %v", err)
	}
}

func TestDiscardAfterSTARTTLS(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\nRCPT TO:<x"))
	ev, err := p.Next()
	if err != nil || ev.Command.Verb != VerbSTARTTLS {
		t.Fatalf("STARTTLS: %+v, %v", ev, err)
	}
	if n := p.Discard(); n != len("MAIL FROM:<injected@example.org>\r\nRCPT TO:<x") {
		t.Fatalf("Discard = %d", n)
	}
	if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
		t.Fatalf("after Discard: %+v, %v", ev, err)
	}
	p.Feed([]byte("LHLO again\r\n"))
	if ev, err := p.Next(); err != nil || ev.Command.Domain != "again" {
		t.Fatalf("after Discard and new input: %+v, %v", ev, err)
	}
}

func TestDetachReleasesCallerBuffer(t *testing.T) {
	p := NewParser(Config{})
	buf := []byte("RSET\r\nNOOP\r\nQU")
	p.Feed(buf)
	if ev, _ := p.Next(); ev.Command.Verb != VerbRSET {
		t.Fatalf("first: %+v", ev)
	}
	p.Detach()
	for i := range buf {
		buf[i] = 'X'
	}
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbNOOP {
		t.Fatalf("after Detach: %+v, %v", ev, err)
	}
	p.Feed([]byte("IT\r\n"))
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbQUIT {
		t.Fatalf("partial line after Detach: %+v, %v", ev, err)
	}
	p.Detach() // nothing held: no-op
	if p.Buffered() != 0 {
		t.Fatal("Buffered after drain")
	}
}

func TestFeedBeforeDrain(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("RSET\r\nNO"))
	p.Feed([]byte("OP\r\n"))
	p.Feed(nil)
	var verbs []Verb
	for {
		ev, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == EventNeedInput {
			break
		}
		verbs = append(verbs, ev.Command.Verb)
	}
	if !reflect.DeepEqual(verbs, []Verb{VerbRSET, VerbNOOP}) {
		t.Fatalf("verbs %v", verbs)
	}
}
