package imap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// errStreamBroken means a body section stopped short of its announced
// length: the response cannot be completed and the connection must close.
var errStreamBroken = errors.New("body section stream broken")

// fetchPlan is what a FETCH needs besides the message rows.
type fetchPlan struct {
	items     []imap.FetchItem
	body      bool // some item reads the message content
	setsSeen  bool
	flags     bool // FLAGS was asked for
	modseq    bool // MODSEQ was asked for
	structure bool // BODY or BODYSTRUCTURE
	envelope  bool
}

func planFetch(items []imap.FetchItem) fetchPlan {
	p := fetchPlan{items: items}
	for _, it := range items {
		switch it.Kind {
		case imap.FetchBodySection, imap.FetchBinary, imap.FetchBinarySize,
			imap.FetchRFC822, imap.FetchRFC822Header, imap.FetchRFC822Text:
			p.body = true
		case imap.FetchFlags:
			p.flags = true
		case imap.FetchModSeq:
			p.modseq = true
		case imap.FetchBody, imap.FetchBodyStructure:
			p.structure = true
		case imap.FetchEnvelope:
			p.envelope = true
		}
		if it.SetsSeen() {
			p.setsSeen = true
		}
	}
	return p
}

// cmdFetch answers FETCH and UID FETCH (RFC 9051 6.4.5) with CONDSTORE's
// CHANGEDSINCE and QRESYNC's VANISHED. Metadata items come from the
// message rows; body sections open the message and stream from the store
// with back-pressure.
func (s *session) cmdFetch(ctx context.Context, a *imap.FetchCommand) status {
	v := s.sel
	uids, err := s.resolve(a.SeqSet, a.UID, !a.UID)
	if err != nil {
		return s.storeError(ctx, "fetch", err)
	}
	plan := planFetch(a.Items)
	if plan.modseq || a.ChangedSince > 0 {
		s.ext |= extCondStore
	}
	if a.Vanished {
		if !s.enabled(extQResync) {
			return bad("VANISHED needs ENABLE QRESYNC")
		}
		gone, err := s.vanishedSince(ctx, engine.ModSeq(a.ChangedSince), s.uidRanges(a.SeqSet))
		if err != nil {
			return s.storeError(ctx, "fetch", err)
		}
		if !gone.IsEmpty() {
			s.w.Vanished(gone, true)
		}
	}
	if a.ChangedSince > 0 && !uids.IsEmpty() {
		changed, err := s.e.Search(ctx, s.user.ID, v.mb.ID, &engine.SearchQuery{Op: engine.SearchModSeq, ModSeq: engine.ModSeq(a.ChangedSince + 1)})
		if err != nil {
			return s.storeError(ctx, "fetch", err)
		}
		uids.And(changed)
	}
	if uids.IsEmpty() {
		return ok("FETCH completed")
	}
	seen := map[engine.UID]bool{}
	if plan.setsSeen && !v.readOnly {
		if seen, err = s.markSeen(ctx, uids); err != nil {
			return s.storeError(ctx, "fetch", err)
		}
	}
	var failed status
	expunged := false
	err = s.e.Messages(ctx, s.user.ID, v.mb.ID, uids, func(m *engine.MessageMeta) error {
		st, err := s.fetchOne(ctx, m, &plan, seen[m.UID], a.ChangedSince > 0)
		if st.res != "" {
			failed = st
			return errStopFetch
		}
		if errors.Is(err, errExpungedMeanwhile) {
			expunged = true
			return nil
		}
		return err
	})
	switch {
	case failed.res != "":
		return failed
	case errors.Is(err, errStreamBroken):
		if ctx.Err() == nil {
			s.log().Error("FETCH stream broken", "mailbox", v.mb.Name, "err", err)
		}
		s.stop = true
		_ = s.conn.Close()
		return deferred
	case err != nil:
		return s.storeError(ctx, "fetch", err)
	case expunged:
		// Another session expunged a message between reading its row and
		// its content: the rest is answered, the client learns why one is
		// missing and sees the EXPUNGE at its next command (RFC 5530).
		return no(imap.CodeExpungeIssued, "some messages were expunged meanwhile")
	}
	return ok("FETCH completed")
}

var (
	errStopFetch         = errors.New("fetch stopped")
	errExpungedMeanwhile = errors.New("message expunged meanwhile")
)

// markSeen sets \Seen on the unseen messages of uids before their bodies
// are sent (a non-PEEK body fetch, RFC 9051 6.4.5); it returns those
// whose flags changed, whose FETCH responses then include FLAGS.
func (s *session) markSeen(ctx context.Context, uids *roaring.Bitmap) (map[engine.UID]bool, error) {
	v := s.sel
	q := &engine.SearchQuery{Op: engine.SearchAnd, Children: []*engine.SearchQuery{
		{Op: engine.SearchUIDs, UIDs: uids},
		{Op: engine.SearchNot, Children: []*engine.SearchQuery{{Op: engine.SearchFlag, Flag: engine.FlagSeen}}},
	}}
	unseen, err := s.e.Search(ctx, s.user.ID, v.mb.ID, q)
	if err != nil {
		return nil, err
	}
	out := map[engine.UID]bool{}
	if unseen.IsEmpty() {
		return out, nil
	}
	changed, _, err := s.e.StoreFlags(ctx, s.user.ID, v.mb.ID, unseen, engine.FlagsAdd, []string{engine.FlagSeen}, 0)
	if err != nil {
		return nil, err
	}
	for _, c := range changed {
		out[c.UID] = true
		v.noteReported(c.UID, c.ModSeq)
	}
	return out, nil
}

