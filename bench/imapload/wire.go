package imapload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Limits of the response reader: far above what a mail server sends for
// the commands the bench issues, low enough that a broken peer cannot make
// the client allocate without bound.
const (
	maxLineBytes    = 1 << 20
	maxLiteralBytes = 1 << 30
	maxDepth        = 64
)

// ErrProtocol reports a response the reader cannot frame or parse.
var ErrProtocol = errors.New("imap protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Reader frames server responses: one line, and when it announces a
// literal, the literal's bytes and the line that continues it, until a
// line ends without a literal. It keeps no state between responses.
type Reader struct {
	br  *bufio.Reader
	buf []byte
}

// NewReader reads responses from br.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// Read returns the next response. Its byte slices (Raw, Value.Bytes) point
// into a buffer the next Read reuses.
func (r *Reader) Read() (*Response, error) {
	buf := r.buf[:0]
	for {
		start := len(buf)
		for {
			chunk, err := r.br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if err == nil {
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				r.buf = buf
				return nil, err
			}
			if len(buf)-start > maxLineBytes {
				return nil, protoErr("response line longer than %d bytes", maxLineBytes)
			}
		}
		n, ok := literalAnnounced(buf[start:])
		if !ok {
			break
		}
		if n > maxLiteralBytes {
			return nil, protoErr("literal of %d bytes", n)
		}
		buf = grow(buf, n)
		if _, err := readFull(r.br, buf[len(buf):len(buf)+n]); err != nil {
			r.buf = buf
			return nil, err
		}
		buf = buf[:len(buf)+n]
	}
	r.buf = buf
	return ParseResponse(buf)
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n+len(b)/2)
	copy(nb, b)
	return nb
}

