package imap

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdExpunge removes the \Deleted messages (of a UID set for UID EXPUNGE,
// RFC 4315); the EXPUNGE or VANISHED responses go out with the tagged OK.
func (s *session) cmdExpunge(ctx context.Context, a *imap.ExpungeCommand) status {
	if s.sel.readOnly {
		return no(imap.CodeReadOnly, "mailbox is read-only")
	}
	var within *roaring.Bitmap
	if a.UID {
		var err error
		if within, err = s.resolve(a.UIDs, true, false); err != nil {
			return s.storeError(ctx, "expunge", err)
		}
	}
	gone, err := s.expungeDeleted(ctx, within)
	if err != nil {
		return s.storeError(ctx, "expunge", err)
	}
	gone.And(s.sel.uids)
	s.sel.expunged.Or(gone)
	return ok("EXPUNGE completed")
}

// expungeDeleted expunges the view's \Deleted messages, only those of
// within when it is not nil, and returns the UIDs removed.
func (s *session) expungeDeleted(ctx context.Context, within *roaring.Bitmap) (*roaring.Bitmap, error) {
	v := s.sel
	deleted, err := s.e.Search(ctx, s.user.ID, v.mb.ID, &engine.SearchQuery{Op: engine.SearchFlag, Flag: engine.FlagDeleted})
	if err != nil {
		return nil, err
	}
	deleted.And(v.uids)
	if within != nil {
		deleted.And(within)
	}
	if deleted.IsEmpty() {
		return deleted, nil
	}
	return s.e.Expunge(ctx, s.user.ID, v.mb.ID, deleted)
}
