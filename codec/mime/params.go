package mime

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// lexer walks a structured header value (RFC 2045 tokens, quoted strings,
// comments) leniently: nothing it meets is an error.
type lexer struct {
	s string
	i int
}

func (l *lexer) done() bool { return l.i >= len(l.s) }

func (l *lexer) peek() byte {
	if l.done() {
		return 0
	}
	return l.s[l.i]
}

// skipCFWS skips whitespace and (nested) comments; an unclosed comment runs
// to the end.
func (l *lexer) skipCFWS() {
	for !l.done() {
		switch l.s[l.i] {
		case ' ', '\t', '\r', '\n':
			l.i++
		case '(':
			l.comment()
		default:
			return
		}
	}
}

// comment skips a comment starting at '(' and returns its text.
func (l *lexer) comment() string {
	depth := 0
	var b strings.Builder
	for !l.done() {
		c := l.s[l.i]
		l.i++
		switch {
		case c == '\\' && !l.done():
			b.WriteByte(l.s[l.i])
			l.i++
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return b.String()
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isTSpecial reports the RFC 2045 tspecials plus space and controls: the
// bytes that end a token. Bytes above 0x7f are token bytes (lenient).
func isTSpecial(c byte) bool {
	if c <= ' ' || c == 0x7f {
		return true
	}
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

func (l *lexer) token() string {
	start := l.i
	for !l.done() && !isTSpecial(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

// quoted reads a quoted string starting at '"', unescaping quoted pairs; an
// unclosed one runs to the end.
func (l *lexer) quoted() string {
	l.i++ // opening quote
	start := l.i
	for !l.done() {
		switch l.s[l.i] {
		case '"':
			v := l.s[start:l.i]
			l.i++
			return v
		case '\\':
			return l.quotedSlow(start)
		}
		l.i++
	}
	return l.s[start:]
}

func (l *lexer) quotedSlow(start int) string {
	var b strings.Builder
	b.WriteString(l.s[start:l.i])
	for !l.done() {
		c := l.s[l.i]
		l.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && !l.done():
			b.WriteByte(l.s[l.i])
			l.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// looseValue reads an unquoted parameter value. Real mail puts tspecials
// such as '=' and '/' in unquoted boundaries, so it runs to ';', whitespace
// or a comment.
func (l *lexer) looseValue() string {
	start := l.i
	for !l.done() {
		switch l.s[l.i] {
		case ';', ' ', '\t', '\r', '\n', '(':
			return l.s[start:l.i]
		}
		l.i++
	}
	return l.s[start:]
}

// skipJunk skips to the next ';' that is outside quotes and comments.
func (l *lexer) skipJunk() {
	for !l.done() {
		switch l.s[l.i] {
		case ';':
			return
		case '"':
			l.quoted()
		case '(':
			l.comment()
		default:
			l.i++
		}
	}
}

// parseContentType parses "type/subtype *(; parameter)". ok is false when
// there is no type/subtype, so the caller applies the default.
func parseContentType(v string) (typ, sub string, params []Param, ok bool) {
	l := lexer{s: v}
	l.skipCFWS()
	typ = l.token()
	l.skipCFWS()
	if typ == "" || l.peek() != '/' {
		return "", "", nil, false
	}
	l.i++
	l.skipCFWS()
	sub = l.token()
	if sub == "" {
		return "", "", nil, false
	}
	return lowerASCII(typ), lowerASCII(sub), l.params(), true
}

// parseDisposition parses "disposition-type *(; parameter)".
func parseDisposition(v string) (string, []Param) {
	l := lexer{s: v}
	l.skipCFWS()
	d := l.token()
	if d == "" {
		return "", nil
	}
	return lowerASCII(d), l.params()
}

// parseLanguage parses a Content-Language list of tags (RFC 3282).
func parseLanguage(v string) []string {
	var out []string
	l := lexer{s: v}
	for {
		l.skipCFWS()
		if l.done() {
			return out
		}
		if l.s[l.i] == ',' {
			l.i++
			continue
		}
		start := l.i
		for !l.done() && strings.IndexByte(", \t\r\n(", l.s[l.i]) < 0 {
			l.i++
		}
		out = append(out, l.s[start:l.i])
	}
}

// firstToken returns the first token of a value, comments skipped (used for
// Content-Transfer-Encoding: "base64 (really)" is base64).
func firstToken(v string) string {
	l := lexer{s: v}
	l.skipCFWS()
	return l.token()
}

type rawParam struct{ name, value string }

// params reads "*(; name=value)" to the end, skipping whatever does not parse.
func (l *lexer) params() []Param {
	var raw []rawParam
	for {
		l.skipCFWS()
		if l.done() {
			break
		}
		if l.peek() != ';' {
			l.skipJunk()
			continue
		}
		l.i++
		l.skipCFWS()
		name := l.token()
		l.skipCFWS()
		if name == "" || l.peek() != '=' {
			l.skipJunk()
			continue
		}
		l.i++
		l.skipCFWS()
		var val string
		if l.peek() == '"' {
			val = l.quoted()
		} else {
			val = l.looseValue()
		}
		raw = append(raw, rawParam{lowerASCII(name), val})
	}
	return mergeParams(raw)
}

// paramSection is one piece of an RFC 2231 parameter.
type paramSection struct {
	n     int // section number, 0 for name* without a number
	ext   bool
	value string
}

type paramEntry struct {
	name     string
	plain    string
	hasPlain bool
	sections []paramSection
}

// mergeParams joins RFC 2231 sections (name*0, name*1*, name*) into one
// UTF-8 value per name. Names keep the order of their first appearance; a
// repeated name keeps its first value; an RFC 2231 value wins over a plain
// one of the same name.
func mergeParams(raw []rawParam) []Param {
	if len(raw) == 0 {
		return nil
	}
	if len(raw) <= 16 && !slices.ContainsFunc(raw, func(p rawParam) bool { return strings.IndexByte(p.name, '*') >= 0 }) {
		// The usual case: a few plain parameters.
		out := make([]Param, 0, len(raw))
		for _, p := range raw {
			if !slices.ContainsFunc(out, func(q Param) bool { return q.Name == p.name }) {
				out = append(out, Param{Name: p.name, Value: p.value})
			}
		}
		return out
	}
	var entries []*paramEntry
	var index map[string]*paramEntry // only for long lists, which are hostile
	find := func(name string) *paramEntry {
		if index != nil {
			if e := index[name]; e != nil {
				return e
			}
		} else {
			for _, e := range entries {
				if e.name == name {
					return e
				}
			}
		}
		e := &paramEntry{name: name}
		entries = append(entries, e)
		if index != nil {
			index[name] = e
		} else if len(entries) > 16 {
			index = make(map[string]*paramEntry, 2*len(entries))
			for _, e := range entries {
				index[e.name] = e
			}
		}
		return e
	}
	for _, p := range raw {
		base, sec, ok := splitExtName(p.name)
		if !ok {
			e := find(p.name)
			if !e.hasPlain {
				e.plain, e.hasPlain = p.value, true
			}
			continue
		}
		sec.value = p.value
		e := find(base)
		e.sections = append(e.sections, sec)
	}
	out := make([]Param, 0, len(entries))
	for _, e := range entries {
		v := e.plain
		if len(e.sections) > 0 {
			v = joinSections(e.sections)
		}
		out = append(out, Param{Name: e.name, Value: v})
	}
	return out
}

// splitExtName recognizes RFC 2231 names: "name*", "name*N", "name*N*".
func splitExtName(name string) (string, paramSection, bool) {
	var sec paramSection
	if strings.HasSuffix(name, "*") {
		sec.ext = true
		name = name[:len(name)-1]
	}
	star := strings.LastIndexByte(name, '*')
	if star >= 0 {
		digits := name[star+1:]
		if len(digits) == 0 || len(digits) > 4 {
			return "", sec, false
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 {
			return "", sec, false
		}
		sec.n = n
		name = name[:star]
	} else if !sec.ext {
		return "", sec, false
	}
	if name == "" {
		return "", sec, false
	}
	return name, sec, true
}

// joinSections orders the sections, percent-decodes the extended ones and
// converts the result from the charset named by the first one to UTF-8.
func joinSections(secs []paramSection) string {
	slices.SortStableFunc(secs, func(a, b paramSection) int { return a.n - b.n })
	var charset string
	var b []byte
	for i, s := range secs {
		if i > 0 && s.n == secs[i-1].n {
			continue // a repeated section: the first one wins
		}
		v := s.value
		if !s.ext {
			b = append(b, v...)
			continue
		}
		if i == 0 {
			// charset'language'value; without the two quotes it is all value.
			if q1 := strings.IndexByte(v, '\''); q1 >= 0 {
				if q2 := strings.IndexByte(v[q1+1:], '\''); q2 >= 0 {
					charset = v[:q1]
					v = v[q1+1+q2+1:]
				}
			}
		}
		b = percentDecode(b, v)
	}
	return toUTF8(charset, b)
}

func percentDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// toUTF8 converts b from the named charset to valid UTF-8. An unknown
// charset or undecodable bytes leave U+FFFD where the bytes were invalid.
func toUTF8(charset string, b []byte) string {
	cs := lowerASCII(strings.TrimSpace(charset))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return validUTF8(b)
	case "iso-8859-1", "latin1", "iso_8859-1", "l1":
		out := make([]rune, 0, len(b))
		for _, c := range b {
			out = append(out, rune(c))
		}
		return string(out)
	}
	enc := lookupCharset(cs)
	if enc == nil {
		return validUTF8(b)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return validUTF8(b)
	}
	return validUTF8(out)
}

func lookupCharset(name string) encoding.Encoding {
	if e, err := ianaindex.MIME.Encoding(name); err == nil && e != nil {
		return e
	}
	if e, err := htmlindex.Get(name); err == nil && e != nil {
		return e
	}
	return nil
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
