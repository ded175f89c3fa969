package testcorpus

import (
	"encoding/base64"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// charset is a MIME charset with a real encoder, so that bodies and encoded
// words carry the bytes that mail in that charset really has.
type charset struct {
	name     string
	enc      encoding.Encoding // nil: the text is already in this charset
	lang     language
	sevenBit bool // the encoding never produces bytes above 0x7f
}

var (
	csUTF8     = charset{"utf-8", nil, langAny, false}
	csASCII    = charset{"us-ascii", nil, langEnglish, true}
	csLatin1   = charset{"iso-8859-1", charmap.ISO8859_1, langWestern, false}
	csWin1252  = charset{"windows-1252", charmap.Windows1252, langWestern1252, false}
	csKOI8R    = charset{"koi8-r", charmap.KOI8R, langRussian, false}
	csShiftJIS = charset{"shift_jis", japanese.ShiftJIS, langJapanese, false}
	csISO2022  = charset{"iso-2022-jp", japanese.ISO2022JP, langJapanese, true}
)

// bodyCharsets weights charsets roughly as mail in the wild does.
var bodyCharsets = []charset{
	csUTF8, csUTF8, csUTF8, csUTF8, csUTF8, csUTF8, csASCII, csASCII,
	csLatin1, csLatin1, csWin1252, csWin1252, csKOI8R, csShiftJIS, csISO2022, csISO2022,
}

// encode converts UTF-8 text into the charset. The sample text is chosen to
// fit each charset, so a failure is a bug in the corpus.
func (c charset) encode(s string) []byte {
	if c.enc == nil {
		return []byte(s)
	}
	b, err := c.enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic("testcorpus: cannot encode sample text as " + c.name + ": " + err.Error())
	}
	return b
}

// qpEncode encodes data as quoted-printable (RFC 2045 6.7). Line breaks in
// data ("\n", with or without "\r") become hard breaks written as nl; lines
// get soft breaks so that none exceeds 76 characters.
func qpEncode(data []byte, nl string, lowerHex bool) []byte {
	digits := "0123456789ABCDEF"
	if lowerHex {
		digits = "0123456789abcdef"
	}
	out := make([]byte, 0, len(data)+len(data)/8)
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		col := 0
		for j := 0; j < len(line); j++ {
			c := line[j]
			// Trailing blanks must be encoded: transports strip them.
			literal := (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && j < len(line)-1)
			n := 3
			if literal {
				n = 1
			}
			if col+n > 75 {
				out = append(out, '=')
				out = append(out, nl...)
				col = 0
			}
			if literal {
				out = append(out, c)
			} else {
				out = append(out, '=', digits[c>>4], digits[c&15])
			}
			col += n
		}
		if i < len(lines)-1 {
			out = append(out, nl...)
		}
	}
	return out
}

// b64Lines encodes data as base64 in lines of width characters (0: one
// line), each ending in nl.
func b64Lines(data []byte, width int, nl string) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	if width <= 0 {
		return []byte(enc + nl)
	}
	out := make([]byte, 0, len(enc)+len(enc)/width*len(nl)+len(nl))
	for len(enc) > width {
		out = append(out, enc[:width]...)
		out = append(out, nl...)
		enc = enc[width:]
	}
	out = append(out, enc...)
	return append(out, nl...)
}

// encodedWords renders s as RFC 2047 encoded words in charset cs, B or Q
// encoded, each at most 75 characters and split only between characters, so
// that every word decodes on its own. Words are separated by spaces, where
// header folding may break.
func encodedWords(cs charset, s string, q bool) string {
	if cs == csISO2022 {
		// Its escape sequences make Q unreadable; mailers always use B.
		q = false
	}
	render := func(chunk string) string {
		b := cs.encode(chunk)
		if !q {
			return "=?" + cs.name + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
		}
		var sb strings.Builder
		sb.WriteString("=?" + cs.name + "?Q?")
		for _, c := range b {
			switch {
			case c == ' ':
				sb.WriteByte('_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
				c == '!', c == '*', c == '+', c == '-', c == '/':
				// The characters RFC 2047 5(3) allows in a phrase.
				sb.WriteByte(c)
			default:
				sb.WriteByte('=')
				sb.WriteByte("0123456789ABCDEF"[c>>4])
				sb.WriteByte("0123456789ABCDEF"[c&15])
			}
		}
		sb.WriteString("?=")
		return sb.String()
	}
	var words []string
	chunk := ""
	for _, ru := range s {
		if chunk != "" && len(render(chunk+string(ru))) > 75 {
			words = append(words, render(chunk))
			chunk = ""
		}
		chunk += string(ru)
	}
	if chunk != "" {
		words = append(words, render(chunk))
	}
	return strings.Join(words, " ")
}

// fold renders the header field "name: value", folding at spaces so that
// lines stay within 78 characters where the value allows (RFC 5322 2.2.3).
// Unfolding (removing each nl) gives back "name: value".
func fold(name, value, nl string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(':')
	lineLen := len(name) + 1
	first := true
	for _, w := range strings.Split(value, " ") {
		if !first && lineLen+1+len(w) > 78 && lineLen > len(name)+1 {
			b.WriteString(nl)
			lineLen = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		lineLen += 1 + len(w)
		first = false
	}
	return b.String()
}
