package imap

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
)

// cmdMove answers MOVE and UID MOVE (RFC 6851): the engine moves the
// messages atomically; the client gets COPYUID in an untagged OK, then
// the EXPUNGE (or VANISHED) responses of the moved messages.
func (s *session) cmdMove(ctx context.Context, a *imap.MoveCommand) status {
	v := s.sel
	if v.readOnly {
		return no(imap.CodeReadOnly, "mailbox is read-only")
	}
	uids, dst, st := s.transferArgs(ctx, a.SeqSet, a.UID, a.Mailbox)
	if st.res != "" {
		return st
	}
	if uids.IsEmpty() {
		return ok("MOVE completed, no messages")
	}
	res, err := s.e.Move(ctx, s.user.ID, v.mb.ID, dst.ID, uids)
	if err != nil {
		return s.storeError(ctx, "move", err)
	}
	if len(res.Target) == 0 {
		return ok("MOVE completed, no messages")
	}
	s.w.OK("", imap.CodeCopyUID(res.UIDValidity, uidSet(res.Source), uidSet(res.Target)), "moved")
	gone := roaring.New()
	for _, u := range res.Source {
		gone.Add(uint32(u))
	}
	if dst.ID == v.mb.ID {
		s.dirty.Store(true)
	}
	s.announceExpunges(gone)
	return ok("MOVE completed")
}
