package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// QPLayout is what a canonical quoted-printable body leaves open: its line
// ending, whether an encoded text that does not end in a line break still
// ends with a line ending (a soft line break "=" EOL), and which of the two
// common line-filling rules it follows.
type QPLayout struct {
	CRLF     bool // hard and soft line breaks are CRLF (else bare LF)
	FinalEOL bool // the body ends with a line ending even when the text does not
	// Max75 keeps every encoded line within 75 characters plus the soft
	// break's '=', even the last piece of a line of text, which RFC 2045
	// lets reach 76. Encoders that do not look ahead write this way (Go's
	// mime/quotedprintable, Python's quopri); Python's email package and
	// the RFC's own rule fill to 76.
	Max75 bool
}

// qpMaxLine is RFC 2045's limit on an encoded line, the soft break's '=' included.
const qpMaxLine = 76

const upperHex = "0123456789ABCDEF"

// qpEncoder is the canonical quoted-printable encoder. It is a value type so
// that QPChecker can try both endings on copies.
//
// Canonical means (RFC 2045 6.7): printable ASCII other than '=' as itself;
// space and tab as themselves unless they end a line of text, then "=20" and
// "=09"; every other byte "=XX" with uppercase hex; the text's line breaks
// (the layout's line ending) as hard line breaks; lines filled greedily, a
// soft line break placed only when the next character would push the line
// past 75 characters plus '=' (past 76 for the last piece of a line of text,
// unless the layout says Max75).
type qpEncoder struct {
	crlf    bool
	lastMax int   // how long a line may grow with the last piece of a line of text
	cr      bool  // a text '\r' waits to see whether '\n' follows (CRLF layout)
	held    int16 // a text byte waiting for what follows it, or -1
	col     int   // characters on the current encoded line
}

func newQPEncoder(l QPLayout) qpEncoder {
	e := qpEncoder{crlf: l.CRLF, lastMax: qpMaxLine, held: -1}
	if l.Max75 {
		e.lastMax = qpMaxLine - 1
	}
	return e
}

func (e *qpEncoder) eol(dst []byte) []byte {
	if e.crlf {
		return append(dst, '\r', '\n')
	}
	return append(dst, '\n')
}

// feed appends the encoding of text to dst, holding back the last byte,
// whose form depends on what follows.
func (e *qpEncoder) feed(dst, text []byte) []byte {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !e.cr && qpMidLiteral[c] {
			// A run of bytes that stand for themselves unless they end a line:
			// all but the last are followed by text, so copy them in bulk.
			j := i + 1
			for j < len(text) && qpMidLiteral[text[j]] {
				j++
			}
			if e.held >= 0 {
				dst = e.place(dst, byte(e.held), false, qpMaxLine-1)
			}
			dst = e.literals(dst, text[i:j-1])
			e.held = int16(text[j-1])
			i = j - 1
			continue
		}
		if e.cr {
			e.cr = false
			if c == '\n' {
				dst = e.hardBreak(dst)
				continue
			}
			dst = e.char(dst, '\r')
		}
		switch {
		case e.crlf && c == '\r':
			e.cr = true
		case !e.crlf && c == '\n':
			dst = e.hardBreak(dst)
		default:
			dst = e.char(dst, c)
		}
	}
	return dst
}

// qpMidLiteral marks bytes written as themselves when text follows them on
// the line: printable ASCII but '=', and space and tab.
var qpMidLiteral = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

// literals writes bytes known to be followed by more text on their line,
// with soft breaks where a line would pass 75 characters.
func (e *qpEncoder) literals(dst, run []byte) []byte {
	for len(run) > 0 {
		room := qpMaxLine - 1 - e.col
		if room == 0 {
			dst = e.eol(append(dst, '='))
			e.col, room = 0, qpMaxLine-1
		}
		k := min(room, len(run))
		dst = append(dst, run[:k]...)
		e.col += k
		run = run[k:]
	}
	return dst
}

