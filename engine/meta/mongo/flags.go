package mongo

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/eidermail/eider/engine"
)

// System flags are bits, so STATUS counters and SEARCH need no string
// work; keywords are kept as given, and folded beside for search. The
// bits are the embedded backend's, so dumps compare.
const (
	bitSeen int32 = 1 << iota
	bitAnswered
	bitFlagged
	bitDeleted
	bitDraft
)

var systemFlags = [...]struct {
	name string
	bit  int32
}{
	{engine.FlagAnswered, bitAnswered},
	{engine.FlagDeleted, bitDeleted},
	{engine.FlagDraft, bitDraft},
	{engine.FlagFlagged, bitFlagged},
	{engine.FlagSeen, bitSeen},
}

// recentFlag is session state (RFC 9051 2.3.2) and never stored.
const recentFlag = `\Recent`

type flagSet struct {
	sys      int32
	keywords []string // distinct case-insensitively, sorted
}

func systemBit(name string) int32 {
	for _, f := range systemFlags {
		if strings.EqualFold(name, f.name) {
			return f.bit
		}
	}
	return 0
}

// parseFlags normalises flags: system flags spelled canonically, keywords
// deduplicated case-insensitively (first spelling wins), \Recent dropped.
// An empty flag or one with white space or controls is ErrInvalidName.
func parseFlags(in []string) (flagSet, error) {
	var f flagSet
	for _, name := range in {
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return flagSet{}, fmt.Errorf("flag %q: %w", name, engine.ErrInvalidName)
		}
		if bit := systemBit(name); bit != 0 {
			f.sys |= bit
			continue
		}
		if strings.EqualFold(name, recentFlag) {
			continue
		}
		f.addKeyword(name)
	}
	slices.Sort(f.keywords)
	return f, nil
}

func (f *flagSet) hasKeyword(k string) bool {
	return slices.ContainsFunc(f.keywords, func(have string) bool { return strings.EqualFold(have, k) })
}

func (f *flagSet) addKeyword(k string) {
	if !f.hasKeyword(k) {
		f.keywords = append(f.keywords, k)
	}
}

func (f flagSet) apply(op engine.FlagOp, g flagSet) flagSet {
	out := flagSet{sys: f.sys, keywords: slices.Clone(f.keywords)}
	switch op {
	case engine.FlagsAdd:
		out.sys |= g.sys
		for _, k := range g.keywords {
			out.addKeyword(k)
		}
	case engine.FlagsRemove:
		out.sys &^= g.sys
		out.keywords = slices.DeleteFunc(out.keywords, g.hasKeyword)
	case engine.FlagsReplace:
		out.sys = g.sys
		out.keywords = slices.DeleteFunc(out.keywords, func(k string) bool { return !g.hasKeyword(k) })
		for _, k := range g.keywords {
			out.addKeyword(k)
		}
	}
	slices.Sort(out.keywords)
	return out
}

func (f flagSet) equal(g flagSet) bool {
	if f.sys != g.sys || len(f.keywords) != len(g.keywords) {
		return false
	}
	for _, k := range f.keywords {
		if !g.hasKeyword(k) {
			return false
		}
	}
	return true
}

// list returns the flags sorted, system flags with their backslash.
func (f flagSet) list() []string {
	out := make([]string, 0, len(f.keywords)+2)
	for _, s := range systemFlags {
		if f.sys&s.bit != 0 {
			out = append(out, s.name)
		}
	}
	out = append(out, f.keywords...)
	slices.Sort(out)
	return out
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
