package imap

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"
)

// reader is the lexer over the bytes of one framed command: every line and
// literal of it, the final line ending removed. In partial mode the bytes end
// right after a synchronizing literal's announcement, and running out of
// bytes is reported as errIncomplete rather than as a syntax error.
type reader struct {
	b        []byte
	i        int
	partial  bool
	utf8     bool // mailbox names are UTF-8 (UTF8=ACCEPT), not modified UTF-7
	depth    int
	maxDepth int
	kw       [32]byte // scratch for upper-cased keywords
}

func (r *reader) reset(b []byte, partial bool) {
	r.b, r.i, r.partial, r.depth = b, 0, partial, 0
}

func failf(kind error, format string, args ...any) *ParseError {
	return &ParseError{Err: kind, Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) eof() error {
	if r.partial {
		return errIncomplete
	}
	if parenDepth(r.b) > 0 {
		return failf(ErrParens, "missing )")
	}
	return failf(ErrSyntax, "unexpected end of command")
}

// parenDepth returns how many more parentheses b opens than it closes,
// outside quoted strings and literals. It runs only to explain an error.
func parenDepth(b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{':
			j := i + 1
			var n int
			for j < len(b) && b[j] >= '0' && b[j] <= '9' && n < 1<<40 {
				n = n*10 + int(b[j]-'0')
				j++
			}
			if j < len(b) && b[j] == '+' {
				j++
			}
			if j < len(b) && b[j] == '}' {
				j++
				if j < len(b) && b[j] == '\r' {
					j++
				}
				if j < len(b) && b[j] == '\n' {
					i = j + min(n, len(b)-j-1)
				}
			}
		}
	}
	return depth
}

// unexpected reports the byte at the cursor as not fitting the grammar.
func (r *reader) unexpected(what string) error {
	if r.i >= len(r.b) {
		return r.eof()
	}
	c := r.b[r.i]
	switch {
	case c >= 0x80 || c == 0:
		return failf(ErrBadChar, "byte 0x%02x where %s expected", c, what)
	case c == ')' && parenDepth(r.b[:r.i]) <= 0:
		return failf(ErrParens, "unexpected ) where %s expected", what)
	case c < 0x20 || c == 0x7f:
		return failf(ErrBadChar, "control character 0x%02x where %s expected", c, what)
	}
	return failf(ErrSyntax, "%s expected at %q", what, c)
}

func (r *reader) peek() (byte, bool) {
	if r.i < len(r.b) {
		return r.b[r.i], true
	}
	return 0, false
}

func (r *reader) peekIs(c byte) bool { return r.i < len(r.b) && r.b[r.i] == c }

func (r *reader) expect(c byte) error {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return nil
	}
	if c == ')' && r.i >= len(r.b) && !r.partial {
		return failf(ErrParens, "missing )")
	}
	return r.unexpected(fmt.Sprintf("%q", c))
}

func (r *reader) sp() error { return r.expect(' ') }

// end checks that the command is complete.
func (r *reader) end() error {
	if r.i == len(r.b) {
		if r.partial {
			return errIncomplete
		}
		return nil
	}
	if r.b[r.i] == ')' {
		return failf(ErrParens, "unexpected )")
	}
	return r.unexpected("end of command")
}

func (r *reader) atEnd() bool { return r.i >= len(r.b) }

func (r *reader) enter() error {
	r.depth++
	if r.depth > r.maxDepth {
		return failf(ErrTooDeep, "more than %d levels", r.maxDepth)
	}
	return nil
}

func (r *reader) leave() { r.depth-- }

func isAtomChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

func isAStringChar(c byte) bool { return c == ']' || isAtomChar(c) }

func isListChar(c byte) bool { return c == '%' || c == '*' || isAStringChar(c) }

func isTagChar(c byte) bool { return c != '+' && isAStringChar(c) }

// atom reads 1*ATOM-CHAR.
func (r *reader) atom() ([]byte, error) {
	start := r.i
	for r.i < len(r.b) && isAtomChar(r.b[r.i]) {
		r.i++
	}
	if r.i == start {
		return nil, r.unexpected("atom")
	}
	return r.b[start:r.i], nil
}

// keyword reads an atom and returns it upper-cased in scratch space, valid
// until the next call; atoms too long for any keyword come back unchanged.
func (r *reader) keyword() ([]byte, error) {
	a, err := r.atom()
	if err != nil {
		return nil, err
	}
	return r.upper(a), nil
}

func (r *reader) upper(a []byte) []byte {
	if len(a) > len(r.kw) {
		return a
	}
	k := r.kw[:len(a)]
	for i, c := range a {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		k[i] = c
	}
	return k
}

