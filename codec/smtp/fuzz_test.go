package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// dotStuff is the sender's side of RFC 5321 4.5.2, written independently of
// the parser: double every dot that starts a line, make sure the message
// ends with a line ending, add the terminator.
func dotStuff(msg []byte) []byte {
	var out []byte
	atLineStart := true
	for _, c := range msg {
		if atLineStart && c == '.' {
			out = append(out, '.')
		}
		out = append(out, c)
		atLineStart = c == '\n'
	}
	if !atLineStart {
		out = append(out, '\r', '\n')
	}
	return append(out, ".\r\n"...)
}

// expectedAfterStuffing is what the receiver must hand back for msg.
func expectedAfterStuffing(msg []byte) []byte {
	if len(msg) == 0 || msg[len(msg)-1] == '\n' {
		return msg
	}
	return append(bytes.Clone(msg), '\r', '\n')
}

// tester is what both *testing.T and *rapid.T offer.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// cutLengths turns fuzz bytes into piece lengths (1..256).
func cutLengths(cuts []byte) []int {
	if len(cuts) == 0 {
		return []int{1 << 30}
	}
	lengths := make([]int, len(cuts))
	for i, c := range cuts {
		lengths[i] = int(c) + 1
	}
	return lengths
}

// readMessage feeds "DATA" then input in pieces and returns the message
// bytes, the end event and the commands that followed it.
func readMessage(t tester, cfg Config, input []byte, lengths []int) ([]byte, DataEnd, []Verb) {
	p := NewParser(cfg)
	p.Feed([]byte("DATA\r\n"))
	if ev, err := p.Next(); err != nil || ev.Command.Verb != VerbDATA {
		t.Fatalf("DATA: %+v %v", ev, err)
	}
	if err := p.BeginData(); err != nil {
		t.Fatal(err)
	}
	var msg []byte
	var end DataEnd
	var after []Verb
	ended := false
	for i, k := 0, 0; i < len(input); k++ {
		n := min(lengths[k%len(lengths)], len(input)-i)
		p.Feed(input[i : i+n])
		i += n
		for {
			ev, err := p.Next()
			if err != nil {
				after = append(after, "ERR")
				continue
			}
			if ev.Kind == EventNeedInput {
				break
			}
			switch ev.Kind {
			case EventData:
				if ended {
					t.Fatalf("data after the end")
				}
				msg = append(msg, ev.Data...)
			case EventDataEnd:
				if ended {
					t.Fatalf("second end")
				}
				end, ended = ev.End, true
			case EventCommand:
				after = append(after, ev.Command.Verb)
				if ev.Command.Verb == VerbDATA || ev.Command.Verb == VerbBDAT {
					// Keep the rest in command mode for this helper.
					p.Discard()
				}
			}
		}
	}
	if !ended {
		end.Size = -1
	}
	return msg, end, after
}

func checkRoundTrip(t tester, msg []byte, lengths []int) {
	input := append(dotStuff(msg), "NOOP\r\nQUIT\r\n"...)
	got, end, after := readMessage(t, Config{}, input, lengths)
	want := expectedAfterStuffing(msg)
	if !bytes.Equal(got, want) {
		t.Fatalf("message %q\nstuffed %q\n got %q\nwant %q", msg, input, got, want)
	}
	if end.Size != int64(len(want)) || !end.Last || end.TooBig || end.Chunked {
		t.Fatalf("end %+v for %d octets", end, len(want))
	}
	// The terminator is bare-LF flavoured only when the message's last line
	// ending is a bare LF.
	wantBare := len(want) > 0 && (len(want) < 2 || want[len(want)-2] != '\r')
	if end.BareLF != wantBare {
		t.Fatalf("BareLF = %v for message ending %q", end.BareLF, want[max(0, len(want)-2):])
	}
	if !reflect.DeepEqual(after, []Verb{VerbNOOP, VerbQUIT}) {
		t.Fatalf("pipelined commands after the message: %v", after)
	}
}

func TestUnstuffInvertsStuffing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		alphabet := []byte{'.', '.', '\r', '\n', '\n', 'a', ' ', 0, 0xff}
		msg := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 300).Draw(t, "msg")
		lengths := rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, "lengths")
		checkRoundTrip(t, msg, lengths)
	})
}

func TestSplitInvariance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pieces := []string{
			"LHLO x\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<c@d.example>\r\n", "DATA\r\n",
			"BDAT 3\r\n", "BDAT 2 LAST\r\n", ".", "..", "\r\n", "\n", "\r", "text", ".\r\n", "RSET\r\n",
			"BDAT x\r\n", "FOO\r\n", "\x00",
		}
		parts := rapid.SliceOfN(rapid.SampledFrom(pieces), 0, 40).Draw(t, "parts")
		input := strings.Join(parts, "")
		lengths := rapid.SliceOfN(rapid.IntRange(1, 16), 1, 6).Draw(t, "lengths")
		cfg := Config{}
		if whole, split := runWhole(cfg, input), runPieces(cfg, input, lengths); !reflect.DeepEqual(whole, split) {
			t.Fatalf("input %q lengths %v\nwhole %q\nsplit %q", input, lengths, whole, split)
		}
	})
}

