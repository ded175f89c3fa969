package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// chunkRows is how many rows a multi-message operation reads per query.
const chunkRows = 512

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// unixNano stores a time as unix nanoseconds, clamped to the years
// 1677–2262 that fit.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return unixNano(t)
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// storedTime rebuilds a time in the UTC offset it was given with.
func storedTime(n sql.NullInt64, zone int64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	t := time.Unix(0, n.Int64)
	if zone == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(zone)))
}

// journalInsert prepares the insert of one journal entry.
func journalInsert(ctx context.Context, tx *txn) (*sql.Stmt, error) {
	return tx.stmt(ctx, `INSERT INTO journal(mailbox_id, modseq, uid, kind, flags, created) VALUES (?, ?, ?, ?, ?, ?)`)
}

// Append commits msgs to the end of a mailbox in one transaction: a UID
// range and one MODSEQ for the batch, rows, journal, counters, quota, blob
// references and search text.
func (s *Store) Append(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	// Everything that needs no database happens before the writer is taken.
	prep := make([]preparedMessage, len(msgs))
	var batchSize int64
	texts := 0
	for i := range msgs {
		if err := s.prepareMessage(&msgs[i], &prep[i]); err != nil {
			return 0, nil, fmt.Errorf("sqlite: append: %w", err)
		}
		if prep[i].text != nil {
			texts++
		}
		batchSize += msgs[i].Size
	}

	var uidValidity uint32
	var uids []engine.UID
	err := s.write(ctx, func(tx *txn) error {
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		uidValidity = mb.uidValidity
		if len(msgs) == 0 {
			return nil
		}
		if err := checkQuota(ctx, tx, user, batchSize); err != nil {
			return err
		}
		first, err := mb.allocUIDs(len(msgs))
		if err != nil {
			return err
		}
		modseq := mb.allocModSeq()
		ins, err := s.newRowInserter(ctx, tx, user, texts)
		if err != nil {
			return err
		}
		insJournal, err := journalInsert(ctx, tx)
		if err != nil {
			return err
		}

		now := s.opt.Now().Unix()
		uids = make([]engine.UID, len(msgs))
		for i := range msgs {
			if i%64 == 63 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			p := &prep[i]
			uid := first + int64(i)
			var textID int64
			if p.text != nil {
				if textID, err = ins.addText(ctx, p); err != nil {
					return err
				}
			}
			if err := ins.insertRow(ctx, mb, uid, modseq, &msgs[i], p, textID); err != nil {
				return err
			}
			if _, err := insJournal.ExecContext(ctx, mb.id, modseq, uid, engine.ChangeAppend, p.flagText, now); err != nil {
				return err
			}
			uids[i] = engine.UID(uid)
		}
		if err := ins.finish(ctx, mb); err != nil {
			return err
		}
		return chargeQuota(ctx, tx, user, batchSize, int64(len(msgs)))
	})
	if err != nil {
		s.vocab.forget()
		return 0, nil, wrap("append", err)
	}
	s.textsAdded(texts)
	return uidValidity, uids, nil
}

// preparedMessage is what Append and LoadMessages compute of a message
// before they take the writer.
type preparedMessage struct {
	flags    engine.FlagSet
	flagText string
	blobs    []byte
	text     []byte // packed search text (textDelta), nil when the message has none
	// The text's index input (textWords), and its stored form for the
	// queue (packWords) unless text is indexed as it is stored.
	headerWords, bodyWords string
	words                  []byte
}

// prepareMessage checks m and computes its stored forms into p.
func (s *Store) prepareMessage(m *engine.NewMessage, p *preparedMessage) error {
	if m.Size < 0 {
		return fmt.Errorf("negative size: %w", engine.ErrInvalidName)
	}
	f, err := engine.ParseFlags(m.Flags)
	if err != nil {
		return err
	}
	p.flags, p.flagText, p.blobs = f, flagText(f.List()), encodeBlobs(m.Blobs)
	if header, body := engine.FoldText(m.HeaderText), engine.FoldText(m.BodyText); header != "" || body != "" {
		p.text = s.text.pack(header, body, m.Inline)
		p.headerWords, p.bodyWords = textWords(header, body)
		if s.opt.TextIndex != TextIndexInline {
			p.words = s.text.packWords(p.headerWords, p.bodyWords)
		}
	}
	return nil
}

