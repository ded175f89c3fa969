package imap

import (
	"context"
	"errors"
	"strings"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdRename renames a mailbox with everything below it; renaming INBOX
// moves its messages into a new mailbox and leaves INBOX empty.
func (s *session) cmdRename(ctx context.Context, a *imap.RenameCommand) status {
	err := s.e.RenameMailbox(ctx, s.user.ID, a.Mailbox, a.NewName)
	switch {
	case err == nil:
	case errors.Is(err, engine.ErrExists):
		return no(imap.CodeAlreadyExists, "target mailbox already exists")
	case errors.Is(err, engine.ErrNotFound):
		return no(imap.CodeNonExistent, "no such mailbox")
	default:
		return s.storeError(ctx, "rename", err)
	}
	if v := s.sel; v != nil && v.mb.Name != "INBOX" {
		old, _ := engine.NormalizeMailboxName(a.Mailbox)
		nw, _ := engine.NormalizeMailboxName(a.NewName)
		if v.mb.Name == old {
			v.mb.Name = nw
		} else if strings.HasPrefix(v.mb.Name, old+"/") {
			v.mb.Name = nw + v.mb.Name[len(old):]
		}
	}
	return ok("RENAME completed")
}
