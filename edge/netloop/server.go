package netloop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Mode says how a listener's connections start.
type Mode uint8

const (
	// ModePlain is cleartext without STARTTLS (e.g. LMTP on a private network).
	ModePlain Mode = iota
	// ModeTLS is implicit TLS: the handshake comes first (IMAPS 993, POP3S 995).
	ModeTLS
	// ModeStartTLS is cleartext that the protocol may upgrade with Conn.StartTLS.
	ModeStartTLS
)

func (m Mode) String() string {
	switch m {
	case ModePlain:
		return "plain"
	case ModeTLS:
		return "tls"
	case ModeStartTLS:
		return "starttls"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ProxyPolicy says whether a listener sits behind a PROXY-protocol load balancer.
type ProxyPolicy uint8

const (
	// ProxyOff: no PROXY headers; every peer is the client itself.
	ProxyOff ProxyPolicy = iota
	// ProxyTrusted: peers in Config.TrustedProxies must start with a PROXY
	// header (v1 or v2); other peers are direct clients whose bytes, a
	// forged header included, are protocol data.
	ProxyTrusted
	// ProxyRequired: only trusted proxies may connect, and they must send a
	// header; other peers are closed at once.
	ProxyRequired
)

// Listener is one listening address of a Server.
type Listener struct {
	// Name labels the listener in logs ("imap", "imaps").
	Name string
	// Addr is "tcp://127.0.0.1:1143", "tcp4://…", "tcp6://[::1]:1143",
	// "unix:///run/eider/lmtp.sock", or a bare "host:port" (TCP). Port 0
	// picks a free port; see Server.Addrs.
	Addr  string
	Mode  Mode
	Proxy ProxyPolicy
}

// Handler is a protocol: it opens a Session for each connection that is ready.
type Handler interface {
	// Open is called on the connection's event loop once the connection is
	// ready: after the PROXY header if one is expected and, on a ModeTLS
	// listener, after the TLS handshake. It writes the greeting with
	// c.Write and returns the session; nil refuses the connection, which is
	// closed once what Open wrote is flushed.
	Open(c *Conn) Session
}

// Session is one connection's protocol state machine. All its methods are
// called on the connection's event loop goroutine, one at a time, so the
// session needs no locking for state only they touch; they must not block.
// Blocking work goes to a Pool, with Conn.Pause/Resume around it.
type Session interface {
	// OnData receives plaintext bytes from the client and returns how many
	// it consumed. Unconsumed bytes are kept (up to Config.MaxInbound) and
	// offered again, with more bytes appended, on the next delivery; so a
	// session returns 0 for an incomplete line and need not buffer it. p is
	// valid only during the call. OnData is called again while it consumes
	// bytes, unless the session paused, closed the connection or started TLS.
	OnData(p []byte) (consumed int)
	// OnShutdown asks the session to say goodbye (IMAP "* BYE"). The
	// connection is closed once its output is flushed and no command is in
	// flight (see Conn.Pause), or at the Shutdown deadline.
	OnShutdown()
	// OnClose reports that the connection is gone and why: nil when the
	// server closed it normally, an error matching io.EOF when the client
	// hung up, or one of the package's errors (ErrIdleTimeout, …).
	OnClose(err error)
}

// Refuser may be implemented by a Handler to answer a connection refused by
// Limits with a short protocol line ("* BYE Too many connections\r\n")
// before it is closed. reason is ErrTooManyConns or ErrTooManyFromIP.
// Connections to ModeTLS listeners are closed without an answer, since
// answering would take a full handshake when the server is least able to
// afford one.
type Refuser interface {
	Refuse(reason error) []byte
}

// IdleNotifier may be implemented by a Session that wants to say goodbye on
// an idle timeout (IMAP "* BYE Autologout"). It is called on the event loop
// just before the connection is closed after flushing.
type IdleNotifier interface {
	OnIdleTimeout()
}

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	Listeners []Listener
	Handler   Handler

	// TLSConfig returns the TLS configuration for a handshake; it is called
	// for every ClientHello (it becomes tls.Config.GetConfigForClient), so a
	// certificate reload on SIGHUP takes effect for the next connection.
	// Required when a listener is ModeTLS or ModeStartTLS.
	TLSConfig func(*tls.ClientHelloInfo) (*tls.Config, error)
	// TrustedProxies are the networks whose peers may send PROXY headers.
	TrustedProxies []netip.Prefix
	// Limits counts connections; nil means unlimited. It may be shared.
	Limits *Limits
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the connection metrics (accepted, open, closed,
	// refused, TLS handshakes, output stalls) labelled by listener name;
	// nil records none. Servers may share one.
	Registerer prometheus.Registerer

	// EventLoops is the number of gnet event loops; default runtime.NumCPU().
	EventLoops int
	// HandshakeTimeout bounds the TLS handshake; default 10 s.
	HandshakeTimeout time.Duration
	// HeaderTimeout bounds the wait for a PROXY header; default 5 s.
	HeaderTimeout time.Duration
	// IdleTimeout closes a connection whose client sent nothing for this
	// long, until the protocol sets its own with Conn.SetIdleTimeout;
	// default 30 min. A paused connection (command in flight) is never idle.
	IdleTimeout time.Duration
	// FlushTimeout bounds how long a closing connection waits for its
	// queued output to drain; default 10 s.
	FlushTimeout time.Duration
	// MaxInbound caps the bytes a connection holds unconsumed (the session's
	// incomplete line, data received while paused, ciphertext during the
	// handshake); beyond it the connection is closed. Default 256 KiB.
	MaxInbound int
	// MaxOutbound caps the bytes queued for a client that does not read;
	// beyond it the connection is closed. Default 4 MiB.
	MaxOutbound int
	// HighWater is where Conn.Writer blocks until the client has read half
	// of what is queued; default 256 KiB.
	HighWater int
}

func (cfg *Config) setDefaults() {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EventLoops <= 0 {
		cfg.EventLoops = runtime.NumCPU()
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 5 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = 10 * time.Second
	}
	if cfg.MaxInbound <= 0 {
		cfg.MaxInbound = 256 << 10
	}
	if cfg.MaxOutbound <= 0 {
		cfg.MaxOutbound = 4 << 20
	}
	if cfg.HighWater <= 0 {
		cfg.HighWater = 256 << 10
	}
	if cfg.HighWater > cfg.MaxOutbound/2 {
		cfg.HighWater = cfg.MaxOutbound / 2
	}
}

// Server accepts connections on its listeners and runs their sessions on
// gnet event loops.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tlsBase *tls.Config
	lns     []*boundListener
	scratch sync.Pool // 16 KiB buffers for decrypted records, shared by the loops

	nextID atomic.Uint64
	tick   atomic.Int64 // the timeout sweep's period in ns (timers.go)

	// gnet's calls from other goroutines (AsyncWrite, Close, Execute) write
	// to the loop's eventfd, which Stop closes; its number may then belong to
	// another file. Such calls hold loopsMu for reading and check loopsDown.
	loopsMu   sync.RWMutex
	loopsDown bool

	mu       sync.Mutex
	state    serverState
	eng      *gnet.Client
	conns    map[uint64]*Conn
	gone     chan struct{} // pinged when a connection unregisters
	acceptWG sync.WaitGroup
	stopOnce sync.Once
	stopped  chan struct{}
}

type serverState uint8

const (
	stateIdle serverState = iota
	stateServing
	stateDraining
	stateClosed
)

type boundListener struct {
	Listener
	ln net.Listener
	m  *listenerMetrics // nil without a Registerer
}

// NewServer validates cfg and binds every listener, so that an address in use
// is reported here and Addrs is known before Serve.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("netloop: Config.Handler is nil")
	}
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("netloop: no listeners configured")
	}
	cfg.setDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		conns:   make(map[uint64]*Conn),
		gone:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	s.tick.Store(int64(maxTick))
	s.noteTimeout(min(cfg.HandshakeTimeout, cfg.HeaderTimeout, cfg.IdleTimeout))
	s.scratch.New = func() any {
		b := make([]byte, 16<<10)
		return &b
	}
	if cfg.TLSConfig != nil {
		s.tlsBase = &tls.Config{GetConfigForClient: cfg.TLSConfig}
	}
	cfg.TrustedProxies = slices.Clone(cfg.TrustedProxies)
	for i := range cfg.TrustedProxies {
		cfg.TrustedProxies[i] = cfg.TrustedProxies[i].Masked()
	}
	s.cfg.TrustedProxies = cfg.TrustedProxies
	metrics := newServerMetrics(cfg.Registerer)
	for _, l := range cfg.Listeners {
		if l.Name == "" {
			l.Name = l.Addr
		}
		if l.Mode > ModeStartTLS || l.Proxy > ProxyRequired {
			s.closeListeners()
			return nil, fmt.Errorf("netloop: listener %q: bad mode or proxy policy", l.Name)
		}
		if l.Mode != ModePlain && cfg.TLSConfig == nil {
			s.closeListeners()
			return nil, fmt.Errorf("netloop: listener %q: mode %s needs Config.TLSConfig", l.Name, l.Mode)
		}
		network, address, err := splitListenAddr(l.Addr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("netloop: listener %q: %w", l.Name, err)
		}
		ln, err := net.Listen(network, address)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("netloop: listener %q: %w", l.Name, err)
		}
		s.lns = append(s.lns, &boundListener{Listener: l, ln: ln, m: metrics.forListener(l.Name)})
	}
	return s, nil
}

