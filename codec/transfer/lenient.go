package transfer

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// b64Values maps a byte to its base64 value, b64Pad for '=' and b64Skip for
// anything else.
var b64Values = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = b64Skip
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	t['='] = b64Pad
	return t
}()

const (
	b64Pad  = 0xfe
	b64Skip = 0xff
)

// b64Lenient decodes base64 the forgiving way mail clients do: characters
// outside the alphabet (whitespace, junk, a url-safe alphabet) are skipped; a
// '=' ends the current group, whose complete bytes are kept, and decoding
// goes on after it, so bodies made of several padded encodings in a row come
// out whole; a trailing group of 2 or 3 characters yields its 1 or 2 bytes.
type b64Lenient struct {
	acc uint32 // values of the characters of the current group
	n   int    // characters in the current group (0..3)
}

// decode appends the decoded bytes of src to dst.
func (s *b64Lenient) decode(dst, src []byte) []byte {
	at := len(dst)
	dst = slices.Grow(dst, len(src)/4*3+6)
	buf := dst[:cap(dst)]
	o := at
	acc, n := s.acc, s.n
	i := 0
	for i < len(src) {
		// Whole groups of clean characters are the common case.
		if n == 0 && len(src)-i >= 8 {
			s8 := src[i : i+8]
			a, b, c, d := b64Values[s8[0]], b64Values[s8[1]], b64Values[s8[2]], b64Values[s8[3]]
			e, f, g, h := b64Values[s8[4]], b64Values[s8[5]], b64Values[s8[6]], b64Values[s8[7]]
			if a|b|c|d|e|f|g|h < 64 {
				v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
				w := uint32(e)<<18 | uint32(f)<<12 | uint32(g)<<6 | uint32(h)
				o6 := buf[o : o+6]
				o6[0], o6[1], o6[2] = byte(v>>16), byte(v>>8), byte(v)
				o6[3], o6[4], o6[5] = byte(w>>16), byte(w>>8), byte(w)
				o += 6
				i += 8
				continue
			}
		}
		if n == 0 && len(src)-i >= 4 {
			a, b, c, d := b64Values[src[i]], b64Values[src[i+1]], b64Values[src[i+2]], b64Values[src[i+3]]
			if a|b|c|d < 64 {
				v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
				buf[o], buf[o+1], buf[o+2] = byte(v>>16), byte(v>>8), byte(v)
				o += 3
				i += 4
				continue
			}
		}
		v := b64Values[src[i]]
		i++
		switch {
		case v < 64:
			acc = acc<<6 | uint32(v)
			n++
			if n == 4 {
				buf[o], buf[o+1], buf[o+2] = byte(acc>>16), byte(acc>>8), byte(acc)
				o += 3
				acc, n = 0, 0
			}
		case v == b64Pad:
			o += partialGroup(buf[o:], acc, n)
			acc, n = 0, 0
		}
	}
	s.acc, s.n = acc, n
	return dst[:o]
}

// partialGroup writes the whole bytes of an unfinished group of n characters.
func partialGroup(dst []byte, acc uint32, n int) int {
	switch n {
	case 2:
		dst[0] = byte(acc >> 4)
		return 1
	case 3:
		dst[0], dst[1] = byte(acc>>10), byte(acc>>2)
		return 2
	}
	return 0
}

// finish appends what an unfinished group still yields at the end of the body.
func (s *b64Lenient) finish(dst []byte) []byte {
	var b [2]byte
	k := partialGroup(b[:], s.acc, s.n)
	s.acc, s.n = 0, 0
	return append(dst, b[:k]...)
}

// count adds to total the decoded length of src without producing it.
func (s *b64Lenient) count(src []byte) int64 {
	var total int64
	n := s.n
	for _, c := range src {
		switch v := b64Values[c]; {
		case v < 64:
			n++
			if n == 4 {
				total += 3
				n = 0
			}
		case v == b64Pad:
			if n >= 2 {
				total += int64(n - 1)
			}
			n = 0
		}
	}
	s.n = n
	return total
}

func (s *b64Lenient) pendingCount() int64 {
	if s.n >= 2 {
		return int64(s.n - 1)
	}
	return 0
}

type qpState uint8

const (
	qpText  qpState = iota
	qpCR            // a '\r' that may start a CRLF
	qpEq            // a '='
	qpEqHex         // '=' and one hex digit
	qpEqWS          // '=' and whitespace: transport padding before a soft line break?
	qpEqCR          // '=', optional whitespace, '\r'
)

// maxQPWhitespace bounds how much trailing-whitespace candidate a QP decoder
// holds back; longer runs cannot be transport padding of a mail line and are
// released as text.
const maxQPWhitespace = 1000

