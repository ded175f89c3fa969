package imap

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// changed is the change beacon from the notifier (through the session's
// beacon). It runs on the notifier's goroutine (for the in-process
// notifier: the goroutine that committed the change, possibly this
// session's own worker), so it only flips flags and, during IDLE, queues an
// update job. A beacon that reaches a session which has just hibernated
// goes on to its hibernated form: the dirty flag is set before slept is
// read, and hibernation sets slept before it reads dirty, so one of the two
// sees the other.
func (s *session) changed(ev engine.ChangeEvent) {
	sel := s.selectedID.Load()
	if sel == 0 || (ev.Mailbox != engine.AnyMailbox && int64(ev.Mailbox) != sel) {
		return
	}
	s.dirty.Store(true)
	if r := s.slept.Load(); r != nil {
		r.changed(ev)
		return
	}
	if s.idling.Load() {
		s.queueIdleUpdate()
	}
}

// queueIdleUpdate runs one update job for an IDLE client; beacons that
// arrive while one is queued share it.
func (s *session) queueIdleUpdate() {
	if !s.updateQueued.CompareAndSwap(false, true) {
		return
	}
	ctx := s.conn.Context()
	err := s.h.cfg.Pool.Submit(ctx, func() {
		s.idleUpdate(ctx)
		s.maybeHibernate()
	})
	if err != nil {
		s.updateQueued.Store(false)
	}
}

// idleUpdate tells an IDLE client what changed, at once (RFC 2177).
func (s *session) idleUpdate(ctx context.Context) {
	s.updateQueued.Store(false)
	s.exec.Lock()
	defer s.exec.Unlock()
	if !s.idling.Load() || s.sel == nil || s.slept.Load() != nil {
		return
	}
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	s.out.blocking, s.out.ctx = true, ctx
	s.update(ctx, true)
	if s.shutdown.Load() {
		s.bye("server shutting down")
	}
	s.out.flush()
	s.out.blocking = false
	s.out.ctx = nil
}

// update reads the journal if a beacon came and reports what changed;
// expunges only where the client may renumber (expungeOK).
func (s *session) update(ctx context.Context, expungeOK bool) {
	if s.dirty.Swap(false) {
		if err := s.sync(ctx); err != nil {
			s.syncFailed(ctx, err)
			return
		}
	}
	if s.sel != nil {
		s.announce(expungeOK)
	}
}

func (s *session) syncFailed(ctx context.Context, err error) {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		// The mailbox was deleted (or its user): nothing in the view can
		// be trusted any more.
		s.bye("selected mailbox was deleted")
		s.stop = true
		_ = s.conn.Close()
	case ctx.Err() != nil:
	default:
		s.dirty.Store(true) // try again at the next command
		s.log().Error("mailbox sync failed", "mailbox", s.sel.mb.Name, "err", err)
	}
}

// sync applies the journal since the view's MODSEQ to the view; the
// changes are announced by announce.
func (s *session) sync(ctx context.Context) error {
	v := s.sel
	changes, err := s.e.Journal(ctx, s.user.ID, v.mb.ID, v.modseq)
	if errors.Is(err, engine.ErrJournalExpired) {
		return s.resync(ctx)
	}
	if err != nil {
		return fmt.Errorf("journal of %q: %w", v.mb.Name, err)
	}
	appended := false
	for i := range changes {
		c := &changes[i]
		u := uint32(c.UID)
		switch c.Kind {
		case engine.ChangeAppend:
			if v.uids.IsEmpty() || u > v.uids.Maximum() {
				v.uids.Add(u)
				appended = true
			}
			v.learnKeywords(c.Flags)
		case engine.ChangeFlags:
			if v.uids.Contains(u) && c.ModSeq > v.reported[c.UID] {
				v.noteFlags(c.UID, flagUpdate{flags: c.Flags, modseq: c.ModSeq})
				v.learnKeywords(c.Flags)
			}
		case engine.ChangeExpunge:
			if v.uids.Contains(u) {
				v.expunged.Add(u)
			}
		}
		v.modseq = max(v.modseq, c.ModSeq)
	}
	clear(v.reported)
	if appended {
		s.claimRecent(ctx)
	}
	return nil
}