func splitListenAddr(addr string) (network, address string, err error) {
	network, address, ok := strings.Cut(addr, "://")
	if !ok {
		return "tcp", addr, nil
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		if address == "" {
			return "", "", fmt.Errorf("empty address in %q", addr)
		}
		return network, address, nil
	}
	return "", "", fmt.Errorf("unsupported network in %q", addr)
}

// Addrs returns the bound address of each listener, in Config order.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.lns))
	for i, bl := range s.lns {
		out[i] = bl.ln.Addr()
	}
	return out
}

// Limits returns the Limits the server counts against (possibly nil).
func (s *Server) Limits() *Limits { return s.cfg.Limits }

// Conns returns the number of open connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Serve starts the event loops, accepts connections, and blocks until the
// server stops. It returns ErrServerClosed after Shutdown or Close; when ctx
// ends, it closes the server at once (call Shutdown first for a graceful stop).
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateIdle {
		s.mu.Unlock()
		return ErrServerClosed
	}
	eng, err := gnet.NewClient(&loopEvents{},
		gnet.WithNumEventLoop(s.cfg.EventLoops),
		gnet.WithLogger(gnetLogger{s.log}),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay))
	if err == nil {
		err = eng.Start()
	}
	if err != nil {
		s.state = stateClosed
		s.mu.Unlock()
		s.teardown()
		return fmt.Errorf("netloop: start event loops: %w", err)
	}
	s.eng = eng
	s.state = stateServing
	for _, bl := range s.lns {
		s.acceptWG.Add(1)
		go s.acceptLoop(bl)
	}
	go s.sweepTimeouts()
	s.mu.Unlock()
	for _, bl := range s.lns {
		s.log.Info("netloop: listening", "listener", bl.Name, "addr", bl.ln.Addr().String(), "mode", bl.Mode.String())
	}
	select {
	case <-ctx.Done():
		s.teardown()
	case <-s.stopped:
	}
	return ErrServerClosed
}

