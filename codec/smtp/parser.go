package smtp

import (
	"bytes"

	"github.com/eidermail/eider/codec/feed"
)

// Defaults and floors of Config.
const (
	// DefaultMaxLineLength is the default command line limit. RFC 5321
	// 4.5.3.1.4 sets 512 octets; real clients send longer lines (many
	// parameters, long addresses), so the parser is lenient up to this.
	DefaultMaxLineLength = 4096
	// MinMaxLineLength is RFC 5321's limit; a smaller Config value is raised to it.
	MinMaxLineLength = 512
)

// Config tunes a Parser. The zero value uses the defaults.
type Config struct {
	// MaxLineLength bounds a command line, line ending included.
	MaxLineLength int
	// MaxMessageSize bounds a message (the unstuffed DATA bytes, or the
	// sum of a transaction's BDAT chunks); 0 means no limit.
	MaxMessageSize int64
}

// EventKind tells what Next produced.
type EventKind uint8

// Event kinds.
const (
	// EventNeedInput: all fed input is consumed; Feed more.
	EventNeedInput EventKind = iota
	// EventCommand: Event.Command holds a parsed command.
	EventCommand
	// EventData: Event.Data holds message bytes of DATA (unstuffed) or of a
	// BDAT chunk.
	EventData
	// EventTooBig: the message has just passed Config.MaxMessageSize. The
	// parser drops the rest of the message up to its end, which still
	// comes as EventDataEnd with TooBig set.
	EventTooBig
	// EventDataEnd: Event.End describes the DATA transfer or BDAT chunk
	// that just ended; the parser is back in command mode.
	EventDataEnd
)

// DataEnd describes a finished DATA transfer or BDAT chunk.
type DataEnd struct {
	// Size is the octet count of this DATA message (after unstuffing) or
	// of this BDAT chunk.
	Size int64
	// Total is the message size so far: equal to Size for DATA, the sum of
	// the transaction's chunks for BDAT.
	Total int64
	// Last is set when the message is complete: always for DATA, on the
	// LAST chunk for BDAT.
	Last bool
	// Chunked is set for BDAT.
	Chunked bool
	// TooBig is set when the message passed Config.MaxMessageSize: answer
	// 552 5.3.4 (MessageTooBig) instead of delivering.
	TooBig bool
	// BareLF is set when the DATA terminator was not exactly CRLF "." CRLF:
	// the dot line, or the line ending before it, was a bare LF. Such a
	// message was still ended there; the flag lets the caller log or refuse it.
	BareLF bool
}

// Event is one result of Next.
type Event struct {
	Kind    EventKind
	Command Command // EventCommand
	// Data is valid until the next call to Feed, Detach or Discard; it
	// aliases the fed buffer, so copy what must outlive that.
	Data []byte  // EventData
	End  DataEnd // EventDataEnd
}

type mode uint8

const (
	modeCommand mode = iota
	modeData         // after DATA and BeginData: dot-stuffed message
	modeChunk        // after BDAT: exactly n octets
)

// dataState tracks the DATA unstuffer between octets, so that the
// terminator and stuffed dots are found however the input is split.
type dataState uint8

const (
	lineStart dataState = iota // just after LF (or at the start of DATA)
	midLine                    // inside a line
	dotSeen                    // a '.' at line start, held back
	dotCR                      // ".\r" at line start, both held back
)

// Parser is a push-fed command parser and message reader for one LMTP
// connection. It is not safe for concurrent use.
type Parser struct {
	maxLine int
	maxSize int64

	input feed.Input // unconsumed input
	line  []byte     // a command line split across Feed calls
	skip  bool       // discarding an over-long line up to its end

	mode      mode
	afterDATA bool // the last event was a DATA command
	bareEOL   bool // the last line ending seen (command or data) was a bare LF

	dstate dataState
	lastCR bool   // the last data octet handed out was CR
	cr     []byte // the held-back CR of dotCR, when it turns out to be data

	chunkLeft int64
	chunkLast bool
	chunkSkip bool // the BDAT was refused for its syntax: drop its chunk

	size       int64 // octets of the current DATA or chunk
	total      int64 // octets of the current message
	tooBig     bool
	tooBigSent bool
}

// NewParser returns a parser in command mode.
func NewParser(cfg Config) *Parser {
	p := &Parser{maxLine: cfg.MaxLineLength, maxSize: cfg.MaxMessageSize, cr: []byte{'\r'}}
	if p.maxLine == 0 {
		p.maxLine = DefaultMaxLineLength
	}
	p.maxLine = max(p.maxLine, MinMaxLineLength)
	if p.maxSize < 0 {
		p.maxSize = 0
	}
	return p
}

