package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

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
