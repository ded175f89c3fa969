package sqlite

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/eidermail/eider/engine"
)

var _ engine.Loader = (*Store)(nil)

// LoadMailbox creates a mailbox with the identity it had in another store:
// its UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, special use and subscription.
// Its journal floor is its HIGHESTMODSEQ (the journal of the other store
// stays behind, so older MODSEQs get ErrJournalExpired), every UID below
// UIDNEXT counts as claimed for \Recent, and the user's last UIDVALIDITY is
// raised to it, so a later CreateMailbox never gives it out again.
func (s *Store) LoadMailbox(ctx context.Context, user engine.UserID, mb engine.Mailbox) (engine.Mailbox, error) {
	switch {
	case mb.Name == "":
		return engine.Mailbox{}, fmt.Errorf("sqlite: load mailbox: empty name: %w", engine.ErrInvalidName)
	case mb.UIDValidity == 0:
		return engine.Mailbox{}, fmt.Errorf("sqlite: load mailbox %q: UIDVALIDITY 0: %w", mb.Name, engine.ErrInvalidName)
	case mb.UIDNext == 0:
		return engine.Mailbox{}, fmt.Errorf("sqlite: load mailbox %q: UIDNEXT 0: %w", mb.Name, engine.ErrInvalidName)
	case mb.HighestModSeq > math.MaxInt64:
		return engine.Mailbox{}, fmt.Errorf("sqlite: load mailbox %q: HIGHESTMODSEQ %d out of range: %w", mb.Name, mb.HighestModSeq, engine.ErrInvalidName)
	}
	var out engine.Mailbox
	err := s.write(ctx, func(tx *txn) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO mailboxes(user_id, name, special_use, uidvalidity, uidnext, highest_modseq, journal_floor, recent_uid)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			user, mb.Name, mb.SpecialUse, mb.UIDValidity, mb.UIDNext, int64(mb.HighestModSeq), int64(mb.HighestModSeq), int64(mb.UIDNext)-1).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_uidvalidity = max(last_uidvalidity, ?) WHERE id = ?`, mb.UIDValidity, user); err != nil {
			return err
		}
		if mb.Subscribed {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions(user_id, name) VALUES (?, ?)`, user, mb.Name); err != nil {
				return err
			}
		}
		var err error
		out, err = scanMailbox(tx.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes b WHERE b.id = ?`, id))
		return err
	})
	if err != nil {
		return engine.Mailbox{}, wrap(fmt.Sprintf("load mailbox %q", mb.Name), err)
	}
	return out, nil
}

// LoadMessages inserts messages dumped from another store, keeping their
// UIDs, MODSEQs, flags, EmailIDs and dates, in one transaction. Rows,
// inline segments, search texts (indexed or queued as Append does), blob
// references, keywords, STATUS counters and quota usage are written as
// Append writes them; the quota limit is not checked (the messages are
// already the user's) and no journal entry is written. Copies of one
// message (same EmailID, same text) share one stored text, as in the store
// they came from, as long as the text hint below remembers them.
func (s *Store) LoadMessages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []*engine.MessageDump) error {
	newMsgs := make([]engine.NewMessage, len(msgs))
	prep := make([]preparedMessage, len(msgs))
	var batchSize int64
	texts := 0
	for i, d := range msgs {
		switch {
		case d.UID == 0:
			return fmt.Errorf("sqlite: load messages: UID 0: %w", engine.ErrInvalidName)
		case i > 0 && d.UID <= msgs[i-1].UID:
			return fmt.Errorf("sqlite: load messages: UID %d after UID %d: UIDs must ascend: %w", d.UID, msgs[i-1].UID, engine.ErrInvalidName)
		case d.ModSeq == 0 || d.ModSeq > math.MaxInt64:
			return fmt.Errorf("sqlite: load messages: UID %d: MODSEQ %d out of range: %w", d.UID, d.ModSeq, engine.ErrInvalidName)
		}
		m := &newMsgs[i]
		*m = engine.NewMessage{
			EmailID: d.EmailID, Flags: d.Flags, InternalDate: d.InternalDate, Size: d.Size,
			Envelope: d.Envelope, Structure: d.Structure, Inline: d.Inline, Blobs: d.Blobs,
			HeaderText: d.HeaderText, BodyText: d.BodyText, SentDate: d.SentDate,
		}
		if err := s.prepareMessage(m, &prep[i]); err != nil {
			return fmt.Errorf("sqlite: load messages: UID %d: %w", d.UID, err)
		}
		if prep[i].text != nil {
			texts++
		}
		batchSize += m.Size
	}

	var added []textHint
	err := s.write(ctx, func(tx *txn) error {
		added = added[:0]
		pending := map[textHintKey]int64{} // texts this load added
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(uid), 0) FROM messages WHERE mailbox_id = ?`, mb.id).Scan(&top); err != nil {
			return err
		}
		if first := int64(msgs[0].UID); first <= top {
			return fmt.Errorf("UID %d is not above UID %d already in mailbox %d: %w", first, top, mailbox, engine.ErrExists)
		}
		if last := int64(msgs[len(msgs)-1].UID); last >= mb.uidNext {
			return fmt.Errorf("UID %d is not below mailbox %d's UIDNEXT %d: %w", last, mailbox, mb.uidNext, engine.ErrInvalidName)
		}
		ins, err := s.newRowInserter(ctx, tx, user, texts)
		if err != nil {
			return err
		}
		shared, err := tx.stmt(ctx, `UPDATE texts SET refs = refs + 1 WHERE id = ? AND data = ?`)
		if err != nil {
			return err
		}
		for i, d := range msgs {
			if i%64 == 63 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if int64(d.ModSeq) > mb.highest {
				return fmt.Errorf("UID %d: MODSEQ %d above mailbox %d's HIGHESTMODSEQ %d: %w", d.UID, d.ModSeq, mailbox, mb.highest, engine.ErrInvalidName)
			}
			p := &prep[i]
			var textID int64
			if p.text != nil {
				key := textHintKey{user, d.EmailID}
				id, ok := pending[key]
				if !ok {
					id, ok = s.hints.get(key)
				}
				if ok {
					res, err := shared.ExecContext(ctx, id, p.text)
					if err != nil {
						return err
					}
					if n, _ := res.RowsAffected(); n == 1 {
						textID = id
					}
				}
				if textID == 0 {
					if textID, err = ins.addText(ctx, p); err != nil {
						return err
					}
					added = append(added, textHint{key, textID})
					pending[key] = textID
				}
			}
			if err := ins.insertRow(ctx, mb, int64(d.UID), int64(d.ModSeq), &newMsgs[i], p, textID); err != nil {
				return err
			}
		}
		if err := ins.finish(ctx, mb); err != nil {
			return err
		}
		return chargeQuota(ctx, tx, user, batchSize, int64(len(msgs)))
	})
	if err != nil {
		s.vocab.forget()
		return wrap("load messages", err)
	}
	s.hints.put(added)
	s.textsAdded(len(added))
	return nil
}

// textHints remembers, per user and EmailID, the text a load stored last,
// so that copies of a message loaded later (from another mailbox, in a
// later call) share it again. A hint is only a guess: LoadMessages uses
// the text only when its stored bytes equal the new message's, so a stale
// hint (the text was deleted, or its number reused) costs one lookup and
// nothing else. The map is bounded; when full it starts over, which only
// loses sharing.
type textHints struct {
	mu sync.Mutex
	m  map[textHintKey]int64
}

type textHintKey struct {
	user    engine.UserID
	emailID engine.EmailID
}

type textHint struct {
	key textHintKey
	id  int64
}

// maxTextHints bounds the hints: about 40 MB at most.
const maxTextHints = 1 << 20

// get returns the text remembered for key.
func (h *textHints) get(key textHintKey) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.m[key]
	return id, ok
}

// put remembers the texts a committed load added.
func (h *textHints) put(added []textHint) {
	if len(added) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m)+len(added) > maxTextHints {
		h.m = make(map[textHintKey]int64, min(len(added), maxTextHints))
	}
	for _, a := range added {
		h.m[a.key] = a.id
	}
}
