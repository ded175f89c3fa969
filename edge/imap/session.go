package imap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/codec/deflate"
	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// connState is the IMAP connection state (RFC 9051 3).
type connState uint8

const (
	stateNotAuth connState = iota
	stateAuth
	stateSelected
	stateLogout
)

// extension is a capability the client turned on with ENABLE (or, for
// CONDSTORE, by using it).
type extension uint8

const (
	extRev2 extension = 1 << iota
	extCondStore
	extQResync
	extUTF8
)

// Reasons the connection's input is held (netloop Pause).
const (
	holdCommand uint8 = 1 << iota // a worker owns the session
)

// session is one IMAP connection.
//
// Ownership: the parser (p, inflater, app) belongs to whoever drives it —
// the event loop in OnData, or a worker while holdCommand is set (input is
// then paused, so the loop does not touch it). Protocol state (state, user,
// sel, ...) belongs to the goroutine holding exec: a command's worker or an
// IDLE update job. Responses go through out, guarded by out.mu. The loop
// never waits on exec and only try-locks out.mu, so it never blocks.
type session struct {
	h    *Handler
	e    *engine.Engine
	conn *netloop.Conn

	p              *imap.Parser
	inflater       *deflate.Inflater
	inflated       []byte
	inflatePending bool
	zrest          []byte // compressed input pipelined after COMPRESS, not yet inflated
	app            *appendCmd

	exec       sync.Mutex
	state      connState
	user       engine.User
	ext        extension
	sel        *selected
	saved      *roaring.Bitmap // SEARCHRES "$": UIDs of the last saved result
	authFails  int
	sasl       *saslExchange
	idleTag    string
	loopLocked bool // the event loop holds out.mu during OnData
	atBoundary bool // the last parser event was a complete command
	suspended  bool // a timer continues the session (a failed login's delay)
	stop       bool // no more commands: LOGOUT, STARTTLS, COMPRESS switch, fatal error
	byeSent    bool

	out output
	w   *imap.Writer
	cmd cmdTrack // the command awaiting its tagged response (metrics.go)

	mu          sync.Mutex
	holds       uint8
	closed      bool
	unsubscribe func()
	userSlot    string
	beacon      *beacon // routes change beacons to this session or its hibernated form

	slept atomic.Pointer[hibernated] // set when the session hibernated: it is inert from then on

	idling       atomic.Bool
	dirty        atomic.Bool
	selectedID   atomic.Int64
	updateQueued atomic.Bool
	shutdown     atomic.Bool
}

func newSession(h *Handler, c *netloop.Conn) *session {
	s := &session{h: h, e: h.e, conn: c}
	s.out.conn = c
	s.w = imap.NewWriter(&s.out)
	return s
}

// log returns the server's logger with the session's fields; it is built
// per call so that an idle session holds none.
func (s *session) log() *slog.Logger {
	l := s.h.log.With("proto", "imap", "conn", s.conn.ID(), "remote", s.conn.RemoteAddr().String())
	if s.user.Name != "" {
		l = l.With("user", s.user.Name)
	}
	return l
}

func (s *session) greet() error {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	s.w.OK("", imap.CodeCapability(s.capabilities()...), s.h.cfg.Greeting)
	return s.out.flush()
}

// ---- netloop.Session ----

// OnData feeds the client's bytes to the parser and answers what it can.
func (s *session) OnData(p []byte) int {
	if s.stop {
		return len(p)
	}
	if s.p == nil {
		s.p = s.newParser()
		if s.idleTag != "" {
			s.p.ExpectDoneOf(s.idleTag) // the parser was dropped while idling
		}
	}
	if s.inflater == nil {
		s.p.Feed(p)
		s.driveLoop()
		return len(p)
	}
	// Compressed input is inflated a bounded piece at a time and parsed in
	// between, so a small input cannot flood the parser. Once a worker
	// takes the session, the rest waits in netloop until Resume.
	consumed := 0
	for !s.stop {
		n := s.inflateStep(p[consumed:])
		consumed += n
		s.driveLoop()
		if s.paused() {
			return consumed
		}
		if consumed == len(p) && !s.inflatePending {
			break
		}
	}
	return len(p)
}