// qpLenient decodes quoted-printable the forgiving way mail clients do:
// "=XX" with upper- or lowercase hex is the byte; '=' followed by optional
// spaces and tabs and a line ending is a soft line break; a '=' that starts
// neither is kept as it is; spaces and tabs before a line ending or the end
// of the body are transport padding and dropped (RFC 2045 6.7 rule 3); line
// endings are kept as they appear (CRLF or bare LF).
type qpLenient struct {
	st    qpState
	hex   byte   // the first digit after '=' in qpEqHex
	ws    []byte // spaces and tabs not yet known to be followed by text
	padWS []byte // spaces and tabs after a '='
	out   []byte // where decoded bytes go, unless counting
	count bool   // count decoded bytes in n instead of producing them
	n     int64
}

// hexValues maps a hex digit (either case) to its value and anything else to 0xff.
var hexValues = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range byte(10) {
		t['0'+i] = i
	}
	for i := range byte(6) {
		t['A'+i] = 10 + i
		t['a'+i] = 10 + i
	}
	return t
}()

// qpPlain marks bytes that decode to themselves in every state but the escapes.
var qpPlain = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for _, c := range []byte{'=', ' ', '\t', '\r', '\n'} {
		t[c] = false
	}
	return t
}()

func (q *qpLenient) emit(p ...byte) {
	if q.count {
		q.n += int64(len(p))
	} else {
		q.out = append(q.out, p...)
	}
}

func (q *qpLenient) emitWS() {
	if len(q.ws) > 0 {
		q.emit(q.ws...)
		q.ws = q.ws[:0]
	}
}

func (q *qpLenient) holdWS(c byte) {
	if len(q.ws) == maxQPWhitespace {
		q.emitWS()
	}
	q.ws = append(q.ws, c)
}

// feed decodes src into q.out (or q.n when counting).
func (q *qpLenient) feed(src []byte) {
	for i := 0; i < len(src); {
		if q.st == qpText && qpPlain[src[i]] {
			j := i + 1
			for j < len(src) && qpPlain[src[j]] {
				j++
			}
			q.emitWS()
			q.emit(src[i:j]...)
			i = j
			continue
		}
		if q.st == qpText && src[i] == '=' && len(src)-i >= 3 {
			// A complete escape, the other common case.
			if h, l := hexValues[src[i+1]], hexValues[src[i+2]]; h < 16 && l < 16 {
				q.emitWS()
				q.emit(h<<4 | l)
				i += 3
				continue
			}
		}
		q.step(src[i])
		i++
	}
}

func (q *qpLenient) step(c byte) {
	switch q.st {
	case qpText:
		switch c {
		case ' ', '\t':
			q.holdWS(c)
		case '\r':
			q.st = qpCR
		case '\n':
			q.ws = q.ws[:0]
			q.emit('\n')
		case '=':
			q.st = qpEq
		default:
			q.emitWS()
			q.emit(c)
		}
	case qpCR:
		q.st = qpText
		if c == '\n' {
			q.ws = q.ws[:0]
			q.emit('\r', '\n')
			return
		}
		// A bare CR is text.
		q.emitWS()
		q.emit('\r')
		q.step(c)
	case qpEq:
		switch {
		case hexValues[c] != 0xff:
			q.hex = c
			q.st = qpEqHex
		case c == ' ' || c == '\t':
			q.padWS = append(q.padWS[:0], c)
			q.st = qpEqWS
		case c == '\r':
			q.padWS = q.padWS[:0]
			q.st = qpEqCR
		case c == '\n':
			q.softBreak()
		default:
			q.literalEq(nil)
			q.step(c)
		}
	case qpEqHex:
		if v := hexValues[c]; v != 0xff {
			q.st = qpText
			q.emitWS()
			q.emit(hexValues[q.hex]<<4 | v)
			return
		}
		q.literalEq([]byte{q.hex})
		q.step(c)
	case qpEqWS:
		switch {
		case (c == ' ' || c == '\t') && len(q.padWS) < maxQPWhitespace:
			q.padWS = append(q.padWS, c)
		case c == '\r':
			q.st = qpEqCR
		case c == '\n':
			q.softBreak()
		default:
			q.literalEq(q.padWS)
			q.step(c)
		}
	case qpEqCR:
		if c == '\n' {
			q.softBreak()
			return
		}
		q.literalEq(append(q.padWS, '\r'))
		q.step(c)
	}
}

// softBreak ends an encoded line that continues on the next: whitespace
// before the '=' is text, whitespace after it is padding.
func (q *qpLenient) softBreak() {
	q.st = qpText
	q.emitWS()
	q.padWS = q.padWS[:0]
}

