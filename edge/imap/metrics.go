package imap

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// Command metrics and the access log.
//
// A command's latency runs from the moment the parser returned it whole
// (for APPEND: after its last message literal) to the moment its tagged
// response is handed to the session's output. That output goes to the
// connection at the end of the worker's turn, together with the responses
// of any commands the client pipelined behind it. The time a command waits
// for a worker is included; the client's own time is not, except for
// AUTHENTICATE without an initial response (the exchange includes the
// client's answers) and a failed login (AuthFailureDelay is part of the
// answer). IDLE is counted, but its duration goes to its own histogram.

// metrics are the IMAP server's measurements; a nil *metrics records nothing.
type metrics struct {
	commands *netloop.CommandMetrics
	auth     *netloop.AuthMetrics
	idle     prometheus.Observer
	lag      prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	return &metrics{
		commands: netloop.NewCommandMetrics(reg, "imap"),
		auth:     netloop.NewAuthMetrics(reg, "imap"),
		idle: netloop.Register(reg, prometheus.NewHistogram(netloop.HistogramOpts(
			"eider_imap_idle_duration_seconds",
			"How long IMAP IDLE commands lasted, from IDLE to DONE (or the connection's end).",
			1, 3600, 16))),
		lag: netloop.Register(reg, prometheus.NewHistogram(netloop.HistogramOpts(
			"eider_imap_notify_lag_seconds",
			"Time from a mailbox change's commit to an IMAP session receiving its change beacon.",
			0.00001, 30, 22))),
	}
}

// commandNames is the fixed set of command label values; anything else
// (a command the parser refused) is counted as "unknown".
var commandNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN", "ENABLE", "ID",
		"SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB",
		"NAMESPACE", "STATUS", "APPEND", "IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH",
		"FETCH", "STORE", "COPY", "MOVE", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "COMPRESS",
		"UID EXPUNGE", "UID SEARCH", "UID FETCH", "UID STORE", "UID COPY", "UID MOVE",
	} {
		m[n] = true
	}
	return m
}()

func commandLabel(name string) string {
	if commandNames[name] {
		return name
	}
	return "unknown"
}

func resultLabel(r imap.Result) string {
	switch r {
	case imap.OK:
		return "ok"
	case imap.NO:
		return "no"
	case imap.BAD:
		return "bad"
	}
	return "error"
}

// inflight is the command awaiting its tagged response.
type inflight struct {
	tag, name string
	start     time.Time
	bodies    bool   // a FETCH of message content: kept out of the access log unless configured
	mech      string // AUTHENTICATE's mechanism
}

// cmdTrack holds the command in flight. It has its own lock: the command
// begins on whichever goroutine drives the parser, ends on the one that
// answers it, and OnClose (on the loop) may end it while a worker runs.
type cmdTrack struct {
	mu  sync.Mutex
	cur inflight
	on  bool
}

// begin notes a command the parser returned whole.
func (s *session) begin(cmd *imap.Command) {
	c := inflight{tag: cmd.Tag, name: cmd.Name, start: time.Now()}
	s.cmd.mu.Lock()
	if s.cmd.on && s.cmd.cur.tag == cmd.Tag && s.cmd.cur.name == cmd.Name {
		c.start = s.cmd.cur.start // an APPEND whose upload began earlier
	}
	s.cmd.mu.Unlock()
	switch a := cmd.Args.(type) {
	case *imap.FetchCommand:
		c.bodies = fetchesBodies(a.Items)
	case *imap.AuthenticateCommand:
		c.mech = a.Mechanism
	}
	s.cmd.mu.Lock()
	s.cmd.cur, s.cmd.on = c, true
	s.cmd.mu.Unlock()
}

func fetchesBodies(items []imap.FetchItem) bool {
	for _, it := range items {
		switch it.Kind {
		case imap.FetchBodySection, imap.FetchBinary, imap.FetchRFC822, imap.FetchRFC822Text:
			return true
		}
	}
	return false
}

// current returns the command in flight.
func (s *session) current() (inflight, bool) {
	s.cmd.mu.Lock()
	defer s.cmd.mu.Unlock()
	return s.cmd.cur, s.cmd.on
}

// take ends the command in flight if tag is its tag ("" matches any).
func (s *session) take(tag string) (inflight, bool) {
	s.cmd.mu.Lock()
	defer s.cmd.mu.Unlock()
	if !s.cmd.on || (tag != "" && s.cmd.cur.tag != tag) {
		return inflight{}, false
	}
	s.cmd.on = false
	return s.cmd.cur, true
}

// answered records the tagged response to tag, written just now.
func (s *session) answered(tag string, r imap.Result) {
	if c, ok := s.take(tag); ok {
		s.observe(c, resultLabel(r), time.Now())
	}
}

// rejected records a command the parser refused: it is answered at once.
func (s *session) rejected(pe *imap.ParseError) {
	if pe.Tag == "" {
		return // not a command: a line without a tag
	}
	now := time.Now()
	s.observe(inflight{tag: pe.Tag, name: pe.Command, start: now}, "bad", now)
}

// abandoned records a command the connection closed under.
func (s *session) abandoned() {
	if c, ok := s.take(""); ok {
		s.observe(c, "error", time.Now())
	}
}

func (s *session) observe(c inflight, result string, end time.Time) {
	name := commandLabel(c.name)
	d := end.Sub(c.start)
	if m := s.h.metrics; m != nil {
		if name == "IDLE" {
			m.commands.Count(name, result)
			m.idle.Observe(d.Seconds())
		} else {
			m.commands.Observe(name, result, d)
		}
	}
	if s.h.cfg.AccessLog && (!c.bodies || s.h.cfg.AccessLogFetchBodies) {
		s.log().Info("command", "command", name, "tag", c.tag, "result", result, "duration", d)
	}
}

// authMechanism names how the login in progress presented its
// credentials: the SASL mechanism, or "login_command" for LOGIN.
func (s *session) authMechanism() string {
	c, _ := s.current()
	if c.name == "AUTHENTICATE" && c.mech != "" {
		return c.mech
	}
	return "login_command"
}

// authObserved counts a login attempt.
func (s *session) authObserved(result string) {
	if m := s.h.metrics; m != nil {
		m.auth.Observe(s.authMechanism(), result)
	}
}

// notifyLag records how long a change beacon took to arrive.
func (h *Handler) notifyLag(ev engine.ChangeEvent) {
	if m := h.metrics; m != nil && !ev.Committed.IsZero() {
		m.lag.Observe(time.Since(ev.Committed).Seconds())
	}
}