// Shutdown stops the server gracefully: it stops accepting, calls
// OnShutdown on every session, lets commands in flight finish and output
// drain, and closes each connection when it is done. At ctx's deadline the
// remaining connections are closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case stateIdle:
		s.state = stateClosed
		s.mu.Unlock()
		s.teardown()
		return nil
	case stateDraining, stateClosed:
		s.mu.Unlock()
		select {
		case <-s.stopped:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("netloop: shutdown: %w", ctx.Err())
		}
	}
	s.state = stateDraining
	s.mu.Unlock()

	s.closeListeners()
	s.acceptWG.Wait() // every accepted connection is now registered
	for _, c := range s.snapshot() {
		c.runOnLoop(c.beginShutdown)
	}
	for s.Conns() > 0 {
		select {
		case <-s.gone:
		case <-ctx.Done():
			s.teardown()
			return fmt.Errorf("netloop: shutdown: %w", ctx.Err())
		}
	}
	s.teardown()
	return nil
}

// Close stops the server at once: listeners and connections are closed
// without goodbyes.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.state == stateIdle {
		s.state = stateClosed
	}
	s.mu.Unlock()
	s.teardown()
	return nil
}

// teardown closes listeners, waits for the accept loops, and stops the event
// loops, which close every remaining connection. It runs once; concurrent
// callers wait for it.
func (s *Server) teardown() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.state = stateClosed
		eng := s.eng
		s.mu.Unlock()
		s.closeListeners()
		s.acceptWG.Wait()
		for _, c := range s.snapshot() {
			c.setCloseErr(ErrServerClosed) // what OnClose reports for the connections Stop closes
		}
		s.loopsMu.Lock()
		s.loopsDown = true
		s.loopsMu.Unlock()
		if eng != nil {
			if err := eng.Stop(); err != nil {
				s.log.Warn("netloop: stopping event loops", "err", err)
			}
		}
		close(s.stopped)
	})
	<-s.stopped
}

