package imap

import (
	"context"
	"errors"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdDelete deletes a mailbox and its messages. Its children stay; their
// parent then lists as \Noselect (RFC 9051 6.3.5).
func (s *session) cmdDelete(ctx context.Context, a *imap.DeleteCommand) status {
	mb, err := s.e.Mailbox(ctx, s.user.ID, a.Mailbox)
	if err != nil {
		return s.storeError(ctx, "delete", err)
	}
	if mb.Name == "INBOX" {
		return no(imap.CodeCannot, "INBOX cannot be deleted")
	}
	if s.sel != nil && s.sel.mb.ID == mb.ID {
		s.deselect()
		s.w.OK("", imap.CodeClosed, "mailbox closed")
	}
	if err := s.e.DeleteMailbox(ctx, s.user.ID, mb.Name); err != nil {
		if errors.Is(err, engine.ErrPermission) {
			return no(imap.CodeCannot, "this mailbox cannot be deleted")
		}
		return s.storeError(ctx, "delete", err)
	}
	return ok("DELETE completed")
}
