package imap

import (
	"bytes"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxLine    = 64 << 10
	DefaultMaxLiteral = 64 << 10
	DefaultMaxCommand = 1 << 20
	DefaultMaxDepth   = 32

	// RFC 7888 section 4: LITERAL- allows non-synchronizing literals up to
	// this size.
	literalMinusMax = 4096
	// Synchronizing literals per command whose prefix is syntax-checked
	// before the continuation request is sent.
	maxEarlyChecks = 8
)

// LiteralMode says which non-synchronizing literals the server advertised.
type LiteralMode uint8

const (
	LiteralPlus  LiteralMode = iota // LITERAL+: {n+} of any size
	LiteralMinus                    // LITERAL-: {n+} up to 4096 bytes
	LiteralSync                     // neither: only {n}
)

// Options bound what one command may cost. Zero fields take the defaults.
type Options struct {
	MaxLine    int   // bytes of one command line, line ending excluded
	MaxLiteral int64 // bytes of one literal buffered with its command (not APPEND data)
	MaxCommand int   // bytes of all lines and buffered literals of one command
	MaxDepth   int   // nesting of parentheses, NOT and OR in SEARCH
	Literals   LiteralMode
	UTF8       bool // UTF8=ACCEPT or IMAP4rev2 enabled: mailbox names are UTF-8
}

// EventKind tells what Parser.Next found.
type EventKind uint8

const (
	// EventNeedMore: no complete event is buffered; Feed more bytes.
	EventNeedMore EventKind = iota
	// EventCommand: Event.Command is a complete command.
	EventCommand
	// EventLiteral: the command Event.Tag / Event.Name announced the
	// synchronizing literal Event.Literal. Call Accept and send a
	// continuation request ("+ Ready"), or call Reject and answer the tag
	// with NO or BAD. Next repeats this event until one of them is called.
	EventLiteral
	// EventAppendMessage: a message of APPEND Event.Mailbox follows,
	// described by Event.Message and Event.Literal. A synchronizing literal
	// needs Accept (then send "+ Ready") or Reject (then answer NO, e.g.
	// [TOOBIG] over APPENDLIMIT) before Next goes on; a non-synchronizing one
	// is read on the next call unless Reject was called, which discards it.
	EventAppendMessage
	// EventAppendData: Event.Data holds the next bytes of the message.
	EventAppendData
	// EventAppendMessageEnd: all bytes of the message were delivered. More
	// messages (MULTIAPPEND) or the completed APPEND command follow.
	EventAppendMessageEnd
	// EventDone: the client ended IDLE (after ExpectDone).
	EventDone
	// EventAuthResponse: a SASL response line (after ExpectAuthResponse):
	// Event.Data decoded, or Event.Cancel when the client sent "*".
	EventAuthResponse
)

// LiteralInfo describes an announced literal.
type LiteralInfo struct {
	Size   int64
	Sync   bool // {n}: the client waits for a continuation request
	Binary bool // ~{n}: literal8
}

// Event is what Parser.Next returns.
type Event struct {
	Kind    EventKind
	Tag     string // tag of the command concerned, when known
	Name    string // its canonical name, when known
	Command *Command
	Literal LiteralInfo
	Mailbox string         // EventAppendMessage: target mailbox
	Message *AppendMessage // EventAppendMessage
	// Data: EventAppendData bytes, valid until the next call to Feed; the
	// decoded EventAuthResponse.
	Data   []byte
	Cancel bool // EventAuthResponse: the client cancelled with "*"
}

type parserState uint8

const (
	stCommand     parserState = iota // framing command lines
	stLiteral                        // buffering a literal of the command
	stLiteralWait                    // synchronizing literal announced: Accept or Reject
	stAppendWait                     // APPEND message announced
	stAppendData                     // streaming APPEND message bytes
	stAppendEnd                      // message done, report it
	stSkipLine                       // discarding the rest of a refused command's line
	stSkipLiteral                    // discarding a refused non-synchronizing literal
)

type lineMode uint8

const (
	modeCommand lineMode = iota
	modeDone             // IDLE: expecting DONE
	modeAuth             // AUTHENTICATE: expecting a SASL response
)

