package transfer

import (
	"bytes"
	"slices"
)

type b64State uint8

const (
	b64First  b64State = iota // nothing yet: the first line fixes LineLen and the line ending
	b64Lines                  // full lines so far; more may follow
	b64Blank                  // the body so far is a single line ending: exact only if nothing follows
	b64Done                   // the last line and its line ending were seen: nothing may follow
	b64Failed                 // not canonical: Tail holds the unverified bytes
)

type lineKind uint8

const (
	lineBad  lineKind = iota
	lineFull          // exactly LineLen characters, no padding: may be followed by more lines
	lineLast          // shorter or padded: only the end of the body may follow
)

// Base64Decoder decodes a base64 body stream and verifies, line by line, that
// the body is the canonical encoding of its decoded bytes under one Layout
// (the first line fixes LineLen and the line ending). Decoded output is
// released only for verified lines, so when verification fails, the original
// bytes consumed so far are exactly AppendBase64(nil, Layout(), decoded) followed
// by Tail().
//
// Canonical means: standard alphabet; every line but the last exactly LineLen
// characters (at most MaxLineLen); one kind of line ending; the last line at
// most LineLen characters with correct "=" padding and zero unused bits; no
// whitespace, junk or blank lines; at most one line ending after the last
// line. The zero value is ready to use.
type Base64Decoder struct {
	state   b64State
	closed  bool
	layout  Layout
	decoded int64  // bytes released so far
	line    []byte // consumed bytes of the current unfinished line, or the blank body's line ending
	tail    []byte // after a failure: the consumed bytes that were not verified
}

// NewBase64Decoder returns a decoder for one body.
func NewBase64Decoder() *Base64Decoder { return &Base64Decoder{} }

// Reset makes d ready for another body, keeping its buffers.
func (d *Base64Decoder) Reset() {
	*d = Base64Decoder{line: d.line[:0], tail: d.tail[:0]}
}

// Decoded is how many decoded bytes d has released so far.
func (d *Base64Decoder) Decoded() int64 { return d.decoded }

// Layout is the layout that reproduces the released bytes: after a successful
// Close the body's layout, after a failure the layout of the verified prefix
// (whose encoding is the consumed bytes minus Tail()).
func (d *Base64Decoder) Layout() Layout {
	if d.state == b64Failed {
		if d.decoded == 0 {
			return DefaultLayout()
		}
		// Every released line was followed by its line ending: a line without
		// one can only be the last, and that is settled by Close.
		l := d.layout
		l.FinalEOL = true
		return l
	}
	if d.layout.LineLen == 0 {
		return DefaultLayout()
	}
	return d.layout
}

// Tail returns the raw bytes consumed but not verified: at most one line plus
// the byte that proved it wrong. The slice is owned by d.
func (d *Base64Decoder) Tail() []byte {
	if d.state == b64Failed {
		return d.tail
	}
	return d.line
}

// Write consumes encoded bytes and appends verified decoded bytes to dst.
// Once verification failed it consumes nothing more and returns ok=false; n
// is how many bytes of p were consumed (the rest of p, p[n:], is for the
// caller to keep raw). Write after Close consumes nothing and returns false.
func (d *Base64Decoder) Write(dst, p []byte) (out []byte, n int, ok bool) {
	if d.state == b64Failed || d.closed {
		return dst, 0, false
	}
	i := 0
	for i < len(p) {
		switch d.state {
		case b64Blank, b64Done:
			// Anything after the final line ending is not canonical.
			d.fail(p[i : i+1])
			return dst, i + 1, false
		case b64Lines:
			if len(d.line) == 0 {
				var k int
				dst, k = d.fullLines(dst, p[i:])
				i += k
				if i == len(p) {
					return dst, i, true
				}
			}
		}
		rest := p[i:]
		// room is how many more bytes the line may take before its '\n'; the
		// byte past it proves the line too long without buffering it.
		room := d.maxContent() - len(d.line)
		look := rest[:min(len(rest), room+1)]
		j := bytes.IndexByte(look, '\n')
		if j < 0 {
			if len(look) > room {
				d.fail(look)
				return dst, i + len(look), false
			}
			d.line = append(d.line, look...)
			return dst, len(p), true
		}
		raw := rest[:j+1]
		if len(d.line) > 0 {
			d.line = append(d.line, raw...)
			raw = d.line
		}
		i += j + 1
		var good bool
		if dst, good = d.endLine(dst, raw); !good {
			d.tail = append(d.tail[:0], raw...)
			d.line = d.line[:0]
			d.state = b64Failed
			return dst, i, false
		}
		if d.state != b64Blank {
			d.line = d.line[:0]
		}
	}
	return dst, i, true
}

