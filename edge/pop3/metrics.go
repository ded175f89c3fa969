package pop3

import (
	"bytes"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/edge/netloop"
)

// Command metrics and the access log.
//
// A command's latency runs from the moment the parser returned it to the
// moment its reply is handed to the connection: at once for what the loop
// answers, at the job's end for those that need the store (PASS, AUTH,
// RETR, TOP, QUIT in the TRANSACTION state). For RETR and TOP that is when
// the last byte of the message was queued. AUTH without an initial
// response includes the client's answer to the challenge, and a failed
// login includes AuthFailureDelay. The result is "ok" (+OK), "err" (-ERR)
// or "error" (no reply: the connection closed under the command).

type metrics struct {
	commands *netloop.CommandMetrics
	auth     *netloop.AuthMetrics
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	return &metrics{commands: netloop.NewCommandMetrics(reg, "pop3"), auth: netloop.NewAuthMetrics(reg, "pop3")}
}

// commandNames is the fixed set of command label values; anything the
// parser refused is counted as "unknown".
var commandNames = map[pop3.Verb]bool{
	pop3.VerbUSER: true, pop3.VerbPASS: true, pop3.VerbAPOP: true, pop3.VerbAUTH: true,
	pop3.VerbSTLS: true, pop3.VerbCAPA: true, pop3.VerbSTAT: true, pop3.VerbLIST: true,
	pop3.VerbUIDL: true, pop3.VerbRETR: true, pop3.VerbTOP: true, pop3.VerbDELE: true,
	pop3.VerbRSET: true, pop3.VerbNOOP: true, pop3.VerbQUIT: true, pop3.VerbUTF8: true,
	pop3.VerbLANG: true,
}

func commandLabel(v pop3.Verb) string {
	if commandNames[v] {
		return string(v)
	}
	return "unknown"
}

// inflight is the command awaiting its reply. Its fields follow the
// session's ownership (the loop, or the job while one runs) except that
// OnClose may end it, hence the lock.
type inflight struct {
	mu     sync.Mutex
	on     bool
	verb   pop3.Verb
	start  time.Time
	mark   int    // where the command's reply starts in session.out
	result string // known once the reply was written
}

// begin notes a command the parser returned.
func (s *session) begin(v pop3.Verb) {
	s.cmd.mu.Lock()
	s.cmd.on, s.cmd.verb, s.cmd.start, s.cmd.mark, s.cmd.result = true, v, time.Now(), len(s.out), ""
	s.cmd.mu.Unlock()
}

// noteReply classifies the reply gathered in out for the command in
// flight, before out is flushed. A SASL challenge ("+ ") is not the reply.
func (s *session) noteReply(out []byte) {
	s.cmd.mu.Lock()
	defer s.cmd.mu.Unlock()
	if !s.cmd.on || s.cmd.result != "" || s.cmd.mark >= len(out) {
		s.cmd.mark = 0
		return
	}
	s.cmd.result = replyResult(out[s.cmd.mark:])
	s.cmd.mark = 0
}

func replyResult(r []byte) string {
	switch {
	case bytes.HasPrefix(r, []byte("-")):
		return "err"
	case bytes.HasPrefix(r, []byte("+ ")):
		return "" // a challenge: the exchange goes on
	}
	return "ok"
}

// replied records the result of a reply sent past session.out (by a job,
// or with StartTLS).
func (s *session) replied(reply []byte) { s.repliedWith(replyResult(reply)) }

// repliedWith records the result of the command in flight.
func (s *session) repliedWith(result string) {
	s.cmd.mu.Lock()
	if s.cmd.on && s.cmd.result == "" {
		s.cmd.result = result
	}
	s.cmd.mu.Unlock()
}

// parseFailed records a line the parser refused, answered in session.out:
// the end of a SASL exchange in flight, or a command of its own.
func (s *session) parseFailed(v pop3.Verb) {
	s.cmd.mu.Lock()
	on := s.cmd.on
	s.cmd.mu.Unlock()
	if on {
		s.settle()
		return
	}
	s.rejected(v)
}

// settle ends the command if the loop answered it, unless a job or a SASL
// exchange carries it on.
func (s *session) settle() {
	s.mu.Lock()
	busy := s.busy
	s.mu.Unlock()
	if busy {
		return
	}
	s.noteReply(s.out)
	s.cmd.mu.Lock()
	s.cmd.mark = len(s.out)
	s.cmd.mu.Unlock()
	s.done(false)
}

// done ends the command in flight if its result is known; abandon ends it
// regardless, as "error" when no reply was seen.
func (s *session) done(abandon bool) {
	s.cmd.mu.Lock()
	if !s.cmd.on || (s.cmd.result == "" && !abandon) {
		s.cmd.mu.Unlock()
		return
	}
	s.cmd.on = false
	verb, start, result := s.cmd.verb, s.cmd.start, s.cmd.result
	s.cmd.mu.Unlock()
	if result == "" {
		result = "error"
	}
	s.observe(verb, result, start)
}

// rejected records a command line the parser refused; it is answered at once.
func (s *session) rejected(v pop3.Verb) {
	s.observe(v, "err", time.Now())
}

func (s *session) observe(v pop3.Verb, result string, start time.Time) {
	name := commandLabel(v)
	d := time.Since(start)
	if m := s.h.metrics; m != nil {
		m.commands.Observe(name, result, d)
	}
	if s.h.cfg.AccessLog && (s.h.cfg.AccessLogRetrievals || (v != pop3.VerbRETR && v != pop3.VerbTOP)) {
		s.logger().Info("pop3: command", "command", name, "result", result, "duration", d)
	}
}

// authObserved counts a login attempt of the command in flight.
func (s *session) authObserved(result string) {
	m := s.h.metrics
	if m == nil {
		return
	}
	s.cmd.mu.Lock()
	verb := s.cmd.verb
	s.cmd.mu.Unlock()
	mech := "PLAIN"
	if verb == pop3.VerbPASS {
		mech = "user_pass"
	}
	m.auth.Observe(mech, result)
}
