package pop3

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// state is where a session is in RFC 1939's life cycle.
type state uint8

const (
	stateAuthorization state = iota
	stateTransaction
	stateUpdate
)

// session is one POP3 connection. Its fields belong to the event loop,
// except while a job runs: the connection is then paused and the job may
// fill in the login or mark retrieved messages. Fields under mu are shared
// with OnClose and OnShutdown, which run even while a job is in flight.
type session struct {
	h      *server
	c      *netloop.Conn
	parser *pop3.Parser

	out   []byte // replies gathered during one OnData call
	yield bool   // stop reading input: a job runs, TLS starts or the session ends
	quit  bool

	cmd inflight // the command awaiting its reply (metrics.go)

	state    state
	userName string // from USER, waiting for PASS
	failures int    // failed logins
	user     engine.User
	drop     *maildrop

	mu       sync.Mutex
	busy     bool // a job will write replies
	shutdown bool
	closed   bool
	updating bool          // QUIT's changes are being applied; they release the lock
	locked   engine.UserID // the user whose maildrop lock this session holds, 0 for none
}

func (s *session) logger() *slog.Logger {
	l := s.c.Logger() // netloop's, which names the protocol
	if s.user.ID != 0 {
		l = l.With("user", s.user.Name)
	}
	return l
}

// OnData runs the parser over the client's bytes. Commands that need the
// store pause the connection; the bytes behind them stay with netloop.
func (s *session) OnData(p []byte) int {
	if s.quit {
		return len(p)
	}
	s.parser.Feed(p)
	for {
		ev, err := s.parser.Next()
		if err != nil {
			var ce *pop3.CommandError
			var verb pop3.Verb
			if errors.As(err, &ce) {
				s.out = ce.AppendReply(s.out)
				verb = ce.Verb
			} else {
				s.out = pop3.AppendErr(s.out, "", "Syntax error")
			}
			s.parseFailed(verb)
		} else {
			switch ev.Kind {
			case pop3.EventNeedInput:
				s.flush()
				return len(p)
			case pop3.EventCommand:
				s.begin(ev.Command.Verb)
				s.command(ev.Command)
				s.settle()
			case pop3.EventSASLResponse:
				s.saslResponse(ev.SASL)
				s.settle()
			}
		}
		if s.yield {
			s.yield = false
			s.flush()
			if s.quit {
				return len(p)
			}
			return len(p) - s.parser.Discard()
		}
	}
}

func (s *session) ok(text string) { s.out = pop3.AppendOK(s.out, text) }

func (s *session) fail(code pop3.RespCode, text string) { s.out = pop3.AppendErr(s.out, code, text) }

// flush writes the gathered replies in one write.
func (s *session) flush() {
	if len(s.out) == 0 {
		return
	}
	s.noteReply(s.out)
	_ = s.c.Write(s.out)
	s.out = s.out[:0]
	if cap(s.out) > 64<<10 {
		s.out = nil // a long LIST does not stay allocated
	}
}

// end flushes and closes the connection.
func (s *session) end() {
	s.quit = true
	s.yield = true
	s.flush()
	_ = s.c.Close()
}

func (s *session) command(cmd pop3.Command) {
	switch cmd.Verb {
	case pop3.VerbCAPA:
		s.out = pop3.AppendCapa(s.out, s.capabilities())
		return
	case pop3.VerbQUIT:
		if s.state == stateTransaction {
			s.update()
			return
		}
		s.ok(s.h.cfg.Hostname + " signing off")
		s.end()
		return
	}
	switch s.state {
	case stateAuthorization:
		s.authorizationCommand(cmd)
	case stateTransaction:
		s.transactionCommand(cmd)
	}
}

func (s *session) authorizationCommand(cmd pop3.Command) {
	switch cmd.Verb {
	case pop3.VerbUSER:
		s.userCmd(cmd.User)
	case pop3.VerbPASS:
		s.passCmd(cmd.Password)
	case pop3.VerbAUTH:
		s.authCmd(cmd)
	case pop3.VerbAPOP:
		s.fail("", "APOP not supported")
	case pop3.VerbSTLS:
		s.stls()
	case pop3.VerbUTF8:
		// Messages go out as stored either way; see the package doc.
		s.ok("UTF8 enabled")
	case pop3.VerbLANG:
		s.fail("", "LANG not supported")
	default:
		s.fail("", "Command not valid before login")
	}
}

func (s *session) transactionCommand(cmd pop3.Command) {
	switch cmd.Verb {
	case pop3.VerbSTAT:
		n, size := s.drop.stat()
		s.out = pop3.AppendStat(s.out, n, size)
	case pop3.VerbLIST:
		s.list(cmd.Msg)
	case pop3.VerbUIDL:
		s.uidl(cmd.Msg)
	case pop3.VerbRETR:
		s.retrieve(cmd.Msg, -1)
	case pop3.VerbTOP:
		s.retrieve(cmd.Msg, cmd.Lines)
	case pop3.VerbDELE:
		if m := s.message(cmd.Msg); m != nil {
			m.deleted = true
			s.ok("Message deleted")
		}
	case pop3.VerbRSET:
		s.drop.undelete()
		n, size := s.drop.stat()
		s.ok(itoa(n) + " messages (" + itoa64(size) + " octets)")
	case pop3.VerbNOOP:
		s.ok("")
	default:
		s.fail("", "Command not valid after login")
	}
}

