package imap

import (
	"context"
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// cmdSelect answers SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3), with
// CONDSTORE and QRESYNC parameters (RFC 7162).
func (s *session) cmdSelect(ctx context.Context, a *imap.SelectCommand) status {
	if s.sel != nil {
		s.deselect()
		if s.ext&(extQResync|extRev2) != 0 {
			s.w.OK("", imap.CodeClosed, "previous mailbox closed")
		}
	}
	if a.QResync != nil && !s.enabled(extQResync) {
		return bad("QRESYNC is not enabled")
	}
	if a.CondStore {
		s.ext |= extCondStore
	}
	mb, err := s.e.Mailbox(ctx, s.user.ID, a.Mailbox)
	if err != nil {
		return s.storeError(ctx, "select", err)
	}
	// Beacons count from here: a change after the snapshot below is in
	// the journal after its MODSEQ.
	s.selectedID.Store(int64(mb.ID))
	s.dirty.Store(false)
	v, err := s.openMailbox(ctx, mb, a.ReadOnly)
	if err != nil {
		s.selectedID.Store(0)
		return s.storeError(ctx, "select", err)
	}
	s.sel = v
	s.state = stateSelected
	s.claimRecent(ctx)
	v.recentSent = uint32(v.recent.GetCardinality())

	uidNext := mb.UIDNext
	if !v.uids.IsEmpty() && engine.UID(v.uids.Maximum()) >= uidNext {
		uidNext = engine.UID(v.uids.Maximum()) + 1
	}
	s.w.Flags(v.flagList())
	s.w.Exists(v.exists)
	if !s.rev2() {
		s.w.Recent(v.recentSent)
		if seq, err := s.firstUnseen(ctx); err == nil && seq > 0 {
			s.w.OK("", imap.CodeUnseen(seq), "first unseen message")
		}
	}
	s.w.OK("", imap.CodePermanentFlags(v.permanentFlags()), "flags permitted")
	s.w.OK("", imap.CodeUIDValidity(mb.UIDValidity), "UIDs valid")
	s.w.OK("", imap.CodeUIDNext(uint32(uidNext)), "predicted next UID")
	s.w.OK("", imap.CodeHighestModSeq(uint64(v.modseq)), "highest")
	s.w.OK("", imap.CodeMailboxID(mailboxObjectID(mb.ID)), "mailbox ID")
	if s.rev2() {
		s.w.List(&imap.ListData{Attrs: s.listAttrs(ctx, mb), Delim: '/', Mailbox: mb.Name})
	}
	if a.QResync != nil && a.QResync.UIDValidity == mb.UIDValidity {
		if err := s.qresyncSelect(ctx, a.QResync); err != nil {
			s.deselect()
			return s.storeError(ctx, "qresync", err)
		}
	}
	if a.ReadOnly {
		return okCode(imap.CodeReadOnly, "EXAMINE completed")
	}
	return okCode(imap.CodeReadWrite, "SELECT completed")
}

// openMailbox reads a mailbox's UIDs and keywords into a fresh view.
func (s *session) openMailbox(ctx context.Context, mb engine.Mailbox, readOnly bool) (*selected, error) {
	uids, modseq, err := s.e.UIDs(ctx, s.user.ID, mb.ID)
	if err != nil {
		return nil, fmt.Errorf("uids: %w", err)
	}
	kw, err := s.e.Keywords(ctx, s.user.ID, mb.ID)
	if err != nil {
		return nil, fmt.Errorf("keywords: %w", err)
	}
	return newSelected(mb, readOnly, uids, modseq, kw), nil
}

// firstUnseen is the sequence number of the first message without \Seen
// (the IMAP4rev1 [UNSEEN n] code), 0 when there is none.
func (s *session) firstUnseen(ctx context.Context) (uint32, error) {
	v := s.sel
	if v.uids.IsEmpty() {
		return 0, nil
	}
	unseen, err := s.e.Search(ctx, s.user.ID, v.mb.ID, &engine.SearchQuery{Op: engine.SearchNot,
		Children: []*engine.SearchQuery{{Op: engine.SearchFlag, Flag: engine.FlagSeen}}})
	if err != nil {
		return 0, err
	}
	unseen.And(v.uids)
	if unseen.IsEmpty() {
		return 0, nil
	}
	return v.seqOf(unseen.Minimum()), nil
}

// qresyncSelect reports what changed since the client's MODSEQ (RFC 7162
// 3.2.5): VANISHED (EARLIER) for messages expunged since, then FETCH for
// messages changed since.
func (s *session) qresyncSelect(ctx context.Context, q *imap.QResyncParams) error {
	v := s.sel
	var known []uidRange
	if len(q.KnownUIDs.Ranges) > 0 {
		known = s.uidRanges(q.KnownUIDs)
	} else if v.mb.UIDNext > 1 {
		known = []uidRange{{1, uint32(v.mb.UIDNext) - 1}}
	}
	vanished, err := s.vanishedSince(ctx, engine.ModSeq(q.ModSeq), known)
	if err != nil {
		return err
	}
	if !vanished.IsEmpty() {
		s.w.Vanished(vanished, true)
	}
	if q.ModSeq >= uint64(v.modseq) {
		return nil
	}
	changed, err := s.e.Search(ctx, s.user.ID, v.mb.ID, &engine.SearchQuery{Op: engine.SearchModSeq, ModSeq: engine.ModSeq(q.ModSeq + 1)})
	if err != nil {
		return err
	}
	changed.And(v.uids)
	if len(q.KnownUIDs.Ranges) > 0 {
		changed.And(rangesBitmap(known))
	}
	return s.e.Messages(ctx, s.user.ID, v.mb.ID, changed, func(m *engine.MessageMeta) error {
		if m.ModSeq > v.modseq {
			return nil // the journal will report it
		}
		f := s.w.Fetch(v.seqOf(uint32(m.UID)))
		f.UID(uint32(m.UID))
		f.Flags(s.flagsOf(m.UID, m.Flags))
		f.ModSeq(uint64(m.ModSeq))
		return f.Close()
	})
}

// uidRange is an inclusive range of UIDs.
type uidRange struct{ lo, hi uint32 }

// uidRanges is a UID set as the client wrote it, ascending; "*" is the
// highest UID ever assigned. VANISHED (EARLIER) answers may name UIDs that
// are no longer in the view, so the set is not intersected with it.
func (s *session) uidRanges(set imap.SeqSet) []uidRange {
	top := uint32(0)
	if s.sel.mb.UIDNext > 0 {
		top = uint32(s.sel.mb.UIDNext) - 1
	}
	if !s.sel.uids.IsEmpty() {
		top = max(top, s.sel.uids.Maximum())
	}
	var out []uidRange
	for _, r := range set.Normalize(top).Ranges {
		out = append(out, uidRange{r.Start, r.Stop})
	}
	return out
}

func rangesBitmap(rs []uidRange) *roaring.Bitmap {
	b := roaring.New()
	for _, r := range rs {
		b.AddRange(uint64(r.lo), uint64(r.hi)+1)
	}
	return b
}

// vanishedSince returns the UIDs within the ranges that were expunged
// after modseq: from the journal, or, when it no longer reaches back,
// every UID of the ranges that is not in the mailbox (RFC 7162 allows
// naming UIDs that never existed). Either way the answer costs what the
// journal or the mailbox holds, never what the client's ranges span.
func (s *session) vanishedSince(ctx context.Context, modseq engine.ModSeq, within []uidRange) (imap.SeqSet, error) {
	v := s.sel
	changes, err := s.e.Journal(ctx, s.user.ID, v.mb.ID, modseq)
	switch {
	case errors.Is(err, engine.ErrJournalExpired):
		return missingRanges(within, v.uids), nil
	case err != nil:
		return imap.SeqSet{}, err
	}
	gone := roaring.New()
	for _, c := range changes {
		if c.Kind == engine.ChangeExpunge && c.ModSeq <= v.modseq {
			gone.Add(uint32(c.UID))
		}
	}
	gone.And(rangesBitmap(within))
	gone.AndNot(v.uids)
	return uidSetOf(gone), nil
}

// missingRanges lists the UIDs of ranges that present lacks, as ranges.
func missingRanges(ranges []uidRange, present *roaring.Bitmap) imap.SeqSet {
	var set imap.SeqSet
	for _, r := range ranges {
		next := uint64(r.lo) // first UID of the range not yet accounted for
		it := present.Iterator()
		it.AdvanceIfNeeded(r.lo)
		for it.HasNext() {
			u := uint64(it.Next())
			if u > uint64(r.hi) {
				break
			}
			if u > next {
				set.AddRange(uint32(next), uint32(u-1))
			}
			next = u + 1
		}
		if next <= uint64(r.hi) {
			set.AddRange(uint32(next), r.hi)
		}
	}
	return set
}

// deselect leaves the selected mailbox.
func (s *session) deselect() {
	s.sel = nil
	s.saved = nil
	s.selectedID.Store(0)
	s.dirty.Store(false)
	if s.state == stateSelected {
		s.state = stateAuth
	}
}

// cmdClose expunges \Deleted messages without telling and leaves the
// mailbox (RFC 9051 6.4.1).
func (s *session) cmdClose(ctx context.Context) status {
	v := s.sel
	if !v.readOnly {
		if _, err := s.expungeDeleted(ctx, nil); err != nil {
			return s.storeError(ctx, "close", err)
		}
	}
	s.deselect()
	return ok("CLOSE completed")
}

// cmdUnselect leaves the mailbox without expunging (RFC 3691).
func (s *session) cmdUnselect() status {
	s.deselect()
	return ok("UNSELECT completed")
}
