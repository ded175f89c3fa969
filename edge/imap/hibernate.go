package imap

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// Hibernation. Most of a mail client's connection time is spent in IDLE,
// waiting. A session in IDLE with nothing in flight trades itself for a
// hibernated record: the selected mailbox's UIDs serialized (runs stay
// runs), its counters, keywords, enabled extensions and the IDLE tag —
// what sync needs to answer exactly as an awake session would. The session
// struct with its writer, output buffers, bitmaps and command tracker goes,
// and so does the connection's context. Any event wakes the record first:
// client input (DONE or anything else), a change beacon, autologout,
// shutdown, the connection's end. Sessions under COMPRESS stay awake: their
// deflate state is large and cannot be serialized.

// hibernated is a sleeping IDLE session, kept small: a few hundred bytes
// plus the serialized UID set. Its fields are written when it is made and
// read when it wakes, both on the event loop.
type hibernated struct {
	conn        *netloop.Conn
	beacon      *beacon
	userID      engine.UserID
	userName    string
	unsubscribe func()
	ext         extension
	userSlot    bool // the session holds a Limits slot under userName
	selected    bool // a mailbox is selected: the fields below describe it
	readOnly    bool
	idleTag     string
	idleStart   int64 // unix ns when the IDLE command began, for its duration metric

	mb         frozenMailbox
	modseq     engine.ModSeq
	exists     uint32
	recentSent uint32
	keywords   []string
	uids       string       // the view's UIDs, serialized
	rare       *frozenExtra // nil unless something below is set

	dirty      atomic.Bool             // a beacon for the selected mailbox came
	wakeQueued atomic.Bool             // a wake for a beacon is queued on the loop
	woke       atomic.Pointer[session] // the session it woke as
}

// frozenMailbox is what a view reads of its engine.Mailbox.
type frozenMailbox struct {
	id          engine.MailboxID
	name        string
	uidValidity uint32
	uidNext     engine.UID
}

// frozenExtra is the seldom-set part of a view.
type frozenExtra struct {
	recent   string           // \Recent messages of an IMAP4rev1 session
	saved    string           // SEARCHRES "$"
	hasSaved bool             // "$" was saved (and may be empty)
	reported []reportedChange // flag changes already announced by this session
}

type reportedChange struct {
	uid    engine.UID
	modseq engine.ModSeq
}

// beacon routes the notifier's change beacons to the session's current
// form; the subscription outlives hibernation.
type beacon struct {
	h  *Handler
	mu sync.Mutex
	to interface{ changed(engine.ChangeEvent) }
}

func newBeacon(s *session) *beacon { return &beacon{h: s.h, to: s} }

func (b *beacon) deliver(ev engine.ChangeEvent) {
	b.h.notifyLag(ev)
	b.mu.Lock()
	to := b.to
	b.mu.Unlock()
	to.changed(ev)
}

func (b *beacon) set(to interface{ changed(engine.ChangeEvent) }) {
	b.mu.Lock()
	b.to = to
	b.mu.Unlock()
}

// maybeHibernate asks the loop to hibernate the session after a worker's
// turn that left it in IDLE.
func (s *session) maybeHibernate() {
	if !s.h.cfg.KeepIdleAwake && s.idling.Load() && s.slept.Load() == nil {
		s.conn.OnLoop(s.tryHibernate)
	}
}

// tryHibernate runs on the loop. Whoever holds the session (a worker, an
// update job) keeps it awake; it asks again when its turn ends.
func (s *session) tryHibernate() {
	if s.slept.Load() != nil || !s.idling.Load() || !s.exec.TryLock() {
		return
	}
	defer s.exec.Unlock()
	if !s.out.mu.TryLock() {
		return
	}
	defer s.out.mu.Unlock()
	if !s.quiet() {
		return
	}
	s.mu.Lock()
	if s.closed || s.holds != 0 {
		s.mu.Unlock()
		return
	}
	r := s.freeze()
	if r == nil {
		s.mu.Unlock()
		return
	}
	s.closed = true // the session's resources now belong to r
	s.mu.Unlock()

	s.beacon.set(r)
	s.slept.Store(r)
	if s.dirty.Load() {
		r.dirty.Store(true)
	}
	s.conn.Replace(r)
	s.conn.ReleaseContext()
	s.h.hibernated.Add(1)
	if r.dirty.Load() {
		r.wakeForChange() // a beacon raced with hibernation
	}
}

// quiet reports whether the session is in IDLE with nothing in flight and
// nothing untold; exec and out.mu are held.
func (s *session) quiet() bool {
	if s.p != nil || s.inflater != nil || s.out.zw != nil || s.app != nil || s.sasl != nil ||
		s.stop || s.suspended || s.byeSent || s.loopLocked || s.idleTag == "" ||
		s.shutdown.Load() || s.updateQueued.Load() || s.dirty.Load() ||
		len(s.out.buf) > 0 || s.out.err != nil || s.w.Err() != nil {
		return false
	}
	if c, on := s.current(); !on || c.name != "IDLE" || c.tag != s.idleTag {
		return false
	}
	if v := s.sel; v != nil && (!v.expunged.IsEmpty() || len(v.flagChanges) > 0 || v.newKeywords) {
		return false
	}
	return true
}

