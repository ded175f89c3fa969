package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// maxSetRuns bounds the statements of the set-based STORE: a UID set in more
// runs than this is stored row by row.
const maxSetRuns = 256

// StoreFlags changes flags. Messages whose flags do not change keep their
// MODSEQ; the changed ones share one new MODSEQ and get a journal entry each.
//
// Storing only system flags (the common case: \Seen, \Deleted, \Flagged on
// many messages) runs as a few set-based statements per run of UIDs;
// keywords, compared case-insensitively, are handled row by row in Go.
func (s *Store) StoreFlags(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, op engine.FlagOp, flags []string, unchangedSince engine.ModSeq) ([]engine.FlagChange, *roaring.Bitmap, error) {
	if op != engine.FlagsAdd && op != engine.FlagsRemove && op != engine.FlagsReplace {
		return nil, nil, fmt.Errorf("sqlite: store flags: unknown operation %d", op)
	}
	g, err := engine.ParseFlags(flags)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: store flags: %w", err)
	}
	st := &flagStore{op: op, g: g, unchangedSince: int64(unchangedSince), now: s.opt.Now().Unix()}
	if unchangedSince > engine.ModSeq(1<<63-1) {
		st.unchangedSince = 0 // no stored MODSEQ is above it
	}
	err = s.write(ctx, func(tx *txn) error {
		st.changed, st.modified = nil, roaring.New()
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		st.tx, st.mb = tx, mb
		last := uint32(mb.uidNext - 1)
		if runs := coverRanges(uids, last, 0, maxSetRuns+1); len(g.Keywords) == 0 && len(runs) <= maxSetRuns {
			err = st.bySet(ctx, runs)
		} else {
			err = st.byRow(ctx, uids, last)
		}
		if err != nil {
			return err
		}
		if op != engine.FlagsRemove {
			keywords := keywordSet{}
			keywords.add(g.Keywords)
			if err := keywords.record(ctx, tx, mb.id); err != nil {
				return err
			}
		}
		return mb.save(ctx, tx)
	})
	if err != nil {
		return nil, nil, wrap("store flags", err)
	}
	return st.changed, st.modified, nil
}

// flagStore is one STORE in progress.
type flagStore struct {
	tx             *txn
	mb             *mailboxState
	op             engine.FlagOp
	g              engine.FlagSet
	unchangedSince int64
	now            int64
	changed        []engine.FlagChange
	modified       *roaring.Bitmap
}

type flagRow struct {
	id, modseq, sys int64
	uid             uint32
	keywords        string
}

func scanFlagRow(rows *sql.Rows) (flagRow, uint32, error) {
	var r flagRow
	err := rows.Scan(&r.id, &r.uid, &r.modseq, &r.sys, &r.keywords)
	return r, r.uid, err
}