func (s *session) capabilities() pop3.Capabilities {
	caps := pop3.Capabilities{
		Top:          true,
		RespCodes:    true,
		AuthRespCode: true,
		Pipelining:   true,
		UIDL:         true,
		UTF8:         true,
		Expire:       "NEVER",
	}
	if s.state == stateAuthorization {
		if s.authAllowed() {
			caps.User = true
			caps.SASL = []string{"PLAIN"}
		}
		caps.UTF8User = caps.User
		caps.STLS = s.c.CanStartTLS()
	}
	return caps
}

func (s *session) stls() {
	if !s.c.CanStartTLS() {
		s.fail("", "STLS not available")
		return
	}
	s.flush()
	if err := s.c.StartTLS(pop3.AppendOK(nil, "Begin TLS negotiation")); err != nil {
		s.fail("", "STLS not available")
		return
	}
	s.repliedWith("ok")
	s.userName = ""
	s.yield = true
}

// startJob hands blocking work to the pool; the connection is paused until
// the job calls endJob, so pipelined commands keep their order. The job is
// skipped if the connection closes while it waits, unless ctx outlives the
// connection (the UPDATE state does).
func (s *session) startJob(ctx context.Context, run func()) {
	s.flush()
	s.mu.Lock()
	s.busy = true
	s.mu.Unlock()
	s.c.Pause()
	s.yield = true
	err := s.h.pool.Submit(ctx, run)
	if err != nil {
		if !errors.Is(err, netloop.ErrPoolFull) && !errors.Is(err, netloop.ErrPoolClosed) {
			return // the connection is gone
		}
		s.logger().Warn("pop3: worker pool refused a job", "err", err)
		busy := pop3.AppendErr(nil, pop3.RespSysTemp, "Server busy, try again later")
		s.replied(busy)
		_ = s.c.Write(busy)
		s.endJob()
	}
}

// endJob lets the loop read the client again.
func (s *session) endJob() {
	s.done(true)
	s.mu.Lock()
	s.busy = false
	shutdown := s.shutdown
	s.mu.Unlock()
	if shutdown {
		s.goodbye()
	}
	s.c.Resume()
}

// goodbye ends a session at server shutdown. No change is applied: as
// after any dropped connection, the client finds its maildrop unchanged.
func (s *session) goodbye() {
	_ = s.c.Write(pop3.AppendErr(nil, pop3.RespSysTemp, "Server shutting down"))
}

// OnShutdown says goodbye now, or after the job in flight wrote its reply.
func (s *session) OnShutdown() {
	s.mu.Lock()
	s.shutdown = true
	busy := s.busy
	s.mu.Unlock()
	if !busy {
		s.goodbye()
	}
}

// OnClose gives the maildrop back. Nothing is changed in the store: only
// QUIT enters the UPDATE state (RFC 1939 6).
func (s *session) OnClose(error) {
	s.done(true)
	s.mu.Lock()
	s.closed = true
	updating := s.updating
	s.mu.Unlock()
	if !updating {
		s.releaseLock()
	}
}

// message returns message n of the maildrop, or answers -ERR.
func (s *session) message(n int) *message {
	if n < 1 || n > len(s.drop.msgs) {
		s.fail("", "No such message")
		return nil
	}
	m := &s.drop.msgs[n-1]
	if m.deleted {
		s.fail("", "Message "+itoa(n)+" already deleted")
		return nil
	}
	return m
}

func (s *session) list(n int) {
	if n > 0 {
		if m := s.message(n); m != nil {
			s.out = pop3.AppendOKScanListing(s.out, n, m.size)
		}
		return
	}
	count, size := s.drop.stat()
	s.ok(itoa(count) + " messages (" + itoa64(size) + " octets)")
	for i := range s.drop.msgs {
		if m := &s.drop.msgs[i]; !m.deleted {
			s.out = pop3.AppendScanListing(s.out, i+1, m.size)
		}
	}
	s.out = pop3.AppendEnd(s.out)
}

func (s *session) uidl(n int) {
	if n > 0 {
		if m := s.message(n); m != nil {
			s.out = pop3.AppendOKUIDListing(s.out, n, s.drop.uidl(m))
		}
		return
	}
	s.ok("Unique-ID listing follows")
	for i := range s.drop.msgs {
		if m := &s.drop.msgs[i]; !m.deleted {
			s.out = pop3.AppendUIDListing(s.out, i+1, s.drop.uidl(m))
		}
	}
	s.out = pop3.AppendEnd(s.out)
}