// enterLoops admits a call into gnet from outside the loops; leaveLoops ends it.
func (s *Server) enterLoops() bool {
	s.loopsMu.RLock()
	if s.loopsDown {
		s.loopsMu.RUnlock()
		return false
	}
	return true
}

func (s *Server) leaveLoops() { s.loopsMu.RUnlock() }

func (s *Server) closeListeners() {
	for _, bl := range s.lns {
		_ = bl.ln.Close()
	}
}

func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

func (s *Server) register(c *Conn) {
	s.mu.Lock()
	s.conns[c.id] = c
	s.mu.Unlock()
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
	select {
	case s.gone <- struct{}{}:
	default:
	}
}

func (s *Server) acceptLoop(bl *boundListener) {
	defer s.acceptWG.Done()
	var backoff time.Duration
	for {
		nc, err := bl.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: back off instead of spinning,
			// as net/http does, and keep serving the open connections.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("netloop: accept failed", "listener", bl.Name, "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.admit(bl, nc)
	}
}

// admit applies the limits that can be decided from the socket alone and
// hands the connection to an event loop.
func (s *Server) admit(bl *boundListener, nc net.Conn) {
	bl.m.accept()
	local := nc.LocalAddr()
	if ua, ok := local.(*net.UnixAddr); ok {
		// gnet renames the local address of an enrolled Unix socket in place.
		cp := *ua
		local = &cp
	}
	c := newConn(s, bl, nc.RemoteAddr(), local)
	trusted := bl.Proxy != ProxyOff && s.isTrusted(c.remote)
	if bl.Proxy == ProxyRequired && !trusted {
		s.log.Info("netloop: connection refused", "listener", bl.Name, "remote", c.remote.String(), "reason", ErrUntrustedPeer.Error())
		bl.m.refuse(ErrUntrustedPeer)
		_ = nc.Close()
		return
	}
	if err := s.cfg.Limits.acquireConn(); err != nil {
		s.refuse(bl, nc, err)
		return
	}
	c.countedConn = true
	if !trusted {
		// A proxied client's address is known only after its header.
		if err := c.acquireIP(); err != nil {
			c.releaseLimits()
			s.refuse(bl, nc, err)
			return
		}
	}
	c.expectProxy = trusted
	// EnrollContext moves the socket to an event loop (its OnOpen runs
	// before it returns) and closes nc's duplicate descriptor.
	if _, err := s.eng.EnrollContext(nc, c); err != nil {
		c.releaseLimits()
		s.log.Warn("netloop: cannot hand connection to event loop", "listener", bl.Name, "remote", c.remote.String(), "err", err)
	}
}

func (s *Server) refuse(bl *boundListener, nc net.Conn, reason error) {
	bl.m.refuse(reason)
	s.log.Info("netloop: connection refused", "listener", bl.Name, "remote", nc.RemoteAddr().String(), "reason", reason.Error())
	if msg := s.refusal(bl, reason); len(msg) > 0 {
		// A fresh socket's send buffer is empty: this write does not block.
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(msg)
	}
	_ = nc.Close()
}

func (s *Server) refusal(bl *boundListener, reason error) []byte {
	if bl.Mode == ModeTLS {
		return nil
	}
	if r, ok := s.cfg.Handler.(Refuser); ok {
		return r.Refuse(reason)
	}
	return nil
}

func (s *Server) isTrusted(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip := a.AddrPort().Addr().Unmap()
		for _, p := range s.cfg.TrustedProxies {
			if p.Contains(ip) {
				return true
			}
		}
	case *net.UnixAddr:
		return true // a local socket: only local processes can reach it
	}
	return false
}

// loopEvents adapts gnet's callbacks to Conn; the Conn rides in gnet's
// per-connection context.
type loopEvents struct {
	gnet.BuiltinEventEngine
}

func (*loopEvents) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c, ok := gc.Context().(*Conn)
	if !ok {
		return nil, gnet.Close
	}
	c.onOpen(gc)
	return nil, gnet.None
}

func (*loopEvents) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok {
		return gnet.Close
	}
	c.onTraffic()
	return gnet.None
}

func (*loopEvents) OnClose(gc gnet.Conn, err error) gnet.Action {
	if c, ok := gc.Context().(*Conn); ok {
		c.onClose(err)
	}
	return gnet.None
}
