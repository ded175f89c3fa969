package imap

import (
	"context"
	"errors"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdCopy answers COPY and UID COPY with COPYUID (RFC 4315).
func (s *session) cmdCopy(ctx context.Context, a *imap.CopyCommand) status {
	uids, dst, st := s.transferArgs(ctx, a.SeqSet, a.UID, a.Mailbox)
	if st.res != "" {
		return st
	}
	if uids.IsEmpty() {
		return ok("COPY completed, no messages")
	}
	res, err := s.e.Copy(ctx, s.user.ID, s.sel.mb.ID, dst.ID, uids)
	if err != nil {
		return s.storeError(ctx, "copy", err)
	}
	if dst.ID == s.sel.mb.ID {
		s.dirty.Store(true)
	}
	if len(res.Target) == 0 {
		return ok("COPY completed, no messages")
	}
	return okCode(imap.CodeCopyUID(res.UIDValidity, uidSet(res.Source), uidSet(res.Target)), "COPY completed")
}

// transferArgs resolves the messages and the target of COPY and MOVE; a
// missing target is [TRYCREATE].
func (s *session) transferArgs(ctx context.Context, set imap.SeqSet, uid bool, name string) (*roaring.Bitmap, engine.Mailbox, status) {
	uids, err := s.resolve(set, uid, !uid)
	if err != nil {
		return nil, engine.Mailbox{}, s.storeError(ctx, "copy", err)
	}
	dst, err := s.e.Mailbox(ctx, s.user.ID, name)
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return nil, dst, no(imap.CodeTryCreate, "no such mailbox")
		}
		return nil, dst, s.storeError(ctx, "copy", err)
	}
	uids.AndNot(s.sel.expunged)
	return uids, dst, status{}
}