// inflateStep decompresses one bounded piece of compressed input into the
// parser and returns how much input it took; inflatePending says the
// inflater may hold more output without more input.
func (s *session) inflateStep(in []byte) int {
	out, n, err := s.inflater.Inflate(s.inflated[:0], in)
	s.inflatePending = err == nil && len(out) >= inflateChunk
	if len(out) > 0 {
		s.p.Feed(out)
	}
	s.inflated = out[:0]
	if cap(s.inflated) > 2*inflateChunk {
		s.inflated = nil
	}
	if err != nil {
		s.log().Info("corrupt compressed input", "err", err)
		s.stop = true
		_ = s.conn.Close()
	}
	return n
}

func (s *session) paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holds != 0
}

// OnShutdown says goodbye; a command in flight writes the BYE when it ends.
func (s *session) OnShutdown() {
	s.shutdown.Store(true)
	if s.out.mu.TryLock() {
		if s.holdsNone() {
			s.bye("server shutting down")
		}
		s.out.mu.Unlock()
	}
}

// OnIdleTimeout is the autologout (RFC 9051 5.4).
func (s *session) OnIdleTimeout() {
	if s.out.mu.TryLock() {
		s.bye("autologout; idle for too long")
		s.out.mu.Unlock()
	}
}

// OnClose releases what the session holds. Work in flight sees the
// connection's context end and stops.
func (s *session) OnClose(err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	unsub, slot := s.unsubscribe, s.userSlot
	s.unsubscribe, s.userSlot = nil, ""
	s.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	if slot != "" {
		s.h.cfg.Limits.ReleaseUser(slot)
	}
	s.abandoned()
	s.h.sessions.Add(-1)
	if err != nil && !errors.Is(err, netloop.ErrServerClosed) {
		s.log().Debug("connection closed", "err", err)
	}
}

func (s *session) holdsNone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holds == 0
}

// bye writes an untagged BYE once; out.mu is held.
func (s *session) bye(text string) {
	if s.byeSent {
		return
	}
	s.byeSent = true
	s.w.Bye("", text)
	s.out.flush()
}

// hold pauses input for reason r; Pause and Resume are called under mu so
// that they pair up in order.
func (s *session) hold(r uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds == 0 {
		s.conn.Pause()
	}
	s.holds |= r
}

func (s *session) release(r uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds&r == 0 {
		return
	}
	s.holds &^= r
	if s.holds == 0 {
		s.conn.Resume()
	}
}

// releaseWith is release with the worker's last output, which is queued
// before input is released (see netloop.Conn.ResumeWith). outErr is the
// output's failure, if any: the connection is then closing anyway.
func (s *session) releaseWith(r uint8, tail []byte, outErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds&r == 0 || s.holds&^r != 0 || outErr != nil {
		if len(tail) > 0 && outErr == nil {
			_ = s.conn.Write(tail)
		}
		if s.holds&r != 0 {
			s.holds &^= r
			if s.holds == 0 {
				s.conn.Resume()
			}
		}
		return
	}
	s.holds &^= r
	if err := s.conn.ResumeWith(tail); err != nil {
		s.log().Debug("resume", "err", err)
	}
}

// ---- driving the parser ----

// driveLoop runs on the event loop: it answers what needs no store call
// and hands the rest to a worker.
func (s *session) driveLoop() {
	s.drive(nil)
	if s.loopLocked {
		s.loopLocked = false
		s.out.flush()
		s.idleRelease()
		s.out.mu.Unlock()
	}
}

// lockOnLoop takes the output for the loop if nobody holds it (an IDLE
// update job may); the loop must never wait for it.
func (s *session) lockOnLoop() bool {
	if s.loopLocked {
		return true
	}
	if !s.out.mu.TryLock() {
		return false
	}
	s.loopLocked = true
	s.out.blocking = false
	return true
}

// drive pulls parser events until the parser needs more bytes. On the loop
// (ctx nil) an event that needs the store, or output that a worker holds,
// is handed to a worker, which continues driving from there with the
// connection's context.
func (s *session) drive(ctx context.Context) {
	onLoop := ctx == nil
	for s.p != nil && !s.stop && !s.suspended {
		ev, err := s.p.Next()
		if err == nil && ev.Kind == imap.EventNeedMore {
			return
		}
		if err == nil && ev.Kind == imap.EventCommand {
			s.begin(ev.Command)
		} else if err == nil && ev.Kind == imap.EventAppendMessage && s.app == nil {
			// APPEND is timed from its first message on, and counted
			// even when refused before the literal.
			s.begin(&imap.Command{Tag: ev.Tag, Name: "APPEND"})
		}
		if onLoop && err == nil && ev.Kind == imap.EventAppendData {
			// Message bytes write nothing, so they need no output lock: a
			// worker finishing its turn may still hold it, and handing the
			// upload to a worker would hold the connection's input.
			s.handle(ctx, ev, err)
			continue
		}
		if onLoop && (s.needsWorker(ev, err) || !s.lockOnLoop()) {
			if s.loopLocked {
				// The worker takes the output next; what the loop wrote goes first.
				s.loopLocked = false
				s.out.flush()
				s.out.mu.Unlock()
			}
			if serr := s.work(func(ctx context.Context) { s.handle(ctx, ev, err) }, false); serr != nil {
				if s.lockOnLoop() {
					s.busy(ev, err)
					continue
				}
				s.stop = true
				_ = s.conn.Close()
			}
			return
		}
		s.handle(ctx, ev, err)
	}
}

