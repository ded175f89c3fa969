package pop3

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// transcript drives a parser the way a POP3 session does and records the
// events. After AUTH with a mechanism but no initial response it expects a
// SASL exchange of two client lines, as a challenge-response mechanism has.
type transcript struct {
	p         *Parser
	out       []string
	saslLeft  int
	scribbles bool
}

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
			tr.out = append(tr.out, "ERR "+ce.Err.Error())
			tr.saslLeft = 0
			continue
		}
		switch ev.Kind {
		case EventNeedInput:
			return
		case EventCommand:
			tr.out = append(tr.out, "CMD "+ev.Command.String())
			if ev.Command.Verb == VerbAUTH && ev.Command.Mechanism != "" && !ev.Command.HasInitialResponse {
				tr.saslLeft = 2
			}
		case EventSASLResponse:
			tr.out = append(tr.out, fmt.Sprintf("SASL %q cancel=%v", ev.SASL.Data, ev.SASL.Cancel))
			if ev.SASL.Cancel {
				tr.saslLeft = 0
			}
		}
		if tr.saslLeft > 0 {
			tr.saslLeft--
			if err := tr.p.ExpectSASL(); err != nil {
				tr.out = append(tr.out, "BADERR "+err.Error())
			}
		}
	}
}

func runPieces(cfg Config, input string, lengths []int) []string {
	tr := &transcript{p: NewParser(cfg)}
	for i, k := 0, 0; i < len(input); k++ {
		n := min(max(lengths[k%len(lengths)], 1), len(input)-i)
		buf := []byte(input[i : i+n])
		tr.feed(buf)
		for j := range buf {
			buf[j] = '#' // the parser must not keep referring to drained input
		}
		i += n
	}
	return tr.out
}

func runWhole(cfg Config, input string) []string { return runPieces(cfg, input, []int{len(input) + 1}) }

func checkSplits(t *testing.T, cfg Config, input string, want []string) {
	t.Helper()
	whole := runWhole(cfg, input)
	if want != nil && !reflect.DeepEqual(whole, want) {
		t.Fatalf("input %q\n got %q\nwant %q", input, whole, want)
	}
	if got := runPieces(cfg, input, []int{1}); !reflect.DeepEqual(got, whole) {
		t.Fatalf("octet by octet\n got %q\nwant %q", got, whole)
	}
	for cut := 1; cut < len(input); cut++ {
		if got := runPieces(cfg, input, []int{cut, len(input)}); !reflect.DeepEqual(got, whole) {
			t.Fatalf("cut at %d\n got %q\nwant %q", cut, got, whole)
		}
	}
}

func TestPipelinedSession(t *testing.T) {
	input := "CAPA\r\nUSER alice\r\nPASS open sesame\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nTOP 2 5\nDELE 1\r\n" +
		"BOGUS\r\nRETR x\r\nNOOP\r\nRSET\r\nQUIT\r\n"
	checkSplits(t, Config{}, input, []string{
		"CMD CAPA", "CMD USER alice", "CMD PASS <redacted>", "CMD STAT", "CMD LIST", "CMD UIDL 2",
		"CMD RETR 1", "CMD TOP 2 5", "CMD DELE 1", "ERR pop3: unknown command", "ERR pop3: bad number",
		"CMD NOOP", "CMD RSET", "CMD QUIT",
	})
}

func TestPasswordKeptExactly(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("PASS  spaced out \r\n"))
	ev, err := p.Next()
	if err != nil || ev.Command.Password != " spaced out " {
		t.Fatalf("%+v, %v", ev, err)
	}
}

func TestSASLExchange(t *testing.T) {
	input := "AUTH CRAM-MD5\r\ndGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n\r\n" +
		"AUTH PLAIN\r\n*\r\n" +
		"AUTH LOGIN\r\n!!\r\nNOOP\r\n" +
		"AUTH PLAIN =\r\nQUIT\r\n"
	checkSplits(t, Config{}, input, []string{
		"CMD AUTH CRAM-MD5",
		`SASL "tim b913a602c7eda7a495b4e6e7334d3890" cancel=false`,
		`SASL "" cancel=false`,
		"CMD AUTH PLAIN",
		`SASL "" cancel=true`,
		"CMD AUTH LOGIN",
		"ERR pop3: bad base64",
		"CMD NOOP",
		"CMD AUTH PLAIN <redacted>",
		"CMD QUIT",
	})
}

