package imap

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

var parserSeeds = []string{
	"a1 CAPABILITY\r\n",
	"a2 LOGIN {3}\r\nbob {4+}\r\npass\r\n",
	"a3 UID FETCH 1:*,5 (FLAGS BODY.PEEK[1.HEADER.FIELDS (From To)]<0.100>) (CHANGEDSINCE 5 VANISHED)\r\n",
	"a4 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM \"x\" SINCE 1-Feb-1994) NOT BODY {3+}\r\nabc\r\n",
	"a5 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5}\r\nhello {3+}\r\nabc\r\n",
	"a6 APPEND INBOX UTF8 (~{2+}\r\nhi)\r\n",
	"a7 STORE 1:3 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Deleted $x)\r\n",
	"a8 SELECT INBOX (QRESYNC (1 2 1:9 (1:3 4:6)))\r\n",
	"a9 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"*\" %) RETURN (STATUS (MESSAGES SIZE))\r\n",
	"b1 IDLE\r\nDONE\r\n",
	"b2 AUTHENTICATE PLAIN\r\nAGJvYgBz\r\n",
	"b3 ID (\"name\" NIL)\r\nb4 ENABLE QRESYNC\r\nb5 COMPRESS DEFLATE\r\n",
	"b6 SETQUOTA \"\" (STORAGE 1)\r\nb7 GETQUOTAROOT INBOX\r\n",
	"b8 FETCH 1 (BODY[1.2.MIME] BINARY.PEEK[1]<0.5> BINARY.SIZE[2] EMAILID)\r\n",
	"b9 LOGIN " + string(make([]byte, 40)) + "\r\n",
	"c1 SEARCH ((((NOT (OR SEEN UNSEEN)))))\r\n",
	"c2 LOGIN {99999999999999999999}\r\n",
	"c3 APPEND {5}\r\nDraft {0+}\r\n\r\n",
	"\xff\xfe\r\n\n\n)(\r\n",
	"c4 FETCH 1 (FLAGS\r\n",
}

// FuzzParser feeds any bytes in any split: the parser must not panic, must
// make progress, keep its event invariants, and afterwards parse a clean
// command once it is back at a command boundary.
func FuzzParser(f *testing.F) {
	for i, s := range parserSeeds {
		f.Add([]byte(s), []byte{byte(i), 3, 7, 1, 250})
	}
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		p := NewParser(Options{MaxLine: 512, MaxLiteral: 256, MaxCommand: 2048, MaxDepth: 8, Literals: LiteralMode(len(splits) % 3)})
		var announced, received int64
		decision := 0
		drain := func() {
			for range 100000 {
				ev, err := p.Next()
				if err != nil {
					var pe *ParseError
					if !errors.As(err, &pe) || pe.Err == nil || pe.ResponseText() == "" {
						t.Fatalf("bad error %#v", err)
					}
					continue
				}
				switch ev.Kind {
				case EventNeedMore:
					return
				case EventCommand:
					if ev.Command.Tag == "" || ev.Command.Name == "" || ev.Command.Args == nil {
						t.Fatalf("incomplete command %+v", ev.Command)
					}
					switch ev.Name {
					case "IDLE":
						p.ExpectDone()
					case "AUTHENTICATE":
						p.ExpectAuthResponse()
					}
				case EventLiteral, EventAppendMessage:
					decision++
					if decision%3 == 0 {
						p.Reject()
					} else {
						p.Accept()
						announced, received = ev.Literal.Size, 0
					}
				case EventAppendData:
					received += int64(len(ev.Data))
					if received > announced {
						t.Fatalf("received %d bytes of a %d byte message", received, announced)
					}
				case EventAppendMessageEnd:
					if received != announced {
						t.Fatalf("message ended after %d of %d bytes", received, announced)
					}
				}
			}
			t.Fatal("parser makes no progress")
		}
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(splits) > 0 {
				n = min(n, int(splits[i%len(splits)])+1)
			}
			p.Feed(rest[:n])
			rest = rest[n:]
			drain()
		}
		// Back at a command boundary, a clean command must parse.
		atBoundary := func() bool {
			return (p.state == stCommand || p.state == stSkipLine) && p.pos == 0 && p.app == nil && p.mode == modeCommand
		}
		if !atBoundary() {
			return
		}
		p.Feed([]byte("\r\n"))
		drain()
		if !atBoundary() || p.state != stCommand {
			return
		}
		p.Feed([]byte("zz NOOP\r\n"))
		ev, err := p.Next()
		if err != nil || ev.Kind != EventCommand || ev.Tag != "zz" || ev.Name != "NOOP" {
			t.Fatalf("no resync: %+v %v", ev, err)
		}
	})
}

