package sqlite

import (
	"slices"
	"strings"

	"github.com/eidermail/eider/engine"
)

// Messages store their flags as engine.FlagSet: the system flags' bits in
// the flags column, keywords space separated in the keywords column.

// keywordText is the keywords column of f.
func keywordText(f engine.FlagSet) string { return strings.Join(f.Keywords, " ") }

// splitFlags splits a space-joined flag list. Flags hold no ASCII space
// (parseFlags refuses them) but may hold other Unicode spaces, so this is
// not strings.Fields.
func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// storedFlags rebuilds a flag set from its columns.
func storedFlags(sys int64, keywords string) engine.FlagSet {
	return engine.FlagSet{System: engine.SystemFlags(sys), Keywords: splitFlags(keywords)}
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