func (e *qpEncoder) char(dst []byte, c byte) []byte {
	if e.held >= 0 {
		dst = e.place(dst, byte(e.held), false, qpMaxLine-1)
	}
	e.held = int16(c)
	return dst
}

func (e *qpEncoder) hardBreak(dst []byte) []byte {
	if e.held >= 0 {
		dst = e.place(dst, byte(e.held), true, e.lastMax)
		e.held = -1
	}
	e.col = 0
	return e.eol(dst)
}

// place writes one text byte; last says it ends a line of text and limit is
// how long the line may grow with it.
func (e *qpEncoder) place(dst []byte, c byte, last bool, limit int) []byte {
	var tok [3]byte
	n := 1
	switch {
	case c >= '!' && c <= '~' && c != '=':
		tok[0] = c
	case (c == ' ' || c == '\t') && !last:
		tok[0] = c
	default:
		tok = [3]byte{'=', upperHex[c>>4], upperHex[c&15]}
		n = 3
	}
	if e.col+n > limit {
		dst = e.eol(append(dst, '='))
		e.col = 0
	}
	e.col += n
	return append(dst, tok[:n]...)
}

// finish appends the end of the encoding. It works on a copy so QPChecker can
// ask for both endings.
func (e qpEncoder) finish(dst []byte, finalEOL bool) []byte {
	if e.cr {
		e.cr = false
		dst = e.char(dst, '\r')
	}
	if e.held >= 0 {
		limit := e.lastMax
		if finalEOL {
			limit = qpMaxLine - 1 // the line will end with a soft break
		}
		dst = e.place(dst, byte(e.held), true, limit)
		e.held = -1
	}
	if e.col > 0 && finalEOL {
		dst = e.eol(append(dst, '='))
	}
	return dst
}

type qpWriter struct {
	w   io.Writer
	l   QPLayout
	enc qpEncoder
	out []byte
	err error
}

// NewQPEncoder writes the canonical quoted-printable encoding of what is
// written to it (RFC 2045 6.7: soft breaks at 76, '=' and non-printables and
// trailing whitespace encoded, uppercase hex; see QPLayout.Max75 for the
// line-filling variant). A line break of the text is
// the layout's line ending; a lone '\r' or '\n' that is not one is encoded.
// Close writes what is held back and, with l.FinalEOL, ends an unterminated
// last line with a soft line break; it does not close w.
func NewQPEncoder(w io.Writer, l QPLayout) io.WriteCloser {
	return &qpWriter{w: w, l: l, enc: newQPEncoder(l)}
}

func (q *qpWriter) Write(p []byte) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	// Encode in slices so the buffer stays bounded for large writes.
	for off := 0; off < len(p); off += flushAt / 3 {
		q.out = q.enc.feed(q.out, p[off:min(len(p), off+flushAt/3)])
		if len(q.out) >= flushAt {
			if err := q.flush(); err != nil {
				return off, err
			}
		}
	}
	return len(p), nil
}

func (q *qpWriter) flush() error {
	if len(q.out) == 0 {
		return nil
	}
	if _, err := q.w.Write(q.out); err != nil {
		q.err = fmt.Errorf("transfer: writing quoted-printable: %w", err)
		return q.err
	}
	q.out = q.out[:0]
	return nil
}

func (q *qpWriter) Close() error {
	if q.err != nil {
		if errors.Is(q.err, ErrClosed) {
			return nil
		}
		return q.err
	}
	q.out = q.enc.finish(q.out, q.l.FinalEOL)
	if err := q.flush(); err != nil {
		return err
	}
	q.err = ErrClosed
	return nil
}

// QPChecker is fed a quoted-printable body; at the end it says whether
// NewQPEncoder would reproduce it byte for byte from the text NewQPReader
// decodes from it, and with which layout. It decodes the body once and
// re-encodes the text in both line-filling styles as the body streams,
// holding back no more than about a line, and drops a style at its first
// difference; once both differ it ignores further input. The zero value is
// ready to use.
type QPChecker struct {
	started bool
	failed  bool
	first   []byte // the body up to its first line ending, which fixes the layout
	dec     qpLenient
	styles  [2]qpStyle // RFC filling (76), then Max75
	text    []byte     // scratch: decoded text
	got     []byte     // scratch: re-encoded body
	last    byte       // the body's last byte
	closed  bool
	ok      bool
	layout  QPLayout
}