func upperString(a []byte) string {
	b := make([]byte, len(a))
	for i, c := range a {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// astring reads an atom-like ASTRING, a quoted string or a literal.
func (r *reader) astring() (string, error) {
	b, err := r.astringBytes()
	return string(b), err
}

func (r *reader) astringBytes() ([]byte, error) {
	c, ok := r.peek()
	if !ok {
		return nil, r.eof()
	}
	switch {
	case c == '"':
		return r.quoted()
	case r.atLiteral():
		return r.literal(false)
	}
	start := r.i
	for r.i < len(r.b) && isAStringChar(r.b[r.i]) {
		r.i++
	}
	if r.i == start {
		return nil, r.unexpected("string")
	}
	return r.b[start:r.i], nil
}

// str reads a quoted string or a literal.
func (r *reader) str() ([]byte, error) {
	c, ok := r.peek()
	if !ok {
		return nil, r.eof()
	}
	switch {
	case c == '"':
		return r.quoted()
	case r.atLiteral():
		return r.literal(false)
	}
	return nil, r.unexpected("string")
}

// nstring reads NIL or a string; isNil reports NIL.
func (r *reader) nstring() (s []byte, isNil bool, err error) {
	if c, ok := r.peek(); ok && (c == 'N' || c == 'n') {
		a, err := r.keyword()
		if err != nil {
			return nil, false, err
		}
		if string(a) != "NIL" {
			return nil, false, failf(ErrSyntax, "expected NIL or string")
		}
		return nil, true, nil
	}
	s, err = r.str()
	return s, false, err
}

// quoted reads a quoted string. Bytes above 0x7f must form valid UTF-8
// (RFC 9051 and RFC 6855 quoted strings); the returned slice aliases the
// command unless escapes had to be removed.
func (r *reader) quoted() ([]byte, error) {
	r.i++ // opening quote
	start := r.i
	escaped := false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if escaped {
				s = unescapeQuoted(s)
			}
			return s, nil
		case c == '\\':
			if r.i+1 >= len(r.b) {
				return nil, r.eof()
			}
			if n := r.b[r.i+1]; n != '"' && n != '\\' {
				return nil, failf(ErrSyntax, "bad escape \\%c in quoted string", n)
			}
			escaped = true
			r.i += 2
		case c == '\r' || c == '\n' || c == 0:
			return nil, failf(ErrBadChar, "CR, LF or NUL in quoted string")
		case c >= 0x80:
			ru, size := utf8.DecodeRune(r.b[r.i:])
			if ru == utf8.RuneError && size <= 1 {
				return nil, failf(ErrBadChar, "invalid UTF-8 in quoted string")
			}
			r.i += size
		default:
			r.i++
		}
	}
	return nil, r.eof()
}

func unescapeQuoted(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		out = append(out, s[i])
	}
	return out
}

// literal reads "{n}" or "{n+}" (and "~{n}" when binary is allowed), the
// line ending and the n bytes that follow.
// atLiteral reports whether a literal ("{" or "~{") starts at the cursor.
func (r *reader) atLiteral() bool {
	if r.i >= len(r.b) {
		return false
	}
	c := r.b[r.i]
	return c == '{' || c == '~' && r.i+1 < len(r.b) && r.b[r.i+1] == '{'
}

func (r *reader) literal(binaryOK bool) ([]byte, error) {
	data, _, err := r.literalData(binaryOK)
	return data, err
}

func (r *reader) literalData(binaryOK bool) (data []byte, binary bool, err error) {
	if r.peekIs('~') {
		if !binaryOK {
			return nil, false, failf(ErrSyntax, "literal8 not allowed here")
		}
		binary = true
		r.i++
	}
	n, _, err := r.literalHeader()
	if err != nil {
		return nil, false, err
	}
	if uint64(len(r.b)-r.i) < n {
		if r.partial {
			return nil, false, errIncomplete
		}
		return nil, false, failf(ErrSyntax, "literal data missing")
	}
	data = r.b[r.i : r.i+int(n)]
	r.i += int(n)
	if !binary {
		for _, c := range data {
			if c == 0 {
				return nil, false, failf(ErrBadChar, "NUL in literal")
			}
		}
	}
	return data, binary, nil
}

// literalHeader reads "{n}" or "{n+}" and the line ending after it.
func (r *reader) literalHeader() (n uint64, nonSync bool, err error) {
	if err := r.expect('{'); err != nil {
		return 0, false, err
	}
	n, err = r.number64()
	if err != nil {
		return 0, false, err
	}
	if r.peekIs('+') {
		nonSync = true
		r.i++
	}
	if err := r.expect('}'); err != nil {
		return 0, false, err
	}
	if r.peekIs('\r') {
		r.i++
	}
	if !r.peekIs('\n') {
		return 0, false, failf(ErrSyntax, "literal announcement not at end of line")
	}
	r.i++
	return n, nonSync, nil
}

// number64 reads 1*DIGIT up to 2^63-1 (RFC 9051 number64).
func (r *reader) number64() (uint64, error) {
	start := r.i
	var v uint64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		v = v*10 + uint64(r.b[r.i]-'0')
		if v > 1<<63-1 {
			return 0, failf(ErrSyntax, "number out of range")
		}
		r.i++
	}
	if r.i == start {
		return 0, r.unexpected("number")
	}
	return v, nil
}

// number reads a 32-bit number.
func (r *reader) number() (uint32, error) {
	v, err := r.number64()
	if err != nil {
		return 0, err
	}
	if v > 0xffffffff {
		return 0, failf(ErrSyntax, "number out of range")
	}
	return uint32(v), nil
}