// resync compares the whole UID set when the journal no longer reaches
// back to the view's MODSEQ; flag changes come from a MODSEQ search.
func (s *session) resync(ctx context.Context) error {
	v := s.sel
	cur, head, err := s.e.UIDs(ctx, s.user.ID, v.mb.ID)
	if err != nil {
		return fmt.Errorf("uids of %q: %w", v.mb.Name, err)
	}
	v.expunged.Or(roaring.AndNot(v.uids, cur))
	added := roaring.AndNot(cur, v.uids)
	v.uids.Or(added)
	changed, err := s.e.Search(ctx, s.user.ID, v.mb.ID, &engine.SearchQuery{Op: engine.SearchModSeq, ModSeq: v.modseq + 1})
	if err != nil {
		return fmt.Errorf("changed messages of %q: %w", v.mb.Name, err)
	}
	changed.And(v.uids)
	changed.AndNot(added)
	if !changed.IsEmpty() {
		err = s.e.Messages(ctx, s.user.ID, v.mb.ID, changed, func(m *engine.MessageMeta) error {
			v.noteFlags(m.UID, flagUpdate{flags: slices.Clone(m.Flags), modseq: m.ModSeq})
			return nil
		})
		if err != nil {
			return fmt.Errorf("flags of %q: %w", v.mb.Name, err)
		}
	}
	if kw, err := s.e.Keywords(ctx, s.user.ID, v.mb.ID); err == nil {
		v.learnKeywords(kw)
	}
	v.modseq = max(v.modseq, head)
	clear(v.reported)
	if !added.IsEmpty() {
		s.claimRecent(ctx)
	}
	return nil
}

// claimRecent takes the \Recent messages for this session (IMAP4rev1,
// read-write only: EXAMINE must not take them from other sessions).
func (s *session) claimRecent(ctx context.Context) {
	v := s.sel
	if v.readOnly || s.rev2() {
		return
	}
	first, last, err := s.e.ClaimRecent(ctx, s.user.ID, v.mb.ID)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("claim recent failed", "mailbox", v.mb.Name, "err", err)
		}
		return
	}
	if first <= last && first > 0 {
		r := roaring.New()
		r.AddRange(uint64(first), uint64(last)+1)
		r.And(v.uids)
		v.recent.Or(r)
	}
}

// announce writes what changed: expunges (when allowed), new messages,
// new keywords, flag changes.
func (s *session) announce(expungeOK bool) {
	v := s.sel
	if expungeOK && !v.expunged.IsEmpty() {
		s.announceExpunges(v.expunged)
		v.expunged.Clear()
	}
	if n := v.count(); n > v.exists {
		s.w.Exists(n)
		v.exists = n
	}
	if !s.rev2() {
		if r := uint32(v.recent.GetCardinality()); r != v.recentSent {
			s.w.Recent(r)
			v.recentSent = r
		}
	}
	if v.newKeywords {
		v.newKeywords = false
		s.w.Flags(v.flagList())
		s.w.OK("", imap.CodePermanentFlags(v.permanentFlags()), "new keywords")
	}
	if len(v.flagChanges) == 0 {
		return
	}
	uids := make([]engine.UID, 0, len(v.flagChanges))
	for u := range v.flagChanges {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	for _, u := range uids {
		if v.expunged.Contains(uint32(u)) {
			continue
		}
		seq := v.seqOf(uint32(u))
		if seq == 0 || seq > v.exists {
			continue
		}
		c := v.flagChanges[u]
		f := s.w.Fetch(seq)
		f.UID(uint32(u))
		f.Flags(s.flagsOf(u, c.flags))
		if s.condStore() {
			f.ModSeq(uint64(c.modseq))
		}
		f.Close()
	}
	clear(v.flagChanges)
}

// announceExpunges removes gone messages from the view and tells the
// client: VANISHED with QRESYNC, else EXPUNGE from the highest sequence
// number down so that each number is valid when it is read.
func (s *session) announceExpunges(gone *roaring.Bitmap) {
	v := s.sel
	if s.enabled(extQResync) {
		var set imap.SeqSet
		known := uint32(0)
		it := gone.Iterator()
		for it.HasNext() {
			u := it.Next()
			if seq := v.seqOf(u); seq != 0 && seq <= v.exists {
				set.AddNum(u)
				known++
			}
		}
		v.uids.AndNot(gone)
		v.exists -= known
		if !set.IsEmpty() {
			s.w.Vanished(set, false)
		}
	} else {
		it := gone.ReverseIterator()
		for it.HasNext() {
			u := it.Next()
			seq := v.seqOf(u)
			if seq == 0 {
				continue
			}
			v.uids.Remove(u)
			if seq <= v.exists {
				s.w.Expunge(seq)
				v.exists--
			}
		}
	}
	v.recent.AndNot(gone)
	if s.saved != nil {
		s.saved.AndNot(gone)
	}
	for u := range v.flagChanges {
		if gone.Contains(uint32(u)) {
			delete(v.flagChanges, u)
		}
	}
}

// flagsOf returns the flags to show for a message: \Recent is added for
// an IMAP4rev1 client when the message is recent in this session.
func (s *session) flagsOf(uid engine.UID, flags []string) []string {
	if s.rev2() || !s.sel.recent.Contains(uint32(uid)) {
		return flags
	}
	out := make([]string, 0, len(flags)+1)
	out = append(out, flags...)
	return append(out, imap.FlagRecent)
}
