package pop3

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// tester is what both *testing.T and *rapid.T offer.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// referenceUnstuff is a client's reading of a multi-line reply body,
// written line by line and independently of DotWriter: a line ".CRLF" ends
// it, any other line loses a leading dot. ok is false when no terminator
// was found or bytes follow it.
func referenceUnstuff(t tester, wire []byte) ([]byte, bool) {
	var out []byte
	lines := bytes.SplitAfter(wire, []byte("\n"))
	for i, line := range lines {
		if string(line) == ".\r\n" {
			rest := bytes.Join(lines[i+1:], nil)
			return out, len(rest) == 0
		}
		if len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return out, false
}

// expectedAfterStuffing is msg as the client sees it: with a line ending
// added when it had none (only LF after a trailing CR).
func expectedAfterStuffing(msg []byte) []byte {
	switch {
	case len(msg) == 0 || msg[len(msg)-1] == '\n':
		return msg
	case msg[len(msg)-1] == '\r':
		return append(bytes.Clone(msg), '\n')
	}
	return append(bytes.Clone(msg), '\r', '\n')
}

// referenceTop computes the TOP reply by splitting the whole message into
// lines: the lines up to the first blank one, then n more.
func referenceTop(msg []byte, n int) []byte {
	n = max(n, 0)
	lines := bytes.SplitAfter(msg, []byte("\n"))
	keep := len(lines)
	for i, line := range lines {
		if string(line) == "\n" || string(line) == "\r\n" {
			keep = min(len(lines), i+1+n)
			break
		}
	}
	var b bytes.Buffer
	d := NewDotWriter(&b)
	d.Write(bytes.Join(lines[:keep], nil))
	d.Close()
	return b.Bytes()
}

func checkStuffing(t tester, msg []byte, lengths []int) {
	t.Helper()
	whole := stuffPieces(t, msg, []int{len(msg) + 1})
	if split := stuffPieces(t, msg, lengths); !bytes.Equal(split, whole) {
		t.Fatalf("msg %q lengths %v\nsplit %q\nwhole %q", msg, lengths, split, whole)
	}
	back, ok := referenceUnstuff(t, whole)
	if !ok || !bytes.Equal(back, expectedAfterStuffing(msg)) {
		t.Fatalf("msg %q stuffed %q unstuffs to %q (terminated %v)", msg, whole, back, ok)
	}
	// Only the added line ending and the stuffed dots are new.
	if extra := len(whole) - len(msg); extra < 3 || extra > 5+bytes.Count(msg, []byte("\n."))+1 {
		t.Fatalf("msg %q grew by %d", msg, extra)
	}
}

func checkTop(t tester, msg []byte, n int, lengths []int) {
	t.Helper()
	want := referenceTop(msg, n)
	if got, _ := topPieces(t, msg, n, lengths); !bytes.Equal(got, want) {
		t.Fatalf("TOP %d of %q lengths %v\n got %q\nwant %q", n, msg, lengths, got, want)
	}
}

var messageAlphabet = []byte{'.', '.', '\r', '\n', '\n', 'a', ':', ' ', 0, 0xff}

func TestStuffingProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msg := rapid.SliceOfN(rapid.SampledFrom(messageAlphabet), 0, 300).Draw(t, "msg")
		lengths := rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, "lengths")
		checkStuffing(t, msg, lengths)
	})
}

func TestTopProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msg := rapid.SliceOfN(rapid.SampledFrom(messageAlphabet), 0, 300).Draw(t, "msg")
		n := rapid.IntRange(-1, 20).Draw(t, "lines")
		lengths := rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, "lengths")
		checkTop(t, msg, n, lengths)
	})
}

func TestParserSplitInvariance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pieces := []string{
			"USER a\r\n", "PASS b c\r\n", "AUTH PLAIN\r\n", "AUTH X =\r\n", "*\r\n", "AGFhAGI=\r\n",
			"RETR 1\r\n", "TOP 1 2\n", "LIST\r\n", "BAD\r\n", "\r\n", "\n", "RE", "TR", " ", "\x00",
		}
		input := strings.Join(rapid.SliceOfN(rapid.SampledFrom(pieces), 0, 40).Draw(t, "parts"), "")
		lengths := rapid.SliceOfN(rapid.IntRange(1, 16), 1, 6).Draw(t, "lengths")
		if whole, split := runWhole(Config{}, input), runPieces(Config{}, input, lengths); !reflect.DeepEqual(whole, split) {
			t.Fatalf("input %q lengths %v\nwhole %q\nsplit %q", input, lengths, whole, split)
		}
	})
}

func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"USER alice", "PASS a b c ", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
		"AUTH", "AUTH EXTERNAL =", "STLS", "CAPA", "STAT", "LIST 1", "UIDL", "RETR 2147483647", "TOP 1 0",
		"DELE 9", "RSET", "NOOP", "QUIT", "UTF8", "LANG *", "RETR 2147483648", "\x00\xff", "top 1 99999999999",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := ParseCommand(line)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Text == "" {
				t.Fatalf("ParseCommand(%q) error %#v", line, err)
			}
			reply := ce.AppendReply(nil)
			if !bytes.HasPrefix(reply, []byte("-ERR ")) || bytes.IndexByte(reply, '\n') != len(reply)-1 {
				t.Fatalf("reply %q", reply)
			}
		} else {
			if cmd.Msg < 0 || cmd.Msg > MaxNumber || cmd.Lines < 0 || cmd.Lines > MaxNumber {
				t.Fatalf("number out of range: %+v", cmd)
			}
			switch s := cmd.String(); cmd.Verb {
			case VerbPASS:
				if s != "PASS <redacted>" {
					t.Fatalf("PASS renders as %q", s)
				}
			case VerbAUTH:
				if cmd.HasInitialResponse && !strings.HasSuffix(s, " <redacted>") {
					t.Fatalf("AUTH initial response renders as %q", s)
				}
			default:
				// Every other command renders back to an equal command.
				again, err := ParseCommand([]byte(s))
				if err != nil || !reflect.DeepEqual(again, cmd) {
					t.Fatalf("ParseCommand(%q) = %+v; String %q gives %+v, %v", line, cmd, s, again, err)
				}
			}
		}
		stream := string(line) + "\r\n" + string(line) + "\n"
		if whole, split := runWhole(Config{}, stream), runPieces(Config{}, stream, []int{3, 1, 7}); !reflect.DeepEqual(whole, split) {
			t.Fatalf("stream %q\nwhole %q\nsplit %q", stream, whole, split)
		}
	})
}

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

func FuzzDotStuff(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\n.body\r\n.\r\n"), []byte{3})
	f.Add([]byte(".\n..\r\n."), []byte{0})
	f.Add([]byte("no line end"), []byte{})
	f.Add([]byte("trailing CR\r"), []byte{1, 2})
	f.Add([]byte("A: b\n\n.x\ny\n"), []byte{0, 5})
	f.Add([]byte(""), []byte{})
	f.Fuzz(func(t *testing.T, msg, cuts []byte) {
		lengths := cutLengths(cuts)
		checkStuffing(t, msg, lengths)
		n := 0
		if len(cuts) > 0 {
			n = int(cuts[0] % 8)
		}
		checkTop(t, msg, n, lengths)
	})
}
