package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"modernc.org/sqlite"
)

// foldText is the form in which search text is stored and compared: NFKC,
// then every rune mapped through its simple upper case to its lower case
// (a per-rune approximation of i;unicode-casemap, RFC 5051, which keeps
// substring relations intact). NUL is dropped and invalid UTF-8 becomes
// U+FFFD, so the result is always valid UTF-8 that SQLite's instr handles.
func foldText(s string) string {
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
	// capital, but "t" + U+0308 composes to U+1E97. Normalising again keeps
	// folding idempotent, so text folded twice (a migrated store) matches
	// what a needle folded once finds.
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

// maxTrigrams bounds the terms of one full-text query: candidates are
// verified anyway, so a long needle does not need all of its trigrams.
const maxTrigrams = 12

// ftsQuery returns an FTS5 query that every text containing needle (folded)
// matches: some of its trigrams ANDed, each a quoted string. The index keeps
// no positions (detail=none), so it cannot check that they are adjacent and
// the caller verifies candidates. ok is false for needles shorter than three
// runes, which the trigram index cannot serve.
func ftsQuery(needle string) (q string, ok bool) {
	runes := []rune(needle)
	n := len(runes) - 2 // number of trigrams
	if n < 1 {
		return "", false
	}
	picks := n
	if picks > maxTrigrams {
		picks = maxTrigrams
	}
	seen := make(map[string]bool, picks)
	var b strings.Builder
	for i := 0; i < picks; i++ {
		at := i
		if picks < n {
			at = i * (n - 1) / (picks - 1) // spread over the needle, first and last included
		}
		tri := string(runes[at : at+3])
		if seen[tri] {
			continue
		}
		seen[tri] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(tri, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String(), true
}

// headerMatch reports whether header (folded "name: value\n" lines) has a
// field called name (any field when name is empty) whose value contains value
// (folded); an empty value asks only whether the field exists.
func headerMatch(header, name, value []byte) bool {
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

func textArg(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// hasKeyword reports whether the stored keyword list holds kw, compared
// case-insensitively.
func hasKeyword(keywords, kw string) bool {
	for _, k := range splitFlags(keywords) {
		if strings.EqualFold(k, kw) {
			return true
		}
	}
	return false
}

// sqlHasKeyword is eider_has_keyword(keywords, keyword).
func sqlHasKeyword(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if hasKeyword(textArg(args[0]), textArg(args[1])) {
		return int64(1), nil
	}
	return int64(0), nil
}

// textRange is the rowid range of a user's texts.
func textRange(user int64) (lo, hi int64) { return user << 32, user<<32 | 0xffffffff }

// textRefs counts text references to release.
type textRefs map[int64]int64

// release drops the counted references and deletes texts nobody refers to
// any more, from the index or from the queue.
func (tr textRefs) release(ctx context.Context, tx *txn) error {
	for id, n := range tr {
		if id == 0 {
			continue
		}
		var left int64
		if err := tx.QueryRowContext(ctx, `UPDATE texts SET refs = refs - ? WHERE id = ? RETURNING refs`, n, id).Scan(&left); err != nil {
			return fmt.Errorf("release text %d: %w", id, err)
		}
		if left > 0 {
			continue
		}
		if err := deleteText(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func deleteText(ctx context.Context, tx *txn, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM texts WHERE id = ?`, id); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM texts_queue WHERE text_id = ?`, id)
	if err != nil {
		return err
	}
	if queued, _ := res.RowsAffected(); queued == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM texts_fts WHERE rowid = ?`, id); err != nil {
			return err
		}
	}
	return nil
}
