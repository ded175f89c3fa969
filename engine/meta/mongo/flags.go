package mongo

import (
	"strings"
	"unicode"

	"github.com/eidermail/eider/engine"
)

// Messages keep their flags as engine.FlagSet: the system flags' bits in
// "f" (the embedded backend's bits, so dumps compare), keywords as given in
// "kw" and folded beside in "kwf" for search.

// storedFlags rebuilds a flag set from a message document's fields.
func storedFlags(sys int32, keywords []string) engine.FlagSet {
	return engine.FlagSet{System: engine.SystemFlags(sys), Keywords: keywords}
}

// keywordKey folds a keyword for case-insensitive identity.
func keywordKey(k string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, k)
}

func keywordKeys(keywords []string) []string {
	out := make([]string, len(keywords))
	for i, k := range keywords {
		out[i] = keywordKey(k)
	}
	return out
}