func readFull(br *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := br.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// literalAnnounced reports whether line (with its line ending) ends with
// a literal's size, "{n}" or "~{n}", and returns n.
func literalAnnounced(line []byte) (int, bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	digits := line[open+1 : len(line)-1]
	if len(digits) == 0 || len(digits) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Kind is the type of a parsed value.
type Kind uint8

const (
	KindAtom   Kind = iota + 1 // atoms and numbers, including \Flags and BODY[...]<n>
	KindString                 // quoted string or literal
	KindNil                    // NIL
	KindList                   // parenthesised list
)

// Value is one element of a response's data.
type Value struct {
	Kind  Kind
	Atom  string  // KindAtom
	Bytes []byte  // KindString: the content, unquoted
	List  []Value // KindList
}

// Uint returns an atom's value as an unsigned number.
func (v Value) Uint() (uint64, bool) {
	if v.Kind != KindAtom || v.Atom == "" || len(v.Atom) > 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(v.Atom, 10, 64)
	return n, err == nil
}

// String returns the text of an atom or string value.
func (v Value) String() string {
	switch v.Kind {
	case KindAtom:
		return v.Atom
	case KindString:
		return string(v.Bytes)
	case KindNil:
		return "NIL"
	}
	return fmt.Sprint(v.List)
}

// Response is one parsed server response.
type Response struct {
	Tag     string // "*" untagged, "+" continuation request, or a command's tag
	Status  string // OK, NO, BAD, BYE or PREAUTH; empty for data responses
	Code    string // the response code's name, upper case ("APPENDUID")
	CodeArg string // the rest of the response code ("38505 3955")
	Text    string // human-readable text of a status or continuation
	Num     uint32 // the number before EXISTS, EXPUNGE, RECENT, FETCH
	HasNum  bool
	Name    string  // data response name, upper case: EXISTS, FETCH, SEARCH, ...
	Args    []Value // the data after Name
	Raw     []byte  // the framed response as received
}

// ParseResponse parses one framed response: a line ending in CRLF (or LF),
// possibly with literals and continuation lines inside.
func ParseResponse(b []byte) (*Response, error) {
	p := &parser{b: b}
	resp := &Response{Raw: b}
	tag := p.word()
	if tag == "" {
		return nil, protoErr("response without a tag: %.60q", b)
	}
	resp.Tag = tag
	if tag == "+" {
		p.sp()
		resp.Text = p.text()
		return resp, nil
	}
	if !p.sp() {
		return nil, protoErr("response %.60q: no space after the tag", b)
	}
	first := p.word()
	if n, err := strconv.ParseUint(first, 10, 32); err == nil && tag == "*" {
		resp.Num, resp.HasNum = uint32(n), true
		if !p.sp() {
			return nil, protoErr("response %.60q: no name after the number", b)
		}
		first = p.word()
	}
	name := upper(first)
	switch name {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		if resp.HasNum {
			return nil, protoErr("status response %.60q with a number", b)
		}
		resp.Status = name
		p.sp()
		if p.peek() == '[' {
			if err := p.code(resp); err != nil {
				return nil, err
			}
			p.sp()
		}
		resp.Text = p.text()
		return resp, nil
	case "":
		return nil, protoErr("response %.60q: empty name", b)
	}
	if tag != "*" {
		return nil, protoErr("tagged response %.60q is not a status", b)
	}
	resp.Name = name
	for p.sp() {
		if p.atEnd() {
			break
		}
		v, err := p.value(0)
		if err != nil {
			return nil, fmt.Errorf("response %.60q: %w", b, err)
		}
		resp.Args = append(resp.Args, v)
	}
	if !p.atEnd() {
		return nil, protoErr("response %.60q: unexpected %q", b, p.rest())
	}
	return resp, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) atEnd() bool {
	return p.i >= len(p.b) || p.b[p.i] == '\r' || p.b[p.i] == '\n'
}

func (p *parser) rest() string {
	end := min(len(p.b), p.i+20)
	return string(p.b[p.i:end])
}

func (p *parser) sp() bool {
	if p.peek() == ' ' {
		p.i++
		return true
	}
	return false
}

// word reads up to the next space or line end.
func (p *parser) word() string {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != ' ' && p.b[p.i] != '\r' && p.b[p.i] != '\n' {
		p.i++
	}
	return string(p.b[start:p.i])
}

// text reads the rest of the line.
func (p *parser) text() string {
	start := p.i
	for !p.atEnd() {
		p.i++
	}
	return string(p.b[start:p.i])
}

// code reads "[NAME args]" of a status response.
func (p *parser) code(resp *Response) error {
	p.i++ // '['
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != ' ' && p.b[p.i] != ']' && p.b[p.i] != '\r' && p.b[p.i] != '\n' {
		p.i++
	}
	resp.Code = upper(string(p.b[start:p.i]))
	if p.sp() {
		argStart, depth := p.i, 0
		for ; p.i < len(p.b) && p.b[p.i] != '\r' && p.b[p.i] != '\n'; p.i++ {
			switch p.b[p.i] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if p.b[p.i] == ']' && depth <= 0 {
				break
			}
		}
		resp.CodeArg = string(p.b[argStart:p.i])
	}
	if p.peek() != ']' {
		return protoErr("unterminated response code %q", resp.Code)
	}
	p.i++
	return nil
}

func (p *parser) value(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, protoErr("lists nested deeper than %d", maxDepth)
	}
	switch c := p.peek(); c {
	case '(':
		p.i++
		var list []Value
		for {
			if p.peek() == ')' {
				p.i++
				return Value{Kind: KindList, List: list}, nil
			}
			if len(list) > 0 && !p.sp() {
				return Value{}, protoErr("expected space or ) in a list, got %q", p.rest())
			}
			if p.peek() == ')' { // tolerate "( a )"-style spacing
				continue
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			list = append(list, v)
		}
	case '"':
		return p.quoted()
	case '{', '~':
		return p.literal()
	case 0, ' ', ')', '\r', '\n':
		return Value{}, protoErr("expected a value, got %q", p.rest())
	default:
		return p.atom()
	}
}

func (p *parser) quoted() (Value, error) {
	p.i++
	start := p.i
	var out []byte // the unescaped content, once an escape was seen
	escaped := false
	for ; p.i < len(p.b); p.i++ {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !escaped {
				return Value{Kind: KindString, Bytes: p.b[start : p.i-1]}, nil
			}
			return Value{Kind: KindString, Bytes: out}, nil
		case c == '\\':
			if !escaped {
				out, escaped = append([]byte{}, p.b[start:p.i]...), true
			}
			p.i++
			if p.i >= len(p.b) {
				return Value{}, protoErr("quoted string ends in a backslash")
			}
			out = append(out, p.b[p.i])
		case c == '\r' || c == '\n':
			return Value{}, protoErr("line ends inside a quoted string")
		case escaped:
			out = append(out, c)
		}
	}
	return Value{}, protoErr("unterminated quoted string")
}

func (p *parser) literal() (Value, error) {
	if p.peek() == '~' {
		p.i++
	}
	if p.peek() != '{' {
		return Value{}, protoErr("expected { of a literal")
	}
	p.i++
	n := 0
	digits := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' && digits < 11 {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
		digits++
	}
	if digits == 0 || p.peek() != '}' {
		return Value{}, protoErr("malformed literal size")
	}
	p.i++
	if p.peek() == '\r' {
		p.i++
	}
	if p.peek() != '\n' {
		return Value{}, protoErr("literal size not at the end of a line")
	}
	p.i++
	if n > len(p.b)-p.i {
		return Value{}, protoErr("literal of %d bytes, %d present", n, len(p.b)-p.i)
	}
	v := Value{Kind: KindString, Bytes: p.b[p.i : p.i+n]}
	p.i += n
	return v, nil
}

// atom reads an atom, including a bracketed section and a partial suffix
// (BODY[HEADER.FIELDS (FROM)]<0>), flags (\Seen) and numbers.
func (p *parser) atom() (Value, error) {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '[' {
			depth := 0
			for ; p.i < len(p.b); p.i++ {
				if p.b[p.i] == '\r' || p.b[p.i] == '\n' {
					return Value{}, protoErr("unterminated [ in %q", p.b[start:p.i])
				}
				if p.b[p.i] == '[' {
					depth++
				}
				if p.b[p.i] == ']' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if p.i >= len(p.b) {
				return Value{}, protoErr("unterminated [")
			}
			p.i++
			continue
		}
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '"' {
			break
		}
		p.i++
	}
	if p.i == start {
		return Value{}, protoErr("expected an atom, got %q", p.rest())
	}
	a := string(p.b[start:p.i])
	if a == "NIL" || a == "nil" || a == "Nil" {
		return Value{Kind: KindNil}, nil
	}
	return Value{Kind: KindAtom, Atom: a}, nil
}

func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