func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"LHLO mx.example.org", "MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME SMTPUTF8",
		"MAIL FROM:<>", "RCPT TO:<\"x y\"@[IPv6:::1]> NOTIFY=NEVER", "RCPT TO:<Postmaster>",
		"RCPT TO:<@r1,@r2:u@example.org>", "RCPT TO:<用户@例子.广告>", "BDAT 10 LAST", "DATA", "VRFY x",
		"STARTTLS", "NOOP", "MAIL FROM:<a@[1.2.3.4]> RET=FULL ENVID=x AUTH=<>", "\x00\xff", "BDAT 9999999999999999999",
		"MAIL FROM:<\"\\\"\"@x>", "RCPT TO:<a@b> ORCPT=rfc822;a@b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := ParseCommand(line)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Reply.Code < 500 || ce.Reply.Code > 555 || len(ce.Reply.Lines) == 0 {
				t.Fatalf("ParseCommand(%q) error %#v", line, err)
			}
			if cmd.Verb != "" {
				t.Fatalf("ParseCommand returned a command with its error")
			}
		} else {
			again, err := ParseCommand([]byte(cmd.String()))
			if err != nil {
				t.Fatalf("ParseCommand(%q) ok, canonical %q fails: %v", line, cmd.String(), err)
			}
			if again.Verb != cmd.Verb || again.Domain != cmd.Domain || again.Arg != cmd.Arg ||
				again.Path.Address() != cmd.Path.Address() || again.Path.LocalPart != cmd.Path.LocalPart ||
				!reflect.DeepEqual(again.Params, cmd.Params) || again.ChunkSize != cmd.ChunkSize ||
				again.Last != cmd.Last || again.Size != cmd.Size || again.Body != cmd.Body {
				t.Fatalf("ParseCommand(%q) = %+v, canonical %q gives %+v", line, cmd, cmd.String(), again)
			}
			if cmd.Path.UTF8 != !isASCII(cmd.Path.LocalPart+cmd.Path.Domain) {
				t.Fatalf("UTF8 flag wrong for %+v", cmd.Path)
			}
		}
		// The same octets as a stream, with line ends, give the same
		// events whole and cut.
		stream := string(line) + "\r\n" + string(line) + "\n"
		if whole, split := runWhole(Config{}, stream), runPieces(Config{}, stream, []int{3, 1, 7}); !reflect.DeepEqual(whole, split) {
			t.Fatalf("stream %q\nwhole %q\nsplit %q", stream, whole, split)
		}
	})
}

func FuzzDataReader(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"), []byte{3})
	f.Add([]byte("a\n.\nRSET\n"), []byte{0})
	f.Add([]byte("..\r\n.\r\r\n.\r\n"), []byte{1, 0, 2})
	f.Add([]byte(".\r.\r\n.\n"), []byte{})
	f.Add([]byte("x\r\n.\r\nBDAT 3 LAST\r\nabc"), []byte{5, 1})
	f.Add([]byte("line\r\n..stuffed\r\n.x\n.\r\n"), []byte{255, 0})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		lengths := cutLengths(cuts)
		// Arbitrary input after DATA: cutting must not change the outcome.
		input := "DATA\r\n" + string(data)
		whole, split := runWhole(Config{}, input), runPieces(Config{}, input, lengths)
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("input %q lengths %v\nwhole %q\nsplit %q", input, lengths, whole, split)
		}
		// With a size limit, no more than the limit is ever handed out.
		const limit = 16
		tr := newTranscript(Config{MaxMessageSize: limit})
		tr.p.Feed([]byte(input))
		var handed int64
		for {
			ev, err := tr.p.Next()
			if err != nil {
				continue
			}
			if ev.Kind == EventNeedInput {
				break
			}
			switch ev.Kind {
			case EventCommand:
				if ev.Command.Verb == VerbDATA {
					tr.p.BeginData()
				}
				handed = 0
			case EventData:
				handed += int64(len(ev.Data))
				if handed > limit {
					t.Fatalf("%d octets handed out over a limit of %d", handed, limit)
				}
			case EventDataEnd:
				if ev.End.TooBig != (ev.End.Total > limit) {
					t.Fatalf("end %+v with limit %d", ev.End, limit)
				}
				if !ev.End.Chunked {
					handed = 0
				}
			}
		}
		// Valid stuffed input: unstuffing inverts stuffing.
		checkRoundTrip(t, data, lengths)
	})
}

func ExampleParser() {
	p := NewParser(Config{MaxMessageSize: 10 << 20})
	p.Feed([]byte("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"))
	for {
		ev, err := p.Next()
		if err != nil {
			fmt.Print(err.(*CommandError).Reply)
			continue
		}
		if ev.Kind == EventNeedInput {
			break
		}
		switch ev.Command.Verb {
		case VerbMAIL, VerbRCPT:
			fmt.Println(ev.Command.Verb, ev.Command.Path)
		case VerbDATA:
			fmt.Println(ev.Command.Verb)
			p.BeginData() // after answering 354
		}
	}
	p.Feed([]byte("Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n"))
	for {
		ev, _ := p.Next()
		switch ev.Kind {
		case EventData:
			fmt.Printf("data %q\n", ev.Data)
			continue
		case EventDataEnd:
			fmt.Println("end, size", ev.End.Size)
			continue
		case EventCommand:
			fmt.Println(ev.Command.Verb)
			continue
		}
		break
	}
	// Output:
	// MAIL <a@example.org>
	// RCPT <b@example.org>
	// DATA
	// data "Subject: hi\r\n\r\n"
	// data ".dot\r\n"
	// end, size 21
	// QUIT
}