// rowInserter adds message rows of one user inside a write transaction,
// with their inline segments, search texts, blob references, keywords and
// mailbox counters: what Append and LoadMessages write alike.
type rowInserter struct {
	s    *Store
	tx   *txn
	user engine.UserID
	// textSeq is the last text number used; numbers up to textEnd are
	// reserved for this transaction.
	textSeq, textEnd                     int64
	insText, insQueue, insMsg, insInline *sql.Stmt
	words                                *wordWriter // in TextIndexInline mode
	blobs                                blobRefs
	keywords                             keywordSet
}

// newRowInserter prepares the inserts and reserves texts text numbers of
// the user.
func (s *Store) newRowInserter(ctx context.Context, tx *txn, user engine.UserID, texts int) (*rowInserter, error) {
	ins := &rowInserter{s: s, tx: tx, user: user, blobs: blobRefs{}, keywords: keywordSet{}}
	if texts > 0 {
		if err := tx.QueryRowContext(ctx, `UPDATE users SET text_seq = text_seq + ? WHERE id = ? RETURNING text_seq`, texts, user).Scan(&ins.textEnd); err != nil {
			return nil, notFound(err, fmt.Sprintf("user %d", user))
		}
		if ins.textEnd > math.MaxUint32 {
			return nil, errors.New("text numbers exhausted")
		}
		ins.textSeq = ins.textEnd - int64(texts)
	}
	var err error
	if ins.insText, err = tx.stmt(ctx, `INSERT INTO texts(id, refs, data, format) VALUES (?, 1, ?, 1)`); err != nil {
		return nil, err
	}
	if s.opt.TextIndex == TextIndexInline {
		ins.words, err = s.newWordWriter(ctx, tx)
	} else {
		ins.insQueue, err = tx.stmt(ctx, `INSERT INTO texts_queue(text_id, words) VALUES (?, ?)`)
	}
	if err != nil {
		return nil, err
	}
	if ins.insMsg, err = tx.stmt(ctx, `INSERT INTO messages(mailbox_id, uid, modseq, email_id, flags, keywords,
			internal_date, internal_zone, sent_date, size, text_id, blobs, envelope, structure)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return nil, err
	}
	if ins.insInline, err = tx.stmt(ctx, `INSERT INTO inline(message_id, data) VALUES (?, ?)`); err != nil {
		return nil, err
	}
	return ins, nil
}

// addText stores p's packed text under the next reserved number with one
// reference and queues it for the index (or indexes it, in
// TextIndexInline mode). It returns the text's id.
func (ins *rowInserter) addText(ctx context.Context, p *preparedMessage) (int64, error) {
	if ins.textSeq >= ins.textEnd {
		return 0, errors.New("more texts than text numbers reserved")
	}
	ins.textSeq++
	id := int64(ins.user)<<32 | ins.textSeq
	if _, err := ins.insText.ExecContext(ctx, id, p.text); err != nil {
		return 0, err
	}
	if ins.words != nil {
		return id, ins.words.add(ctx, id, p.headerWords, p.bodyWords)
	}
	if _, err := ins.insQueue.ExecContext(ctx, id, p.words); err != nil {
		return 0, err
	}
	return id, nil
}

// insertRow inserts m as message uid of mb with the given MODSEQ and text
// (0: none), and counts it into mb's counters, the blob references and
// the keywords that finish records.
func (ins *rowInserter) insertRow(ctx context.Context, mb *mailboxState, uid, modseq int64, m *engine.NewMessage, p *preparedMessage, textID int64) error {
	res, err := ins.insMsg.ExecContext(ctx, mb.id, uid, modseq, int64(m.EmailID), p.flags.System, keywordText(p.flags),
		nullTime(m.InternalDate), zoneOffset(m.InternalDate), nullTime(m.SentDate), m.Size, textID, p.blobs,
		nonNil(m.Envelope), nonNil(m.Structure))
	if err != nil {
		return err
	}
	if len(m.Inline) > 0 {
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := ins.insInline.ExecContext(ctx, id, m.Inline); err != nil {
			return err
		}
	}
	if err := ins.blobs.add(p.blobs, 1); err != nil {
		return err
	}
	mb.count(1, m.Size, p.flags.System)
	ins.keywords.add(p.flags.Keywords)
	return nil
}

// finish applies the blob references and keywords the rows added, gives
// back text numbers reserved but not used, and saves mb's counters.
func (ins *rowInserter) finish(ctx context.Context, mb *mailboxState) error {
	if err := ins.blobs.apply(ctx, ins.tx); err != nil {
		return err
	}
	if err := ins.keywords.record(ctx, ins.tx, mb.id); err != nil {
		return err
	}
	if unused := ins.textEnd - ins.textSeq; unused > 0 {
		if _, err := ins.tx.ExecContext(ctx, `UPDATE users SET text_seq = text_seq - ? WHERE id = ?`, unused, ins.user); err != nil {
			return err
		}
	}
	return mb.save(ctx, ins.tx)
}

// textsAdded tells the index worker about n texts committed by a write.
func (s *Store) textsAdded(n int) {
	if n == 0 {
		return
	}
	if s.opt.TextIndex != TextIndexInline {
		s.queued.Add(int64(n))
	}
	s.kickIndexer()
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// checkQuota fails with ErrOverQuota when adding bytes would exceed the
// user's limit.
func checkQuota(ctx context.Context, tx *txn, user engine.UserID, bytes int64) error {
	var limit, used int64
	if err := tx.QueryRowContext(ctx, `SELECT quota_limit, quota_used FROM users WHERE id = ?`, user).Scan(&limit, &used); err != nil {
		return notFound(err, fmt.Sprintf("user %d", user))
	}
	if limit > 0 && used+bytes > limit {
		return fmt.Errorf("%d bytes used of %d, %d more: %w", used, limit, bytes, engine.ErrOverQuota)
	}
	return nil
}

func chargeQuota(ctx context.Context, tx *txn, user engine.UserID, bytes, messages int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET quota_used = quota_used + ?, message_count = message_count + ? WHERE id = ?`, bytes, messages, user)
	return err
}