// literalEq keeps a '=' that starts no escape as text and decodes the bytes
// held after it afresh. Held bytes are whitespace, a hex digit or '\r', none
// of which starts a new escape, so this does not recurse further.
func (q *qpLenient) literalEq(held []byte) {
	q.st = qpText
	q.emitWS()
	q.emit('=')
	for _, h := range held {
		q.step(h)
	}
	q.padWS = q.padWS[:0]
}

// finish ends the body: trailing whitespace and a dangling soft break go, an
// unfinished escape is kept as text.
func (q *qpLenient) finish() {
	switch q.st {
	case qpText:
		q.ws = q.ws[:0]
	case qpCR:
		q.emitWS()
		q.emit('\r')
	case qpEq, qpEqWS, qpEqCR:
		q.emitWS()
	case qpEqHex:
		q.emitWS()
		q.emit('=', q.hex)
	}
	q.st = qpText
	q.padWS = q.padWS[:0]
}

// pendingCount is how many bytes finish would still produce, without changing q.
func (q *qpLenient) pendingCount() int64 {
	switch q.st {
	case qpCR:
		return int64(len(q.ws)) + 1
	case qpEq, qpEqWS, qpEqCR:
		return int64(len(q.ws))
	case qpEqHex:
		return int64(len(q.ws)) + 2
	}
	return 0
}

// readChunk is how much encoded input the lenient readers take at a time.
const readChunk = 32 << 10

type lenientReader struct {
	r      io.Reader
	src    []byte
	out    []byte // decoded, not yet read
	off    int
	err    error
	decode func(dst, src []byte) []byte
	finish func(dst []byte) []byte
}

func (lr *lenientReader) Read(p []byte) (int, error) {
	for lr.off == len(lr.out) {
		if lr.err != nil {
			return 0, lr.err
		}
		lr.out, lr.off = lr.out[:0], 0
		n, err := lr.r.Read(lr.src)
		lr.out = lr.decode(lr.out, lr.src[:n])
		switch {
		case errors.Is(err, io.EOF):
			lr.out = lr.finish(lr.out)
			lr.err = io.EOF
		case err != nil:
			lr.err = fmt.Errorf("transfer: reading encoded body: %w", err)
		}
	}
	n := copy(p, lr.out[lr.off:])
	lr.off += n
	return n, nil
}

// NewBase64Reader decodes a base64 body leniently, for BINARY[] and text
// extraction of bodies that were stored raw: it never fails on bad input.
// Characters outside the alphabet are skipped; a '=' ends the current group
// and decoding continues after it; a trailing partial group yields its whole
// bytes. Read errors of r other than io.EOF are returned wrapped.
func NewBase64Reader(r io.Reader) io.Reader {
	s := &b64Lenient{}
	return &lenientReader{
		r:      r,
		src:    make([]byte, readChunk),
		decode: s.decode,
		finish: s.finish,
	}
}

// NewQPReader decodes a quoted-printable body leniently: "=XX" in either
// case, soft line breaks with or without transport padding, trailing
// whitespace dropped, a '=' that starts no escape kept as text, line endings
// kept as they appear. It never fails on bad input. Read errors of r other
// than io.EOF are returned wrapped.
func NewQPReader(r io.Reader) io.Reader {
	q := &qpLenient{}
	return &lenientReader{
		r:   r,
		src: make([]byte, readChunk),
		decode: func(dst, src []byte) []byte {
			q.out = dst
			q.feed(src)
			return q.out
		},
		finish: func(dst []byte) []byte {
			q.out = dst
			q.finish()
			return q.out
		},
	}
}

// Counter counts the decoded size of a body fed to it in chunks, without
// producing the decoded bytes, for BINARY.SIZE of bodies stored raw. Its count
// always equals the length of what NewBase64Reader or NewQPReader yields for
// the same body. It is an io.Writer that never fails, so it can sit in an
// io.MultiWriter beside the blob writer.
type Counter struct {
	qp    bool
	b64   b64Lenient
	total int64 // base64 bytes from complete groups
	q     qpLenient
}

// NewBase64Counter counts what NewBase64Reader would decode.
func NewBase64Counter() *Counter { return &Counter{} }

// NewQPCounter counts what NewQPReader would decode.
func NewQPCounter() *Counter { return &Counter{qp: true, q: qpLenient{count: true}} }

// Write feeds encoded bytes; it always consumes all of p.
func (c *Counter) Write(p []byte) (int, error) {
	if c.qp {
		c.q.feed(p)
	} else {
		c.total += c.b64.count(p)
	}
	return len(p), nil
}

// Size is the decoded length of everything written, as if the body ended now.
// More may be written afterwards.
func (c *Counter) Size() int64 {
	if c.qp {
		return c.q.n + c.q.pendingCount()
	}
	return c.total + c.b64.pendingCount()
}
