package imap

import (
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// Config configures the IMAP server. Zero fields take the documented
// defaults.
type Config struct {
	// Hostname names the server in the greeting; default os.Hostname().
	Hostname string
	// Greeting is the text of the "* OK" greeting; default "<Hostname> Eider IMAP ready".
	Greeting string
	// Version is reported in the ID response; default "dev".
	Version string
	// AllowPlaintextLogin lets LOGIN and AUTHENTICATE work on connections
	// without TLS. Off by default: plaintext connections advertise
	// LOGINDISABLED and refuse credentials (RFC 9051 6.2.3).
	AllowPlaintextLogin bool
	// AppendLimit is the largest message APPEND accepts (APPENDLIMIT,
	// RFC 7889); default and upper bound: the engine's MaxMessageSize.
	AppendLimit int64
	// IdleTimeout is the autologout timer (RFC 9051 5.4: at least 30
	// minutes); it also bounds IDLE, which clients renew every 29 minutes
	// (RFC 2177). Default 30 min.
	IdleTimeout time.Duration
	// Pool runs store calls; default a netloop.Pool with default settings.
	Pool *netloop.Pool
	// Limits caps concurrent sessions per user (AcquireUser); nil means no
	// limit. Pass the netloop.Server's Limits so connections and sessions
	// count together.
	Limits *netloop.Limits
	// Logger receives session logs; default slog.Default().
	Logger *slog.Logger
	// AuthFailureDelay slows down password guessing: a failed login is
	// answered after this long. Default 1 s; negative means no delay.
	AuthFailureDelay time.Duration
	// MaxAuthFailures closes a connection after this many failed logins;
	// default 3.
	MaxAuthFailures int
	// SpoolDir holds MULTIAPPEND messages on disk until the command ends
	// (they commit together); default os.TempDir().
	SpoolDir string
	// MaxCommandBytes bounds one command's lines and buffered literals
	// (APPEND data excluded); default 1 MiB.
	MaxCommandBytes int

	// KeepIdleAwake turns hibernation off: IDLE-ing sessions then keep
	// their whole state in memory (see hibernate.go).
	KeepIdleAwake bool

	// Registerer receives the command, authentication, IDLE and
	// notifier-lag metrics (see metrics.go); nil records none.
	Registerer prometheus.Registerer
	// AccessLog logs one line per command: its name, tag, result and
	// duration. FETCHes of message content are left out unless
	// AccessLogFetchBodies is set too, so that downloads do not flood the log.
	AccessLog            bool
	AccessLogFetchBodies bool
}

func (cfg *Config) setDefaults(e *engine.Engine) {
	if cfg.Hostname == "" {
		if h, err := os.Hostname(); err == nil {
			cfg.Hostname = h
		} else {
			cfg.Hostname = "localhost"
		}
	}
	if cfg.Greeting == "" {
		cfg.Greeting = cfg.Hostname + " Eider IMAP ready"
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if max := e.MaxMessageSize(); cfg.AppendLimit <= 0 || cfg.AppendLimit > max {
		cfg.AppendLimit = max
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pool == nil {
		cfg.Pool = netloop.NewPool(netloop.PoolConfig{Logger: cfg.Logger})
	}
	if cfg.AuthFailureDelay == 0 {
		cfg.AuthFailureDelay = time.Second
	}
	if cfg.MaxAuthFailures <= 0 {
		cfg.MaxAuthFailures = 3
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
}

// Handler is the IMAP protocol for a netloop.Server: one session per
// connection, driven by the event loop, with store calls on the worker pool.
type Handler struct {
	e       *engine.Engine
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	sessions   atomic.Int64
	hibernated atomic.Int64
}

// NewServer returns the IMAP handler over e. Pass it as netloop.Config.Handler.
func NewServer(e *engine.Engine, cfg Config) *Handler {
	cfg.setDefaults(e)
	return &Handler{e: e, cfg: cfg, log: cfg.Logger, metrics: newMetrics(cfg.Registerer)}
}

// Open starts a session: it writes the greeting and returns the state
// machine that OnData drives.
func (h *Handler) Open(c *netloop.Conn) netloop.Session {
	s := newSession(h, c)
	c.SetIdleTimeout(h.cfg.IdleTimeout)
	if err := s.greet(); err != nil {
		return nil
	}
	h.sessions.Add(1)
	return s
}

// Refuse answers a connection that netloop's limits turned away.
func (h *Handler) Refuse(reason error) []byte {
	if errors.Is(reason, netloop.ErrTooManyFromIP) {
		return []byte("* BYE [UNAVAILABLE] Too many connections from your address\r\n")
	}
	return []byte("* BYE [UNAVAILABLE] Too many connections, try again later\r\n")
}

// Sessions reports how many sessions are open.
func (h *Handler) Sessions() int { return int(h.sessions.Load()) }

// Hibernating reports how many sessions sleep in IDLE (hibernate.go).
func (h *Handler) Hibernating() int { return int(h.hibernated.Load()) }

// Config returns the configuration in effect, defaults applied.
func (h *Handler) Config() Config { return h.cfg }
