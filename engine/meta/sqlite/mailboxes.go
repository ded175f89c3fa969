package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/eidermail/eider/engine"
)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const mailboxColumns = `b.id, b.user_id, b.name, b.special_use, b.uidvalidity, b.uidnext, b.highest_modseq,
	EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = b.user_id AND s.name = b.name)`

func scanMailbox(row interface{ Scan(...any) error }) (engine.Mailbox, error) {
	var m engine.Mailbox
	err := row.Scan(&m.ID, &m.UserID, &m.Name, &m.SpecialUse, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq, &m.Subscribed)
	return m, err
}

func userExists(ctx context.Context, q querier, user engine.UserID) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, user).Scan(&one)
	return notFound(err, fmt.Sprintf("user %d", user))
}

// CreateMailbox creates a mailbox with a UIDVALIDITY greater than any this
// user's mailboxes ever had: the per-user counter is seeded from the clock,
// so a mailbox deleted and created again never repeats one.
func (s *Store) CreateMailbox(ctx context.Context, user engine.UserID, name, specialUse string) (engine.Mailbox, error) {
	if name == "" {
		return engine.Mailbox{}, fmt.Errorf("sqlite: create mailbox: empty name: %w", engine.ErrInvalidName)
	}
	var mb engine.Mailbox
	err := s.write(ctx, func(tx *txn) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT last_uidvalidity FROM users WHERE id = ?`, user).Scan(&last); err != nil {
			return notFound(err, fmt.Sprintf("user %d", user))
		}
		if last >= math.MaxUint32 {
			return errors.New("uidvalidity space exhausted")
		}
		v := last + 1
		if now := s.opt.Now().Unix(); now > v && now <= math.MaxUint32 {
			v = now
		}
		var id int64
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO mailboxes(user_id, name, special_use, uidvalidity, uidnext, highest_modseq) VALUES (?, ?, ?, ?, 1, 1) RETURNING id`,
			user, name, specialUse, v).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_uidvalidity = ? WHERE id = ?`, v, user); err != nil {
			return err
		}
		var err error
		mb, err = scanMailbox(tx.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes b WHERE b.id = ?`, id))
		return err
	})
	if err != nil {
		return engine.Mailbox{}, wrap("create mailbox", err)
	}
	return mb, nil
}

// Mailboxes returns a user's mailboxes sorted by name.
func (s *Store) Mailboxes(ctx context.Context, user engine.UserID) ([]engine.Mailbox, error) {
	var out []engine.Mailbox
	err := s.read(ctx, func(tx *txn) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes b WHERE b.user_id = ? ORDER BY b.name`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMailbox(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("mailboxes", err)
	}
	return out, nil
}

// MailboxByName returns a user's mailbox by its full name.
func (s *Store) MailboxByName(ctx context.Context, user engine.UserID, name string) (engine.Mailbox, error) {
	m, err := scanMailbox(s.rq.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes b WHERE b.user_id = ? AND b.name = ?`, user, name))
	if err != nil {
		return engine.Mailbox{}, wrap("mailbox by name", notFound(err, fmt.Sprintf("mailbox %q", name)))
	}
	return m, nil
}