// UIDs returns the mailbox's UIDs and highest MODSEQ from one snapshot.
func (s *Store) UIDs(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (*roaring.Bitmap, engine.ModSeq, error) {
	set := roaring.New()
	var highest engine.ModSeq
	err := s.read(ctx, func(tx *txn) error {
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		highest = engine.ModSeq(mb.highest)
		return allUIDs(ctx, tx, mb.id, set)
	})
	if err != nil {
		return nil, 0, wrap("uids", err)
	}
	return set, highest, nil
}

// allUIDs adds every UID of a mailbox to set (a covering index scan).
func allUIDs(ctx context.Context, q querier, mailbox int64, set *roaring.Bitmap) error {
	rows, err := q.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid`, mailbox)
	if err != nil {
		return err
	}
	defer rows.Close()
	buf := make([]uint32, 0, 4096)
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return err
		}
		if buf = append(buf, uid); len(buf) == cap(buf) {
			set.AddMany(buf)
			buf = buf[:0]
		}
	}
	set.AddMany(buf)
	return rows.Err()
}

const metaColumns = `uid, modseq, email_id, flags, keywords, internal_date, internal_zone, size, envelope, structure`

func scanMeta(rows *sql.Rows) (*engine.MessageMeta, uint32, error) {
	// Plain integer destinations: database/sql converts into named types
	// by reflection, a visible cost at 100,000 rows.
	var uid, modseq, emailID, sys, zone, size int64
	var keywords string
	var internal sql.NullInt64
	m := &engine.MessageMeta{}
	if err := rows.Scan(&uid, &modseq, &emailID, &sys, &keywords, &internal, &zone, &size, &m.Envelope, &m.Structure); err != nil {
		return nil, 0, err
	}
	m.UID, m.ModSeq, m.EmailID, m.Size = engine.UID(uid), engine.ModSeq(modseq), engine.EmailID(emailID), size
	m.Flags = storedFlags(sys, keywords).List()
	m.InternalDate = storedTime(internal, zone)
	return m, uint32(uid), nil
}

// Messages streams the rows of uids in UID order. It reads chunkRows rows
// per query and calls fn between queries, holding no connection or
// snapshot while fn runs: a slow reader never pins the WAL, and fn may call
// the store. Rows expunged meanwhile are skipped like missing UIDs.
func (s *Store) Messages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, fn func(*engine.MessageMeta) error) error {
	mb, err := loadMailbox(ctx, s.r, user, mailbox)
	if err != nil {
		return wrap("messages", err)
	}
	err = readChunks(ctx, s.rq, `SELECT `+metaColumns+` FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid LIMIT ?`,
		mb.id, uids, uint32(mb.uidNext-1), chunkRows, scanMeta, func(batch []*engine.MessageMeta) error {
			for _, m := range batch {
				if err := fn(m); err != nil {
					return err
				}
			}
			return nil
		})
	return wrap("messages", err)
}

// Inline returns a message's compressed inline segments.
func (s *Store) Inline(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uid engine.UID) ([]byte, error) {
	var b []byte
	err := s.rq.QueryRowContext(ctx, `SELECT coalesce(i.data, x'') FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
		LEFT JOIN inline i ON i.message_id = m.id
		WHERE b.user_id = ? AND m.mailbox_id = ? AND m.uid = ?`, user, mailbox, uid).Scan(&b)
	if err != nil {
		return nil, wrap("inline", notFound(err, fmt.Sprintf("message %d", uid)))
	}
	return b, nil
}

type expungeRow struct {
	id, size, sys, textID int64
	uid                   uint32
	blobs                 []byte
}

func scanExpungeRow(rows *sql.Rows) (expungeRow, uint32, error) {
	var r expungeRow
	err := rows.Scan(&r.id, &r.uid, &r.size, &r.sys, &r.textID, &r.blobs)
	return r, r.uid, err
}

// Expunge removes uids and returns the UIDs removed and the MODSEQ of the
// removal (the mailbox's highest MODSEQ when nothing was removed).
func (s *Store) Expunge(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap) (*roaring.Bitmap, engine.ModSeq, error) {
	var removed *roaring.Bitmap
	var highest engine.ModSeq
	err := s.write(ctx, func(tx *txn) error {
		removed = roaring.New()
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		del, err := tx.stmt(ctx, `DELETE FROM messages WHERE id = ?`)
		if err != nil {
			return err
		}
		delInline, err := tx.stmt(ctx, `DELETE FROM inline WHERE message_id = ?`)
		if err != nil {
			return err
		}
		insJournal, err := journalInsert(ctx, tx)
		if err != nil {
			return err
		}
		now := s.opt.Now().Unix()
		blobs, texts := blobRefs{}, textRefs{}
		var bytes, count int64
		err = readChunks(ctx, tx, `SELECT id, uid, size, flags, text_id, blobs FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid LIMIT ?`,
			mb.id, uids, uint32(mb.uidNext-1), chunkRows, scanExpungeRow, func(batch []expungeRow) error {
				for _, r := range batch {
					if _, err := del.ExecContext(ctx, r.id); err != nil {
						return err
					}
					if _, err := delInline.ExecContext(ctx, r.id); err != nil {
						return err
					}
					if _, err := insJournal.ExecContext(ctx, mb.id, mb.allocModSeq(), r.uid, engine.ChangeExpunge, "", now); err != nil {
						return err
					}
					if err := blobs.add(r.blobs, 1); err != nil {
						return err
					}
					texts[r.textID]++
					mb.count(-1, r.size, engine.SystemFlags(r.sys))
					bytes += r.size
					count++
					removed.Add(r.uid)
				}
				return nil
			})
		if err != nil {
			return err
		}
		if err := blobs.release(ctx, tx); err != nil {
			return err
		}
		if err := texts.release(ctx, tx); err != nil {
			return err
		}
		if err := mb.save(ctx, tx); err != nil {
			return err
		}
		highest = engine.ModSeq(mb.highest)
		return chargeQuota(ctx, tx, user, -bytes, -count)
	})
	if err != nil {
		return nil, 0, wrap("expunge", err)
	}
	return removed, highest, nil
}

type copyRow struct {
	id, size, sys, textID int64
	uid                   uint32
	keywords              string
	blobs                 []byte
}

func scanCopyRow(rows *sql.Rows) (copyRow, uint32, error) {
	var r copyRow
	err := rows.Scan(&r.id, &r.uid, &r.size, &r.sys, &r.keywords, &r.textID, &r.blobs)
	return r, r.uid, err
}

const copyRowQuery = `SELECT id, uid, size, flags, keywords, text_id, blobs FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid LIMIT ?`

// loadPair loads the source and target of a copy or move; they are one
// state when they are the same mailbox.
func loadPair(ctx context.Context, tx *txn, user engine.UserID, src, dst engine.MailboxID) (*mailboxState, *mailboxState, error) {
	from, err := loadMailbox(ctx, tx, user, src)
	if err != nil {
		return nil, nil, err
	}
	if src == dst {
		return from, from, nil
	}
	to, err := loadMailbox(ctx, tx, user, dst)
	if err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// Copy copies uids into dst with new UIDs: same EmailID, flags and content,
// one more reference on each blob and on the shared search text.
func (s *Store) Copy(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	var res engine.CopyResult
	err := s.write(ctx, func(tx *txn) error {
		res = engine.CopyResult{}
		from, to, err := loadPair(ctx, tx, user, src, dst)
		if err != nil {
			return err
		}
		res.UIDValidity = to.uidValidity
		ins, err := tx.stmt(ctx, `INSERT INTO messages(mailbox_id, uid, modseq, email_id, flags, keywords,
			internal_date, internal_zone, sent_date, size, text_id, blobs, envelope, structure)
			SELECT ?, ?, ?, email_id, flags, keywords, internal_date, internal_zone, sent_date, size, text_id, blobs, envelope, structure
			FROM messages WHERE id = ?`)
		if err != nil {
			return err
		}
		insInline, err := tx.stmt(ctx, `INSERT INTO inline(message_id, data) SELECT ?, data FROM inline WHERE message_id = ?`)
		if err != nil {
			return err
		}
		insJournal, err := journalInsert(ctx, tx)
		if err != nil {
			return err
		}
		now := s.opt.Now().Unix()
		blobs, texts, keywords := blobRefs{}, textRefs{}, keywordSet{}
		var bytes int64
		// The source range is fixed before any UID is allocated, so a copy
		// into the same mailbox never reads its own new rows.
		last := uint32(from.uidNext - 1)
		err = readChunks(ctx, tx, copyRowQuery, from.id, uids, last, chunkRows, scanCopyRow, func(batch []copyRow) error {
			for _, r := range batch {
				uid, err := to.allocUIDs(1)
				if err != nil {
					return err
				}
				modseq := to.allocModSeq()
				inserted, err := ins.ExecContext(ctx, to.id, uid, modseq, r.id)
				if err != nil {
					return err
				}
				id, err := inserted.LastInsertId()
				if err != nil {
					return err
				}
				if _, err := insInline.ExecContext(ctx, id, r.id); err != nil {
					return err
				}
				f := storedFlags(r.sys, r.keywords)
				if _, err := insJournal.ExecContext(ctx, to.id, modseq, uid, engine.ChangeAppend, flagText(f.List()), now); err != nil {
					return err
				}
				if err := blobs.add(r.blobs, 1); err != nil {
					return err
				}
				texts[r.textID]++
				keywords.add(f.Keywords)
				to.count(1, r.size, f.System)
				bytes += r.size
				res.Source = append(res.Source, engine.UID(r.uid))
				res.Target = append(res.Target, engine.UID(uid))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(res.Source) == 0 {
			return nil
		}
		if err := checkQuota(ctx, tx, user, bytes); err != nil {
			return err
		}
		if err := blobs.apply(ctx, tx); err != nil {
			return err
		}
		if err := keywords.record(ctx, tx, to.id); err != nil {
			return err
		}
		for id, n := range texts {
			if id == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE texts SET refs = refs + ? WHERE id = ?`, n, id); err != nil {
				return err
			}
		}
		if err := to.save(ctx, tx); err != nil {
			return err
		}
		return chargeQuota(ctx, tx, user, bytes, int64(len(res.Source)))
	})
	if err != nil {
		return engine.CopyResult{}, wrap("copy", err)
	}
	return res, nil
}

