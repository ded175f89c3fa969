package lmtp

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/eidermail/eider/codec/smtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// session is one LMTP connection. Its fields belong to the event loop. The
// one exception: while the connection is paused for an event deferred
// behind RCPT lookups, the worker that finishes the lookups handles that
// event itself, acting for the loop (netloop's Pause and Resume order the
// two; OnClose and OnShutdown, which run even then, touch only what mu and
// outMu guard). Fields under those are shared with the workers at any time.
type session struct {
	h      *server
	c      *netloop.Conn
	parser *smtp.Parser

	in      []byte // the bytes of the OnData call in progress
	out     []byte // replies gathered, written at once
	yield   bool   // stop reading input: paused, TLS starts or the session ends
	handoff bool   // a delivery paused the connection; its goroutine resumes it
	quit    bool

	lastCode int // the code of the last reply queued, for command metrics (metrics.go)

	greeted bool // LHLO seen since the connection (or TLS) started
	tx      transaction
	// chunkRefusal answers the BDAT chunk being read; its bytes are dropped.
	chunkRefusal *smtp.Reply
	// job is the RCPT lookup in flight. The connection keeps reading while
	// it runs (a BDAT chunk pipelined behind the RCPTs must stream into the
	// spool, not pile up in netloop), but whatever would be answered is
	// deferred until the lookups have answered.
	job *rcptJob

	parked *pending // deferred during this OnData call, handed over at its end

	// outMu orders the replies that end a pause before anything the loop
	// writes once it runs again; see endWait.
	outMu sync.Mutex
	early []byte

	mu       sync.Mutex
	deferred *pending // the event waiting for job, with the connection paused
	waiting  int      // pauses whose end will write replies: OnShutdown leaves its goodbye to them
	shutdown bool
}

// pending is a parser event held back until the RCPT lookups are done.
type pending struct {
	ev  smtp.Event
	err error
}

// transaction is the state of one MAIL transaction.
type transaction struct {
	active bool // MAIL accepted
	from   smtp.Path
	utf8   bool  // MAIL carried SMTPUTF8
	size   int64 // MAIL's SIZE, -1 when not declared
	rcpts  []recipient
	bdat   bool      // BDAT chunks have started
	d      *delivery // the message being received, from DATA or the first BDAT
}

// recipient is an accepted RCPT.
type recipient struct {
	given string // the address as the client wrote it, for Delivered-To
	to    engine.Recipient
}

func (s *session) logger() *slog.Logger { return s.c.Logger() } // netloop's, which names the protocol

// OnData runs the parser over the client's bytes and consumes everything:
// message bytes go straight to the delivery's spool. It stops early only
// when an answer has to wait (for RCPT lookups or a delivery); the rest is
// left to netloop, which offers it again after Resume.
func (s *session) OnData(p []byte) int {
	if s.quit {
		return len(p)
	}
	s.in = p
	s.parser.Feed(p)
	for {
		ev, err := s.parser.Next()
		if err == nil && ev.Kind == smtp.EventNeedInput {
			s.in = nil
			s.flush()
			return len(p)
		}
		if !s.deferBehindJob(ev, err) {
			s.handle(ev, err)
		}
		if !s.yield {
			continue
		}
		s.yield, s.handoff = false, false
		s.in = nil
		s.flush()
		n := len(p)
		if !s.quit {
			// The parser forgets what it was fed beyond this point;
			// netloop keeps those bytes while the connection is paused.
			n -= s.parser.Discard()
		}
		if s.parked != nil {
			s.handOver()
		}
		return n
	}
}

func (s *session) handle(ev smtp.Event, err error) {
	start := time.Now()
	s.lastCode = 0
	if err != nil {
		s.commandError(err)
		var ce *smtp.CommandError
		if errors.As(err, &ce) {
			s.observe(ce.Verb, s.lastCode, start)
		} else {
			s.observe("", s.lastCode, start)
		}
		return
	}
	switch ev.Kind {
	case smtp.EventCommand:
		s.command(ev.Command)
		// RCPT is answered by its lookup, BDAT at the end of its chunk.
		if v := ev.Command.Verb; v != smtp.VerbRCPT && v != smtp.VerbBDAT {
			s.observe(v, s.lastCode, start)
		}
	case smtp.EventData:
		if s.chunkRefusal == nil && s.tx.d != nil {
			s.tx.d.sp.Write(ev.Data)
		}
	case smtp.EventTooBig:
		if s.tx.d != nil {
			s.tx.d.sp.Abort(engine.ErrTooBig)
		}
	case smtp.EventDataEnd:
		d := s.tx.d
		if d != nil {
			d.endAt, d.chunked = start, ev.End.Chunked
		}
		s.dataEnd(ev.End)
		if ev.End.Chunked && s.lastCode != 0 {
			s.observe(smtp.VerbBDAT, s.lastCode, start) // else the delivery answers it
		}
	}
}

