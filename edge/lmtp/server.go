package lmtp

import (
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/codec/smtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// Config configures the LMTP server. Zero fields take the documented defaults.
type Config struct {
	// Hostname names the server in the greeting and the LHLO reply.
	// Default: os.Hostname(), else "localhost".
	Hostname string
	// Pool runs the store calls of recipient lookups. Nil gives the server
	// a pool of its own.
	Pool *netloop.Pool
	// Logger receives session logs; default slog.Default().
	Logger *slog.Logger

	// MaxRecipients caps RCPT commands accepted per transaction; later ones
	// get 452 4.5.3 and the client sends them in another transaction.
	// Default 1000.
	MaxRecipients int
	// MaxMessageSize is the SIZE advertised and enforced; 0 or a value above
	// the engine's MaxMessageSize means the engine's.
	MaxMessageSize int64
	// QuotaTemporary answers a recipient over quota with 452 4.2.2 (the MTA
	// keeps the message queued and retries) instead of 552 5.2.2 (the sender
	// gets a bounce).
	QuotaTemporary bool
	// JunkRules file a message into the recipient's Junk mailbox when a
	// spam verdict header matches. Nil means engine.DefaultJunkRules(); an
	// empty, non-nil slice files everything into INBOX.
	JunkRules []engine.JunkRule
	// AllowBareLFTerminator accepts a message whose DATA ended with a dot
	// line next to a bare LF ("\n.\n", "\r\n.\n", "\n.\r\n"). By default
	// such a message is refused with 554 5.6.0 and the connection closed,
	// since that is the SMTP smuggling pattern; see the package doc.
	AllowBareLFTerminator bool
	// SpoolMemory is how many bytes of a message wait in memory for the
	// store before further bytes spill to a temporary file. Default 256 KiB.
	SpoolMemory int
	// SpoolDir holds the spill files (unlinked at creation). Default os.TempDir().
	SpoolDir string
	// IdleTimeout closes a connection whose client stays silent this long.
	// Default 5 minutes (RFC 5321 4.5.3.2.7).
	IdleTimeout time.Duration

	// Registerer receives the command and delivery metrics (see
	// metrics.go); nil records none.
	Registerer prometheus.Registerer
	// AccessLog logs one line per command: its name, reply and duration.
	AccessLog bool
}

// server is the netloop.Handler of LMTP.
type server struct {
	e       *engine.Engine
	cfg     Config
	pool    *netloop.Pool
	log     *slog.Logger
	maxSize int64
	junk    []engine.JunkRule
	metrics *metrics
}

// NewServer returns the LMTP protocol handler for a netloop.Server.
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
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 1000
	}
	if cfg.SpoolMemory <= 0 {
		cfg.SpoolMemory = 256 << 10
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	maxSize := e.MaxMessageSize()
	if cfg.MaxMessageSize > 0 && cfg.MaxMessageSize < maxSize {
		maxSize = cfg.MaxMessageSize
	}
	junk := cfg.JunkRules
	if junk == nil {
		junk = engine.DefaultJunkRules()
	}
	return &server{e: e, cfg: cfg, pool: cfg.Pool, log: cfg.Logger, maxSize: maxSize, junk: junk, metrics: newMetrics(cfg.Registerer)}
}

// Open greets a new connection.
func (h *server) Open(c *netloop.Conn) netloop.Session {
	c.SetIdleTimeout(h.cfg.IdleTimeout)
	s := &session{
		h:      h,
		c:      c,
		parser: smtp.NewParser(smtp.Config{MaxMessageSize: h.maxSize}),
	}
	if err := c.Write(smtp.Greeting(h.cfg.Hostname).AppendTo(nil)); err != nil {
		return nil
	}
	return s
}

// Refuse answers a connection over the configured limits.
func (h *server) Refuse(reason error) []byte {
	text := "Too many connections, try again later"
	if errors.Is(reason, netloop.ErrTooManyFromIP) {
		text = "Too many connections from your address, try again later"
	}
	return smtp.Reply{Code: 421, Enhanced: "4.7.0", Lines: []string{h.cfg.Hostname + " " + text}}.AppendTo(nil)
}

// capabilities is what LHLO advertises on c.
func (h *server) capabilities(c *netloop.Conn) smtp.Capabilities {
	return smtp.Capabilities{
		Pipelining:          true,
		EightBitMIME:        true,
		SMTPUTF8:            true,
		EnhancedStatusCodes: true,
		Chunking:            true,
		StartTLS:            c.CanStartTLS(),
		MaxSize:             h.maxSize,
	}
}