func (r *reader) nzNumber() (uint32, error) {
	v, err := r.number()
	if err == nil && v == 0 {
		err = failf(ErrSyntax, "zero where a non-zero number is required")
	}
	return v, err
}

func isSeqChar(c byte) bool {
	return c >= '0' && c <= '9' || c == ':' || c == ',' || c == '*' || c == '$'
}

// seqSet reads a sequence-set, "$" included.
func (r *reader) seqSet() (SeqSet, error) {
	start := r.i
	for r.i < len(r.b) && isSeqChar(r.b[r.i]) {
		r.i++
	}
	if r.i == start {
		if r.atEnd() {
			return SeqSet{}, r.eof()
		}
		return SeqSet{}, failf(ErrBadSeqSet, "expected sequence set at %q", r.b[r.i])
	}
	set, err := parseSeqSet(r.b[start:r.i])
	if err != nil {
		return SeqSet{}, &ParseError{Err: ErrBadSeqSet, Msg: fmt.Sprintf("%q: %v", safeText(string(r.b[start:r.i])), err)}
	}
	return set, nil
}

// flag reads a flag: "\" atom (system flags canonicalised) or a keyword.
func (r *reader) flag() (string, error) {
	if r.peekIs('\\') {
		r.i++
		a, err := r.atom()
		if err != nil {
			return "", err
		}
		switch string(r.upper(a)) {
		case "SEEN":
			return FlagSeen, nil
		case "ANSWERED":
			return FlagAnswered, nil
		case "FLAGGED":
			return FlagFlagged, nil
		case "DELETED":
			return FlagDeleted, nil
		case "DRAFT":
			return FlagDraft, nil
		case "RECENT":
			return FlagRecent, nil
		}
		return `\` + string(a), nil
	}
	a, err := r.atom()
	if err != nil {
		return "", err
	}
	return string(a), nil
}

// flagList reads "(" [flag *(SP flag)] ")".
func (r *reader) flagList() ([]string, error) {
	if err := r.expect('('); err != nil {
		return nil, err
	}
	flags := []string{}
	if r.peekIs(')') {
		r.i++
		return flags, nil
	}
	for {
		f, err := r.flag()
		if err != nil {
			return nil, err
		}
		flags = append(flags, f)
		if r.peekIs(')') {
			r.i++
			return flags, nil
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
}

// mailbox reads a mailbox name and decodes it to UTF-8.
func (r *reader) mailbox() (string, error) {
	b, err := r.astringBytes()
	if err != nil {
		return "", err
	}
	return r.decodeMailbox(b)
}

func (r *reader) decodeMailbox(b []byte) (string, error) {
	if len(b) == 5 && IsInbox(string(b)) {
		return "INBOX", nil
	}
	if r.utf8 {
		if !utf8.Valid(b) {
			return "", failf(ErrMailboxName, "mailbox name is not UTF-8")
		}
		// Some clients keep escaping "&" (and even shifting) after
		// enabling UTF-8; RFC 6855 section 3 has servers that know the
		// modified UTF-7 convention accept it. A name that does not
		// decode is taken as it is.
		if bytes.IndexByte(b, '&') >= 0 {
			if s, err := decodeMailboxUTF7(string(b), true); err == nil {
				return s, nil
			}
		}
		return string(b), nil
	}
	s, err := DecodeMailboxUTF7(string(b))
	if err != nil {
		return "", &ParseError{Err: ErrMailboxName, Msg: "mailbox name is not modified UTF-7"}
	}
	return s, nil
}

// listMailbox reads a LIST pattern: 1*list-char or a string.
func (r *reader) listMailbox() (string, error) {
	c, ok := r.peek()
	if !ok {
		return "", r.eof()
	}
	var b []byte
	if c == '"' || r.atLiteral() {
		var err error
		if b, err = r.str(); err != nil {
			return "", err
		}
	} else {
		start := r.i
		for r.i < len(r.b) && isListChar(r.b[r.i]) {
			r.i++
		}
		if r.i == start {
			return "", r.unexpected("mailbox pattern")
		}
		b = r.b[start:r.i]
	}
	return r.decodeMailbox(b)
}

// date reads a SEARCH date, bare or quoted.
func (r *reader) date() (time.Time, error) {
	var b []byte
	var err error
	if r.peekIs('"') {
		b, err = r.quoted()
	} else {
		b, err = r.atom()
	}
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseDate(b)
	if err != nil {
		return time.Time{}, &ParseError{Err: ErrSyntax, Msg: err.Error()}
	}
	return t, nil
}

// dateTime reads a quoted date-time.
func (r *reader) dateTime() (time.Time, error) {
	if !r.peekIs('"') {
		return time.Time{}, r.unexpected("quoted date-time")
	}
	b, err := r.quoted()
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseDateTime(b)
	if err != nil {
		return time.Time{}, &ParseError{Err: ErrSyntax, Msg: err.Error()}
	}
	return t, nil
}