// freeze builds the hibernated record; nil if a bitmap cannot be
// serialized (the session then stays awake).
func (s *session) freeze() *hibernated {
	c, _ := s.current()
	r := &hibernated{
		conn: s.conn, beacon: s.beacon,
		userID: s.user.ID, userName: s.user.Name, unsubscribe: s.unsubscribe,
		userSlot: s.userSlot != "", ext: s.ext, idleTag: s.idleTag, idleStart: c.start.UnixNano(),
	}
	var extra frozenExtra
	if s.saved != nil {
		extra.hasSaved = true
		var ok bool
		if extra.saved, ok = freezeBitmap(s.saved); !ok {
			return nil
		}
	}
	if v := s.sel; v != nil {
		r.selected, r.readOnly = true, v.readOnly
		r.mb = frozenMailbox{id: v.mb.ID, name: v.mb.Name, uidValidity: v.mb.UIDValidity, uidNext: v.mb.UIDNext}
		r.modseq, r.exists, r.recentSent, r.keywords = v.modseq, v.exists, v.recentSent, v.keywords
		var ok bool
		if r.uids, ok = freezeBitmap(v.uids); !ok {
			return nil
		}
		if !v.recent.IsEmpty() {
			if extra.recent, ok = freezeBitmap(v.recent); !ok {
				return nil
			}
		}
		for u, m := range v.reported {
			extra.reported = append(extra.reported, reportedChange{u, m})
		}
	}
	if extra.hasSaved || extra.recent != "" || extra.reported != nil {
		r.rare = &extra
	}
	return r
}

// freezeBitmap serializes b in roaring's format, runs as runs; a string
// is the smallest holder of the bytes.
func freezeBitmap(b *roaring.Bitmap) (string, bool) {
	b = b.Clone()
	b.RunOptimize()
	data, err := b.ToBytes()
	return string(data), err == nil
}

func thawBitmap(data string) *roaring.Bitmap {
	b := roaring.New()
	if len(data) > 0 {
		if err := b.UnmarshalBinary([]byte(data)); err != nil {
			panic("imap: hibernated bitmap: " + err.Error()) // written by freezeBitmap
		}
	}
	return b
}

// wake makes the session again and hands it the connection; loop only.
func (r *hibernated) wake() *session {
	if s := r.woke.Load(); s != nil {
		return s
	}
	s := newSession(r.beacon.h, r.conn)
	s.user = engine.User{ID: r.userID, Name: r.userName}
	s.state = stateAuth
	s.ext = r.ext
	if s.ext&(extUTF8|extRev2) != 0 {
		s.w.SetUTF8(true)
	}
	s.unsubscribe, s.beacon = r.unsubscribe, r.beacon
	if r.userSlot {
		s.userSlot = r.userName
	}
	s.idleTag = r.idleTag
	s.atBoundary = true
	s.cmd.cur = inflight{tag: r.idleTag, name: "IDLE", start: time.Unix(0, r.idleStart)}
	s.cmd.on = true
	extra := r.rare
	if extra == nil {
		extra = &frozenExtra{}
	}
	if extra.hasSaved {
		s.saved = thawBitmap(extra.saved)
	}
	if r.selected {
		mb := engine.Mailbox{ID: r.mb.id, UserID: r.userID, Name: r.mb.name,
			UIDValidity: r.mb.uidValidity, UIDNext: r.mb.uidNext}
		v := &selected{mb: mb, readOnly: r.readOnly, uids: thawBitmap(r.uids), modseq: r.modseq,
			recent: thawBitmap(extra.recent), keywords: r.keywords, exists: r.exists,
			recentSent: r.recentSent, expunged: roaring.New()}
		for _, c := range extra.reported {
			v.noteReported(c.uid, c.modseq)
		}
		s.sel = v
		s.state = stateSelected
		s.selectedID.Store(int64(r.mb.id))
	}
	s.idling.Store(true)
	// The order mirrors hibernation: a beacon that reached r after this
	// sees woke and goes on to s; one before it set r.dirty, read below.
	r.beacon.set(s)
	r.woke.Store(s)
	r.beacon.h.hibernated.Add(-1)
	if r.dirty.Load() {
		s.dirty.Store(true)
	}
	r.conn.Replace(s)
	if s.dirty.Load() {
		s.queueIdleUpdate()
	}
	return s
}

// changed is a change beacon for the sleeping session: it wakes on the
// loop to tell the client.
func (r *hibernated) changed(ev engine.ChangeEvent) {
	if !r.selected || (ev.Mailbox != engine.AnyMailbox && ev.Mailbox != r.mb.id) {
		return
	}
	r.dirty.Store(true)
	if s := r.woke.Load(); s != nil {
		s.changed(ev)
		return
	}
	if r.wakeQueued.CompareAndSwap(false, true) {
		r.conn.OnLoop(r.wakeForChange)
	}
}

func (r *hibernated) wakeForChange() {
	if r.woke.Load() == nil {
		r.wake()
	}
}

// ---- netloop.Session: every event wakes the session first ----

func (r *hibernated) OnData(p []byte) int { return r.wake().OnData(p) }
func (r *hibernated) OnShutdown()         { r.wake().OnShutdown() }
func (r *hibernated) OnIdleTimeout()      { r.wake().OnIdleTimeout() }
func (r *hibernated) OnClose(err error)   { r.wake().OnClose(err) }

var (
	_ netloop.Session      = (*hibernated)(nil)
	_ netloop.IdleNotifier = (*hibernated)(nil)
)