// Feed hands the parser the next bytes from the connection. The parser
// keeps a reference to b, without copying, until Next returns
// EventNeedInput (or Detach or Discard is called): do not modify b before
// that. Feeding again before the input is drained is allowed; the parser
// then copies what it still holds.
func (p *Parser) Feed(b []byte) { p.input.Feed(b) }

// Buffered is the number of fed octets not yet consumed.
func (p *Parser) Buffered() int { return p.input.Len() }

// Detach copies the unconsumed input into the parser's own memory, so that
// the caller may reuse the buffer it fed (for example before handing a
// delivery to a worker while pipelined commands wait).
func (p *Parser) Detach() { p.input.Detach() }

// Discard drops all unconsumed input, including a partial command line,
// and returns how many fed octets it dropped. Call it after answering
// STARTTLS: bytes pipelined behind STARTTLS must not be read as commands.
func (p *Parser) Discard() int {
	n := p.input.Drop() + len(p.line)
	p.line = p.line[:0]
	p.skip = false
	return n
}

// InData reports whether the parser is reading a DATA message or a BDAT chunk.
func (p *Parser) InData() bool { return p.mode != modeCommand }

// BeginData switches to reading a dot-stuffed message. Call it right after
// Next returned a DATA command that the server accepted with 354. If DATA is
// refused, do not call it: the following input is read as commands.
func (p *Parser) BeginData() error {
	if !p.afterDATA || p.mode != modeCommand {
		return ErrNotAfterData
	}
	p.afterDATA = false
	p.mode = modeData
	p.dstate = lineStart
	p.lastCR = false
	p.size = 0
	return nil
}

// Next returns the next event. For a command line it could not accept it
// returns a *CommandError; that line is consumed, so the caller answers
// with the error's Reply and calls Next again.
func (p *Parser) Next() (Event, error) {
	p.afterDATA = false
	for {
		switch p.mode {
		case modeData:
			return p.nextData(), nil
		case modeChunk:
			if p.chunkSkip {
				if !p.skipChunk() {
					return Event{}, nil
				}
				continue
			}
			return p.nextChunk(), nil
		}
		return p.nextCommand()
	}
}

// skipChunk consumes the chunk of a BDAT that was answered with a syntax
// error, reporting whether it is complete.
func (p *Parser) skipChunk() bool {
	n := int64(len(p.input.Pending))
	if n > p.chunkLeft {
		n = p.chunkLeft
	}
	p.input.Pending = p.input.Pending[n:]
	p.chunkLeft -= n
	if p.chunkLeft > 0 {
		return false
	}
	p.mode = modeCommand
	p.chunkSkip = false
	return true
}

func (p *Parser) nextCommand() (Event, error) {
	if p.skip {
		i := bytes.IndexByte(p.input.Pending, '\n')
		if i < 0 {
			p.input.Pending = nil
			return Event{}, nil
		}
		p.input.Pending = p.input.Pending[i+1:]
		p.skip = false
		return Event{}, cmdErr("", ErrLineTooLong, 500, "5.5.2", "Line too long")
	}
	i := bytes.IndexByte(p.input.Pending, '\n')
	if i < 0 {
		if len(p.line)+len(p.input.Pending) >= p.maxLine {
			// Still no line end at the limit: drop what we hold and
			// answer once the line ends.
			p.line = p.line[:0]
			p.skip = true
			p.input.Pending = nil
			return Event{}, nil
		}
		p.line = append(p.line, p.input.Pending...)
		p.input.Pending = nil
		return Event{}, nil
	}
	var line []byte
	if len(p.line) > 0 {
		p.line = append(p.line, p.input.Pending[:i+1]...)
		line = p.line
	} else {
		line = p.input.Pending[:i+1]
	}
	p.input.Pending = p.input.Pending[i+1:]
	p.line = p.line[:0]
	if len(line) > p.maxLine {
		return Event{}, cmdErr("", ErrLineTooLong, 500, "5.5.2", "Line too long")
	}
	line = line[:len(line)-1]
	p.bareEOL = true
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
		p.bareEOL = false
	}
	cmd, err := parseCommand(line)
	if err != nil {
		if cmd.Verb == VerbBDAT && !isFatal(err) {
			// The size was readable: skip the chunk without events,
			// since the caller answers this error now.
			p.startChunk(cmd.ChunkSize, false)
			p.chunkSkip = true
		}
		return Event{}, err
	}
	switch cmd.Verb {
	case VerbLHLO, VerbEHLO, VerbHELO, VerbMAIL, VerbRSET:
		p.resetMessage()
	case VerbDATA:
		p.afterDATA = true
		p.resetMessage() // DATA starts a message; a BDAT count does not carry over
	case VerbBDAT:
		p.startChunk(cmd.ChunkSize, cmd.Last)
	}
	return Event{Kind: EventCommand, Command: cmd}, nil
}

