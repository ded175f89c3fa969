package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/eidermail/eider/engine"
)

var _ engine.Dumper = (*Store)(nil)

// dumpRow is a message row as DumpMessages reads it, before its text is
// decoded.
type dumpRow struct {
	dump   engine.MessageDump
	text   []byte // packed search text, nil when the message has none
	format int
}

const dumpQuery = `SELECT ` + metaColumns + `, m.sent_date, m.blobs, i.data, t.data, coalesce(t.format, 0)
	FROM messages m LEFT JOIN inline i ON i.message_id = m.id LEFT JOIN texts t ON t.id = m.text_id
	WHERE m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid LIMIT ?`

// dumpChunkBytes bounds the inline and text bytes one chunk of a dump
// holds: a row can carry megabytes (1 MiB of inline segments and as much
// text by default), so a chunk of chunkRows such rows would not fit the
// memory a copy tool should take.
const dumpChunkBytes = 16 << 20

// DumpMessages calls fn for each message of the mailbox with a UID above
// after, in UID order, with its inline segments, blob ids, search text and
// sent date. The search text comes back folded, as it is stored; Append and
// LoadMessages fold it to itself. Rows are read a chunk at a time (at most
// chunkRows rows and about dumpChunkBytes), each chunk in one read
// transaction that has ended before fn runs, so a slow consumer never pins
// the WAL and fn may call the store.
func (s *Store) DumpMessages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, after engine.UID, fn func(*engine.MessageDump) error) error {
	if _, err := loadMailbox(ctx, s.rq, user, mailbox); err != nil {
		return wrap("dump messages", err)
	}
	last := int64(after)
	chunk := make([]dumpRow, 0, chunkRows)
	var text storedText
	for {
		chunk = chunk[:0]
		more := false
		err := s.read(ctx, func(tx *txn) error {
			rows, err := tx.QueryContext(ctx, dumpQuery, mailbox, last, chunkRows)
			if err != nil {
				return err
			}
			defer rows.Close()
			size := 0
			for rows.Next() {
				r, err := scanDumpRow(rows)
				if err != nil {
					return err
				}
				chunk = append(chunk, r)
				if size += len(r.dump.Inline) + len(r.text); size >= dumpChunkBytes {
					break
				}
			}
			more = len(chunk) == chunkRows || size >= dumpChunkBytes
			return rows.Err()
		})
		if err != nil {
			return wrap("dump messages", err)
		}
		for i := range chunk {
			r := &chunk[i]
			if r.text != nil {
				if err := s.text.unpack(r.text, r.format, r.dump.Inline, bothParts, &text); err != nil {
					return wrap("dump messages", fmt.Errorf("message uid %d: %w", r.dump.UID, err))
				}
				r.dump.HeaderText, r.dump.BodyText = string(text.header), string(text.body)
			}
			if err := fn(&r.dump); err != nil {
				return err
			}
			last = int64(r.dump.UID)
			chunk[i] = dumpRow{} // let the collector have it
		}
		if !more {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func scanDumpRow(rows *sql.Rows) (dumpRow, error) {
	var r dumpRow
	var uid, modseq, emailID, sys, zone, size int64
	var keywords string
	var internal, sent sql.NullInt64
	var blobs []byte
	m := &r.dump
	if err := rows.Scan(&uid, &modseq, &emailID, &sys, &keywords, &internal, &zone, &size, &m.Envelope, &m.Structure,
		&sent, &blobs, &m.Inline, &r.text, &r.format); err != nil {
		return dumpRow{}, err
	}
	m.UID, m.ModSeq, m.EmailID, m.Size = engine.UID(uid), engine.ModSeq(modseq), engine.EmailID(emailID), size
	m.Flags = storedFlags(sys, keywords).List()
	m.InternalDate = storedTime(internal, zone)
	m.SentDate = storedTime(sent, 0)
	err := decodeBlobs(blobs, func(id engine.BlobID) { m.Blobs = append(m.Blobs, id) })
	return r, err
}
