package imap

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// record is one observable outcome of the parser, with APPEND data chunks
// joined, so that transcripts compare equal however the input was split.
type record struct {
	Kind    EventKind
	Tag     string
	Name    string
	Args    Args
	Literal LiteralInfo
	Mailbox string
	Message *AppendMessage
	Data    string
	Cancel  bool
	Err     string // sentinel text
	ErrTag  string
	ErrCode Code
	Fatal   bool
}

func (r record) String() string {
	if r.Err != "" {
		return fmt.Sprintf("error(%s tag=%q code=%q fatal=%v)", r.Err, r.ErrTag, r.ErrCode, r.Fatal)
	}
	return fmt.Sprintf("%d %s %s %+v lit=%+v mbox=%q msg=%+v data=%q cancel=%v", r.Kind, r.Tag, r.Name, r.Args, r.Literal, r.Mailbox, r.Message, r.Data, r.Cancel)
}

// driver feeds chunks and collects records; decide answers literal
// requests (nil accepts all), mode is called after each command (to enter
// IDLE or SASL modes).
type driver struct {
	p      *Parser
	decide func(Event) bool
	after  func(p *Parser, cmd *Command)
	out    []record
}

func (d *driver) drain(t testing.TB) {
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("parser does not make progress")
		}
		ev, err := d.p.Next()
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			d.out = append(d.out, record{Err: pe.Err.Error(), ErrTag: pe.Tag, ErrCode: pe.Code, Fatal: pe.Fatal})
			continue
		}
		switch ev.Kind {
		case EventNeedMore:
			return
		case EventAppendData:
			if n := len(d.out); n > 0 && d.out[n-1].Kind == EventAppendData {
				d.out[n-1].Data += string(ev.Data)
				continue
			}
			d.out = append(d.out, record{Kind: ev.Kind, Tag: ev.Tag, Name: ev.Name, Data: string(ev.Data)})
			continue
		case EventLiteral, EventAppendMessage:
			// Record the decision request only once, however often Next
			// repeats it.
			rec := record{Kind: ev.Kind, Tag: ev.Tag, Name: ev.Name, Literal: ev.Literal, Mailbox: ev.Mailbox, Message: ev.Message}
			d.out = append(d.out, rec)
			accept := d.decide == nil || d.decide(ev)
			if accept {
				d.p.Accept()
			} else {
				d.p.Reject()
			}
			continue
		}
		rec := record{Kind: ev.Kind, Tag: ev.Tag, Name: ev.Name, Mailbox: ev.Mailbox, Cancel: ev.Cancel, Data: string(ev.Data)}
		if ev.Command != nil {
			rec.Args = ev.Command.Args
			if ev.Command.Tag != ev.Tag || ev.Command.Name != ev.Name {
				t.Fatalf("event tag/name %q %q differ from command %q %q", ev.Tag, ev.Name, ev.Command.Tag, ev.Command.Name)
			}
			if d.after != nil {
				d.after(d.p, ev.Command)
			}
		}
		d.out = append(d.out, rec)
	}
}

func runChunks(t testing.TB, opts Options, chunks []string, decide func(Event) bool, after func(*Parser, *Command)) []record {
	d := &driver{p: NewParser(opts), decide: decide, after: after}
	for _, c := range chunks {
		d.p.Feed([]byte(c))
		d.drain(t)
	}
	return d.out
}

// checkSplits runs in whole, split in two at every position, and byte by
// byte, and requires the same transcript each time.
func checkSplits(t *testing.T, opts Options, in string, decide func(Event) bool, after func(*Parser, *Command)) []record {
	t.Helper()
	want := runChunks(t, opts, []string{in}, decide, after)
	for i := 1; i < len(in); i++ {
		// Long inputs: every position near the ends, a stride between.
		if len(in) > 1000 && i > 400 && i < len(in)-400 && i%97 != 0 {
			continue
		}
		got := runChunks(t, opts, []string{in[:i], in[i:]}, decide, after)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d of %q:\n got %v\nwant %v", i, in, got, want)
		}
	}
	bytewise := make([]string, len(in))
	for i := 0; i < len(in); i++ {
		bytewise[i] = in[i : i+1]
	}
	if got := runChunks(t, opts, bytewise, decide, after); !reflect.DeepEqual(got, want) {
		t.Fatalf("byte by byte %q:\n got %v\nwant %v", in, got, want)
	}
	return want
}

func describe(recs []record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
