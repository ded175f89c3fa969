package netloop

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics. Every metric of the edges is registered on a Registerer handed
// in through a Config; a nil Registerer records nothing. Collectors that
// several servers register on one registry (three netloop.Servers, say)
// are shared: the second registration reuses the first one's collector, and
// the label values (listener, protocol) keep them apart.

// Register registers c on reg, or returns the equal collector registered
// before, so that servers sharing a registry share their metrics. Other
// registration errors are programming errors (a name reused with other
// labels) and panic, as prometheus.MustRegister does.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}

// HistogramOpts returns the options of a duration histogram with classic
// buckets growing exponentially from lo to hi seconds and, for scrapers that
// negotiate the protobuf format, a native histogram (10% bucket growth).
func HistogramOpts(name, help string, lo, hi float64, buckets int) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{
		Name:                            name,
		Help:                            help,
		Buckets:                         prometheus.ExponentialBucketsRange(lo, hi, buckets),
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}
}

// LatencyOpts are HistogramOpts for request latencies: 0.1 ms to 60 s.
func LatencyOpts(name, help string) prometheus.HistogramOpts {
	return HistogramOpts(name, help, 0.0001, 60, 24)
}

// CommandMetrics counts a protocol's commands and times them. The command
// label takes values from the protocol's fixed command set and result from
// a handful of reply classes, so the series stay bounded.
type CommandMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// The children of each command and result, resolved once: a label
	// lookup per command costs more than the counting itself.
	mu     sync.RWMutex
	series map[commandKey]commandSeries
}

type commandKey struct{ command, result string }

type commandSeries struct {
	total    prometheus.Counter
	duration prometheus.Observer
}

func (m *CommandMetrics) children(command, result string) commandSeries {
	k := commandKey{command, result}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	s = commandSeries{m.total.WithLabelValues(command, result), m.duration.WithLabelValues(command, result)}
	m.mu.Lock()
	m.series[k] = s
	m.mu.Unlock()
	return s
}

// NewCommandMetrics registers the command metrics of protocol ("imap",
// "pop3", "lmtp") on reg; nil reg returns nil, which records nothing.
func NewCommandMetrics(reg prometheus.Registerer, protocol string) *CommandMetrics {
	if reg == nil {
		return nil
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"protocol": protocol}, reg)
	return &CommandMetrics{
		total: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_commands_total",
			Help: "Commands answered, by protocol, command and result.",
		}, []string{"command", "result"})),
		duration: Register(reg, prometheus.NewHistogramVec(LatencyOpts(
			"eider_command_duration_seconds",
			"Time from a command fully received to its final response handed to the connection, by protocol, command and result."),
			[]string{"command", "result"})),
		series: make(map[commandKey]commandSeries),
	}
}

// Observe counts one command and records its latency.
func (m *CommandMetrics) Observe(command, result string, d time.Duration) {
	if m == nil {
		return
	}
	s := m.children(command, result)
	s.total.Inc()
	s.duration.Observe(d.Seconds())
}

// Count counts one command without a latency (IMAP IDLE, whose duration is
// the client's choice and is measured on its own).
func (m *CommandMetrics) Count(command, result string) {
	if m == nil {
		return
	}
	m.children(command, result).total.Inc()
}

// Authentication results, the result label of eider_auth_attempts_total.
const (
	AuthSuccess = "success" // credentials accepted
	AuthFailure = "failure" // wrong user name or password
	AuthRefused = "refused" // right credentials, but no session allowed (per-user limit, maildrop in use)
	AuthError   = "error"   // the store could not answer
)

// AuthMetrics counts login attempts by mechanism and result.
type AuthMetrics struct {
	attempts *prometheus.CounterVec
}

// NewAuthMetrics registers the authentication counters of protocol on reg;
// nil reg returns nil, which records nothing.
func NewAuthMetrics(reg prometheus.Registerer, protocol string) *AuthMetrics {
	if reg == nil {
		return nil
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"protocol": protocol}, reg)
	return &AuthMetrics{attempts: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eider_auth_attempts_total",
		Help: "Login attempts, by protocol, mechanism and result (success, failure, refused, error).",
	}, []string{"mechanism", "result"}))}
}

// Observe counts one attempt.
func (m *AuthMetrics) Observe(mechanism, result string) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(mechanism, result).Inc()
}

// serverMetrics are a Server's connection metrics; the per-listener
// children are resolved once, at NewServer.
type serverMetrics struct {
	accepted   *prometheus.CounterVec
	open       *prometheus.GaugeVec
	closed     *prometheus.CounterVec
	refused    *prometheus.CounterVec
	handshakes *prometheus.CounterVec
	handshake  *prometheus.HistogramVec
	stalls     *prometheus.CounterVec
}