// needsWorker reports whether handling ev (or err) may block.
func (s *session) needsWorker(ev imap.Event, err error) bool {
	if err != nil {
		return s.idleTag != "" || s.sasl != nil
	}
	switch ev.Kind {
	case imap.EventCommand:
		_, tls := ev.Command.Args.(*imap.StartTLSCommand)
		return !tls
	case imap.EventDone, imap.EventAuthResponse:
		return true
	case imap.EventAppendMessage:
		// The first message's mailbox and quota are checked before the
		// client is asked for a synchronizing literal.
		return s.app == nil && ev.Literal.Sync
	}
	return false
}

// busy answers an event the worker pool had no room for.
func (s *session) busy(ev imap.Event, err error) {
	s.log().Warn("worker pool full")
	if err == nil && ev.Kind == imap.EventCommand {
		s.w.NO(ev.Tag, imap.CodeUnavailable, "server busy, try again")
		s.answered(ev.Tag, imap.NO)
		return
	}
	s.w.Bye(imap.CodeUnavailable, "server busy, try again later")
	s.byeSent = true
	s.stop = true
	_ = s.conn.Close()
}

// handle answers one parser event. ctx is nil on the loop.
func (s *session) handle(ctx context.Context, ev imap.Event, err error) {
	// Only right after a whole command is the parser known to hold no
	// state (a refused literal may still be being skipped).
	s.atBoundary = err == nil && ev.Kind == imap.EventCommand
	if err != nil {
		s.parseError(ctx, err)
		return
	}
	switch ev.Kind {
	case imap.EventLiteral:
		s.p.Accept()
		s.w.Continue("Ready for literal data")
	case imap.EventAppendMessage:
		s.appendMessage(ctx, ev)
	case imap.EventAppendData:
		s.appendData(ev.Data)
	case imap.EventAppendMessageEnd:
		s.appendMessageEnd()
	case imap.EventDone:
		s.idleDone(ctx, ev.Tag)
	case imap.EventAuthResponse:
		cancelled := ev.Cancel && s.sasl != nil
		s.saslResponse(ctx, ev)
		if cancelled {
			s.answered("", imap.BAD) // a cancelled exchange is answered BAD
		}
	case imap.EventCommand:
		s.command(ctx, ev.Command)
	}
}

// work runs fn on a worker that owns the session until the parser runs
// dry; input is held meanwhile. held says holdCommand is already set (a
// delayed continuation).
func (s *session) work(fn func(ctx context.Context), held bool) error {
	if !held {
		s.hold(holdCommand)
	}
	ctx := s.conn.Context()
	err := s.h.cfg.Pool.Submit(ctx, func() {
		s.runWorker(ctx, fn)
		s.maybeHibernate()
	})
	if err != nil && !held {
		s.release(holdCommand)
	}
	return err
}

func (s *session) runWorker(ctx context.Context, fn func(ctx context.Context)) {
	s.exec.Lock()
	s.out.mu.Lock()
	s.out.blocking, s.out.ctx = true, ctx
	suspended, released := false, false
	defer func() {
		if r := recover(); r != nil {
			s.log().Error("session panic", "panic", r, "stack", string(debug.Stack()))
			s.stop = true
			s.out.blocking = false // never wait for a client while failing
			func() {
				defer func() { _ = recover() }()
				s.w.Bye(imap.CodeServerBug, "internal server error")
				s.byeSent = true
				_ = s.out.flush()
			}()
			_ = s.conn.Close()
		}
		s.out.mu.Unlock()
		s.exec.Unlock()
		if !suspended && !released {
			s.release(holdCommand)
		}
	}()
	fn(ctx)
	if !s.stop && !s.suspended {
		s.drive(ctx)
	}
	// Compressed bytes pipelined after COMPRESS, and output the inflater
	// still holds, need no new input to be parsed.
	for (s.inflatePending || len(s.zrest) > 0) && !s.stop && !s.suspended {
		n := s.inflateStep(s.zrest)
		s.zrest = s.zrest[n:]
		if len(s.zrest) == 0 {
			s.zrest = nil
		}
		s.drive(ctx)
	}
	if s.shutdown.Load() && !s.stop {
		s.bye("server shutting down")
	}
	suspended = s.suspended
	if suspended {
		s.out.flush()
		s.idleRelease()
		s.out.blocking = false
		return
	}
	// The last output may ask for a literal ("+ Ready"): it goes out in the
	// same loop step that releases input, so the client's answer can never
	// pile up as held input. After this the loop may drive the parser, so
	// nothing below touches it.
	tail, err := s.out.take()
	s.idleRelease()
	s.out.blocking = false
	released = true
	s.releaseWith(holdCommand, tail, err)
}