// deferBehindJob holds back an event whose answer must follow the replies
// of the RCPT lookups in flight: the connection pauses and the event is
// parked for handOver. Message bytes and the BDAT command itself are not
// held back, so a chunk pipelined behind RCPTs keeps streaming.
func (s *session) deferBehindJob(ev smtp.Event, err error) bool {
	if s.job == nil {
		return false
	}
	if err == nil && (ev.Kind == smtp.EventData || ev.Kind == smtp.EventTooBig ||
		ev.Kind == smtp.EventCommand && ev.Command.Verb == smtp.VerbBDAT) {
		return false
	}
	s.mu.Lock()
	finished := s.job.finished
	if !finished {
		s.waiting++
	}
	s.mu.Unlock()
	if finished {
		s.collect()
		return false
	}
	s.flush()
	s.parked = &pending{ev: ev, err: err}
	s.c.Pause()
	s.yield = true
	return true
}

// handOver runs as the last step of OnData: the parked event goes to the
// lookup's worker, which handles it when it is done, or, when the lookups
// finished meanwhile, is handled here.
func (s *session) handOver() {
	p := s.parked
	s.parked = nil
	s.mu.Lock()
	if !s.job.finished {
		s.deferred = p
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.finishDeferred(p)
}

// finishDeferred handles a deferred event once the lookups are done and
// ends the pause, unless a delivery took it over. The loop is paused and
// out of OnData, so whoever calls this acts for it.
func (s *session) finishDeferred(p *pending) {
	s.collect()
	s.handle(p.ev, p.err)
	resume := !s.handoff
	s.handoff, s.yield = false, false
	out := s.out
	s.out = nil
	s.endWait(out, resume)
}

// collect takes the recipients a finished lookup accepted into the transaction.
func (s *session) collect() {
	s.tx.rcpts = append(s.tx.rcpts, s.job.accepted...)
	s.job = nil
}

// reply queues a reply for the next flush.
func (s *session) reply(r smtp.Reply) {
	s.lastCode = r.Code
	s.out = r.AppendTo(s.out)
}

// flush writes the queued replies in one write: pipelined commands get
// their answers in one segment.
func (s *session) flush() {
	s.write(s.out)
	s.out = s.out[:0]
	if cap(s.out) > 64<<10 {
		s.out = nil // a burst of replies does not stay allocated
	}
}

// write sends b after any reply that ended a pause and is not out yet.
func (s *session) write(b []byte) {
	s.outMu.Lock()
	if len(s.early) > 0 {
		_ = s.c.Write(s.early)
		s.early = nil
	}
	s.outMu.Unlock()
	if len(b) > 0 {
		_ = s.c.Write(b)
	}
}

func (s *session) commandError(err error) {
	var ce *smtp.CommandError
	if !errors.As(err, &ce) {
		s.reply(smtp.SyntaxError("Syntax error"))
		return
	}
	s.reply(ce.Reply)
	if ce.Fatal {
		// A BDAT whose size could not be read: its chunk cannot be skipped,
		// so the input cannot be resynchronised.
		s.logger().Info("lmtp: closing after unrecoverable BDAT syntax error")
		s.end()
	}
}

// end flushes the replies and closes the connection.
func (s *session) end() {
	s.quit = true
	s.yield = true
	s.flush()
	_ = s.c.Close()
}

func (s *session) command(cmd smtp.Command) {
	switch cmd.Verb {
	case smtp.VerbLHLO:
		s.reset()
		s.greeted = true
		s.reply(smtp.LHLOReply(s.h.cfg.Hostname, s.h.capabilities(s.c)))
	case smtp.VerbEHLO, smtp.VerbHELO:
		s.reply(smtp.UseLHLO())
	case smtp.VerbMAIL:
		s.mail(cmd)
	case smtp.VerbRCPT:
		s.rcpt(cmd)
	case smtp.VerbDATA:
		s.data()
	case smtp.VerbBDAT:
		s.bdat()
	case smtp.VerbRSET:
		s.reset()
		s.reply(smtp.OK("Reset state"))
	case smtp.VerbNOOP:
		s.reply(smtp.OK("OK"))
	case smtp.VerbVRFY:
		s.reply(smtp.CannotVerify())
	case smtp.VerbHELP:
		s.reply(smtp.HelpReply())
	case smtp.VerbQUIT:
		s.reply(smtp.Closing(s.h.cfg.Hostname))
		s.end()
	case smtp.VerbSTARTTLS:
		s.startTLS()
	default:
		s.reply(smtp.Reply{Code: 502, Enhanced: "5.5.1", Lines: []string{"Command not implemented"}})
	}
}

// reset ends the transaction; a message being received is dropped.
func (s *session) reset() {
	if s.tx.d != nil {
		s.tx.d.abandon()
	}
	s.tx = transaction{}
	s.chunkRefusal = nil
}

func (s *session) startTLS() {
	switch {
	case !s.c.CanStartTLS():
		s.reply(smtp.Reply{Code: 454, Enhanced: "4.7.0", Lines: []string{"TLS not available"}})
		return
	case s.tx.active:
		s.reply(smtp.BadSequence("STARTTLS not allowed during a mail transaction"))
		return
	}
	s.flush()
	ready := smtp.Reply{Code: 220, Enhanced: "2.0.0", Lines: []string{"Ready to start TLS"}}
	if err := s.c.StartTLS(ready.AppendTo(nil)); err != nil {
		s.reply(smtp.Reply{Code: 454, Enhanced: "4.7.0", Lines: []string{"TLS not available"}})
		return
	}
	s.lastCode = ready.Code
	// RFC 3207 4.2: forget everything learnt before TLS; the client greets again.
	s.greeted = false
	s.reset()
	s.yield = true
}

func (s *session) mail(cmd smtp.Command) {
	switch {
	case !s.greeted:
		s.reply(smtp.BadSequence("Send LHLO first"))
	case s.tx.active:
		s.reply(smtp.BadSequence("Nested MAIL command"))
	case cmd.Body == smtp.BodyBinaryMIME:
		s.reply(smtp.Reply{Code: 555, Enhanced: "5.5.4", Lines: []string{"BODY=BINARYMIME not supported"}})
	case cmd.Path.UTF8 && !cmd.SMTPUTF8:
		s.reply(smtp.Reply{Code: 553, Enhanced: "5.6.7", Lines: []string{"Non-ASCII sender address requires SMTPUTF8"}})
	case cmd.Size > s.h.maxSize:
		s.reply(smtp.MessageTooBig())
	default:
		s.tx = transaction{active: true, from: cmd.Path, utf8: cmd.SMTPUTF8, size: cmd.Size}
		s.reply(smtp.SenderOK())
	}
}

// pauseForReplies stops reading until a delivery goroutine has written its
// replies; it resumes the connection. Loop, or a worker acting for it.
func (s *session) pauseForReplies() {
	s.flush()
	s.mu.Lock()
	s.waiting++
	s.mu.Unlock()
	s.c.Pause()
	s.yield = true
	s.handoff = true
}

// endWait ends a pause with its replies (and the goodbye, when a shutdown
// came meanwhile). resume is false when the pause is handed on to a
// delivery that ends it later.
//
// The connection resumes before the replies go out: a client may answer
// them at once with a large upload (a message after 354, a BDAT chunk), and
// input that arrives while paused piles up in netloop up to its limit. The
// replies wait in early, so that the loop, should it write first, sends
// them ahead of its own.
func (s *session) endWait(replies []byte, resume bool) {
	s.mu.Lock()
	s.waiting--
	shutdown := s.shutdown
	if shutdown && s.waiting == 0 {
		replies = smtp.ShuttingDown(s.h.cfg.Hostname).AppendTo(replies)
	}
	s.mu.Unlock()
	if !resume || shutdown {
		// Shutting down, the connection closes as soon as it resumes with
		// nothing queued: the replies must be queued first.
		s.write(replies)
		if resume {
			s.c.Resume()
		}
		return
	}
	s.outMu.Lock()
	s.early = append(s.early, replies...)
	s.outMu.Unlock()
	s.c.Resume()
	s.write(nil)
}

// OnShutdown says goodbye, unless the connection is paused for replies:
// then whoever writes them says it after them.
func (s *session) OnShutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	if s.waiting == 0 {
		s.write(smtp.ShuttingDown(s.h.cfg.Hostname).AppendTo(nil))
	}
}

// OnClose has nothing to release: a message still being received is
// dropped by its delivery, which watches the connection's context.
func (s *session) OnClose(error) {}

// nextIsRcpt reports whether the next buffered command line is a complete
// RCPT, so that pipelined recipients are looked up in one job.
func (s *session) nextIsRcpt() bool {
	n := s.parser.Buffered()
	if n < 5 || n > len(s.in) {
		return false
	}
	rest := s.in[len(s.in)-n:]
	return (rest[4] == ' ' || rest[4] == '\r' || rest[4] == '\n') &&
		bytes.EqualFold(rest[:4], []byte("RCPT")) &&
		bytes.IndexByte(rest, '\n') >= 0
}
