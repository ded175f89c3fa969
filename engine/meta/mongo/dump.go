package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/eidermail/eider/engine"
)

// DumpMessages calls fn for each committed message of the mailbox with
// UID > after, in UID order. Search text comes back folded, as stored.
func (s *Store) DumpMessages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, after engine.UID, fn func(*engine.MessageDump) error) error {
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return wrap("dump messages", err)
	}
	filter := bson.D{committedOnly, {Key: "uid", Value: d("$gt", int64(after))}}
	err = s.scan(ctx, mb, nil, filter, bson.D{}, func(m *messageDoc) error {
		dump := &engine.MessageDump{MessageMeta: *m.meta(), Inline: nonNil(m.Inline)}
		for _, b := range m.Blobs {
			if len(b) == len(engine.BlobID{}) {
				dump.Blobs = append(dump.Blobs, engine.BlobID(b))
			}
		}
		if m.Sent != nil {
			dump.SentDate = storedTime(*m.Sent, 0, true)
		}
		if m.Text != 0 {
			var t textDoc
			if err := s.texts.FindOne(ctx, d("_id", m.Text)).Decode(&t); err != nil {
				return fmt.Errorf("text of message %d: %w", m.UID, err)
			}
			h, b, err := s.text.unpack(t.Data, true, true)
			if err != nil {
				return fmt.Errorf("text of message %d: %w", m.UID, err)
			}
			dump.HeaderText, dump.BodyText = string(h), string(b)
		}
		return fn(dump)
	})
	return wrap("dump messages", err)
}

// LoadMailbox creates a mailbox keeping mb's UIDVALIDITY, UIDNEXT and
// HIGHESTMODSEQ; its journal starts there.
func (s *Store) LoadMailbox(ctx context.Context, user engine.UserID, mb engine.Mailbox) (engine.Mailbox, error) {
	if mb.Name == "" {
		return engine.Mailbox{}, fmt.Errorf("mongo: load mailbox: empty name: %w", engine.ErrInvalidName)
	}
	if mb.UIDValidity == 0 || mb.UIDNext == 0 || mb.HighestModSeq == 0 {
		return engine.Mailbox{}, fmt.Errorf("mongo: load mailbox %q: zero UIDVALIDITY, UIDNEXT or HIGHESTMODSEQ: %w", mb.Name, engine.ErrInvalidName)
	}
	doc := mailboxDoc{Name: mb.Name, SpecialUse: mb.SpecialUse, UIDValidity: int64(mb.UIDValidity), UIDNext: int64(mb.UIDNext),
		ModSeq: int64(mb.HighestModSeq), JournalFloor: int64(mb.HighestModSeq)}
	out, err := s.createMailbox(ctx, user, doc, true)
	if err != nil {
		return engine.Mailbox{}, err
	}
	if mb.Subscribed {
		if err := s.SetSubscribed(ctx, user, mb.Name, true); err != nil {
			return engine.Mailbox{}, err
		}
		out.Subscribed = true
	}
	return out, nil
}

// LoadMessages inserts msgs keeping their UIDs, MODSEQs, flags, EmailIDs
// and dates, as one add op: all or nothing.
func (s *Store) LoadMessages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []*engine.MessageDump) error {
	if len(msgs) == 0 {
		return nil
	}
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return wrap("load messages", err)
	}
	var top int64
	if err := s.scan(ctx, mb, nil, bson.D{}, bson.D{{Key: "uid", Value: 1}}, func(m *messageDoc) error {
		top = max(top, m.UID)
		return nil
	}); err != nil {
		return wrap("load messages", err)
	}
	news := make([]engine.NewMessage, len(msgs))
	for i, m := range msgs {
		uid := int64(m.UID)
		if uid <= top || uid >= mb.UIDNext || m.ModSeq == 0 || int64(m.ModSeq) > mb.ModSeq {
			return fmt.Errorf("mongo: load messages: UID %d MODSEQ %d outside (%d, %d) or above %d: %w", m.UID, m.ModSeq, top, mb.UIDNext, mb.ModSeq, engine.ErrInvalidName)
		}
		top = uid
		news[i] = engine.NewMessage{EmailID: m.EmailID, Flags: m.Flags, InternalDate: m.InternalDate, Size: m.Size, Envelope: m.Envelope,
			Structure: m.Structure, Inline: m.Inline, Blobs: m.Blobs, HeaderText: m.HeaderText, BodyText: m.BodyText, SentDate: m.SentDate}
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	op := newOp(opLoad, int64(user), s.opt.Now())
	op.Dst, op.Journal = mb.ID, false
	docs, texts, err := s.prepare(ctx, op, user, news)
	if err != nil {
		return wrap("load messages", err)
	}
	for i := range docs {
		docs[i].UID, docs[i].ModSeq = int64(msgs[i].UID), int64(msgs[i].ModSeq)
	}
	_, err = s.add(ctx, op, docs, texts, 1)
	return wrap("load messages", err)
}