// Parser frames and parses client commands from bytes pushed into it. It
// is not safe for concurrent use; one belongs to one connection.
type Parser struct {
	opts Options
	rd   reader

	buf []byte
	r   int // bytes before r are consumed; the command being framed starts at r
	// Offsets relative to r for the command being framed:
	pos  int // end of the framed lines and literals
	line int // start of the current line
	scan int // where the search for the line's LF resumes

	state     parserState
	need      int64 // literal bytes still to read or skip
	pend      Event // event awaiting Accept or Reject
	tag, name string
	syncLits  int // synchronizing literals seen in the command

	app     *AppendCommand // APPEND being streamed
	appMsg  AppendMessage
	appOpen bool // UTF8 (~{n}): the ")" after the data is still due

	tail  [32]byte // last bytes of a line being skipped, to spot a literal
	tailN int

	mode    lineMode
	modeTag string
	lastTag string // tag of the last command returned, for ExpectDone and ExpectAuthResponse
}

// NewParser returns a parser with the given limits.
func NewParser(opts Options) *Parser {
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.MaxLiteral <= 0 {
		opts.MaxLiteral = DefaultMaxLiteral
	}
	if opts.MaxCommand <= 0 {
		opts.MaxCommand = DefaultMaxCommand
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	p := &Parser{opts: opts}
	p.rd.maxDepth = opts.MaxDepth
	p.rd.utf8 = opts.UTF8
	return p
}

// SetUTF8 switches mailbox names between modified UTF-7 and UTF-8, once
// the client has enabled UTF8=ACCEPT or IMAP4rev2.
func (p *Parser) SetUTF8(on bool) {
	p.opts.UTF8 = on
	p.rd.utf8 = on
}

// SetLiteralMode changes which non-synchronizing literals are accepted.
func (p *Parser) SetLiteralMode(m LiteralMode) { p.opts.Literals = m }

// Feed appends bytes received from the client. The parser copies them.
// Data slices of earlier events become invalid.
func (p *Parser) Feed(b []byte) {
	if p.r > 0 && (p.r == len(p.buf) || len(b) > cap(p.buf)-len(p.buf)) {
		n := copy(p.buf, p.buf[p.r:])
		p.buf = p.buf[:n]
		p.r = 0
	}
	p.buf = append(p.buf, b...)
}

// Buffered returns the bytes fed but not yet consumed as a complete event,
// e.g. what a client pipelined after STARTTLS or COMPRESS.
func (p *Parser) Buffered() []byte { return p.buf[p.r:] }

// Discard drops all buffered bytes and any command being framed, as after
// STARTTLS, where pipelined plaintext must not be obeyed.
func (p *Parser) Discard() {
	p.buf = p.buf[:0]
	p.r = 0
	p.resetCommand()
	p.state = stCommand
	p.mode = modeCommand
}

// Release frees the input buffer when nothing is buffered, so an idle
// connection holds no parser memory.
func (p *Parser) Release() {
	if p.r == len(p.buf) && p.state == stCommand && p.pos == 0 {
		p.buf, p.r = nil, 0
	}
}

// ExpectDone makes the next line the end of IDLE: call it after sending the
// IDLE continuation request. DONE yields EventDone; any other line an error
// carrying the IDLE tag (ErrExpectedDone).
func (p *Parser) ExpectDone() {
	p.mode, p.modeTag = modeDone, p.lastTag
}

// ExpectDoneOf is ExpectDone for a parser that did not read the IDLE
// command itself: a session drops its parser while it idles (an idle
// connection then holds no parser) and makes a new one when input comes.
func (p *Parser) ExpectDoneOf(tag string) {
	p.mode, p.modeTag = modeDone, tag
}

// ExpectAuthResponse makes the next line a SASL response: call it after
// sending a continuation request with a challenge during AUTHENTICATE.
func (p *Parser) ExpectAuthResponse() {
	p.mode, p.modeTag = modeAuth, p.lastTag
}

// Accept lets the announced synchronizing literal (EventLiteral or a
// synchronizing EventAppendMessage) be read; the caller sends "+ ...".
func (p *Parser) Accept() {
	switch p.state {
	case stLiteralWait:
		p.state = stLiteral
	case stAppendWait:
		p.state = stAppendData
	}
}

// Reject refuses the announced literal: the command is dropped, for APPEND
// including messages already delivered. A synchronizing literal is never
// sent by the client after the tagged response; a non-synchronizing one is
// read and discarded with the rest of the command.
func (p *Parser) Reject() {
	switch p.state {
	case stLiteralWait:
		p.consume(p.pos)
		p.state = stCommand
	case stAppendWait:
		sync := p.pend.Literal.Sync
		p.resetCommand()
		if sync {
			p.state = stCommand
		} else {
			p.state = stSkipLiteral
		}
	}
}

func (p *Parser) resetCommand() {
	p.pos, p.line, p.scan = 0, 0, 0
	p.tag, p.name = "", ""
	p.syncLits = 0
	p.app, p.appOpen = nil, false
	p.pend = Event{}
}

// consume drops n framed bytes and starts framing a new command.
func (p *Parser) consume(n int) {
	p.r += n
	p.resetCommand()
}

// Next returns the next event. Call it until it returns EventNeedMore, then
// Feed more bytes. An error is a *ParseError for a command that was
// refused; the parser skips that command and Next may be called again.
func (p *Parser) Next() (Event, error) {
	for {
		var (
			ev   Event
			err  error
			done bool
		)
		switch p.state {
		case stCommand:
			if p.mode != modeCommand && p.pos == 0 && p.app == nil {
				ev, err, done = p.stepModeLine()
			} else {
				ev, err, done = p.stepCommand()
			}
		case stLiteral:
			ev, done = p.stepLiteral()
		case stLiteralWait:
			return p.pend, nil
		case stAppendWait:
			if p.pend.Literal.Sync {
				return p.pend, nil
			}
			p.state = stAppendData
		case stAppendData:
			ev, done = p.stepAppendData()
		case stAppendEnd:
			p.app.Messages = append(p.app.Messages, p.appMsg)
			p.state = stCommand
			return Event{Kind: EventAppendMessageEnd, Tag: p.tag, Name: p.name, Mailbox: p.app.Mailbox}, nil
		case stSkipLine:
			ev, done = p.stepSkipLine()
		case stSkipLiteral:
			ev, done = p.stepSkipLiteral()
		}
		if done {
			return ev, err
		}
	}
}

// stepCommand frames the next line of a command.
func (p *Parser) stepCommand() (Event, error, bool) {
	data := p.buf[p.r:]
	idx := bytes.IndexByte(data[p.scan:], '\n')
	if idx < 0 {
		p.scan = len(data)
		if p.scan-p.line > p.opts.MaxLine+1 {
			return p.abortLine(ErrLineTooLong, "", false)
		}
		if p.scan > p.opts.MaxCommand {
			return p.abortLine(ErrCommandTooLarge, "", false)
		}
		return Event{Kind: EventNeedMore}, nil, true
	}
	lf := p.scan + idx
	end := lf
	if end > p.line && data[end-1] == '\r' {
		end--
	}
	if end-p.line > p.opts.MaxLine {
		return p.abortLine(ErrLineTooLong, "", false)
	}
	if lf+1 > p.opts.MaxCommand {
		return p.abortLine(ErrCommandTooLarge, "", false)
	}
	m := lineMarker(data[p.line:end])
	if p.line == 0 && (m.ok || p.app != nil) && p.tag == "" {
		p.tag, p.name = peekTagName(data[:end])
	}
	if !m.ok {
		if p.app != nil {
			return p.finishAppend(data[:end], lf+1)
		}
		if p.line == 0 && end == 0 {
			// An empty line is no command; answering it would only
			// confuse a client that sent a stray line ending.
			p.consume(lf + 1)
			return Event{}, nil, false
		}
		p.rd.reset(data[:end], false)
		cmd, err := p.rd.parseCommand()
		p.consume(lf + 1)
		if err != nil {
			return Event{}, err, true
		}
		p.lastTag = cmd.Tag
		return Event{Kind: EventCommand, Tag: cmd.Tag, Name: cmd.Name, Command: cmd}, nil, true
	}
	p.pos = lf + 1
	if m.bad {
		return p.abortMarker(m, &ParseError{Err: ErrLiteralTooLarge, Code: CodeTooBig, Msg: "literal size out of range", Fatal: !m.sync()})
	}
	if p.app != nil || p.name == "APPEND" {
		if ev, err, done, ok := p.appendMarker(data[:p.pos], m); ok {
			return ev, err, done
		}
		// The literal is the mailbox name: buffer it like any other.
	}
	if m.binary {
		return p.abortMarker(m, failf(ErrSyntax, "literal8 is only allowed in APPEND"))
	}
	if err := p.checkNonSync(m); err != nil {
		return p.abortMarker(m, err)
	}
	if int64(m.size) > p.opts.MaxLiteral {
		return p.abortMarker(m, &ParseError{Err: ErrLiteralTooLarge, Code: CodeTooBig,
			Msg: "literal larger than the server accepts"})
	}
	if uint64(p.pos)+m.size > uint64(p.opts.MaxCommand) {
		return p.abortMarker(m, &ParseError{Err: ErrCommandTooLarge, Code: CodeTooBig, Msg: "command too large"})
	}
	p.need = int64(m.size)
	if m.nonSync {
		p.state = stLiteral
		return Event{}, nil, false
	}
	// Refuse a command that is already wrong before asking the client for
	// the literal. (An APPEND prefix was checked by appendMarker.) The
	// check re-reads the command so far, so it is bounded to the first few
	// literals of a command; later errors surface when it completes.
	p.syncLits++
	if p.name != "APPEND" && p.syncLits <= maxEarlyChecks {
		p.rd.reset(data[:p.pos], true)
		if _, err := p.rd.parseCommand(); err != errIncomplete {
			if err == nil {
				err = failf(ErrSyntax, "unexpected literal")
			}
			return p.abortMarker(m, err)
		}
	}
	p.state = stLiteralWait
	p.pend = Event{Kind: EventLiteral, Tag: p.tag, Name: p.name,
		Literal: LiteralInfo{Size: int64(m.size), Sync: true}}
	return p.pend, nil, true
}

// checkNonSync enforces the advertised literal extension.
func (p *Parser) checkNonSync(m marker) error {
	if !m.nonSync {
		return nil
	}
	switch p.opts.Literals {
	case LiteralSync:
		return &ParseError{Err: ErrNonSyncLiteral, Msg: "non-synchronizing literals are not supported"}
	case LiteralMinus:
		if m.size > literalMinusMax {
			return &ParseError{Err: ErrLiteralTooLarge, Code: CodeTooBig, Fatal: true,
				Msg: "non-synchronizing literal larger than 4096 bytes"}
		}
	}
	return nil
}

// stepLiteral buffers literal bytes of the command being framed.
func (p *Parser) stepLiteral() (Event, bool) {
	avail := int64(len(p.buf) - p.r - p.pos)
	take := min(avail, p.need)
	p.pos += int(take)
	p.need -= take
	if p.need > 0 {
		return Event{Kind: EventNeedMore}, true
	}
	p.line, p.scan = p.pos, p.pos
	p.state = stCommand
	return Event{}, false
}

// appendMarker handles a literal announcement inside APPEND: it parses the
// options of the message and hands the message to the caller. It reports
// ok false when the literal is the mailbox name rather than a message.
func (p *Parser) appendMarker(seg []byte, m marker) (ev Event, err error, done, ok bool) {
	rd := &p.rd
	rd.reset(seg, true)
	if p.app == nil {
		tag, mbox, err := rd.appendStart()
		if err == errIncomplete {
			return Event{}, nil, false, false
		}
		if err != nil {
			ev, err, done = p.abortMarker(m, err)
			return ev, err, done, true
		}
		p.tag, p.name = tag, "APPEND"
		p.app = &AppendCommand{Mailbox: mbox}
	} else if p.appOpen {
		if err := rd.expect(')'); err != nil {
			ev, err, done = p.abortMarker(m, err)
			return ev, err, done, true
		}
	}
	msg, size, nonSync, err := rd.appendMessage()
	if err == nil {
		err = p.checkNonSync(m)
	}
	if err != nil {
		ev, err, done = p.abortMarker(m, err)
		return ev, err, done, true
	}
	msg.Size, msg.Sync = int64(size), !nonSync
	p.appMsg = msg
	p.appOpen = msg.UTF8
	p.need = int64(size)
	// The options are parsed: drop them so only message bytes follow.
	p.r += p.pos
	p.pos, p.line, p.scan = 0, 0, 0
	p.state = stAppendWait
	out := msg
	p.pend = Event{Kind: EventAppendMessage, Tag: p.tag, Name: p.name, Mailbox: p.app.Mailbox, Message: &out,
		Literal: LiteralInfo{Size: msg.Size, Sync: msg.Sync, Binary: msg.Binary}}
	return p.pend, nil, true, true
}

func (p *Parser) stepAppendData() (Event, bool) {
	if p.need == 0 {
		p.state = stAppendEnd
		return Event{}, false
	}
	avail := int64(len(p.buf) - p.r)
	if avail == 0 {
		return Event{Kind: EventNeedMore}, true
	}
	take := min(avail, p.need)
	chunk := p.buf[p.r : p.r+int(take) : p.r+int(take)]
	p.r += int(take)
	p.need -= take
	return Event{Kind: EventAppendData, Tag: p.tag, Name: p.name, Data: chunk}, true
}

// finishAppend parses the line that ends an APPEND after its last message.
func (p *Parser) finishAppend(seg []byte, n int) (Event, error, bool) {
	rd := &p.rd
	rd.reset(seg, false)
	var err error
	if p.appOpen {
		err = rd.expect(')')
	}
	if err == nil {
		err = rd.end()
	}
	tag, app := p.tag, p.app
	p.consume(n)
	if err != nil {
		return Event{}, p.tagError(err, tag, "APPEND"), true
	}
	p.lastTag = tag
	cmd := &Command{Tag: tag, Name: "APPEND", Args: app}
	return Event{Kind: EventCommand, Tag: tag, Name: "APPEND", Command: cmd}, nil, true
}

// tagError fills in the tag and command of a parse error.
func (p *Parser) tagError(err error, tag, name string) error {
	if pe, ok := err.(*ParseError); ok {
		if pe.Tag == "" {
			pe.Tag = tag
		}
		if pe.Command == "" {
			pe.Command = name
		}
	}
	return err
}

// abortMarker refuses the command whose current line ends with the literal
// announcement m (already framed up to p.pos). A synchronizing literal ends
// the command: the client waits for a continuation it will not get. A
// non-synchronizing literal's bytes and the rest of the command are skipped.
func (p *Parser) abortMarker(m marker, err error) (Event, error, bool) {
	tag, name := p.tag, p.name
	p.consume(p.pos)
	if m.sync() || m.bad {
		p.state = stCommand
	} else {
		p.need = int64(m.size)
		p.state = stSkipLiteral
	}
	return Event{}, p.tagError(err, tag, name), true
}

// abortLine refuses the command because of its current, incomplete or
// overlong line: everything framed so far is dropped and the rest of the
// line is skipped.
func (p *Parser) abortLine(kind error, msg string, fatal bool) (Event, error, bool) {
	tag, name := p.tag, p.name
	if p.line == 0 && tag == "" {
		first := p.buf[p.r:]
		if len(first) > 256 {
			first = first[:256]
		}
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		tag, name = peekTagName(first)
	}
	if msg == "" {
		switch kind {
		case ErrLineTooLong:
			msg = "command line too long"
		case ErrCommandTooLarge:
			msg = "command too large"
		}
	}
	p.r += p.line
	p.resetCommand()
	p.tailN = 0
	p.state = stSkipLine
	return Event{}, &ParseError{Tag: tag, Command: name, Err: kind, Msg: msg, Fatal: fatal}, true
}

// stepSkipLine discards up to the end of the line, watching for a
// non-synchronizing literal announced at its end whose bytes must be
// skipped too.
func (p *Parser) stepSkipLine() (Event, bool) {
	data := p.buf[p.r:]
	idx := bytes.IndexByte(data, '\n')
	if idx < 0 {
		p.keepTail(data)
		p.r = len(p.buf)
		return Event{Kind: EventNeedMore}, true
	}
	p.keepTail(data[:idx])
	p.r += idx + 1
	t := p.tail[:p.tailN]
	if len(t) > 0 && t[len(t)-1] == '\r' {
		t = t[:len(t)-1]
	}
	m := lineMarker(t)
	p.tailN = 0
	if m.ok && m.nonSync && !m.bad {
		p.need = int64(m.size)
		p.state = stSkipLiteral
	} else {
		p.state = stCommand
	}
	return Event{}, false
}

func (p *Parser) keepTail(b []byte) {
	if len(b) >= len(p.tail) {
		p.tailN = copy(p.tail[:], b[len(b)-len(p.tail):])
		return
	}
	if p.tailN+len(b) > len(p.tail) {
		drop := p.tailN + len(b) - len(p.tail)
		copy(p.tail[:], p.tail[drop:p.tailN])
		p.tailN -= drop
	}
	p.tailN += copy(p.tail[p.tailN:], b)
}

func (p *Parser) stepSkipLiteral() (Event, bool) {
	avail := int64(len(p.buf) - p.r)
	take := min(avail, p.need)
	p.r += int(take)
	p.need -= take
	if p.need > 0 {
		return Event{Kind: EventNeedMore}, true
	}
	p.tailN = 0
	p.state = stSkipLine
	return Event{}, false
}

// stepModeLine reads the line that ends IDLE or answers a SASL challenge.
func (p *Parser) stepModeLine() (Event, error, bool) {
	data := p.buf[p.r:]
	idx := bytes.IndexByte(data[p.scan:], '\n')
	if idx < 0 {
		p.scan = len(data)
		if p.scan > p.opts.MaxLine+1 {
			tag, mode := p.modeTag, p.mode
			p.mode = modeCommand
			p.resetCommand()
			p.tailN = 0
			p.state = stSkipLine
			return Event{}, &ParseError{Tag: tag, Err: modeError(mode), Msg: "response line too long"}, true
		}
		return Event{Kind: EventNeedMore}, nil, true
	}
	lf := p.scan + idx
	end := lf
	if end > 0 && data[end-1] == '\r' {
		end--
	}
	line := data[:end]
	mode, tag := p.mode, p.modeTag
	p.mode = modeCommand
	if end > p.opts.MaxLine {
		p.consume(lf + 1)
		return Event{}, &ParseError{Tag: tag, Err: modeError(mode), Msg: "response line too long"}, true
	}
	if mode == modeDone {
		ok := equalFoldASCII(string(line), "DONE")
		p.consume(lf + 1)
		if !ok {
			return Event{}, &ParseError{Tag: tag, Command: "IDLE", Err: ErrExpectedDone, Msg: "expected DONE"}, true
		}
		return Event{Kind: EventDone, Tag: tag, Name: "IDLE"}, nil, true
	}
	ev := Event{Kind: EventAuthResponse, Tag: tag, Name: "AUTHENTICATE"}
	var err error
	switch {
	case len(line) == 1 && line[0] == '*':
		ev.Cancel = true
	default:
		ev.Data, err = decodeBase64(line)
	}
	p.consume(lf + 1)
	if err != nil {
		return Event{}, p.tagError(err, tag, "AUTHENTICATE"), true
	}
	return ev, nil, true
}

func modeError(m lineMode) error {
	if m == modeDone {
		return ErrExpectedDone
	}
	return ErrBase64
}

// marker is a literal announcement found at the end of a line.
type marker struct {
	size    uint64
	nonSync bool
	binary  bool
	ok      bool // the line ends with "{n}", "{n+}" or "~{n}"
	bad     bool // it does, but n is out of range
}

func (m marker) sync() bool { return !m.nonSync }

func lineMarker(line []byte) marker {
	n := len(line)
	if n < 3 || line[n-1] != '}' {
		return marker{}
	}
	j := n - 2
	var m marker
	if line[j] == '+' {
		m.nonSync = true
		j--
	}
	end := j + 1
	for j >= 0 && line[j] >= '0' && line[j] <= '9' {
		j--
	}
	if j < 0 || line[j] != '{' || j+1 == end {
		return marker{}
	}
	m.ok = true
	m.binary = j > 0 && line[j-1] == '~'
	for _, c := range line[j+1 : end] {
		m.size = m.size*10 + uint64(c-'0')
		if m.size > 1<<63-1 {
			m.bad = true
			m.size = 0
			return m
		}
	}
	return m
}

// peekTagName extracts the tag and canonical command name from the start
// of a command line, for events and errors about a command not yet parsed.
func peekTagName(line []byte) (tag, name string) {
	i := 0
	for i < len(line) && isTagChar(line[i]) {
		i++
	}
	if i == 0 || i > 128 {
		return "", ""
	}
	tag = string(line[:i])
	if i >= len(line) || line[i] != ' ' {
		return tag, ""
	}
	var r reader
	r.reset(line[i+1:], false)
	name, err := r.commandName()
	if err != nil {
		return tag, ""
	}
	return tag, name
}
