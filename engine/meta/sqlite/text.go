package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

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
		if _, err := tx.ExecContext(ctx, `DELETE FROM words_fts WHERE rowid IN (?, ?)`, id<<1, id<<1|1); err != nil {
			return err
		}
	}
	return nil
}
