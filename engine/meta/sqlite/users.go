package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/eidermail/eider/engine"
)

const userColumns = `id, name, password_hash, quota_limit, created`

func scanUser(row interface{ Scan(...any) error }) (engine.User, error) {
	var u engine.User
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.QuotaBytes, &created); err != nil {
		return engine.User{}, err
	}
	u.Created = time.Unix(0, created).UTC()
	return u, nil
}

// notFound turns sql.ErrNoRows into engine.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, engine.ErrNotFound)
	}
	return err
}

// CreateUser adds an account; ErrExists if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u engine.User) (engine.UserID, error) {
	if u.Name == "" {
		return 0, fmt.Errorf("sqlite: create user: empty name: %w", engine.ErrInvalidName)
	}
	if u.QuotaBytes < 0 {
		return 0, fmt.Errorf("sqlite: create user: negative quota: %w", engine.ErrInvalidName)
	}
	created := u.Created
	if created.IsZero() {
		created = s.opt.Now()
	}
	var id engine.UserID
	err := s.write(ctx, func(tx *txn) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO users(name, password_hash, quota_limit, created) VALUES (?, ?, ?, ?) RETURNING id`,
			u.Name, u.PasswordHash, u.QuotaBytes, unixNano(created)).Scan(&id)
		if err == nil && int64(id) >= 1<<31 {
			// texts.id packs the user into the upper half of a signed rowid.
			return errors.New("user ids exhausted")
		}
		return err
	})
	if err != nil {
		return 0, wrap("create user", err)
	}
	return id, nil
}

// User returns an account by id.
func (s *Store) User(ctx context.Context, id engine.UserID) (engine.User, error) {
	u, err := scanUser(s.rq.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return engine.User{}, wrap("user", notFound(err, fmt.Sprintf("user %d", id)))
	}
	return u, nil
}

// UserByName returns an account by login name.
func (s *Store) UserByName(ctx context.Context, name string) (engine.User, error) {
	u, err := scanUser(s.rq.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return engine.User{}, wrap("user by name", notFound(err, fmt.Sprintf("user %q", name)))
	}
	return u, nil
}

// Users returns every account, sorted by name.
func (s *Store) Users(ctx context.Context) ([]engine.User, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, wrap("users", err)
	}
	defer rows.Close()
	var out []engine.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("users", err)
		}
		out = append(out, u)
	}
	return out, wrap("users", rows.Err())
}

// updateUser runs one UPDATE on a user row, ErrNotFound if there is none.
func (s *Store) updateUser(ctx context.Context, op, query string, args ...any) error {
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return engine.ErrNotFound
		}
		return nil
	})
	return wrap(op, err)
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, id engine.UserID, hash string) error {
	return s.updateUser(ctx, "set password", `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
}

// SetQuotaLimit sets a user's storage limit in bytes (0 = unlimited). It
// does not remove mail above a lowered limit; new mail is refused until
// usage drops.
func (s *Store) SetQuotaLimit(ctx context.Context, id engine.UserID, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("sqlite: set quota limit: negative limit: %w", engine.ErrInvalidName)
	}
	return s.updateUser(ctx, "set quota limit", `UPDATE users SET quota_limit = ? WHERE id = ?`, bytes, id)
}

// DeleteUser removes the user with its addresses, subscriptions, mailboxes,
// messages, journal and texts, and releases its blob references.
func (s *Store) DeleteUser(ctx context.Context, id engine.UserID) error {
	err := s.write(ctx, func(tx *txn) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&exists); err != nil {
			return notFound(err, fmt.Sprintf("user %d", id))
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM mailboxes WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		var boxes []int64
		for rows.Next() {
			var b int64
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return err
			}
			boxes = append(boxes, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		blobs := blobRefs{}
		for _, b := range boxes {
			if err := purgeMailbox(ctx, tx, b, blobs, nil); err != nil {
				return err
			}
		}
		if err := blobs.release(ctx, tx); err != nil {
			return err
		}
		if err := deleteUserTexts(ctx, tx, int64(id)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
	return wrap("delete user", err)
}

// deleteUserTexts drops every text of a user, indexed or queued.
func deleteUserTexts(ctx context.Context, tx *txn, user int64) error {
	lo, hi := textRange(user)
	// Both rows of every indexed text (header: id<<1, body: id<<1|1).
	if _, err := tx.ExecContext(ctx, `DELETE FROM words_fts WHERE rowid IN (
		SELECT id << 1 | part FROM texts, (SELECT 0 AS part UNION ALL SELECT 1)
		WHERE id BETWEEN ? AND ? AND id NOT IN (SELECT text_id FROM texts_queue WHERE text_id BETWEEN ? AND ?))`, lo, hi, lo, hi); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM words WHERE user_id = ?`, user); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM texts_queue WHERE text_id BETWEEN ? AND ?`, lo, hi); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM texts WHERE id BETWEEN ? AND ?`, lo, hi)
	return err
}

// AddAddress adds a delivery address; ErrExists if any user has it,
// ErrNotFound if the user does not exist.
func (s *Store) AddAddress(ctx context.Context, a engine.Address) error {
	if a.Address == "" {
		return fmt.Errorf("sqlite: add address: empty address: %w", engine.ErrInvalidName)
	}
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO addresses(address, user_id, alias) VALUES (?, ?, ?)`, a.Address, a.UserID, a.Alias)
		return err
	})
	return wrap("add address", err)
}

// RemoveAddress removes a delivery address.
func (s *Store) RemoveAddress(ctx context.Context, address string) error {
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM addresses WHERE address = ?`, address)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("address %q: %w", address, engine.ErrNotFound)
		}
		return nil
	})
	return wrap("remove address", err)
}

// ResolveAddress returns the owner of a normalised address.
func (s *Store) ResolveAddress(ctx context.Context, address string) (engine.UserID, error) {
	var id engine.UserID
	err := s.rq.QueryRowContext(ctx, `SELECT user_id FROM addresses WHERE address = ?`, address).Scan(&id)
	if err != nil {
		return 0, wrap("resolve address", notFound(err, fmt.Sprintf("address %q", address)))
	}
	return id, nil
}

// Addresses returns a user's addresses, sorted.
func (s *Store) Addresses(ctx context.Context, id engine.UserID) ([]engine.Address, error) {
	var out []engine.Address
	err := s.read(ctx, func(tx *txn) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&exists); err != nil {
			return notFound(err, fmt.Sprintf("user %d", id))
		}
		rows, err := tx.QueryContext(ctx, `SELECT address, alias FROM addresses WHERE user_id = ? ORDER BY address`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := engine.Address{UserID: id}
			if err := rows.Scan(&a.Address, &a.Alias); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("addresses", err)
	}
	return out, nil
}
