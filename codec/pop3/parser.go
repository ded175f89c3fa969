package pop3

import (
	"bytes"
	"strings"

	"github.com/eidermail/eider/codec/feed"
)

// Line limits.
const (
	// MinMaxLineLength is RFC 2449's command line limit (255 octets with
	// CRLF); a smaller Config value is raised to it.
	MinMaxLineLength = 255
	// DefaultMaxLineLength is the lenient default for command lines.
	DefaultMaxLineLength = 1024
	// DefaultMaxAuthLineLength bounds AUTH lines and SASL responses, which
	// carry base64 tokens (GSSAPI, OAuth bearer tokens) longer than 255.
	DefaultMaxAuthLineLength = 16384
)

// Config tunes a Parser. The zero value uses the defaults.
type Config struct {
	// MaxLineLength bounds a command line, line ending included.
	MaxLineLength int
	// MaxAuthLineLength bounds an AUTH command line and a SASL response
	// line; it is never below MaxLineLength.
	MaxAuthLineLength int
}

// EventKind tells what Next produced.
type EventKind uint8

// Event kinds.
const (
	// EventNeedInput: all fed input is consumed; Feed more.
	EventNeedInput EventKind = iota
	// EventCommand: Event.Command holds a parsed command.
	EventCommand
	// EventSASLResponse: Event.SASL holds the client's answer to a "+ "
	// challenge (only after ExpectSASL).
	EventSASLResponse
)

// SASLResponse is one client line of a SASL exchange (RFC 5034 4).
type SASLResponse struct {
	// Cancel is set when the client sent "*" to abort the exchange; the
	// server answers -ERR.
	Cancel bool
	// Data is the decoded response.
	Data []byte
}

// Event is one result of Next.
type Event struct {
	Kind    EventKind
	Command Command      // EventCommand
	SASL    SASLResponse // EventSASLResponse
}

// Parser is a push-fed POP3 command parser for one connection. It is not
// safe for concurrent use.
type Parser struct {
	maxLine     int
	maxAuthLine int

	input feed.Input // unconsumed input
	line  []byte     // a line split across Feed calls
	skip  bool       // discarding an over-long line up to its end

	sasl     bool // the next line is a SASL response
	lastAUTH bool // the last event was an AUTH command or a SASL response
}

// NewParser returns a parser reading commands.
func NewParser(cfg Config) *Parser {
	p := &Parser{maxLine: cfg.MaxLineLength, maxAuthLine: cfg.MaxAuthLineLength}
	if p.maxLine == 0 {
		p.maxLine = DefaultMaxLineLength
	}
	p.maxLine = max(p.maxLine, MinMaxLineLength)
	if p.maxAuthLine == 0 {
		p.maxAuthLine = DefaultMaxAuthLineLength
	}
	p.maxAuthLine = max(p.maxAuthLine, p.maxLine)
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
// the caller may reuse the buffer it fed (for example while a store call
// for a pipelined RETR is in flight).
func (p *Parser) Detach() { p.input.Detach() }

// Discard drops all unconsumed input, including a partial line, and returns
// how many octets it dropped. Call it after answering STLS: bytes pipelined
// behind STLS must not be read as commands.
func (p *Parser) Discard() int {
	n := p.input.Drop() + len(p.line)
	p.line = p.line[:0]
	p.skip = false
	return n
}

// ExpectSASL makes the next line a SASL response instead of a command.
// Call it after sending a "+ " challenge for an AUTH command (and again
// after each further challenge of the same exchange).
func (p *Parser) ExpectSASL() error {
	if !p.lastAUTH {
		return ErrNoSASLExchange
	}
	p.sasl = true
	return nil
}

// Next returns the next event. It returns a *CommandError for a line it
// could not accept; that line is consumed, so the caller answers -ERR and
// calls Next again.
func (p *Parser) Next() (Event, error) {
	if !p.sasl {
		p.lastAUTH = false
	}
	line, ok, err := p.nextLine()
	if !ok {
		return Event{}, err
	}
	if p.sasl {
		p.sasl = false
		return p.saslResponse(line)
	}
	cmd, err := ParseCommand(line)
	if err != nil {
		return Event{}, err
	}
	p.lastAUTH = cmd.Verb == VerbAUTH && cmd.Mechanism != ""
	return Event{Kind: EventCommand, Command: cmd}, nil
}

func (p *Parser) saslResponse(line []byte) (Event, error) {
	if string(line) == "*" {
		p.lastAUTH = false
		return Event{Kind: EventSASLResponse, SASL: SASLResponse{Cancel: true}}, nil
	}
	data, err := decodeSASL(string(line), false)
	if err != nil {
		p.lastAUTH = false
		return Event{}, cmdErr(VerbAUTH, ErrBadBase64, "Invalid base64 in SASL response")
	}
	p.lastAUTH = true
	return Event{Kind: EventSASLResponse, SASL: SASLResponse{Data: data}}, nil
}

// nextLine returns the next complete line without its ending. ok is false
// when more input is needed (err nil) or the line was rejected (err set).
func (p *Parser) nextLine() (line []byte, ok bool, err error) {
	if p.skip {
		i := bytes.IndexByte(p.input.Pending, '\n')
		if i < 0 {
			p.input.Pending = nil
			return nil, false, nil
		}
		p.input.Pending = p.input.Pending[i+1:]
		p.skip = false
		p.sasl = false
		return nil, false, cmdErr("", ErrLineTooLong, "Line too long")
	}
	i := bytes.IndexByte(p.input.Pending, '\n')
	if i < 0 {
		if len(p.line)+len(p.input.Pending) >= p.limit(p.line, p.input.Pending) {
			// No line end within the limit: drop what is held and answer
			// once the line ends.
			p.line = p.line[:0]
			p.skip = true
			p.input.Pending = nil
			return nil, false, nil
		}
		p.line = append(p.line, p.input.Pending...)
		p.input.Pending = nil
		return nil, false, nil
	}
	if len(p.line) > 0 {
		p.line = append(p.line, p.input.Pending[:i+1]...)
		line = p.line
	} else {
		line = p.input.Pending[:i+1]
	}
	p.input.Pending = p.input.Pending[i+1:]
	p.line = p.line[:0]
	if len(line) > p.limit(line, nil) {
		p.sasl = false
		return nil, false, cmdErr("", ErrLineTooLong, "Line too long")
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, true, nil
}

// limit is the length bound for the line whose first octets are a then b:
// the larger AUTH limit for SASL responses and for lines that start with
// "AUTH ".
func (p *Parser) limit(a, b []byte) int {
	if p.sasl {
		return p.maxAuthLine
	}
	var head [5]byte
	n := copy(head[:], a)
	copy(head[n:], b)
	if strings.EqualFold(string(head[:]), "AUTH ") {
		return p.maxAuthLine
	}
	return p.maxLine
}