func TestExpectSASLOnlyAfterAUTH(t *testing.T) {
	p := NewParser(Config{})
	if err := p.ExpectSASL(); !errors.Is(err, ErrNoSASLExchange) {
		t.Fatalf("fresh parser: %v", err)
	}
	p.Feed([]byte("AUTH\r\nNOOP\r\n"))
	p.Next() // a bare AUTH lists mechanisms: no exchange
	if err := p.ExpectSASL(); !errors.Is(err, ErrNoSASLExchange) {
		t.Fatalf("after bare AUTH: %v", err)
	}
	if ev, _ := p.Next(); ev.Command.Verb != VerbNOOP {
		t.Fatalf("got %+v", ev)
	}
	if err := p.ExpectSASL(); !errors.Is(err, ErrNoSASLExchange) {
		t.Fatalf("after NOOP: %v", err)
	}
}

func TestLineTooLong(t *testing.T) {
	cfg := Config{MaxLineLength: 255, MaxAuthLineLength: 2000}
	ok := "PASS " + strings.Repeat("p", 255-len("PASS ")-2) + "\r\n" // exactly 255 with CRLF
	long := "PASS " + strings.Repeat("q", 300) + "\r\n"
	longAuth := "AUTH XOAUTH2 " + strings.Repeat("QUFB", 300) + "\r\n"
	tooLongAuth := "auth XOAUTH2 " + strings.Repeat("QUFB", 600) + "\r\n"
	saslLine := strings.Repeat("QUFB", 400) + "\r\n"
	input := ok + long + "NOOP\r\n" + longAuth + tooLongAuth + "AUTH X\r\n" + saslLine + "*\r\nQUIT\r\n"
	checkSplits(t, cfg, input, []string{
		"CMD PASS <redacted>", "ERR pop3: line too long", "CMD NOOP",
		"CMD AUTH XOAUTH2 <redacted>", "ERR pop3: line too long",
		"CMD AUTH X", fmt.Sprintf("SASL %q cancel=false", strings.Repeat("AAA", 400)), `SASL "" cancel=true`,
		"CMD QUIT",
	})
	// A SASL response over the AUTH limit ends the exchange with an error.
	checkSplits(t, cfg, "AUTH X\r\n"+strings.Repeat("A", 3000)+"\r\nNOOP\r\n", []string{
		"CMD AUTH X", "ERR pop3: line too long", "CMD NOOP",
	})
	// Limits below RFC 2449's 255 are raised to it.
	if got := runWhole(Config{MaxLineLength: 10}, ok); len(got) != 1 || got[0] != "CMD PASS <redacted>" {
		t.Errorf("limit not raised: %q", got)
	}
}

func TestOverlongLineHoldsNoMemory(t *testing.T) {
	p := NewParser(Config{})
	piece := []byte(strings.Repeat("U", 4096))
	for range 256 {
		p.Feed(piece)
		if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
			t.Fatalf("%+v %v", ev, err)
		}
	}
	if cap(p.line) > DefaultMaxLineLength || p.input.Retained() != 0 {
		t.Fatalf("grew: line=%d own=%d", cap(p.line), p.input.Retained())
	}
	p.Feed([]byte("\r\nQUIT\r\n"))
	if _, err := p.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatal(err)
	}
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbQUIT {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestDiscardAfterSTLS(t *testing.T) {
	p := NewParser(Config{})
	p.Feed([]byte("STLS\r\nUSER injected\r\nPA"))
	if ev, _ := p.Next(); ev.Command.Verb != VerbSTLS {
		t.Fatalf("%+v", ev)
	}
	if n := p.Discard(); n != len("USER injected\r\nPA") {
		t.Fatalf("Discard = %d", n)
	}
	if ev, err := p.Next(); err != nil || ev.Kind != EventNeedInput {
		t.Fatalf("%+v %v", ev, err)
	}
	p.Feed([]byte("CAPA\r\n"))
	if ev, _ := p.Next(); ev.Command.Verb != VerbCAPA {
		t.Fatalf("%+v", ev)
	}
}

func TestDetachAndFeedBeforeDrain(t *testing.T) {
	p := NewParser(Config{})
	buf := []byte("RETR 1\r\nRETR 2\r\nRE")
	p.Feed(buf)
	if ev, _ := p.Next(); ev.Command.Msg != 1 {
		t.Fatalf("%+v", ev)
	}
	p.Detach()
	copy(buf, strings.Repeat("X", len(buf)))
	if p.Buffered() != len("RETR 2\r\nRE") {
		t.Fatalf("Buffered = %d", p.Buffered())
	}
	p.Feed([]byte("TR 3\r\n")) // before draining: appended to what is held
	var msgs []int
	for {
		ev, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == EventNeedInput {
			break
		}
		msgs = append(msgs, ev.Command.Msg)
	}
	if !reflect.DeepEqual(msgs, []int{2, 3}) {
		t.Fatalf("msgs %v", msgs)
	}
	p.Detach()
	p.Feed(nil)
	if p.Buffered() != 0 {
		t.Fatal("Buffered after drain")
	}
}