func newServerMetrics(reg prometheus.Registerer) *serverMetrics {
	if reg == nil {
		return nil
	}
	l := []string{"listener"}
	return &serverMetrics{
		accepted: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_connections_accepted_total",
			Help: "Connections accepted by a listener (before limits are applied).",
		}, l)),
		open: Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eider_connections_open",
			Help: "Connections open on a listener.",
		}, l)),
		closed: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_connections_closed_total",
			Help: "Connections closed, by listener and reason (client, server, shutdown, idle_timeout, timeout, overflow, error).",
		}, []string{"listener", "reason"})),
		refused: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_connections_refused_total",
			Help: "Connections refused by a limit, by listener and reason (max_connections, max_connections_per_ip, untrusted_proxy).",
		}, []string{"listener", "reason"})),
		handshakes: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_tls_handshakes_total",
			Help: "TLS handshakes (implicit TLS and STARTTLS), by listener and result (ok, failed, timeout).",
		}, []string{"listener", "result"})),
		handshake: Register(reg, prometheus.NewHistogramVec(HistogramOpts(
			"eider_tls_handshake_duration_seconds",
			"Time from the ClientHello's first bytes to the end of a successful TLS handshake.",
			0.0005, 10, 16), l)),
		stalls: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_output_stalls_total",
			Help: "Times a large response paused because the client was slow to read (back-pressure), by listener.",
		}, l)),
	}
}

// listenerMetrics are the children of one listener's label value; all nil
// without a registry.
type listenerMetrics struct {
	accepted  prometheus.Counter
	open      prometheus.Gauge
	closed    *prometheus.CounterVec
	refused   *prometheus.CounterVec
	tls       *prometheus.CounterVec
	handshake prometheus.Observer
	stalls    prometheus.Counter
}

func (m *serverMetrics) forListener(name string) *listenerMetrics {
	if m == nil {
		return nil
	}
	l := prometheus.Labels{"listener": name}
	return &listenerMetrics{
		accepted:  m.accepted.WithLabelValues(name),
		open:      m.open.WithLabelValues(name),
		closed:    m.closed.MustCurryWith(l),
		refused:   m.refused.MustCurryWith(l),
		tls:       m.handshakes.MustCurryWith(l),
		handshake: m.handshake.WithLabelValues(name),
		stalls:    m.stalls.WithLabelValues(name),
	}
}

func (m *listenerMetrics) accept() {
	if m != nil {
		m.accepted.Inc()
	}
}

func (m *listenerMetrics) opened() {
	if m != nil {
		m.open.Inc()
	}
}

func (m *listenerMetrics) closedFor(reason error) {
	if m != nil {
		m.open.Dec()
		m.closed.WithLabelValues(closeReason(reason)).Inc()
	}
}

func (m *listenerMetrics) refuse(reason error) {
	if m != nil {
		m.refused.WithLabelValues(refuseReason(reason)).Inc()
	}
}

// handshakeDone records a TLS handshake's end; took counts only for
// successful ones.
func (m *listenerMetrics) handshakeDone(err error, took time.Duration) {
	if m == nil {
		return
	}
	switch {
	case err == nil:
		m.tls.WithLabelValues("ok").Inc()
		m.handshake.Observe(took.Seconds())
	case errors.Is(err, ErrHandshakeTimeout):
		m.tls.WithLabelValues("timeout").Inc()
	default:
		m.tls.WithLabelValues("failed").Inc()
	}
}

func (m *listenerMetrics) stalled() {
	if m != nil {
		m.stalls.Inc()
	}
}

// closeReason maps what OnClose reports to the reason label.
func closeReason(err error) string {
	switch {
	case err == nil:
		return "server"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "client"
	case errors.Is(err, ErrServerClosed):
		return "shutdown"
	case errors.Is(err, ErrIdleTimeout):
		return "idle_timeout"
	case errors.Is(err, ErrHandshakeTimeout), errors.Is(err, ErrHeaderTimeout):
		return "timeout"
	case errors.Is(err, ErrInboundOverflow), errors.Is(err, ErrOutboundOverflow):
		return "overflow"
	}
	return "error"
}

func refuseReason(err error) string {
	switch {
	case errors.Is(err, ErrTooManyConns):
		return "max_connections"
	case errors.Is(err, ErrTooManyFromIP):
		return "max_connections_per_ip"
	case errors.Is(err, ErrUntrustedPeer):
		return "untrusted_proxy"
	}
	return "other"
}

// registerPoolMetrics exposes p's counters on reg and returns the observer
// of queue waits.
func registerPoolMetrics(reg prometheus.Registerer, p *Pool) prometheus.Observer {
	gauge := func(name, help string, v func(PoolStats) int) {
		Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(v(p.Stats())) }))
	}
	counter := func(name, help string, v func(PoolStats) uint64) {
		Register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(p.Stats())) }))
	}
	gauge("eider_pool_queue_depth", "Jobs (store calls) waiting for a worker.", func(s PoolStats) int { return s.Queued })
	gauge("eider_pool_busy_workers", "Workers running a job.", func(s PoolStats) int { return s.Busy })
	gauge("eider_pool_workers", "Worker goroutines alive (they start on demand and exit when idle).", func(s PoolStats) int { return s.Workers })
	counter("eider_pool_jobs_submitted_total", "Jobs accepted by the worker pool.", func(s PoolStats) uint64 { return s.Submitted })
	counter("eider_pool_jobs_rejected_total", "Jobs refused because the queue was full (the client got \"server busy\").", func(s PoolStats) uint64 { return s.Rejected })
	counter("eider_pool_jobs_dropped_total", "Queued jobs skipped because their connection closed first.", func(s PoolStats) uint64 { return s.Dropped })
	return Register(reg, prometheus.NewHistogram(HistogramOpts(
		"eider_pool_wait_seconds",
		"Time a job waited in the worker pool's queue, from Submit to a worker starting it.",
		0.00001, 10, 20)))
}