// sectionData is a body item resolved before its response starts, so an
// error (no such part, unknown encoding) never leaves half a response.
type sectionData struct {
	d   *engine.SectionData
	nil bool
}

// fetchOne writes the FETCH response of one message.
func (s *session) fetchOne(ctx context.Context, m *engine.MessageMeta, plan *fetchPlan, seenSet, changedSince bool) (status, error) {
	v := s.sel
	seq := v.seqOf(uint32(m.UID))
	if seq == 0 {
		return status{}, nil
	}
	var sections []sectionData
	var msg *engine.Message
	var st *engine.Structure
	if plan.body {
		var err error
		if msg, err = s.e.OpenMessage(ctx, s.user.ID, v.mb.ID, m); err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				return status{}, errExpungedMeanwhile
			}
			return status{}, fmt.Errorf("open message %d: %w", m.UID, err)
		}
		defer msg.Close()
		st = msg.St
		sections = make([]sectionData, len(plan.items))
		for i, it := range plan.items {
			sec, ok := engineSection(it)
			if !ok {
				continue
			}
			d, err := msg.Section(sec)
			switch {
			case err == nil:
				sections[i].d = d
			case errors.Is(err, engine.ErrNoSuchPart):
				sections[i].nil = true
			case errors.Is(err, engine.ErrUnknownCTE):
				return no(imap.CodeUnknownCTE, fmt.Sprintf("message %d: part %s has an unknown content transfer encoding", seq, it.Section)), nil
			case errors.Is(err, engine.ErrNotFound):
				return status{}, errExpungedMeanwhile
			default:
				return status{}, fmt.Errorf("section of message %d: %w", m.UID, err)
			}
		}
	}
	if plan.structure && st == nil {
		var err error
		if st, err = engine.DecodeStructure(m.Structure); err != nil {
			return status{}, fmt.Errorf("structure of message %d: %w", m.UID, err)
		}
	}
	var env *engine.Envelope
	if plan.envelope {
		var err error
		if env, err = engine.DecodeEnvelope(m.Envelope); err != nil {
			return status{}, fmt.Errorf("envelope of message %d: %w", m.UID, err)
		}
	}
	f := s.w.Fetch(seq)
	for i, it := range plan.items {
		switch it.Kind {
		case imap.FetchUID:
			f.UID(uint32(m.UID))
		case imap.FetchFlags:
			f.Flags(s.flagsOf(m.UID, m.Flags))
		case imap.FetchInternalDate:
			f.InternalDate(m.InternalDate)
		case imap.FetchRFC822Size:
			f.RFC822Size(m.Size)
		case imap.FetchModSeq:
			f.ModSeq(uint64(m.ModSeq))
		case imap.FetchEmailID:
			f.EmailID(emailObjectID(m.EmailID))
		case imap.FetchThreadID:
			f.ThreadID("")
		case imap.FetchSaveDate:
			f.SaveDate(time.Time{}) // SAVEDATE is not kept (not advertised)
		case imap.FetchEnvelope:
			f.Envelope(envelope(env))
		case imap.FetchBody:
			f.Body(bodyStructure(st, 0))
		case imap.FetchBodyStructure:
			f.BodyStructure(bodyStructure(st, 0))
		case imap.FetchBinarySize:
			if sections[i].nil {
				f.BinarySize(it.Section, 0)
				continue
			}
			f.BinarySize(it.Section, sections[i].d.Size)
		case imap.FetchBodySection, imap.FetchBinary, imap.FetchRFC822, imap.FetchRFC822Header, imap.FetchRFC822Text:
			sd := sections[i]
			if sd.nil {
				f.SectionNil(it)
				continue
			}
			lw, err := f.Section(it, sd.d.Length, it.Kind == imap.FetchBinary)
			if err != nil {
				return status{}, err
			}
			n, err := io.Copy(lw, sd.d.Body)
			if err != nil || n != sd.d.Length {
				return status{}, fmt.Errorf("%w: message %d %s: %d of %d bytes: %v", errStreamBroken, m.UID, it, n, sd.d.Length, err)
			}
		}
	}
	if seenSet && !plan.flags {
		f.Flags(s.flagsOf(m.UID, m.Flags))
	}
	if s.condStore() && !plan.modseq && (changedSince || seenSet) {
		f.ModSeq(uint64(m.ModSeq))
	}
	return status{}, f.Close()
}

// engineSection maps a FETCH body item to the engine's section.
func engineSection(it imap.FetchItem) (engine.Section, bool) {
	var sec engine.Section
	switch it.Kind {
	case imap.FetchRFC822:
	case imap.FetchRFC822Header:
		sec.Specifier = "HEADER"
	case imap.FetchRFC822Text:
		sec.Specifier = "TEXT"
	case imap.FetchBodySection, imap.FetchBinary, imap.FetchBinarySize:
		for _, p := range it.Section.Part {
			sec.Path = append(sec.Path, int(p))
		}
		switch it.Section.Spec {
		case imap.SpecHeader:
			sec.Specifier = "HEADER"
		case imap.SpecHeaderFields:
			sec.Specifier = "HEADER.FIELDS"
		case imap.SpecHeaderFieldsNot:
			sec.Specifier = "HEADER.FIELDS.NOT"
		case imap.SpecText:
			sec.Specifier = "TEXT"
		case imap.SpecMIME:
			sec.Specifier = "MIME"
		}
		sec.Fields = it.Section.Fields
		sec.Binary = it.Kind != imap.FetchBodySection
		if it.Partial.Count > 0 && it.Kind != imap.FetchBinarySize {
			sec.Partial, sec.Offset, sec.Count = true, int64(it.Partial.Offset), int64(it.Partial.Count)
		}
	default:
		return sec, false
	}
	return sec, true
}
