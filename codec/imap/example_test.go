package imap_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eidermail/eider/codec/imap"
)

// A session feeds what the socket delivered and answers events until the
// parser needs more bytes.
func ExampleParser() {
	const appendLimit = 1 << 20
	p := imap.NewParser(imap.Options{})
	w := imap.NewWriter(unixLines{os.Stdout})

	p.Feed([]byte("a1 LOGIN {3}\r\n"))
	p.Feed([]byte("bob secret\r\na2 APPEND INBOX (\\Seen) {99999999}\r\na3 APPEND INBOX {5+}\r\nhello\r\n"))
	for {
		ev, err := p.Next()
		var pe *imap.ParseError
		if errors.As(err, &pe) {
			_ = w.RejectCommand(pe)
			continue
		}
		switch ev.Kind {
		case imap.EventNeedMore:
			return
		case imap.EventLiteral:
			p.Accept()
			_ = w.Continue("Ready")
		case imap.EventAppendMessage:
			if ev.Literal.Size > appendLimit {
				p.Reject()
				_ = w.NO(ev.Tag, imap.CodeTooBig, "message too large")
				continue
			}
			p.Accept()
			if ev.Literal.Sync {
				_ = w.Continue("Ready")
			}
		case imap.EventAppendData:
			fmt.Printf("(%d message bytes)\n", len(ev.Data))
		case imap.EventCommand:
			switch args := ev.Command.Args.(type) {
			case *imap.LoginCommand:
				_ = w.OK(ev.Tag, imap.CodeCapability("IMAP4rev1", "LITERAL+"), "logged in as "+args.Username)
			case *imap.AppendCommand:
				_ = w.OK(ev.Tag, imap.CodeAppendUID(7, imap.SeqSet{Ranges: []imap.SeqRange{{Start: 42, Stop: 42}}}), "")
			}
		}
	}
	// Output:
	// + Ready
	// a1 OK [CAPABILITY IMAP4rev1 LITERAL+] logged in as bob
	// a2 NO [TOOBIG] message too large
	// (5 message bytes)
	// a3 OK [APPENDUID 7 42] completed
}

func ExampleFetchWriter() {
	w := imap.NewWriter(unixLines{os.Stdout})
	body := "Subject: hi\r\n\r\n"
	f := w.Fetch(3)
	f.UID(42)
	f.Flags([]string{imap.FlagSeen})
	lw, _ := f.Section(imap.FetchItem{Kind: imap.FetchBodySection, Peek: true, Section: imap.Section{Spec: imap.SpecHeader}}, int64(len(body)), false)
	_, _ = io.WriteString(lw, body)
	_ = f.Close()
	// Output:
	// * 3 FETCH (UID 42 FLAGS (\Seen) BODY[HEADER] {15}
	// Subject: hi
	//
	// )
}

// unixLines drops the CR of CRLF so that the examples' output reads as
// plain lines.
type unixLines struct{ w io.Writer }

func (u unixLines) Write(p []byte) (int, error) {
	_, err := u.w.Write(bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n")))
	return len(p), err
}