// byRow reads each message, applies the operation in Go and writes back
// the ones that changed.
func (st *flagStore) byRow(ctx context.Context, uids *roaring.Bitmap, last uint32) error {
	tx, mb := st.tx, st.mb
	upd, err := tx.stmt(ctx, `UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	insJournal, err := journalInsert(ctx, tx)
	if err != nil {
		return err
	}
	return readChunks(ctx, tx, `SELECT id, uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid LIMIT ?`,
		mb.id, uids, last, chunkRows, scanFlagRow, func(batch []flagRow) error {
			for _, r := range batch {
				if st.unchangedSince > 0 && r.modseq > st.unchangedSince {
					st.modified.Add(r.uid)
					continue
				}
				old := storedFlags(r.sys, r.keywords)
				next := old.Apply(st.op, st.g)
				if next.Equal(old) {
					continue
				}
				modseq := mb.allocModSeq()
				list := next.List()
				if _, err := upd.ExecContext(ctx, next.System, keywordText(next), modseq, r.id); err != nil {
					return err
				}
				if _, err := insJournal.ExecContext(ctx, mb.id, modseq, r.uid, engine.ChangeFlags, flagText(list), st.now); err != nil {
					return err
				}
				mb.count(-1, 0, old.System)
				mb.count(1, 0, next.System)
				st.changed = append(st.changed, engine.FlagChange{UID: engine.UID(r.uid), ModSeq: engine.ModSeq(modseq), Flags: list})
			}
			return nil
		})
}

// journalFlagsSQL renders a row's flags (columns flags, keywords) as the
// journal's flag text. The order differs from flagText's; journalFlags sorts.
var journalFlagsSQL = func() string {
	var parts []string
	for _, name := range engine.SystemFlagNames() {
		parts = append(parts, fmt.Sprintf(`CASE WHEN flags & %d != 0 THEN '%s' END`, engine.SystemFlagBit(name), name))
	}
	return `concat_ws(' ', ` + strings.Join(parts, ", ") + `, nullif(keywords, ''))`
}()

// bySet stores system flags with set-based statements per run of UIDs:
// new flags = (flags & keep) | set, keywords cleared by REPLACE.
func (st *flagStore) bySet(ctx context.Context, runs []scanRange) error {
	tx, mb := st.tx, st.mb
	keep, set, clear := int64(0xff), int64(st.g.System), 0
	switch st.op {
	case engine.FlagsRemove:
		keep, set = int64(^st.g.System), 0
	case engine.FlagsReplace:
		keep, clear = 0, 1
	}
	const newFlags = `((flags & ?1) | ?2)`
	const willChange = `(` + newFlags + ` != flags OR (?3 AND keywords != '')) AND (?4 = 0 OR modseq <= ?4)`
	count, err := tx.stmt(ctx, fmt.Sprintf(`SELECT
			coalesce(sum((%[2]s & %[1]d = 0) - (flags & %[1]d = 0)), 0),
			coalesce(sum((%[2]s & %[3]d != 0) - (flags & %[3]d != 0)), 0)
		FROM messages WHERE mailbox_id = ?5 AND uid BETWEEN ?6 AND ?7 AND %[4]s`, engine.SysSeen, newFlags, engine.SysDeleted, willChange))
	if err != nil {
		return err
	}
	upd, err := tx.stmt(ctx, `UPDATE messages SET flags = `+newFlags+`, keywords = CASE WHEN ?3 THEN '' ELSE keywords END, modseq = ?8
		WHERE mailbox_id = ?5 AND uid BETWEEN ?6 AND ?7 AND `+willChange+`
		RETURNING uid, flags, keywords`)
	if err != nil {
		return err
	}
	guarded, err := tx.stmt(ctx, `SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND modseq > ?`)
	if err != nil {
		return err
	}
	journal, err := tx.stmt(ctx, `INSERT INTO journal(mailbox_id, modseq, uid, kind, flags, created)
		SELECT mailbox_id, modseq, uid, ?, `+journalFlagsSQL+`, ? FROM messages
		WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND modseq = ?`)
	if err != nil {
		return err
	}
	// Every change shares the next MODSEQ; it is allocated only if a run
	// changes something, and nothing else allocates meanwhile.
	modseq := mb.highest + 1
	for _, r := range runs {
		if st.unchangedSince > 0 {
			if err := scanUIDs(ctx, guarded, st.modified, mb.id, r.lo, r.hi, st.unchangedSince); err != nil {
				return err
			}
		}
		args := []any{keep, set, clear, st.unchangedSince, mb.id, r.lo, r.hi}
		var unseen, deleted int64
		if err := count.QueryRowContext(ctx, args...).Scan(&unseen, &deleted); err != nil {
			return err
		}
		rows, err := upd.QueryContext(ctx, append(args, modseq)...)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var uid uint32
			var sys int64
			var keywords string
			if err := rows.Scan(&uid, &sys, &keywords); err != nil {
				rows.Close()
				return err
			}
			st.changed = append(st.changed, engine.FlagChange{UID: engine.UID(uid), ModSeq: engine.ModSeq(modseq), Flags: storedFlags(sys, keywords).List()})
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if mb.allocModSeq() != modseq {
			return fmt.Errorf("mailbox %d: MODSEQ moved during a STORE", mb.id)
		}
		mb.unseen += unseen
		mb.deleted += deleted
		if _, err := journal.ExecContext(ctx, engine.ChangeFlags, st.now, mb.id, r.lo, r.hi, modseq); err != nil {
			return err
		}
	}
	// RETURNING promises no order; changed is in UID order.
	slices.SortFunc(st.changed, func(a, b engine.FlagChange) int { return cmp.Compare(a.UID, b.UID) })
	return nil
}

func scanUIDs(ctx context.Context, stmt *sql.Stmt, into *roaring.Bitmap, args ...any) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return err
		}
		into.Add(uid)
	}
	return rows.Err()
}