func isFatal(err error) bool {
	ce, ok := err.(*CommandError)
	return ok && ce.Fatal
}

func (p *Parser) resetMessage() {
	p.total = 0
	p.tooBig = false
	p.tooBigSent = false
}

func (p *Parser) startChunk(n int64, last bool) {
	p.mode = modeChunk
	p.chunkLeft = n
	p.chunkLast = last
	p.size = 0
}

// emit accounts for message octets and hands them out, unless the message
// is over the limit: then the first such call reports EventTooBig and the
// rest are dropped.
func (p *Parser) emit(b []byte) (Event, bool) {
	p.size += int64(len(b))
	p.total += int64(len(b))
	if p.maxSize > 0 && p.total > p.maxSize {
		p.tooBig = true
		if !p.tooBigSent {
			p.tooBigSent = true
			return Event{Kind: EventTooBig}, true
		}
		return Event{}, false
	}
	return Event{Kind: EventData, Data: b}, true
}

// nextData runs the DATA unstuffer (RFC 5321 4.5.2). Lines are found by LF,
// so CRLF and bare LF endings both work and pass through unchanged.
func (p *Parser) nextData() Event {
	for {
		in := p.input.Pending
		if len(in) == 0 {
			return Event{}
		}
		switch p.dstate {
		case lineStart:
			if in[0] == '.' {
				p.input.Pending = in[1:]
				p.dstate = dotSeen
				continue
			}
			p.dstate = midLine
		case dotSeen:
			switch in[0] {
			case '\n':
				p.input.Pending = in[1:]
				return p.endData(true)
			case '\r':
				p.input.Pending = in[1:]
				p.dstate = dotCR
				continue
			}
			// A stuffed line: the leading dot is dropped.
			p.dstate = midLine
		case dotCR:
			if in[0] == '\n' {
				p.input.Pending = in[1:]
				return p.endData(p.bareEOL)
			}
			// ".\r" then something else: a stuffed line whose CR is data.
			p.dstate = midLine
			p.lastCR = true
			p.cr[0] = '\r' // in case a caller wrote into an earlier Data
			if ev, ok := p.emit(p.cr); ok {
				return ev
			}
		case midLine:
			// Only lines starting with a dot need attention, so jump from
			// one "\n." to the next; the rest passes through untouched.
			chunk := in
			if i := bytes.Index(in, []byte("\n.")); i >= 0 {
				chunk = in[:i+1]
			}
			p.input.Pending = in[len(chunk):]
			n := len(chunk)
			if chunk[n-1] == '\n' {
				p.dstate = lineStart
				p.bareEOL = !(n >= 2 && chunk[n-2] == '\r' || n == 1 && p.lastCR)
			}
			p.lastCR = chunk[n-1] == '\r'
			if ev, ok := p.emit(chunk); ok {
				return ev
			}
		}
	}
}

func (p *Parser) endData(bareLF bool) Event {
	end := DataEnd{Size: p.size, Total: p.total, Last: true, TooBig: p.tooBig, BareLF: bareLF}
	p.mode = modeCommand
	p.dstate = lineStart
	p.resetMessage()
	return Event{Kind: EventDataEnd, End: end}
}

// nextChunk hands out a BDAT chunk as it arrives; no unstuffing (RFC 3030).
func (p *Parser) nextChunk() Event {
	for p.chunkLeft > 0 {
		if len(p.input.Pending) == 0 {
			return Event{}
		}
		n := int64(len(p.input.Pending))
		if n > p.chunkLeft {
			n = p.chunkLeft
		}
		b := p.input.Pending[:n]
		p.input.Pending = p.input.Pending[n:]
		p.chunkLeft -= n
		if ev, ok := p.emit(b); ok {
			return ev
		}
	}
	end := DataEnd{Size: p.size, Total: p.total, Last: p.chunkLast, Chunked: true, TooBig: p.tooBig}
	p.mode = modeCommand
	if p.chunkLast {
		p.resetMessage()
	}
	return Event{Kind: EventDataEnd, End: end}
}
