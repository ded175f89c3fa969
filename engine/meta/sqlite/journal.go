package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/eidermail/eider/engine"
)

// Journal returns the mailbox's changes with MODSEQ > since, oldest first.
// It answers ErrJournalExpired, never a partial list, when pruning removed
// entries newer than since.
func (s *Store) Journal(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, since engine.ModSeq) ([]engine.Change, error) {
	var out []engine.Change
	err := s.read(ctx, func(tx *txn) error {
		var floor int64
		if err := tx.QueryRowContext(ctx, `SELECT journal_floor FROM mailboxes WHERE id = ? AND user_id = ?`, mailbox, user).Scan(&floor); err != nil {
			return notFound(err, fmt.Sprintf("mailbox %d", mailbox))
		}
		if uint64(since) < uint64(floor) {
			return fmt.Errorf("mailbox %d keeps changes after %d, asked after %d: %w", mailbox, floor, since, engine.ErrJournalExpired)
		}
		rows, err := tx.QueryContext(ctx, `SELECT modseq, kind, uid, flags FROM journal WHERE mailbox_id = ? AND modseq > ? ORDER BY modseq, uid`, mailbox, int64(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c engine.Change
			var flags string
			if err := rows.Scan(&c.ModSeq, &c.Kind, &c.UID, &flags); err != nil {
				return err
			}
			if c.Kind != engine.ChangeExpunge {
				c.Flags = journalFlags(flags)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("journal", err)
	}
	return out, nil
}

// PruneJournal deletes journal entries recorded before the given time and
// raises each affected mailbox's journal floor to the highest MODSEQ it
// deleted, so Journal answers ErrJournalExpired for older MODSEQs instead of
// a partial list. It returns how many entries it deleted. The maintenance
// worker calls it with now − JournalRetention.
func (s *Store) PruneJournal(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	cutoff := before.Unix()
	err := s.write(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET journal_floor = j.top
			FROM (SELECT mailbox_id, max(modseq) AS top FROM journal WHERE created < ? GROUP BY mailbox_id) AS j
			WHERE mailboxes.id = j.mailbox_id AND j.top > mailboxes.journal_floor`, cutoff); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM journal WHERE created < ?`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("prune journal", err)
	}
	return n, nil
}
