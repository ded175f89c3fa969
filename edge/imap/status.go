package imap

import (
	"context"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdStatus answers STATUS (RFC 9051 6.3.11) with the SIZE, HIGHESTMODSEQ,
// APPENDLIMIT, MAILBOXID and DELETED-STORAGE items of the extensions.
func (s *session) cmdStatus(ctx context.Context, a *imap.StatusCommand) status {
	mb, err := s.e.Mailbox(ctx, s.user.ID, a.Mailbox)
	if err != nil {
		return s.storeError(ctx, "status", err)
	}
	vals, st := s.statusValues(ctx, mb, a.Items)
	if st.res != "" {
		return st
	}
	s.w.Status(mb.Name, vals)
	return ok("STATUS completed")
}

// statusValues reads the counters STATUS and LIST-STATUS report.
func (s *session) statusValues(ctx context.Context, mb engine.Mailbox, items []imap.StatusItem) ([]imap.StatusValue, status) {
	st, err := s.e.Status(ctx, s.user.ID, mb.ID)
	if err != nil {
		return nil, s.storeError(ctx, "status", err)
	}
	vals := make([]imap.StatusValue, 0, len(items))
	for _, it := range items {
		v := imap.StatusValue{Item: it}
		switch it {
		case imap.StatusMessages:
			v.Value = uint64(st.Messages)
		case imap.StatusRecent:
			// \Recent belongs to the session that claimed it; only this
			// session's own selected mailbox has a count to report.
			if s.sel != nil && s.sel.mb.ID == mb.ID && !s.rev2() {
				v.Value = s.sel.recent.GetCardinality()
			}
		case imap.StatusUIDNext:
			v.Value = uint64(st.UIDNext)
		case imap.StatusUIDValidity:
			v.Value = uint64(st.UIDValidity)
		case imap.StatusUnseen:
			v.Value = uint64(st.Unseen)
		case imap.StatusDeleted:
			v.Value = uint64(st.Deleted)
		case imap.StatusSize:
			v.Value = uint64(st.Size)
		case imap.StatusHighestModSeq:
			s.ext |= extCondStore
			v.Value = uint64(st.HighestModSeq)
		case imap.StatusAppendLimit:
			v.Value = uint64(s.h.cfg.AppendLimit)
		case imap.StatusMailboxID:
			v.ID = mailboxObjectID(mb.ID)
		case imap.StatusDeletedStorage:
			n, err := s.deletedStorage(ctx, mb.ID, st.Deleted)
			if err != nil {
				return nil, s.storeError(ctx, "status", err)
			}
			v.Value = uint64(n)
		default:
			continue
		}
		vals = append(vals, v)
	}
	return vals, status{}
}

// deletedStorage is the size of the \Deleted messages (RFC 9208
// DELETED-STORAGE), what an EXPUNGE would free.
func (s *session) deletedStorage(ctx context.Context, id engine.MailboxID, deleted int64) (int64, error) {
	if deleted == 0 {
		return 0, nil
	}
	uids, err := s.e.Search(ctx, s.user.ID, id, &engine.SearchQuery{Op: engine.SearchFlag, Flag: engine.FlagDeleted})
	if err != nil {
		return 0, err
	}
	var total int64
	err = s.e.Messages(ctx, s.user.ID, id, uids, func(m *engine.MessageMeta) error {
		total += m.Size
		return nil
	})
	return total, err
}
