package imap

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted is the longest string written quoted; longer ones go as
// literals, which every client must read and which need no escaping.
const maxQuoted = 4096

// quotable reports whether s can be written as a quoted string: no CR, LF
// or NUL, not too long, and 8-bit only as valid UTF-8 when allowed.
func quotable(s string, utf8OK bool) bool {
	if len(s) > maxQuoted {
		return false
	}
	high := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c == 0:
			return false
		case c >= 0x80:
			high = true
		}
	}
	if high {
		return utf8OK && utf8.ValidString(s)
	}
	return true
}

func isAtom(s string) bool {
	if s == "" || len(s) == 3 && equalFoldASCII(s, "NIL") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAStringChar(s[i]) {
			return false
		}
	}
	return true
}

// appendString writes s as a quoted string, or as a literal when quoting
// cannot carry it. NUL, which no IMAP string may contain, is dropped.
func appendString(dst []byte, s string, utf8OK bool) []byte {
	if quotable(s, utf8OK) {
		return appendQuoted(dst, s)
	}
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			n--
		}
	}
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, "}\r\n"...)
	if n == len(s) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != 0 {
			dst = append(dst, s[i])
		}
	}
	return dst
}

func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendNString writes NIL for "" and a string otherwise.
func appendNString(dst []byte, s string, utf8OK bool) []byte {
	if s == "" {
		return append(dst, "NIL"...)
	}
	return appendString(dst, s, utf8OK)
}

// appendAString writes s as an atom when it is one, else as a string.
func appendAString(dst []byte, s string, utf8OK bool) []byte {
	if isAtom(s) {
		return append(dst, s...)
	}
	return appendString(dst, s, utf8OK)
}

func appendAStringASCII(dst []byte, s string) []byte { return appendAString(dst, s, false) }

func appendQuotedASCII(dst []byte, s string) []byte { return appendString(dst, s, false) }

// appendText writes response text: printable, no CR or LF, and 8-bit only
// as valid UTF-8 (RFC 9051 allows it in text).
func appendText(dst []byte, s string) []byte {
	valid := utf8.ValidString(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			c = ' '
		case c >= 0x80 && !valid:
			c = '?'
		}
		dst = append(dst, c)
	}
	return dst
}