// continueLater ends the current worker's turn without releasing the
// input hold and runs fn on a worker after d (a failed login's delay).
func (s *session) continueLater(d time.Duration, fn func(ctx context.Context)) {
	s.suspended = true
	time.AfterFunc(d, func() {
		err := s.work(func(ctx context.Context) {
			s.suspended = false
			fn(ctx)
		}, true)
		if err != nil {
			_ = s.conn.Close()
			s.release(holdCommand)
		}
	})
}

// newParser returns a parser in the session's modes; sessions drop theirs
// between commands.
func (s *session) newParser() *imap.Parser {
	return imap.NewParser(imap.Options{Literals: imap.LiteralPlus, MaxCommand: s.h.cfg.MaxCommandBytes,
		UTF8: s.ext&(extUTF8|extRev2) != 0})
}

// idleRelease frees the parser and the writer's buffer when no command is
// half received, so that an idle connection holds a few hundred bytes. An
// IDLE-ing session drops its parser too: OnData makes a new one that
// expects DONE.
func (s *session) idleRelease() {
	if s.p != nil && s.atBoundary && len(s.p.Buffered()) == 0 && s.sasl == nil && s.app == nil {
		s.p = nil
	}
	s.w.Release()
	s.out.release()
}

func (s *session) parseError(ctx context.Context, err error) {
	var pe *imap.ParseError
	if !errors.As(err, &pe) {
		s.log().Error("parser failed", "err", err)
		s.w.Bye(imap.CodeServerBug, "internal server error")
		s.byeSent = true
		s.stop = true
		_ = s.conn.Close()
		return
	}
	if s.app != nil {
		s.abortAppend(fmt.Errorf("APPEND refused: %w", err))
	}
	switch {
	case s.idleTag != "":
		tag := s.idleTag
		s.endIdle(ctx)
		s.w.BAD(tag, "", "expected DONE")
		s.answered(tag, imap.BAD)
	case s.sasl != nil:
		tag := s.sasl.tag
		s.sasl = nil
		s.w.BAD(tag, "", pe.ResponseText())
		s.answered(tag, imap.BAD)
	default:
		s.w.RejectCommand(pe)
		s.rejected(pe)
	}
	if pe.Fatal {
		s.stop = true
		_ = s.conn.Close()
	}
}

// ---- commands ----

// status is a command's tagged response.
type status struct {
	res      imap.Result
	code     imap.Code
	text     string
	deferred bool // the command answers later (IDLE, AUTHENTICATE)
}

func ok(text string) status                  { return status{res: imap.OK, text: text} }
func okCode(c imap.Code, text string) status { return status{res: imap.OK, code: c, text: text} }
func no(c imap.Code, text string) status     { return status{res: imap.NO, code: c, text: text} }
func bad(text string) status                 { return status{res: imap.BAD, text: text} }

var deferred = status{deferred: true}

// Commands that must not be followed by EXPUNGE responses: their client
// may still hold sequence numbers (RFC 9051 7.5.1).
func expungeAllowedAfter(name string) bool {
	switch name {
	case "FETCH", "STORE", "SEARCH":
		return false
	}
	return true
}

func (s *session) command(ctx context.Context, cmd *imap.Command) {
	var st status
	if ctx == nil {
		// Only STARTTLS is answered on the loop.
		st = s.startTLS(cmd.Tag)
	} else {
		st = s.dispatch(ctx, cmd)
	}
	if st.deferred {
		return
	}
	s.finish(ctx, cmd.Tag, cmd.Name, st)
}

