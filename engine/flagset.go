package engine

import (
	"fmt"
	"slices"
	"strings"
)

// SystemFlags are the system flags of RFC 9051 2.3.2 as bits, the form in
// which metadata backends store them (STATUS counters and SEARCH on them
// need no string work). The values are stored: never change them.
type SystemFlags uint8

const (
	SysSeen SystemFlags = 1 << iota
	SysAnswered
	SysFlagged
	SysDeleted
	SysDraft
)

// systemFlags is sorted by name, the order List gives.
var systemFlags = [...]struct {
	name string
	bit  SystemFlags
}{
	{FlagAnswered, SysAnswered},
	{FlagDeleted, SysDeleted},
	{FlagDraft, SysDraft},
	{FlagFlagged, SysFlagged},
	{FlagSeen, SysSeen},
}

// SystemFlagBit returns the bit of a system flag named case-insensitively,
// or 0 for a keyword.
func SystemFlagBit(name string) SystemFlags {
	for _, f := range systemFlags {
		if strings.EqualFold(name, f.name) {
			return f.bit
		}
	}
	return 0
}

// SystemFlagNames returns the system flags' canonical names, sorted.
func SystemFlagNames() []string {
	out := make([]string, len(systemFlags))
	for i, f := range systemFlags {
		out[i] = f.name
	}
	return out
}

// recentFlag is session state (RFC 9051 2.3.2) and never stored.
const recentFlag = `\Recent`

// FlagSet is a message's flags as metadata backends keep them: system
// flags as bits, keywords as given, distinct case-insensitively (the first
// spelling wins) and sorted.
type FlagSet struct {
	System   SystemFlags
	Keywords []string
}

// ParseFlags normalises flags: system flags to their canonical spelling,
// keywords deduplicated case-insensitively, \Recent dropped. A flag that is
// empty or holds white space or control characters cannot be stored and
// is ErrInvalidName.
func ParseFlags(in []string) (FlagSet, error) {
	var f FlagSet
	for _, name := range in {
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return FlagSet{}, fmt.Errorf("flag %q: %w", name, ErrInvalidName)
		}
		if bit := SystemFlagBit(name); bit != 0 {
			f.System |= bit
			continue
		}
		if strings.EqualFold(name, recentFlag) {
			continue
		}
		f.addKeyword(name)
	}
	slices.Sort(f.Keywords)
	return f, nil
}

// HasKeyword reports whether k is among the keywords, case-insensitively.
func (f FlagSet) HasKeyword(k string) bool {
	return slices.ContainsFunc(f.Keywords, func(have string) bool { return strings.EqualFold(have, k) })
}

func (f *FlagSet) addKeyword(k string) {
	if !f.HasKeyword(k) {
		f.Keywords = append(f.Keywords, k)
	}
}

// Apply returns f changed by op with g (STORE +FLAGS, -FLAGS, FLAGS).
func (f FlagSet) Apply(op FlagOp, g FlagSet) FlagSet {
	out := FlagSet{System: f.System, Keywords: slices.Clone(f.Keywords)}
	switch op {
	case FlagsAdd:
		out.System |= g.System
		for _, k := range g.Keywords {
			out.addKeyword(k)
		}
	case FlagsRemove:
		out.System &^= g.System
		out.Keywords = slices.DeleteFunc(out.Keywords, g.HasKeyword)
	case FlagsReplace:
		out.System = g.System
		// Keep the stored spelling of keywords that stay.
		out.Keywords = slices.DeleteFunc(out.Keywords, func(k string) bool { return !g.HasKeyword(k) })
		for _, k := range g.Keywords {
			out.addKeyword(k)
		}
	}
	slices.Sort(out.Keywords)
	return out
}

// Equal compares two flag sets, keywords case-insensitively.
func (f FlagSet) Equal(g FlagSet) bool {
	if f.System != g.System || len(f.Keywords) != len(g.Keywords) {
		return false
	}
	for _, k := range f.Keywords {
		if !g.HasKeyword(k) {
			return false
		}
	}
	return true
}

// List returns the flags as MessageMeta.Flags holds them: sorted, system
// flags with their backslash.
func (f FlagSet) List() []string {
	out := make([]string, 0, len(f.Keywords)+2)
	for _, s := range systemFlags {
		if f.System&s.bit != 0 {
			out = append(out, s.name)
		}
	}
	out = append(out, f.Keywords...)
	slices.Sort(out)
	return out
}
