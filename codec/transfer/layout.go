package transfer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidLayout reports a Layout whose LineLen is not a positive multiple of 4.
var ErrInvalidLayout = errors.New("transfer: invalid base64 layout")

// strictB64 rejects non-zero unused bits in the last character, which is what
// makes a decoded-then-re-encoded body come out identical.
var strictB64 = base64.StdEncoding.Strict()

// MaxLineLen is the longest base64 line (in characters, line ending excluded)
// that Base64Decoder accepts as canonical; RFC 5322 caps a line at 998
// characters plus CRLF, so anything longer is damaged or not mail.
const MaxLineLen = 1000

// DefaultLayout is the layout recorded for an empty body and the one to use
// for new content: RFC 2045's 76 characters per line with CRLF.
func DefaultLayout() Layout { return Layout{LineLen: 76, CRLF: true} }

// Layout is how a base64 body was laid out, enough to reproduce it from the
// decoded bytes.
//
// Every line but the last holds exactly LineLen characters; the last holds
// the rest of the encoding with its "=" padding. An empty decoded content has
// no lines; its encoding is a single line ending when FinalEOL is set and
// empty otherwise.
type Layout struct {
	LineLen  int  // encoded characters per full line (a multiple of 4, > 0)
	CRLF     bool // line ending is CRLF (else bare LF)
	FinalEOL bool // the last line is followed by a line ending
}

// Validate reports whether l can describe a base64 body. Layouts read back
// from storage should be validated once; the other methods round an invalid
// LineLen down to a multiple of 4 (at least 4) instead of failing.
func (l Layout) Validate() error {
	if l.LineLen < 4 || l.LineLen%4 != 0 {
		return fmt.Errorf("%w: line length %d", ErrInvalidLayout, l.LineLen)
	}
	return nil
}

func (l Layout) String() string {
	eol := "LF"
	if l.CRLF {
		eol = "CRLF"
	}
	final := ""
	if l.FinalEOL {
		final = "+final"
	}
	return fmt.Sprintf("%d/%s%s", l.LineLen, eol, final)
}

// lineChars is LineLen made usable: a positive multiple of 4.
func (l Layout) lineChars() int {
	if l.LineLen < 4 {
		return 4
	}
	return l.LineLen &^ 3
}

// lineBytes is how many decoded bytes one full line carries.
func (l Layout) lineBytes() int { return l.lineChars() / 4 * 3 }

func (l Layout) eolLen() int {
	if l.CRLF {
		return 2
	}
	return 1
}

func (l Layout) appendEOL(dst []byte) []byte {
	if l.CRLF {
		return append(dst, '\r', '\n')
	}
	return append(dst, '\n')
}

// EncodedSize is the length of the body that encodes decodedSize bytes under l.
func (l Layout) EncodedSize(decodedSize int64) int64 {
	eol := int64(l.eolLen())
	if decodedSize <= 0 {
		if l.FinalEOL {
			return eol
		}
		return 0
	}
	chars := (decodedSize + 2) / 3 * 4
	per := int64(l.lineChars())
	lines := (chars + per - 1) / per
	size := chars + (lines-1)*eol
	if l.FinalEOL {
		size += eol
	}
	return size
}

// Base64Range maps an encoded byte range [off, off+n) of the body to the
// decoded range that must be read to regenerate it: read decoded
// [decOff, decOff+decLen), encode it with EncodeRange and drop skip leading
// bytes; the next n bytes are the range (EncodeRange may produce more, the
// rest of the last line). The range is clipped to the body.
func Base64Range(l Layout, decodedSize, off, n int64) (decOff, decLen, skip int64) {
	total := l.EncodedSize(decodedSize)
	off = min(max(off, 0), total)
	n = min(max(n, 0), total-off)
	if n == 0 {
		return 0, 0, 0
	}
	if decodedSize <= 0 {
		// The body is at most one line ending, which EncodeRange emits whole.
		return 0, 0, off
	}
	stride := int64(l.lineChars() + l.eolLen())
	per := int64(l.lineBytes())
	first := off / stride
	last := (off + n - 1) / stride
	decOff = first * per
	decLen = min((last+1)*per, decodedSize) - decOff
	return decOff, decLen, off - first*stride
}

// EncodeRange appends to dst the encoding of decoded, which starts at decoded
// offset decOff of content of decodedSize bytes, exactly as it appears in the
// full encoding under l, line endings included. decOff must be a line start
// (a multiple of the bytes per line, as Base64Range returns) and decoded must
// end at a line end or at the end of the content; other input yields
// unspecified but bounded output.
func EncodeRange(dst []byte, l Layout, decodedSize, decOff int64, decoded []byte) []byte {
	if decodedSize <= 0 {
		if l.FinalEOL {
			dst = l.appendEOL(dst)
		}
		return dst
	}
	per := l.lineBytes()
	lines := (len(decoded) + per - 1) / per
	dst = slices.Grow(dst, base64.StdEncoding.EncodedLen(len(decoded))+lines*l.eolLen())
	pos := decOff
	for len(decoded) > 0 {
		k := min(per, len(decoded))
		at := len(dst)
		dst = dst[:at+base64.StdEncoding.EncodedLen(k)]
		base64.StdEncoding.Encode(dst[at:], decoded[:k])
		decoded = decoded[k:]
		pos += int64(k)
		if pos < decodedSize || l.FinalEOL {
			dst = l.appendEOL(dst)
		}
	}
	return dst
}

// AppendBase64 appends the whole encoding of decoded under l to dst.
func AppendBase64(dst []byte, l Layout, decoded []byte) []byte {
	return EncodeRange(dst, l, int64(len(decoded)), 0, decoded)
}
