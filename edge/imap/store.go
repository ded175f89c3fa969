package imap

import (
	"context"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdStore answers STORE and UID STORE (RFC 9051 6.4.6) with CONDSTORE's
// UNCHANGEDSINCE (RFC 7162 3.1.3): messages changed since are left alone
// and reported in [MODIFIED].
func (s *session) cmdStore(ctx context.Context, a *imap.StoreCommand) status {
	v := s.sel
	if v.readOnly {
		return no(imap.CodeReadOnly, "mailbox is read-only")
	}
	uids, err := s.resolve(a.SeqSet, a.UID, !a.UID)
	if err != nil {
		return s.storeError(ctx, "store", err)
	}
	if a.HasUnchangedSince {
		s.ext |= extCondStore
	}
	flags := make([]string, 0, len(a.Flags))
	for _, f := range a.Flags {
		if f != imap.FlagRecent { // \Recent is the server's to set
			flags = append(flags, f)
		}
	}
	op := map[imap.StoreMode]engine.FlagOp{imap.StoreReplace: engine.FlagsReplace, imap.StoreAdd: engine.FlagsAdd, imap.StoreRemove: engine.FlagsRemove}[a.Mode]
	modified := roaring.New()
	var changed []engine.FlagChange
	switch {
	case uids.IsEmpty():
	case a.HasUnchangedSince && a.UnchangedSince == 0:
		// Every message has a MODSEQ above 0: nothing may change.
		modified = uids.Clone()
	case (op == engine.FlagsAdd || op == engine.FlagsRemove) && len(flags) == 0:
	default:
		changed, modified, err = s.e.StoreFlags(ctx, s.user.ID, v.mb.ID, uids, op, flags, engine.ModSeq(a.UnchangedSince))
		if err != nil {
			return s.storeError(ctx, "store", err)
		}
		if modified == nil {
			modified = roaring.New()
		}
	}
	for _, c := range changed {
		v.noteReported(c.UID, c.ModSeq)
		v.learnKeywords(c.Flags)
	}
	if v.newKeywords {
		v.newKeywords = false
		s.w.Flags(v.flagList())
		s.w.OK("", imap.CodePermanentFlags(v.permanentFlags()), "new keywords")
	}
	if err := s.storeResponses(ctx, uids, changed, modified, a.Silent); err != nil {
		return s.storeError(ctx, "store", err)
	}
	if !modified.IsEmpty() {
		return okCode(imap.CodeModified(s.seqSetOf(modified, a.UID)), "conditional STORE failed for some messages")
	}
	return ok("STORE completed")
}

// storeResponses reports the new flags: of every message in the set
// unless .SILENT; with CONDSTORE, .SILENT still reports the MODSEQ of
// the messages that changed (RFC 7162 3.1.3).
func (s *session) storeResponses(ctx context.Context, uids *roaring.Bitmap, changed []engine.FlagChange, modified *roaring.Bitmap, silent bool) error {
	v := s.sel
	byUID := make(map[engine.UID]engine.FlagChange, len(changed))
	for _, c := range changed {
		byUID[c.UID] = c
	}
	write := func(uid engine.UID, flags []string, modseq engine.ModSeq, withFlags bool) error {
		seq := v.seqOf(uint32(uid))
		if seq == 0 {
			return nil
		}
		f := s.w.Fetch(seq)
		if withFlags {
			f.Flags(s.flagsOf(uid, flags))
		}
		f.UID(uint32(uid))
		if s.condStore() {
			f.ModSeq(uint64(modseq))
		}
		return f.Close()
	}
	if silent {
		if !s.condStore() {
			return nil
		}
		for _, c := range changed {
			if err := write(c.UID, nil, c.ModSeq, false); err != nil {
				return err
			}
		}
		return nil
	}
	rest := uids.Clone()
	rest.AndNot(modified)
	if uint64(len(changed)) == rest.GetCardinality() {
		slices.SortFunc(changed, func(a, b engine.FlagChange) int { return int(a.UID) - int(b.UID) })
		for _, c := range changed {
			if err := write(c.UID, c.Flags, c.ModSeq, true); err != nil {
				return err
			}
		}
		return nil
	}
	// Some messages already had the flags: report their state too.
	return s.e.Messages(ctx, s.user.ID, v.mb.ID, rest, func(m *engine.MessageMeta) error {
		if c, ok := byUID[m.UID]; ok {
			return write(c.UID, c.Flags, c.ModSeq, true)
		}
		return write(m.UID, m.Flags, m.ModSeq, true)
	})
}