// Close finishes the stream (the final line, padding, the final line ending)
// and appends the last decoded bytes to dst; on success it returns the body's
// layout. On failure, ok=false, layout is the verified prefix's (as Layout
// returns) and Tail() holds the unverified bytes.
func (d *Base64Decoder) Close(dst []byte) (out []byte, layout Layout, ok bool) {
	if d.closed || d.state == b64Failed {
		d.closed = true
		return dst, d.Layout(), d.state != b64Failed
	}
	d.closed = true
	switch d.state {
	case b64First:
		if len(d.line) == 0 {
			d.layout = DefaultLayout()
			break
		}
		// A single line without a line ending: it sets its own length. Its line
		// ending kind never shows, so record the RFC one.
		var kind lineKind
		if len(d.line) <= MaxLineLen {
			dst, kind = d.decodeLine(dst, d.line, len(d.line))
		}
		if kind == lineBad {
			d.fail(nil)
			return dst, d.Layout(), false
		}
		d.layout = Layout{LineLen: len(d.line), CRLF: true}
	case b64Blank:
		// The whole body is one line ending: the empty content with FinalEOL.
	case b64Lines:
		if len(d.line) == 0 {
			d.layout.FinalEOL = true
			break
		}
		var kind lineKind
		if dst, kind = d.decodeLine(dst, d.line, d.layout.LineLen); kind == lineBad {
			d.fail(nil)
			return dst, d.Layout(), false
		}
		d.layout.FinalEOL = false
	case b64Done:
	}
	d.line = d.line[:0]
	d.state = b64Done
	return dst, d.layout, true
}

func (d *Base64Decoder) fail(extra []byte) {
	d.tail = append(append(d.tail[:0], d.line...), extra...)
	d.line = d.line[:0]
	d.state = b64Failed
}

// maxContent is how many bytes a line may hold before its '\n': the
// characters plus the '\r' of a CRLF.
func (d *Base64Decoder) maxContent() int {
	if d.state == b64First {
		return MaxLineLen + 1
	}
	return d.layout.LineLen + d.layout.eolLen() - 1
}

// fullLines decodes the run of complete full lines at the start of p in place,
// without copying them, and returns how many bytes they took. It stops at the
// first line that is not a plain full line, which the caller then examines
// byte by byte.
func (d *Base64Decoder) fullLines(dst, p []byte) ([]byte, int) {
	L := d.layout.LineLen
	stride := L + d.layout.eolLen()
	per := L / 4 * 3
	k := len(p) / stride
	if k == 0 {
		return dst, 0
	}
	dst = slices.Grow(dst, k*per)
	i := 0
	for ; i+stride <= len(p); i += stride {
		line := p[i : i+stride]
		if d.layout.CRLF {
			if line[L] != '\r' || line[L+1] != '\n' {
				break
			}
		} else if line[L] != '\n' {
			break
		}
		// A stray '\r' or '\n' inside the characters would be skipped by the
		// decoder and show as a short result, so n == per proves the line clean.
		at := len(dst)
		n, err := strictB64.Decode(dst[at:cap(dst)], line[:L])
		if err != nil || n != per {
			break
		}
		dst = dst[:at+n]
		d.decoded += int64(n)
	}
	return dst, i
}

// endLine examines one complete line, raw ending in '\n', and releases its
// decoded bytes if it keeps the body canonical.
func (d *Base64Decoder) endLine(dst, raw []byte) ([]byte, bool) {
	content := raw[:len(raw)-1]
	crlf := false
	if n := len(content); n > 0 && content[n-1] == '\r' {
		crlf = true
		content = content[:n-1]
	}
	var kind lineKind
	switch d.state {
	case b64First:
		if len(content) == 0 {
			// Only acceptable as the whole body; keep it until that is known.
			d.layout = Layout{LineLen: DefaultLayout().LineLen, CRLF: crlf, FinalEOL: true}
			d.line = append(d.line[:0], raw...)
			d.state = b64Blank
			return dst, true
		}
		if len(content) > MaxLineLen {
			return dst, false
		}
		if dst, kind = d.decodeLine(dst, content, len(content)); kind == lineBad {
			return dst, false
		}
		d.layout = Layout{LineLen: len(content), CRLF: crlf}
	case b64Lines:
		if crlf != d.layout.CRLF {
			return dst, false
		}
		if dst, kind = d.decodeLine(dst, content, d.layout.LineLen); kind == lineBad {
			return dst, false
		}
	default:
		return dst, false
	}
	if kind == lineLast {
		d.layout.FinalEOL = true
		d.state = b64Done
	} else {
		d.state = b64Lines
	}
	return dst, true
}

// decodeLine decodes the characters of one line (line ending removed) whose
// layout allows lineLen characters, and says what kind of line it is.
func (d *Base64Decoder) decodeLine(dst, content []byte, lineLen int) ([]byte, lineKind) {
	L := len(content)
	if L == 0 || L%4 != 0 || L > lineLen || bytes.IndexByte(content, '\r') >= 0 {
		return dst, lineBad
	}
	at, per := len(dst), L/4*3
	dst = slices.Grow(dst, per)
	n, err := strictB64.Decode(dst[at:at+per], content)
	if err != nil {
		return dst[:at], lineBad
	}
	dst = dst[:at+n]
	d.decoded += int64(n)
	if n == per && L == lineLen {
		return dst, lineFull
	}
	return dst, lineLast
}
