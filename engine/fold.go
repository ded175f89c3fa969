package engine

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FoldText is the form in which every metadata backend stores and compares
// search text, so that all of them answer a SEARCH alike: NFKC, then every
// rune mapped through its simple upper case to its lower case (a per-rune
// approximation of i;unicode-casemap, RFC 5051, which keeps substring
// relations intact). NUL is dropped and invalid UTF-8 becomes U+FFFD. It is
// idempotent, so text folded when stored and again when a store is migrated
// still matches a needle folded once.
func FoldText(s string) string {
	switch asciiKind(s) {
	case foldedASCII:
		return s
	case plainASCII:
		return strings.ToLower(s) // NFKC and case mapping of ASCII are just this
	}
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == 0 {
			continue
		}
		b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
	}
	out := b.String()
	// Case mapping can undo normalisation: "T" + U+0308 has no precomposed
	// capital, but "t" + U+0308 composes to U+1E97.
	if !norm.NFKC.IsNormalString(out) {
		out = norm.NFKC.String(out)
	}
	return out
}

const (
	foldedASCII = iota // ASCII without upper case or NUL: folds to itself
	plainASCII         // ASCII without NUL
	otherText
)

func asciiKind(s string) int {
	kind := foldedASCII
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0 || c >= utf8.RuneSelf:
			return otherText
		case 'A' <= c && c <= 'Z':
			kind = plainASCII
		}
	}
	return kind
}

// HeaderMatch reports whether header (folded "name: value\n" lines, as
// NewMessage.HeaderText after FoldText) has a field called name (any field
// when name is empty) whose value contains value; an empty value with a name
// asks only whether the field exists (SEARCH HEADER name "").
func HeaderMatch(header, name, value []byte) bool {
	for len(header) > 0 {
		line := header
		if i := bytes.IndexByte(header, '\n'); i >= 0 {
			line, header = header[:i], header[i+1:]
		} else {
			header = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		if len(name) > 0 && !bytes.Equal(bytes.TrimRight(line[:colon], " \t"), name) {
			continue
		}
		if len(value) == 0 && len(name) > 0 {
			return true
		}
		if bytes.Contains(bytes.TrimLeft(line[colon+1:], " \t"), value) {
			return true
		}
	}
	return false
}

// TraceFields are header fields whose values are machine-made trace and
// signature data (Received hops, DKIM and ARC signatures): mostly random
// tokens nobody searches for, which would otherwise make up much of a
// search index. SEARCH TEXT does not look into them (as full-text indexes
// of other servers leave them out); SEARCH HEADER naming one still does.
var TraceFields = []string{
	"received", "x-received", "received-spf",
	"dkim-signature", "x-google-dkim-signature", "domainkey-signature",
	"arc-seal", "arc-message-signature", "arc-authentication-results",
	"authentication-results", "x-gm-message-state", "x-google-smtp-source",
}

// IsTraceField reports whether a folded field name is one of TraceFields.
func IsTraceField(name []byte) bool {
	for _, f := range TraceFields {
		if string(name) == f {
			return true
		}
	}
	return false
}

// SearchableHeader returns the lines of a folded header text (as
// HeaderMatch takes it) that SEARCH TEXT looks at: all but TraceFields. It
// returns header itself when it has none of them, else a copy in buf.
func SearchableHeader(header, buf []byte) []byte {
	out := buf[:0]
	rest, start, skipped := header, 0, false
	for len(rest) > 0 {
		line := rest
		next := len(rest)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], i+1
		}
		drop := false
		if colon := bytes.IndexByte(line, ':'); colon > 0 {
			drop = IsTraceField(bytes.TrimRight(line[:colon], " \t"))
		}
		if drop && !skipped {
			out = append(out, header[:start]...)
			skipped = true
		} else if !drop && skipped {
			out = append(out, rest[:next]...)
		}
		start += next
		rest = rest[next:]
	}
	if !skipped {
		return header
	}
	return out
}