// finish reports pending mailbox changes where allowed and writes the
// tagged response.
func (s *session) finish(ctx context.Context, tag, name string, st status) {
	if ctx != nil && s.sel != nil && s.state == stateSelected {
		s.update(ctx, expungeAllowedAfter(name))
	}
	s.w.StatusResponse(tag, st.res, st.code, st.text)
	s.answered(tag, st.res)
}

// stateFor is the least state a command needs.
func stateFor(name string) connState {
	switch name {
	case "CAPABILITY", "NOOP", "LOGOUT", "ID", "STARTTLS", "LOGIN", "AUTHENTICATE":
		return stateNotAuth
	case "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "UID EXPUNGE", "SEARCH", "UID SEARCH",
		"FETCH", "UID FETCH", "STORE", "UID STORE", "COPY", "UID COPY", "MOVE", "UID MOVE":
		return stateSelected
	}
	return stateAuth
}

func (s *session) dispatch(ctx context.Context, cmd *imap.Command) status {
	need := stateFor(cmd.Name)
	switch {
	case s.state < need && need == stateSelected:
		if s.state == stateNotAuth {
			return bad("log in first")
		}
		return bad("no mailbox selected")
	case s.state < need:
		return bad("log in first")
	case s.state != stateNotAuth && (cmd.Name == "LOGIN" || cmd.Name == "AUTHENTICATE" || cmd.Name == "STARTTLS"):
		return bad("already authenticated")
	}
	switch a := cmd.Args.(type) {
	case *imap.CapabilityCommand:
		return s.cmdCapability()
	case *imap.NoopCommand:
		return s.cmdNoop(ctx)
	case *imap.CheckCommand:
		return s.cmdNoop(ctx)
	case *imap.LogoutCommand:
		return s.cmdLogout(cmd.Tag)
	case *imap.StartTLSCommand:
		return s.startTLS(cmd.Tag)
	case *imap.LoginCommand:
		return s.cmdLogin(ctx, cmd.Tag, a)
	case *imap.AuthenticateCommand:
		return s.cmdAuthenticate(ctx, cmd.Tag, a)
	case *imap.EnableCommand:
		return s.cmdEnable(a)
	case *imap.IDCommand:
		return s.cmdID(a)
	case *imap.SelectCommand:
		return s.cmdSelect(ctx, a)
	case *imap.CloseCommand:
		return s.cmdClose(ctx)
	case *imap.UnselectCommand:
		return s.cmdUnselect()
	case *imap.CreateCommand:
		return s.cmdCreate(ctx, a)
	case *imap.DeleteCommand:
		return s.cmdDelete(ctx, a)
	case *imap.RenameCommand:
		return s.cmdRename(ctx, a)
	case *imap.SubscribeCommand:
		return s.cmdSubscribe(ctx, a.Mailbox, true)
	case *imap.UnsubscribeCommand:
		return s.cmdSubscribe(ctx, a.Mailbox, false)
	case *imap.ListCommand:
		return s.cmdList(ctx, a)
	case *imap.NamespaceCommand:
		return s.cmdNamespace()
	case *imap.StatusCommand:
		return s.cmdStatus(ctx, a)
	case *imap.AppendCommand:
		return s.cmdAppend(ctx, cmd.Tag, a)
	case *imap.IdleCommand:
		return s.cmdIdle(ctx, cmd.Tag)
	case *imap.ExpungeCommand:
		return s.cmdExpunge(ctx, a)
	case *imap.SearchCommand:
		return s.cmdSearch(ctx, cmd.Tag, a)
	case *imap.FetchCommand:
		return s.cmdFetch(ctx, a)
	case *imap.StoreCommand:
		return s.cmdStore(ctx, a)
	case *imap.CopyCommand:
		return s.cmdCopy(ctx, a)
	case *imap.MoveCommand:
		return s.cmdMove(ctx, a)
	case *imap.GetQuotaCommand:
		return s.cmdGetQuota(ctx, a)
	case *imap.GetQuotaRootCommand:
		return s.cmdGetQuotaRoot(ctx, a)
	case *imap.SetQuotaCommand:
		return no(imap.CodeNoPerm, "quotas are set by the administrator")
	case *imap.CompressCommand:
		return s.cmdCompress(cmd.Tag, a)
	}
	return bad("command not implemented")
}

func (s *session) enabled(x extension) bool { return s.ext&x != 0 }

// condStore reports whether FETCH responses carry MODSEQ.
func (s *session) condStore() bool { return s.ext&(extCondStore|extQResync) != 0 }

func (s *session) rev2() bool { return s.ext&extRev2 != 0 }
