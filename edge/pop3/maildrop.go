package pop3

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/engine"
)

// maildrop is the session's snapshot of INBOX, taken at login: message
// numbers stay fixed for the session whatever happens in the store.
type maildrop struct {
	mailbox engine.Mailbox
	msgs    []message // ascending UID: message n is msgs[n-1]
}

// message is one message of the maildrop. Only uid and size are kept, so a
// 1,000-message maildrop costs about 24 KB.
type message struct {
	uid       engine.UID
	size      int64
	seen      bool // \Seen in the store at login
	deleted   bool // DELE in this session
	retrieved bool // RETR in this session: \Seen is set in the UPDATE state
}

// loadMaildrop lists the newest max messages of the user's INBOX.
func loadMaildrop(ctx context.Context, e *engine.Engine, user engine.UserID, max int) (*maildrop, error) {
	mb, err := e.Mailbox(ctx, user, "INBOX")
	if err != nil {
		return nil, fmt.Errorf("pop3: INBOX: %w", err)
	}
	uids, _, err := e.UIDs(ctx, user, mb.ID)
	if err != nil {
		return nil, fmt.Errorf("pop3: INBOX UIDs: %w", err)
	}
	if n := uids.GetCardinality(); n > uint64(max) {
		// The newest messages are those with the highest UIDs.
		first, err := uids.Select(uint32(n - uint64(max)))
		if err != nil {
			return nil, fmt.Errorf("pop3: newest %d of %d: %w", max, n, err)
		}
		uids = uids.Clone()
		uids.RemoveRange(0, uint64(first))
	}
	d := &maildrop{mailbox: mb, msgs: make([]message, 0, uids.GetCardinality())}
	err = e.Messages(ctx, user, mb.ID, uids, func(m *engine.MessageMeta) error {
		seen := false
		for _, f := range m.Flags {
			if f == engine.FlagSeen {
				seen = true
				break
			}
		}
		d.msgs = append(d.msgs, message{uid: m.UID, size: m.Size, seen: seen})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pop3: INBOX listing: %w", err)
	}
	return d, nil
}

// stat counts the messages not marked deleted and their octets.
func (d *maildrop) stat() (int, int64) {
	n, size := 0, int64(0)
	for i := range d.msgs {
		if !d.msgs[i].deleted {
			n++
			size += d.msgs[i].size
		}
	}
	return n, size
}

func (d *maildrop) undelete() {
	for i := range d.msgs {
		d.msgs[i].deleted = false
	}
}

// uidl is a message's unique-id: "<uidvalidity>.<uid>". The pair never
// names another message in this mailbox (UIDs are never reused, and a
// recreated mailbox gets a new UIDVALIDITY), it lives in the metadata store
// so every node gives the same answer, and it survives restarts. The
// EmailID would not do: a copy keeps it, so two messages of one INBOX may
// share it, and RFC 1939 wants unique-ids unique within the maildrop.
func (d *maildrop) uidl(m *message) string {
	return strconv.FormatUint(uint64(d.mailbox.UIDValidity), 10) + "." + strconv.FormatUint(uint64(m.uid), 10)
}

// update enters the UPDATE state after QUIT (RFC 1939 6): messages read
// with RETR get \Seen, messages marked with DELE are expunged (or moved to
// Trash), then the session ends. Only here does POP3 change the store.
func (s *session) update() {
	s.state = stateUpdate
	s.mu.Lock()
	s.updating = true
	s.mu.Unlock()
	user, drop := s.user, s.drop
	// The changes are applied even if the client hangs up right after QUIT:
	// it asked for them.
	ctx := context.WithoutCancel(s.c.Context())
	s.quit = true
	s.startJob(ctx, func() {
		var reply []byte
		// A session that outlived its cluster lease (a silent client past
		// MaildropLease) may share the maildrop with another node's by now:
		// it removes nothing.
		held, err := s.h.acquireLease(ctx, user.ID, s.c.ID())
		removed := 0
		if err == nil && held {
			removed, err = s.applyUpdate(ctx, user, drop)
		}
		switch {
		case err == nil && !held:
			s.logger().Warn("pop3: maildrop lease lost before UPDATE; nothing removed")
			reply = pop3.AppendErr(nil, pop3.RespInUse, "Maildrop lock lost; no message was removed")
		case err != nil:
			s.logger().Warn("pop3: UPDATE failed", "err", err)
			reply = pop3.AppendErr(nil, pop3.RespSysTemp, "Some deleted messages were not removed")
		default:
			reply = pop3.AppendOK(nil, s.h.cfg.Hostname+" signing off ("+itoa(removed)+" messages deleted)")
		}
		s.mu.Lock()
		s.updating = false
		s.mu.Unlock()
		s.releaseLock()
		s.replied(reply)
		_ = s.c.Write(reply)
		_ = s.c.Close()
		s.endJob()
	})
}

func (s *session) applyUpdate(ctx context.Context, user engine.User, d *maildrop) (int, error) {
	seen := roaring.New()
	gone := roaring.New()
	for i := range d.msgs {
		m := &d.msgs[i]
		if m.deleted {
			gone.Add(uint32(m.uid))
		}
		// A message about to be expunged needs no flag; one moved to Trash keeps it.
		if m.retrieved && !m.seen && (!m.deleted || s.h.cfg.DeleteToTrash) {
			seen.Add(uint32(m.uid))
		}
	}
	var errs []error
	if !seen.IsEmpty() {
		if _, _, err := s.h.e.StoreFlags(ctx, user.ID, d.mailbox.ID, seen, engine.FlagsAdd, []string{engine.FlagSeen}, 0); err != nil {
			errs = append(errs, fmt.Errorf("pop3: set \\Seen: %w", err))
		}
	}
	removed := 0
	if !gone.IsEmpty() {
		n, err := s.remove(ctx, user.ID, d.mailbox, gone)
		if err != nil {
			errs = append(errs, err)
		}
		removed = n
	}
	s.logger().Info("pop3: UPDATE", "seen", seen.GetCardinality(), "deleted", gone.GetCardinality(), "removed", removed)
	return removed, errors.Join(errs...)
}

// remove expunges the deleted messages, or moves them to Trash when so configured.
func (s *session) remove(ctx context.Context, user engine.UserID, mb engine.Mailbox, uids *roaring.Bitmap) (int, error) {
	if !s.h.cfg.DeleteToTrash {
		gone, err := s.h.e.Expunge(ctx, user, mb.ID, uids)
		if err != nil {
			return 0, fmt.Errorf("pop3: expunge: %w", err)
		}
		return int(gone.GetCardinality()), nil
	}
	trash, err := s.trash(ctx, user)
	if err != nil {
		return 0, err
	}
	res, err := s.h.e.Move(ctx, user, mb.ID, trash.ID, uids)
	if err != nil {
		return 0, fmt.Errorf("pop3: move to %s: %w", trash.Name, err)
	}
	return len(res.Target), nil
}

// trash finds the user's Trash mailbox by its special use, whatever its
// name, and creates one when there is none.
func (s *session) trash(ctx context.Context, user engine.UserID) (engine.Mailbox, error) {
	mbs, err := s.h.e.Mailboxes(ctx, user)
	if err != nil {
		return engine.Mailbox{}, fmt.Errorf("pop3: mailboxes: %w", err)
	}
	for _, mb := range mbs {
		if mb.SpecialUse == engine.SpecialTrash {
			return mb, nil
		}
	}
	mb, err := s.h.e.CreateMailbox(ctx, user, "Trash", engine.SpecialTrash)
	if errors.Is(err, engine.ErrExists) {
		mb, err = s.h.e.Mailbox(ctx, user, "Trash")
	}
	if err != nil {
		return engine.Mailbox{}, fmt.Errorf("pop3: Trash: %w", err)
	}
	return mb, nil
}

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
