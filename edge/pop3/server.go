package pop3

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// Config configures the POP3 server. Zero fields take the documented defaults.
type Config struct {
	// Hostname names the server in the greeting. Default: os.Hostname(),
	// else "localhost".
	Hostname string
	// Pool runs store calls (login, RETR, the UPDATE state). Nil gives the
	// server a pool of its own.
	Pool *netloop.Pool
	// Logger receives session logs; default slog.Default().
	Logger *slog.Logger

	// AllowPlaintextAuth offers USER/PASS and AUTH PLAIN on connections
	// without TLS. Off by default: before STLS, or on a cleartext listener,
	// they are neither advertised nor accepted (RFC 2595 LOGINDISABLED, as
	// POP3 has it).
	AllowPlaintextAuth bool
	// MaxMessages is how many of INBOX's newest messages form the maildrop.
	// Default 1000.
	MaxMessages int
	// DeleteToTrash moves messages deleted with DELE to the user's Trash
	// mailbox instead of expunging them.
	DeleteToTrash bool
	// IdleTimeout closes a connection whose client stays silent this long.
	// Default 10 minutes, the least RFC 1939 allows.
	IdleTimeout time.Duration
	// AuthFailureDelay holds back the answer to a failed login, which slows
	// down password guessing without holding a worker. Default 1 s;
	// negative means no delay.
	AuthFailureDelay time.Duration
	// MaildropLease is how long a session's cluster-wide lock on a maildrop
	// lasts without being renewed (each login and the UPDATE state renew
	// it): after a node dies, its users' maildrops are free again after
	// this. Only a metadata store shared by several nodes has such leases.
	// Default 30 minutes.
	MaildropLease time.Duration
	// MaxAuthFailures closes the connection after this many failed logins.
	// Default 3.
	MaxAuthFailures int

	// Registerer receives the command and authentication metrics (see
	// metrics.go); nil records none.
	Registerer prometheus.Registerer
	// AccessLog logs one line per command: its name, result and duration.
	// RETR and TOP are left out unless AccessLogRetrievals is set too, so
	// that downloads do not flood the log.
	AccessLog           bool
	AccessLogRetrievals bool
}

// server is the netloop.Handler of POP3. It keeps the maildrop locks of
// this node (RFC 1939: one session per maildrop).
type server struct {
	e       *engine.Engine
	cfg     Config
	pool    *netloop.Pool
	log     *slog.Logger
	bufs    sync.Pool // *streamBuffers for RETR and TOP
	metrics *metrics

	mu    sync.Mutex
	inUse map[engine.UserID]uint64 // user → connection holding the maildrop

	leases bool   // the store shares maildrop leases between nodes
	node   string // names this server in maildrop leases
}

// NewServer returns the POP3 protocol handler for a netloop.Server. Give
// it a cleartext listener (ModeStartTLS for STLS) and an implicit-TLS one
// (ModeTLS, POP3S).
func NewServer(e *engine.Engine, cfg Config) netloop.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			cfg.Hostname = h
		}
	}
	if cfg.Pool == nil {
		cfg.Pool = netloop.NewPool(netloop.PoolConfig{Logger: cfg.Logger})
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = 1000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.AuthFailureDelay == 0 {
		cfg.AuthFailureDelay = time.Second
	}
	if cfg.MaxAuthFailures <= 0 {
		cfg.MaxAuthFailures = 3
	}
	if cfg.MaildropLease <= 0 {
		cfg.MaildropLease = 30 * time.Minute
	}
	h := &server{e: e, cfg: cfg, pool: cfg.Pool, log: cfg.Logger, inUse: make(map[engine.UserID]uint64), metrics: newMetrics(cfg.Registerer),
		leases: e.SharedLeases(), node: rand.Text()}
	h.bufs.New = func() any {
		return &streamBuffers{w: bufio.NewWriterSize(nil, 32<<10), copy: make([]byte, 32<<10)}
	}
	return h
}

// Open greets a new connection. The greeting carries no APOP timestamp:
// APOP needs the password in the clear on the server, which Eider never keeps.
func (h *server) Open(c *netloop.Conn) netloop.Session {
	c.SetIdleTimeout(h.cfg.IdleTimeout)
	if err := c.Write(pop3.AppendOK(nil, h.cfg.Hostname+" POP3 ready")); err != nil {
		return nil
	}
	return &session{h: h, c: c, parser: pop3.NewParser(pop3.Config{})}
}

// Refuse answers a connection over the configured limits.
func (h *server) Refuse(reason error) []byte {
	text := "Too many connections, try again later"
	if errors.Is(reason, netloop.ErrTooManyFromIP) {
		text = "Too many connections from your address, try again later"
	}
	return pop3.AppendErr(nil, pop3.RespSysTemp, text)
}

// lock takes the user's maildrop for connection id; false when another
// session holds it.
func (h *server) lock(user engine.UserID, id uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, held := h.inUse[user]; held {
		return false
	}
	h.inUse[user] = id
	return true
}

func (h *server) unlock(user engine.UserID, id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inUse[user] == id {
		delete(h.inUse, user)
	}
}

// The cluster-wide side of the maildrop lock: a lease in the metadata
// store, held by node and connection, so that a session on another node
// is refused too. On a store only this process uses the in-process lock
// above is the whole lock.
func maildropLease(user engine.UserID) string { return "pop3:" + strconv.FormatInt(int64(user), 10) }

func (h *server) leaseHolder(id uint64) string { return h.node + "/" + strconv.FormatUint(id, 10) }

func (h *server) acquireLease(ctx context.Context, user engine.UserID, id uint64) (bool, error) {
	if !h.leases {
		return true, nil
	}
	return h.e.AcquireLease(ctx, maildropLease(user), h.leaseHolder(id), h.cfg.MaildropLease)
}

func (h *server) releaseLease(ctx context.Context, user engine.UserID, id uint64) {
	if !h.leases {
		return
	}
	if err := h.e.ReleaseLease(ctx, maildropLease(user), h.leaseHolder(id)); err != nil {
		h.log.Warn("pop3: maildrop lease not released; it runs out by itself", "user", user, "err", err)
	}
}
