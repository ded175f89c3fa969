package sqlite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eidermail/eider/engine"
)

// System flags are stored as bits so STATUS counters and SEARCH on them need
// no string work; keywords are stored as given, space separated.
const (
	bitSeen uint8 = 1 << iota
	bitAnswered
	bitFlagged
	bitDeleted
	bitDraft
)

var systemFlags = [...]struct {
	name string
	bit  uint8
}{
	{engine.FlagAnswered, bitAnswered},
	{engine.FlagDeleted, bitDeleted},
	{engine.FlagDraft, bitDraft},
	{engine.FlagFlagged, bitFlagged},
	{engine.FlagSeen, bitSeen},
}

// recentFlag is session state (RFC 9051 2.3.2) and never stored.
const recentFlag = `\Recent`

// flagSet is a message's flags in stored form.
type flagSet struct {
	sys      uint8
	keywords []string // distinct case-insensitively, sorted
}

// systemBit returns the bit of a system flag named case-insensitively, or 0.
func systemBit(name string) uint8 {
	for _, f := range systemFlags {
		if strings.EqualFold(name, f.name) {
			return f.bit
		}
	}
	return 0
}

// parseFlags normalises flags: system flags to their canonical spelling,
// keywords deduplicated case-insensitively (the first spelling wins),
// \Recent dropped. A flag that is empty or holds white space or control
// characters cannot be stored and is ErrInvalidName.
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
	for _, have := range f.keywords {
		if strings.EqualFold(have, k) {
			return true
		}
	}
	return false
}

func (f *flagSet) addKeyword(k string) {
	if !f.hasKeyword(k) {
		f.keywords = append(f.keywords, k)
	}
}

// apply returns f changed by op with g.
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
		// Keep the stored spelling of keywords that stay.
		out.keywords = slices.DeleteFunc(out.keywords, func(k string) bool { return !g.hasKeyword(k) })
		for _, k := range g.keywords {
			out.addKeyword(k)
		}
	}
	slices.Sort(out.keywords)
	return out
}

// equal compares two flag sets, keywords case-insensitively.
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

// list returns the flags as MessageMeta.Flags wants them: sorted, system
// flags with their backslash.
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

func (f flagSet) keywordText() string { return strings.Join(f.keywords, " ") }

// splitFlags splits a space-joined flag list. Flags hold no ASCII space
// (parseFlags refuses them) but may hold other Unicode spaces, so this is
// not strings.Fields.
func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// storedFlags rebuilds a flagSet from its columns.
func storedFlags(sys int64, keywords string) flagSet {
	return flagSet{sys: uint8(sys), keywords: splitFlags(keywords)}
}

// flagText is the journal's form of a flag list.
func flagText(list []string) string { return strings.Join(list, " ") }

// journalFlags decodes a journal entry's flags, sorted like list (entries
// written by the set-based STORE are not).
func journalFlags(s string) []string {
	if s == "" {
		return []string{}
	}
	out := splitFlags(s)
	slices.Sort(out)
	return out
}