// qpStyle is one candidate re-encoding and the body bytes it has yet to match.
type qpStyle struct {
	enc  qpEncoder
	want []byte
	dead bool
}

// qpMaxFirst is how much of a body may come before its first line ending:
// 76 characters and a '\r'. A longer first line is not canonical.
const qpMaxFirst = qpMaxLine + 1

// Write feeds the next part of the body.
func (c *QPChecker) Write(p []byte) {
	if c.failed || c.closed || len(p) == 0 {
		return
	}
	c.last = p[len(p)-1]
	if c.started {
		c.compare(p)
		return
	}
	if j := bytes.IndexByte(p, '\n'); j >= 0 {
		c.first = append(c.first, p[:j+1]...)
		crlf := len(c.first) >= 2 && c.first[len(c.first)-2] == '\r'
		c.start(crlf)
		c.compare(p[j+1:])
		return
	}
	if len(c.first)+len(p) > qpMaxFirst {
		c.failed = true
		return
	}
	c.first = append(c.first, p...)
}

func (c *QPChecker) start(crlf bool) {
	c.started = true
	c.styles[0] = qpStyle{enc: newQPEncoder(QPLayout{CRLF: crlf})}
	c.styles[1] = qpStyle{enc: newQPEncoder(QPLayout{CRLF: crlf, Max75: true})}
	first := c.first
	c.first = nil
	if len(first) > qpMaxFirst+1 {
		c.failed = true
		return
	}
	c.compare(first)
}

// compare decodes p, re-encodes the text in each live style and matches the
// result against the body.
func (c *QPChecker) compare(p []byte) {
	if c.failed || len(p) == 0 {
		return
	}
	c.dec.out = c.text[:0]
	c.dec.feed(p)
	c.text = c.dec.out
	c.matchStyles(p)
}

func (c *QPChecker) matchStyles(p []byte) {
	alive := false
	for i := range c.styles {
		s := &c.styles[i]
		if s.dead {
			continue
		}
		s.want = append(s.want, p...)
		c.got = s.enc.feed(c.got[:0], c.text)
		if s.match(c.got) {
			alive = true
		}
	}
	c.failed = !alive
}

// match consumes got from the front of want and reports whether it matched.
func (s *qpStyle) match(got []byte) bool {
	if len(got) > len(s.want) || !bytes.Equal(got, s.want[:len(got)]) {
		s.dead = true
		s.want = nil
		return false
	}
	s.want = s.want[:copy(s.want, s.want[len(got):])]
	return true
}

// Close ends the body and reports whether it is canonical and under which
// layout. FinalEOL is reported when the body ends with a line ending; Max75
// only when the RFC filling does not reproduce the body. Further calls return
// the same answer.
func (c *QPChecker) Close() (QPLayout, bool) {
	if c.closed {
		return c.layout, c.ok
	}
	c.closed = true
	c.layout = QPLayout{CRLF: true}
	if !c.started && !c.failed {
		// No line ending at all: the ending kind never shows; record CRLF.
		c.start(true)
	}
	if c.failed {
		return c.layout, false
	}
	c.dec.out = c.text[:0]
	c.dec.finish()
	c.text = c.dec.out
	c.matchStyles(nil)
	c.failed = true // nothing more may be written
	// With FinalEOL the encoding of a non-empty text always ends in a line
	// ending and without it only when the text does, so the body's last byte
	// decides which ending to try.
	final := c.last == '\n'
	for i := range c.styles {
		s := &c.styles[i]
		if s.dead || !bytes.Equal(s.enc.finish(c.got[:0], final), s.want) {
			continue
		}
		c.layout = QPLayout{CRLF: s.enc.crlf, FinalEOL: final, Max75: i == 1}
		c.ok = true
		return c.layout, true
	}
	return c.layout, false
}