// Move moves uids into dst in one transaction: each row changes mailbox and
// UID in place, with an expunge journal entry in the source and an append
// entry in the target. Blob references, text and quota do not change.
func (s *Store) Move(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	var res engine.CopyResult
	err := s.write(ctx, func(tx *txn) error {
		res = engine.CopyResult{}
		from, to, err := loadPair(ctx, tx, user, src, dst)
		if err != nil {
			return err
		}
		res.UIDValidity = to.uidValidity
		upd, err := tx.stmt(ctx, `UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		insJournal, err := journalInsert(ctx, tx)
		if err != nil {
			return err
		}
		now := s.opt.Now().Unix()
		last := uint32(from.uidNext - 1)
		keywords := keywordSet{}
		err = readChunks(ctx, tx, copyRowQuery, from.id, uids, last, chunkRows, scanCopyRow, func(batch []copyRow) error {
			for _, r := range batch {
				uid, err := to.allocUIDs(1)
				if err != nil {
					return err
				}
				srcModSeq, dstModSeq := from.allocModSeq(), to.allocModSeq()
				if _, err := upd.ExecContext(ctx, to.id, uid, dstModSeq, r.id); err != nil {
					return err
				}
				f := storedFlags(r.sys, r.keywords)
				if _, err := insJournal.ExecContext(ctx, from.id, srcModSeq, r.uid, engine.ChangeExpunge, "", now); err != nil {
					return err
				}
				if _, err := insJournal.ExecContext(ctx, to.id, dstModSeq, uid, engine.ChangeAppend, flagText(f.List()), now); err != nil {
					return err
				}
				from.count(-1, r.size, f.System)
				to.count(1, r.size, f.System)
				keywords.add(f.Keywords)
				res.Source = append(res.Source, engine.UID(r.uid))
				res.Target = append(res.Target, engine.UID(uid))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := keywords.record(ctx, tx, to.id); err != nil {
			return err
		}
		if err := from.save(ctx, tx); err != nil {
			return err
		}
		if to != from {
			return to.save(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return engine.CopyResult{}, wrap("move", err)
	}
	return res, nil
}