func FuzzSeqSet(f *testing.F) {
	for _, s := range []string{"1", "*", "1:*", "1:3,5,7:*", "$", "4294967295", "0", "1,,2", "5:3", "*:*", "01"} {
		f.Add(s, uint32(10))
	}
	f.Fuzz(func(t *testing.T, s string, max uint32) {
		set, err := ParseSeqSet(s)
		if err != nil {
			if !errors.Is(err, ErrBadSeqSet) {
				t.Fatalf("%q: error %v is not ErrBadSeqSet", s, err)
			}
			return
		}
		back, err := ParseSeqSet(set.String())
		if err != nil || !reflect.DeepEqual(back, set) {
			t.Fatalf("%q: round trip %q %v", s, set.String(), err)
		}
		max %= 200
		norm := set.Normalize(max)
		count := uint64(0)
		for n := range set.All(max) {
			if !set.Contains(n, max) || !norm.Contains(n, max) {
				t.Fatalf("%q max %d: %d yielded but not contained", s, max, n)
			}
			count++
			if count > 100000 {
				break
			}
		}
		for n := uint32(1); n <= max; n++ {
			if set.Contains(n, max) != norm.Contains(n, max) {
				t.Fatalf("%q max %d: Normalize disagrees at %d", s, max, n)
			}
		}
	})
}

func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		"ALL", "OR FROM \"a\" (SINCE 1-Feb-1994 UNSEEN) 2:4", "NOT (DELETED OR ANSWERED DRAFT)",
		"HEADER X-Mailer {5}\r\nabcde", "MODSEQ \"/flags/\\\\draft\" all 620162338", "UID $", "OLDER 5 YOUNGER 6",
		"EMAILID abc THREADID T-1", "KEYWORD $Junk UNKEYWORD x", "NEW OLD RECENT", "LARGER 1 SMALLER 2",
		"SENTON \"1-Jan-2000\"", "((((SEEN))))", "TEXT \"caf\xc3\xa9\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSearchCriteria(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v is not a *ParseError", s, err)
			}
			return
		}
		out := k.String()
		again, err := ParseSearchCriteria(out)
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, k) {
			t.Fatalf("%q formats as %q, which parses differently", s, out)
		}
	})
}

func FuzzMailboxUTF7(f *testing.F) {
	for _, s := range []string{"INBOX", "&-", "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "&2D3eAA-", "&AGE-", "&", "a&b", "Entw&APw-rfe", "&U,B-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if dec, err := DecodeMailboxUTF7(s); err == nil {
			if again, err := DecodeMailboxUTF7(EncodeMailboxUTF7(dec)); err != nil || again != dec {
				t.Fatalf("%q decodes to %q, which does not re-encode faithfully", s, dec)
			}
		} else if !errors.Is(err, ErrMailboxName) {
			t.Fatalf("%q: error %v", s, err)
		}
		if utf8.ValidString(s) {
			enc := EncodeMailboxUTF7(s)
			if dec, err := DecodeMailboxUTF7(enc); err != nil || dec != s {
				t.Fatalf("%q encodes to %q, which decodes to %q, %v", s, enc, dec, err)
			}
		}
	})
}
