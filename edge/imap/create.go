package imap

import (
	"context"
	"errors"
	"strings"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// creatableUses are the special uses CREATE may assign (RFC 6154); \All
// and \Flagged name virtual mailboxes this store does not have.
var creatableUses = []string{engine.SpecialArchive, engine.SpecialDrafts, engine.SpecialJunk, engine.SpecialSent, engine.SpecialTrash}

// cmdCreate creates a mailbox and any missing parents, with a special use
// when the client asks for one (CREATE-SPECIAL-USE).
func (s *session) cmdCreate(ctx context.Context, a *imap.CreateCommand) status {
	if strings.EqualFold(strings.TrimSuffix(a.Mailbox, "/"), "INBOX") {
		return no(imap.CodeAlreadyExists, "INBOX always exists")
	}
	use := ""
	switch len(a.SpecialUse) {
	case 0:
	case 1:
		for _, u := range creatableUses {
			if strings.EqualFold(u, a.SpecialUse[0]) {
				use = u
			}
		}
		if use == "" {
			return no(imap.CodeUseAttr, "unsupported special use")
		}
	default:
		return no(imap.CodeUseAttr, "a mailbox has at most one special use here")
	}
	if _, err := s.e.CreateMailbox(ctx, s.user.ID, a.Mailbox, use); err != nil {
		if errors.Is(err, engine.ErrExists) {
			return no(imap.CodeAlreadyExists, "mailbox already exists")
		}
		return s.storeError(ctx, "create", err)
	}
	return ok("CREATE completed")
}