// Mailbox returns a user's mailbox by id.
func (s *Store) Mailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) (engine.Mailbox, error) {
	m, err := scanMailbox(s.rq.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes b WHERE b.user_id = ? AND b.id = ?`, user, id))
	if err != nil {
		return engine.Mailbox{}, wrap("mailbox", notFound(err, fmt.Sprintf("mailbox %d", id)))
	}
	return m, nil
}

// RenameMailbox renames oldName and every mailbox below it in one
// transaction. IDs, UIDVALIDITY and messages stay; subscriptions are by name
// and stay with the old names. ErrExists if any new name is taken.
func (s *Store) RenameMailbox(ctx context.Context, user engine.UserID, oldName, newName string) error {
	if newName == "" {
		return fmt.Errorf("sqlite: rename mailbox: empty name: %w", engine.ErrInvalidName)
	}
	err := s.write(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM mailboxes WHERE user_id = ?`, user)
		if err != nil {
			return err
		}
		names := map[string]int64{}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			names[name] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, ok := names[oldName]; !ok {
			return fmt.Errorf("mailbox %q: %w", oldName, engine.ErrNotFound)
		}
		renames := map[int64]string{}
		prefix := oldName + engine.HierarchySeparator
		for name, id := range names {
			switch {
			case name == oldName:
				renames[id] = newName
			case strings.HasPrefix(name, prefix):
				renames[id] = newName + name[len(oldName):]
			}
		}
		for _, target := range renames {
			if _, taken := names[target]; taken {
				return fmt.Errorf("mailbox %q: %w", target, engine.ErrExists)
			}
		}
		// No target exists and prefix replacement is one-to-one, so the
		// updates cannot collide in any order.
		for id, target := range renames {
			if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`, target, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("rename mailbox", err)
}

// DeleteMailbox removes a mailbox with its messages and journal, releasing
// blob references and quota. Its subscription, being by name, stays.
func (s *Store) DeleteMailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) error {
	err := s.write(ctx, func(tx *txn) error {
		if _, err := loadMailbox(ctx, tx, user, id); err != nil {
			return err
		}
		blobs, texts := blobRefs{}, textRefs{}
		if err := purgeMailbox(ctx, tx, int64(id), blobs, texts); err != nil {
			return err
		}
		if err := blobs.release(ctx, tx); err != nil {
			return err
		}
		return texts.release(ctx, tx)
	})
	return wrap("delete mailbox", err)
}

// purgeMailbox deletes a mailbox, its messages and journal, takes their
// sizes off the owner's quota and counts the blob and text references the
// messages held into blobs and texts (texts may be nil when the caller drops
// the user's texts wholesale).
func purgeMailbox(ctx context.Context, tx *txn, mailbox int64, blobs blobRefs, texts textRefs) error {
	rows, err := tx.QueryContext(ctx, `SELECT size, text_id, blobs FROM messages WHERE mailbox_id = ?`, mailbox)
	if err != nil {
		return err
	}
	var count, size int64
	for rows.Next() {
		var sz, textID int64
		var ids []byte
		if err := rows.Scan(&sz, &textID, &ids); err != nil {
			rows.Close()
			return err
		}
		count++
		size += sz
		if err := blobs.add(ids, 1); err != nil {
			rows.Close()
			return err
		}
		if texts != nil {
			texts[textID]++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE users SET quota_used = quota_used - ?, message_count = message_count - ? WHERE id = (SELECT user_id FROM mailboxes WHERE id = ?)`, []any{size, count, mailbox}},
		{`DELETE FROM inline WHERE message_id IN (SELECT id FROM messages WHERE mailbox_id = ?)`, []any{mailbox}},
		{`DELETE FROM messages WHERE mailbox_id = ?`, []any{mailbox}},
		{`DELETE FROM journal WHERE mailbox_id = ?`, []any{mailbox}},
		{`DELETE FROM mailbox_keywords WHERE mailbox_id = ?`, []any{mailbox}},
		{`DELETE FROM mailboxes WHERE id = ?`, []any{mailbox}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// SetSubscribed adds or removes a subscription by name; the mailbox need
// not exist (RFC 9051 6.3.9).
func (s *Store) SetSubscribed(ctx context.Context, user engine.UserID, name string, on bool) error {
	if name == "" {
		return fmt.Errorf("sqlite: set subscribed: empty name: %w", engine.ErrInvalidName)
	}
	err := s.write(ctx, func(tx *txn) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		q := `DELETE FROM subscriptions WHERE user_id = ? AND name = ?`
		if on {
			q = `INSERT OR IGNORE INTO subscriptions(user_id, name) VALUES (?, ?)`
		}
		_, err := tx.ExecContext(ctx, q, user, name)
		return err
	})
	return wrap("set subscribed", err)
}

// Subscriptions returns the subscribed names, sorted.
func (s *Store) Subscriptions(ctx context.Context, user engine.UserID) ([]string, error) {
	var out []string
	err := s.read(ctx, func(tx *txn) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("subscriptions", err)
	}
	return out, nil
}

// Status answers STATUS and SELECT from counters kept in the mailbox row, so
// it costs the same for ten messages and ten million.
func (s *Store) Status(ctx context.Context, user engine.UserID, id engine.MailboxID) (engine.MailboxStatus, error) {
	var st engine.MailboxStatus
	row := s.rq.QueryRowContext(ctx, `SELECT `+mailboxColumns+`, b.messages, b.unseen, b.deleted, b.size FROM mailboxes b WHERE b.user_id = ? AND b.id = ?`, user, id)
	m := &st.Mailbox
	err := row.Scan(&m.ID, &m.UserID, &m.Name, &m.SpecialUse, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq, &m.Subscribed,
		&st.Messages, &st.Unseen, &st.Deleted, &st.Size)
	if err != nil {
		return engine.MailboxStatus{}, wrap("status", notFound(err, fmt.Sprintf("mailbox %d", id)))
	}
	return st, nil
}

// mailboxState is a mailbox's row inside a write transaction: what the
// operation reads, allocates and changes, written back by save.
type mailboxState struct {
	id          int64
	uidValidity uint32
	uidNext     int64
	highest     int64
	modseq      int64 // allocated for this operation, 0 while none is

	// Counter deltas.
	messages, unseen, deleted, size int64
}

func loadMailbox(ctx context.Context, q querier, user engine.UserID, id engine.MailboxID) (*mailboxState, error) {
	m := &mailboxState{id: int64(id)}
	err := q.QueryRowContext(ctx, `SELECT uidvalidity, uidnext, highest_modseq FROM mailboxes WHERE id = ? AND user_id = ?`, id, user).
		Scan(&m.uidValidity, &m.uidNext, &m.highest)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("mailbox %d", id))
	}
	return m, nil
}

// allocModSeq returns the operation's MODSEQ, allocating it on first use:
// every change of one operation shares it (RFC 7162 allows this).
func (m *mailboxState) allocModSeq() int64 {
	if m.modseq == 0 {
		m.highest++
		m.modseq = m.highest
	}
	return m.modseq
}

// allocUIDs reserves n UIDs and returns the first.
func (m *mailboxState) allocUIDs(n int) (int64, error) {
	first := m.uidNext
	if first+int64(n)-1 > math.MaxUint32 {
		return 0, fmt.Errorf("mailbox %d: uid space exhausted", m.id)
	}
	m.uidNext += int64(n)
	return first, nil
}

// count adds one message's contribution to the counter deltas (sign -1 to
// take it away).
func (m *mailboxState) count(sign, size int64, sys engine.SystemFlags) {
	m.messages += sign
	m.size += sign * size
	if sys&engine.SysSeen == 0 {
		m.unseen += sign
	}
	if sys&engine.SysDeleted != 0 {
		m.deleted += sign
	}
}

func (m *mailboxState) save(ctx context.Context, tx *txn) error {
	_, err := tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highest_modseq = ?,
		messages = messages + ?, unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
		m.uidNext, m.highest, m.messages, m.unseen, m.deleted, m.size, m.id)
	return err
}
