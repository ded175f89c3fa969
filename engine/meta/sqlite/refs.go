package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/eidermail/eider/engine"
)

// encodeBlobs packs a message's distinct blob ids into its blobs column.
func encodeBlobs(ids []engine.BlobID) []byte {
	out := make([]byte, 0, len(ids)*len(engine.BlobID{}))
	seen := make(map[engine.BlobID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id[:]...)
	}
	return out
}

// decodeBlobs unpacks a blobs column.
func decodeBlobs(b []byte, fn func(engine.BlobID)) error {
	const n = len(engine.BlobID{})
	if len(b)%n != 0 {
		return fmt.Errorf("blob list of %d bytes is not a multiple of %d", len(b), n)
	}
	for ; len(b) > 0; b = b[n:] {
		fn(engine.BlobID(b[:n]))
	}
	return nil
}

// blobRefs collects reference count changes per blob so one operation
// touches each blobs row once.
type blobRefs map[engine.BlobID]int64

func (br blobRefs) add(column []byte, delta int64) error {
	return decodeBlobs(column, func(id engine.BlobID) { br[id] += delta })
}

// apply adds the counted references.
func (br blobRefs) apply(ctx context.Context, tx *txn) error {
	for id, n := range br {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blobs(id, refs) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET refs = refs + excluded.refs`, id[:], n); err != nil {
			return fmt.Errorf("blob %s: %w", id, err)
		}
	}
	return nil
}

// release removes the counted references; a blob left with none loses its
// row (BlobRefs then reports 0 and GC may delete it). A count that would go
// negative means drift, and stops at zero.
func (br blobRefs) release(ctx context.Context, tx *txn) error {
	for id, n := range br {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id = ? AND refs <= ?`, id[:], n); err != nil {
			return fmt.Errorf("blob %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE blobs SET refs = refs - ? WHERE id = ?`, n, id[:]); err != nil {
			return fmt.Errorf("blob %s: %w", id, err)
		}
	}
	return nil
}

// BlobRefs returns each blob's reference count, 0 for blobs nobody references.
func (s *Store) BlobRefs(ctx context.Context, ids []engine.BlobID) ([]int64, error) {
	out := make([]int64, len(ids))
	err := s.read(ctx, func(tx *txn) error {
		stmt, err := tx.stmt(ctx, `SELECT refs FROM blobs WHERE id = ?`)
		if err != nil {
			return err
		}
		for i, id := range ids {
			err := stmt.QueryRowContext(ctx, id[:]).Scan(&out[i])
			if err != nil && err != sql.ErrNoRows {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("blob refs", err)
	}
	return out, nil
}

// ReferencedBlobs calls fn for every blob with at least one reference, in id
// order, from one read snapshot (fsck checks each exists in the blob store).
func (s *Store) ReferencedBlobs(ctx context.Context, fn func(id engine.BlobID, refs int64) error) error {
	err := s.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, refs FROM blobs ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			var refs int64
			if err := rows.Scan(&raw, &refs); err != nil {
				return err
			}
			var id engine.BlobID
			if len(raw) != len(id) {
				return fmt.Errorf("%w: blob id of %d bytes", engine.ErrInvalidName, len(raw))
			}
			copy(id[:], raw)
			if err := fn(id, refs); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return wrap("referenced blobs", err)
}

// RecountBlobRefs counts every blob's references from the message rows,
// reports each blob whose stored count differs (sorted by id) and, with
// repair, stores the true counts. It reads one snapshot; a repair runs in
// one write transaction, so the counts are exact while appends wait.
func (s *Store) RecountBlobRefs(ctx context.Context, repair bool) ([]engine.BlobDrift, error) {
	var drift []engine.BlobDrift
	err := s.readOrWrite(repair)(ctx, func(tx *txn) error {
		actual := blobRefs{}
		rows, err := tx.QueryContext(ctx, `SELECT blobs FROM messages`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var col []byte
			if err := rows.Scan(&col); err != nil {
				rows.Close()
				return err
			}
			if err := actual.add(col, 1); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		stored := map[engine.BlobID]int64{}
		rows, err = tx.QueryContext(ctx, `SELECT id, refs FROM blobs`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id []byte
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			if len(id) != len(engine.BlobID{}) {
				rows.Close()
				return fmt.Errorf("blobs row with a %d-byte id", len(id))
			}
			stored[engine.BlobID(id)] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id, n := range stored {
			if actual[id] != n {
				drift = append(drift, engine.BlobDrift{ID: id, Stored: n, Actual: actual[id]})
			}
		}
		for id, n := range actual {
			if _, ok := stored[id]; !ok {
				drift = append(drift, engine.BlobDrift{ID: id, Stored: 0, Actual: n})
			}
		}
		slices.SortFunc(drift, func(a, b engine.BlobDrift) int { return bytes.Compare(a.ID[:], b.ID[:]) })
		if !repair {
			return nil
		}
		for _, d := range drift {
			var err error
			if d.Actual == 0 {
				_, err = tx.ExecContext(ctx, `DELETE FROM blobs WHERE id = ?`, d.ID[:])
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO blobs(id, refs) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET refs = excluded.refs`, d.ID[:], d.Actual)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("recount blob refs", err)
	}
	return drift, nil
}

// RecountQuota recomputes every user's used bytes and message count from the
// message rows and reports users whose stored bytes differ. With repair it
// stores the true values, and also recomputes every mailbox's STATUS
// counters, which the same kind of damage would have skewed.
func (s *Store) RecountQuota(ctx context.Context, repair bool) ([]engine.QuotaDrift, error) {
	var drift []engine.QuotaDrift
	err := s.readOrWrite(repair)(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT u.id, u.quota_used,
				coalesce((SELECT sum(m.size) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = u.id), 0)
			FROM users u ORDER BY u.id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d engine.QuotaDrift
			if err := rows.Scan(&d.User, &d.Stored, &d.Actual); err != nil {
				rows.Close()
				return err
			}
			if d.Stored != d.Actual {
				drift = append(drift, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !repair {
			return nil
		}
		for _, q := range []string{
			`UPDATE users SET
				quota_used = coalesce((SELECT sum(m.size) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = users.id), 0),
				message_count = (SELECT count(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = users.id)`,
			`UPDATE mailboxes SET
				messages = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
				unseen = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND m.flags & ` + fmt.Sprint(engine.SysSeen) + ` = 0),
				deleted = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND m.flags & ` + fmt.Sprint(engine.SysDeleted) + ` != 0),
				size = coalesce((SELECT sum(m.size) FROM messages m WHERE m.mailbox_id = mailboxes.id), 0)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("recount quota", err)
	}
	return drift, nil
}

func (s *Store) readOrWrite(write bool) func(context.Context, func(*txn) error) error {
	if write {
		return s.write
	}
	return s.read
}

// Quota returns a user's usage and limit.
func (s *Store) Quota(ctx context.Context, user engine.UserID) (engine.Quota, error) {
	var q engine.Quota
	err := s.rq.QueryRowContext(ctx, `SELECT quota_used, quota_limit, message_count FROM users WHERE id = ?`, user).Scan(&q.Used, &q.Limit, &q.Messages)
	if err != nil {
		return engine.Quota{}, wrap("quota", notFound(err, fmt.Sprintf("user %d", user)))
	}
	return q, nil
}
