package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/eidermail/eider/engine"
)

// ClaimRecent hands the messages that arrived since the last claim to the
// calling session as \Recent (RFC 3501 2.3.2: one session sees a message
// as recent). It returns the claimed UID range; first > last when there is
// none. The claim is atomic, so two sessions never both get a message.
func (s *Store) ClaimRecent(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (first, last engine.UID, err error) {
	err = s.write(ctx, func(tx *txn) error {
		var recent, next int64
		if err := tx.QueryRowContext(ctx, `SELECT recent_uid, uidnext FROM mailboxes WHERE id = ? AND user_id = ?`, mailbox, user).Scan(&recent, &next); err != nil {
			return notFound(err, fmt.Sprintf("mailbox %d", mailbox))
		}
		first, last = engine.UID(recent+1), engine.UID(next-1)
		if next-1 <= recent {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE mailboxes SET recent_uid = ? WHERE id = ?`, next-1, mailbox)
		return err
	})
	if err != nil {
		return 0, 0, wrap("claim recent", err)
	}
	return first, last, nil
}

// Keywords returns the keywords ever set in the mailbox, sorted: what the
// FLAGS response announces. The list only grows while the mailbox lives, as
// clients expect of FLAGS.
func (s *Store) Keywords(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) ([]string, error) {
	var out []string
	err := s.read(ctx, func(tx *txn) error {
		if _, err := loadMailbox(ctx, tx, user, mailbox); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?`, mailbox)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("keywords", err)
	}
	slices.Sort(out)
	return out, nil
}

// keywordKey folds a keyword for case-insensitive identity.
func keywordKey(k string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, k)
}

// keywordSet collects the keywords an operation puts into a mailbox.
type keywordSet map[string]string // key → first spelling

func (ks keywordSet) add(keywords []string) {
	for _, k := range keywords {
		key := keywordKey(k)
		if _, ok := ks[key]; !ok {
			ks[key] = k
		}
	}
}

// record adds the keywords to the mailbox's list.
func (ks keywordSet) record(ctx context.Context, tx *txn, mailbox int64) error {
	for key, k := range ks {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mailbox_keywords(mailbox_id, folded, keyword) VALUES (?, ?, ?)`, mailbox, key, k); err != nil {
			return err
		}
	}
	return nil
}
