package netloop

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// phase is where a connection is in its life; it is touched only on the loop.
type phase uint8

const (
	phaseNew       phase = iota
	phaseHeader          // waiting for a PROXY header
	phaseHandshake       // TLS handshake (implicit or after STARTTLS)
	phaseOpen            // the session runs
	phaseClosed
)

// writeMode decides what Conn.Write does with the protocol's bytes.
type writeMode uint8

const (
	writePlain  writeMode = iota
	writeHold             // TLS handshake in progress: plaintext waits for it
	writeTLS              // encrypt with crypto/tls
	writeClosed           // Close was called or the connection is gone
)

// Flags shared between the loop and other goroutines.
const (
	flagPaused   uint32 = 1 << iota // a command is in flight: hold input
	flagStartTLS                    // STARTTLS accepted: discard plaintext input
	flagCloseReq                    // Close was called: deliver nothing more
	flagShutdown                    // the server is shutting down
)

// streamChunk bounds how much one Writer step queues beyond the high-water
// mark, so the overshoot stays small.
const streamChunk = 32 << 10

// Conn is one client connection. Its methods are safe for concurrent use
// unless noted; the Session methods are never called concurrently.
type Conn struct {
	srv *Server
	ln  *boundListener
	gc  gnet.Conn
	id  uint64

	// Set before the session opens (from the socket, then from a trusted
	// PROXY header) and read-only afterwards.
	remote, local net.Addr

	// Loop-only state.
	phase       phase
	closing     bool // no more input is delivered; the close is under way
	expectProxy bool
	countedConn bool
	wmode       writeMode   // guarded by wmu; here to pack with the flags above
	ipKey       *netip.Addr // the key counted in Limits' per-IP table, nil when not counted
	sess        Session
	held        []byte // unconsumed or paused plaintext; header bytes in phaseHeader
	tls         *tlsState

	flags    atomic.Uint32
	closed   atomic.Bool
	queued   atomic.Int64 // bytes handed to gnet's AsyncWrite, not yet taken by the loop
	outbound atomic.Int64 // gnet's outbound buffer as last seen by the loop
	lastRead atomic.Int64 // unix ns of the last client bytes
	idleNs   atomic.Int64
	deadline atomic.Int64 // unix ns deadline of phaseHeader/phaseHandshake, 0 when none
	tlsDone  atomic.Pointer[tls.Conn]

	wmu  sync.Mutex // orders writes against mode switches
	wtls *tlsState  // set with wmode writeTLS: what Write encrypts with

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc

	// Seldom-used state, allocated when first needed, so that an idle
	// connection does not carry it.
	rare atomic.Pointer[connRare]
}

type connRare struct {
	pendOut  []byte        // under wmu: written during the STARTTLS handshake
	drained  chan struct{} // under mu: closed by the loop after it refreshed outbound
	closeErr error         // under mu
	flushBy  int64         // loop: unix ns after which a closing connection stops waiting for its output
}

// extra returns the seldom-used state, allocating it on first use.
func (c *Conn) extra() *connRare {
	if r := c.rare.Load(); r != nil {
		return r
	}
	c.rare.CompareAndSwap(nil, &connRare{})
	return c.rare.Load()
}

func newConn(s *Server, bl *boundListener, remote, local net.Addr) *Conn {
	c := &Conn{srv: s, ln: bl, id: s.nextID.Add(1), remote: remote, local: local}
	if bl.Mode == ModeTLS {
		c.wmode = writeHold
	}
	return c
}

// ID returns the connection's number, unique within the Server.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the client's address: from the PROXY header when the
// peer is a trusted proxy that relayed one, else the socket's peer.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr returns the address the client connected to (the proxy's
// destination address when relayed).
func (c *Conn) LocalAddr() net.Addr { return c.local }

// Listener returns the configuration of the listener that accepted c.
func (c *Conn) Listener() Listener { return c.ln.Listener }

// TLS returns the TLS state once a handshake has completed, else nil.
func (c *Conn) TLS() *tls.ConnectionState {
	tc := c.tlsDone.Load()
	if tc == nil {
		return nil
	}
	cs := tc.ConnectionState()
	return &cs
}

// CanStartTLS reports whether StartTLS would be accepted now: the listener
// offers it and the connection is not yet encrypted.
func (c *Conn) CanStartTLS() bool {
	return c.ln.Mode == ModeStartTLS && c.tlsDone.Load() == nil && c.flags.Load()&flagStartTLS == 0
}

// Context returns a context that is cancelled when the connection closes;
// pass it to Pool.Submit and to store calls made for this connection.
func (c *Conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancel(context.Background())
		if c.closed.Load() {
			c.cancel()
		}
	}
	return c.ctx
}

// ReleaseContext cancels the connection's context and drops it; the next
// Context call makes a new one. A session that parks while nothing is in
// flight (an IMAP session hibernating in IDLE) calls it so that an idle
// connection holds no context.
func (c *Conn) ReleaseContext() {
	c.mu.Lock()
	cancel := c.cancel
	c.ctx, c.cancel = nil, nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// OnLoop runs fn on the connection's event loop, later and without
// waiting; it returns false when the loops are stopped. fn may call the
// loop-only methods (Replace).
func (c *Conn) OnLoop(fn func()) bool { return c.runOnLoop(fn) }

// Replace makes s the connection's Session: every later call (OnData,
// OnShutdown, OnIdleTimeout, OnClose) goes to s. It is for a session that
// trades itself for a smaller form while idle and back. Call it only on the
// event loop: from a Session method or a function run by OnLoop.
func (c *Conn) Replace(s Session) {
	if s != nil {
		c.sess = s
	}
}

// Logger returns the server's logger with the connection's id, client
// address and listener attached. It builds a new logger per call, so that
// an idle connection holds none.
func (c *Conn) Logger() *slog.Logger {
	return c.srv.log.With("conn", c.id, "remote", c.remote.String(), "listener", c.ln.Name)
}

// Write queues p for the client and returns without waiting; p is copied.
// It is safe from any goroutine; writes are sent in call order. Output
// beyond Config.MaxOutbound closes the connection (the client is not
// reading). Large responses should use Writer instead.
func (c *Conn) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	switch c.wmode {
	case writePlain:
		return c.sendRaw(bytes.Clone(p))
	case writeTLS:
		if _, err := c.wtls.conn.Write(p); err != nil {
			return fmt.Errorf("netloop: write: %w", err)
		}
		return nil
	case writeHold:
		r := c.extra()
		if len(r.pendOut)+len(p) > c.srv.cfg.MaxOutbound {
			c.abort(ErrOutboundOverflow)
			return ErrOutboundOverflow
		}
		r.pendOut = append(r.pendOut, p...)
		return nil
	}
	return ErrConnClosed
}

// Writer returns a writer for large responses (a 50 MB FETCH), for use from
// a worker goroutine, never from the event loop: each Write blocks while
// more than Config.HighWater bytes are queued for the client, until half of
// them have been sent or ctx ends. A slow reader so holds back the worker
// instead of making the server buffer the whole response.
func (c *Conn) Writer(ctx context.Context) io.Writer {
	return &streamWriter{c: c, ctx: ctx}
}

type streamWriter struct {
	c   *Conn
	ctx context.Context
}

func (w *streamWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		if err := w.c.waitWritable(w.ctx); err != nil {
			return done, err
		}
		n := min(len(p), streamChunk)
		if err := w.c.Write(p[:n]); err != nil {
			return done, err
		}
		done += n
		p = p[n:]
	}
	return done, nil
}

// OutboundBuffered returns how many bytes are queued for the client and not
// yet handed to the kernel, as last observed by the event loop (it may lag
// behind the client's reading, never ahead of it).
func (c *Conn) OutboundBuffered() int {
	return int(c.queued.Load() + c.outbound.Load())
}

// Close closes the connection after the output written so far has been sent
// (bounded by Config.FlushTimeout). Over TLS a close_notify alert is sent.
// Later writes fail with ErrConnClosed and no more input is delivered.
func (c *Conn) Close() error {
	if c.flags.Or(flagCloseReq)&flagCloseReq != 0 {
		return nil
	}
	c.wmu.Lock()
	if c.wmode == writeTLS {
		_ = c.wtls.conn.CloseWrite() // close_notify; the socket closes after the flush
	}
	c.wmode = writeClosed
	if r := c.rare.Load(); r != nil {
		r.pendOut = nil
	}
	c.wmu.Unlock()
	c.runOnLoop(func() { c.closeAfterFlush(nil) })
	return nil
}

// StartTLS switches the connection to TLS after the protocol accepted a
// STARTTLS command: reply (the protocol's "OK Begin TLS" line) is the last
// cleartext sent, every byte the client pipelined after the command is
// discarded (RFC 3501 §6.2.1, RFC 2595 §3.1, RFC 3207 §4.2), and the handshake
// starts with the client's next bytes. OnData is not called again until the
// handshake is done; what the session writes meanwhile is sent encrypted
// after it. A session calling StartTLS from OnData must return the length of
// the STARTTLS command line; the rest is dropped.
func (c *Conn) StartTLS(reply []byte) error {
	if c.ln.Mode != ModeStartTLS {
		return ErrStartTLSNotAllowed
	}
	c.wmu.Lock()
	switch {
	case c.wmode == writeClosed:
		c.wmu.Unlock()
		return ErrConnClosed
	case c.wmode != writePlain || c.flags.Load()&flagStartTLS != 0:
		c.wmu.Unlock()
		return ErrStartTLSNotAllowed
	}
	c.wmode = writeHold
	c.flags.Or(flagStartTLS)
	c.wmu.Unlock()
	reply = bytes.Clone(reply)
	if !c.runOnLoop(func() { c.switchToTLS(reply) }) {
		return ErrConnClosed
	}
	return nil
}

// SetIdleTimeout sets how long the client may stay silent before the
// connection is closed (IMAP 30 min, IDLE 29 min, POP3 10 min); d <= 0
// disables it. The time counts from the client's last bytes or the last
// Resume.
func (c *Conn) SetIdleTimeout(d time.Duration) {
	c.idleNs.Store(int64(max(d, 0)))
	c.srv.noteTimeout(d)
}

// Pause marks a command in flight: bytes that arrive are held (up to
// Config.MaxInbound) instead of delivered, the idle timer does not run, and
// a graceful shutdown waits for Resume. Call it from OnData before handing
// the command to a Pool.
func (c *Conn) Pause() { c.flags.Or(flagPaused) }

// Resume ends Pause: held bytes are delivered to OnData again, on the loop.
// It may be called from any goroutine, typically the worker that finished.
func (c *Conn) Resume() {
	if c.flags.And(^flagPaused)&flagPaused == 0 {
		return
	}
	c.lastRead.Store(time.Now().UnixNano())
	c.runOnLoop(c.resumed)
}

// ResumeWith queues reply and ends Pause in one step. A worker whose last
// output invites the client to send (an IMAP "+" continuation before a
// literal) uses it instead of Write then Resume: between those two calls
// the client's answer could arrive while input is still held, and a large
// literal would overflow Config.MaxInbound. Here input is released on the
// loop right after reply went to the socket, before the loop can read an
// answer. reply is copied; it goes after everything written before.
func (c *Conn) ResumeWith(reply []byte) error {
	if len(reply) == 0 || c.flags.Load()&flagPaused == 0 {
		err := c.Write(reply)
		c.Resume()
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var b []byte
	switch c.wmode {
	case writePlain:
		b = bytes.Clone(reply)
	case writeTLS:
		// The records crypto/tls writes are gathered and sent in one
		// piece, so that one callback follows all of them.
		t := &c.wtls.tr
		t.mu.Lock()
		t.gather = []byte{}
		t.mu.Unlock()
		_, err := c.wtls.conn.Write(reply)
		t.mu.Lock()
		b, t.gather = t.gather, nil
		t.mu.Unlock()
		if err != nil {
			return fmt.Errorf("netloop: write: %w", err)
		}
	default:
		c.Resume()
		return ErrConnClosed
	}
	return c.sendRawThen(b, func() {
		if c.flags.And(^flagPaused)&flagPaused == 0 {
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		c.resumed()
	})
}

// runOnLoop runs fn on the connection's event loop. It returns false when the
// loops are stopped.
func (c *Conn) runOnLoop(fn func()) bool {
	if !c.srv.enterLoops() {
		return false
	}
	defer c.srv.leaveLoops()
	err := c.gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		return nil
	}))
	return err == nil
}

// sendRaw hands bytes the caller owns to gnet.
func (c *Conn) sendRaw(b []byte) error { return c.sendRawThen(b, nil) }

// sendRawThen is sendRaw with then run on the loop right after gnet took
// the bytes (not when a write failed).
func (c *Conn) sendRawThen(b []byte, then func()) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	n := int64(len(b))
	// Only bytes not yet taken by the loop are counted here; the loop judges
	// gnet's own buffer with exact numbers in written.
	if c.queued.Add(n) > int64(c.srv.cfg.MaxOutbound) {
		c.queued.Add(-n)
		c.abort(ErrOutboundOverflow)
		return ErrOutboundOverflow
	}
	if !c.srv.enterLoops() {
		c.queued.Add(-n)
		return ErrConnClosed
	}
	err := c.gc.AsyncWrite(b, func(_ gnet.Conn, err error) error {
		c.written(n, err)
		if err == nil && then != nil {
			then()
		}
		return nil
	})
	c.srv.leaveLoops()
	if err != nil {
		c.queued.Add(-n)
		return ErrConnClosed
	}
	return nil
}

// written runs on the loop after gnet took n queued bytes.
func (c *Conn) written(n int64, err error) {
	c.queued.Add(-n)
	if err != nil || c.phase == phaseClosed {
		return
	}
	ob := int64(c.gc.OutboundBuffered())
	c.outbound.Store(ob)
	if ob+c.queued.Load() > int64(c.srv.cfg.MaxOutbound) {
		c.fail(ErrOutboundOverflow)
	}
}

// waitWritable blocks while the output queue is above the high-water mark,
// until it falls to half of it. gnet reports no "drained" event, so the
// waiter asks the loop for fresh numbers, backing off while the client
// reads nothing.
func (c *Conn) waitWritable(ctx context.Context) error {
	high := int64(c.srv.cfg.HighWater)
	if int64(c.OutboundBuffered()) <= high {
		return nil
	}
	c.ln.m.stalled()
	low := high / 2
	backoff := 200 * time.Microsecond
	for {
		prev := int64(c.OutboundBuffered())
		ch, err := c.requestDrainCheck()
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.closed.Load() {
			return ErrConnClosed
		}
		cur := int64(c.OutboundBuffered())
		if cur <= low {
			return nil
		}
		if cur < prev {
			backoff = 200 * time.Microsecond
		} else {
			backoff = min(2*backoff, 10*time.Millisecond)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func (c *Conn) requestDrainCheck() (<-chan struct{}, error) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil, ErrConnClosed
	}
	r := c.extra()
	ch := r.drained
	first := ch == nil
	if first {
		ch = make(chan struct{})
		r.drained = ch
	}
	c.mu.Unlock()
	if first && !c.runOnLoop(c.checkDrain) {
		c.mu.Lock()
		if r.drained == ch {
			close(ch)
			r.drained = nil
		}
		c.mu.Unlock()
		return nil, ErrConnClosed
	}
	return ch, nil
}

// checkDrain runs on the loop: refresh the outbound count, wake the waiters.
func (c *Conn) checkDrain() {
	if c.phase != phaseClosed {
		c.outbound.Store(int64(c.gc.OutboundBuffered()))
	}
	c.mu.Lock()
	if r := c.rare.Load(); r != nil && r.drained != nil {
		close(r.drained)
		r.drained = nil
	}
	c.mu.Unlock()
}

func (c *Conn) setCloseErr(err error) {
	if err == nil {
		return
	}
	r := c.extra()
	c.mu.Lock()
	if r.closeErr == nil {
		r.closeErr = err
	}
	c.mu.Unlock()
}

// abort closes the connection at once from any goroutine.
func (c *Conn) abort(err error) {
	c.setCloseErr(err)
	if c.srv.enterLoops() {
		_ = c.gc.Close()
		c.srv.leaveLoops()
	}
}

// fail closes the connection at once; loop only.
func (c *Conn) fail(err error) {
	if c.phase == phaseClosed {
		return
	}
	c.setCloseErr(err)
	c.closing = true
	c.held = nil
	_ = c.gc.Close()
}

// closeAfterFlush stops input and closes once queued output is sent; loop only.
func (c *Conn) closeAfterFlush(reason error) {
	if c.phase == phaseClosed || c.closing {
		return
	}
	c.closing = true
	c.held = nil
	c.setCloseErr(reason)
	c.extra().flushBy = time.Now().Add(c.srv.cfg.FlushTimeout).UnixNano()
	c.finishClose(time.Millisecond)
}

func (c *Conn) finishClose(next time.Duration) {
	if c.phase == phaseClosed {
		return
	}
	if (c.gc.OutboundBuffered() == 0 && c.queued.Load() == 0) || time.Now().UnixNano() >= c.extra().flushBy {
		_ = c.gc.Close()
		return
	}
	time.AfterFunc(next, func() {
		// If the loops are gone, so is the connection.
		c.runOnLoop(func() { c.finishClose(min(2*next, 100*time.Millisecond)) })
	})
}

// onOpen runs on the loop when gnet registered the socket.
func (c *Conn) onOpen(gc gnet.Conn) {
	c.gc = gc
	c.lastRead.Store(time.Now().UnixNano())
	c.idleNs.Store(int64(c.srv.cfg.IdleTimeout))
	c.srv.register(c)
	c.ln.m.opened()
	if c.expectProxy {
		c.phase = phaseHeader
		c.setPhaseDeadline(c.srv.cfg.HeaderTimeout)
		return
	}
	c.afterHeader()
}

func (c *Conn) afterHeader() {
	if c.ln.Mode == ModeTLS {
		c.beginHandshake()
		return
	}
	c.openSession()
}

func (c *Conn) openSession() {
	c.phase = phaseOpen
	c.deadline.Store(0)
	c.lastRead.Store(time.Now().UnixNano()) // idle time counts from the greeting
	sess := c.callOpen()
	if c.phase != phaseOpen {
		return
	}
	if sess == nil {
		c.closeAfterFlush(nil)
		return
	}
	c.sess = sess
}

// onTraffic runs on the loop when bytes arrived.
func (c *Conn) onTraffic() {
	data, err := c.gc.Next(-1)
	if err != nil || len(data) == 0 || c.closing {
		return
	}
	c.lastRead.Store(time.Now().UnixNano())
	switch c.phase {
	case phaseHeader:
		c.onHeaderBytes(data)
	case phaseHandshake:
		c.onHandshakeBytes(data)
	case phaseOpen:
		if c.tls != nil {
			c.decrypt(data)
		} else {
			c.receive(data)
		}
	}
}

func (c *Conn) onHeaderBytes(data []byte) {
	c.held = append(c.held, data...)
	h, n, err := ParseProxyHeader(c.held)
	if errors.Is(err, ErrProxyIncomplete) {
		return // the parser bounds the header's length itself
	}
	if err != nil {
		c.Logger().Info("netloop: bad PROXY header from trusted peer", "err", err)
		c.fail(fmt.Errorf("netloop: from trusted peer: %w", err))
		return
	}
	rest := c.held[n:]
	c.held = nil
	if !h.Local && h.Source.IsValid() {
		c.remote = net.TCPAddrFromAddrPort(h.Source)
		if h.Dest.IsValid() {
			c.local = net.TCPAddrFromAddrPort(h.Dest)
		}
	}
	if err := c.acquireIP(); err != nil {
		c.Logger().Info("netloop: connection refused", "reason", err.Error())
		c.ln.m.refuse(err)
		if msg := c.srv.refusal(c.ln, err); len(msg) > 0 {
			_, _ = c.gc.Write(msg)
		}
		c.fail(err)
		return
	}
	c.afterHeader()
	if len(rest) == 0 || c.closing {
		return
	}
	switch c.phase {
	case phaseHandshake:
		c.onHandshakeBytes(rest)
	case phaseOpen:
		c.receive(rest)
	}
}

func (c *Conn) acquireIP() error {
	ta, ok := c.remote.(*net.TCPAddr)
	if !ok {
		return nil
	}
	key, counted, err := c.srv.cfg.Limits.acquireIP(ta.AddrPort().Addr())
	if err != nil {
		return err
	}
	if counted {
		c.ipKey = &key
	}
	return nil
}

func (c *Conn) releaseLimits() {
	if c.ipKey != nil {
		key := *c.ipKey
		c.ipKey = nil
		c.srv.cfg.Limits.releaseIP(key)
	}
	if c.countedConn {
		c.countedConn = false
		c.srv.cfg.Limits.releaseConn()
	}
}

// receive takes plaintext for the session; loop only.
func (c *Conn) receive(p []byte) {
	if c.closing || c.flags.Load()&(flagStartTLS|flagCloseReq) != 0 {
		return // after STARTTLS this is pipelined cleartext: dropped
	}
	if c.flags.Load()&flagPaused != 0 {
		if len(c.held)+len(p) > c.srv.cfg.MaxInbound {
			c.fail(ErrInboundOverflow)
			return
		}
		c.held = append(c.held, p...)
		return
	}
	if len(c.held) == 0 {
		c.deliver(p, false)
		return
	}
	// What deliver leaves unconsumed is judged against the limit, not
	// what arrived: a session consuming as fast as bytes come holds none.
	c.held = append(c.held, p...)
	c.deliver(c.held, true)
}

func (c *Conn) canDeliver() bool {
	return c.phase == phaseOpen && !c.closing && c.sess != nil &&
		c.flags.Load()&(flagPaused|flagStartTLS|flagCloseReq) == 0
}

// deliver offers p to the session until it stops consuming and keeps the
// rest. fromHeld says p is c.held itself.
func (c *Conn) deliver(p []byte, fromHeld bool) {
	for len(p) > 0 && c.canDeliver() {
		n := c.callData(p)
		if n <= 0 {
			break
		}
		p = p[min(n, len(p)):]
	}
	if c.phase != phaseOpen || c.closing || c.flags.Load()&(flagStartTLS|flagCloseReq) != 0 {
		c.held = nil
		return
	}
	switch {
	case len(p) == 0:
		c.held = nil // an idle connection keeps no buffer
	case len(p) > c.srv.cfg.MaxInbound:
		c.fail(ErrInboundOverflow)
	case fromHeld:
		n := copy(c.held, p)
		c.held = c.held[:n]
		if cap(c.held) > 4096 && cap(c.held) > 4*n {
			c.held = bytes.Clone(c.held) // give back the space of a burst
		}
	default:
		c.held = bytes.Clone(p)
	}
}

func (c *Conn) resumed() {
	if c.phase != phaseOpen || c.closing || c.flags.Load()&flagPaused != 0 {
		return
	}
	if c.flags.Load()&flagShutdown != 0 {
		c.closeAfterFlush(ErrServerClosed)
		return
	}
	if len(c.held) > 0 {
		c.deliver(c.held, true)
	}
}

func (c *Conn) beginShutdown() {
	if c.phase == phaseClosed || c.closing {
		return
	}
	c.flags.Or(flagShutdown)
	if c.phase != phaseOpen || c.sess == nil {
		c.fail(ErrServerClosed)
		return
	}
	c.callShutdown()
	if c.phase == phaseOpen && c.flags.Load()&flagPaused == 0 {
		c.closeAfterFlush(ErrServerClosed)
	}
}

// onClose runs on the loop when gnet closed the socket, whoever asked.
func (c *Conn) onClose(err error) {
	if c.phase == phaseClosed {
		return
	}
	c.phase = phaseClosed
	c.closing = true
	c.closed.Store(true)
	var reason error
	c.mu.Lock()
	if r := c.rare.Load(); r != nil {
		if r.drained != nil {
			close(r.drained)
			r.drained = nil
		}
		reason = r.closeErr
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	if reason == nil {
		reason = err
	}
	c.wmu.Lock()
	c.wmode = writeClosed
	if r := c.rare.Load(); r != nil {
		r.pendOut = nil
	}
	c.wmu.Unlock()
	if c.tls != nil {
		c.tls.tr.close()
	}
	c.held = nil
	c.releaseLimits()
	if c.sess != nil {
		c.callClose(reason)
	}
	c.srv.unregister(c)
	c.ln.m.closedFor(reason)
	if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		c.Logger().Debug("netloop: connection closed", "reason", errString(reason))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Deadlines: the server's sweep (timers.go) finds connections past the
// nearest of the phase deadline and the idle deadline. Reads only store a
// timestamp, so traffic costs no timer work.

func (c *Conn) setPhaseDeadline(d time.Duration) {
	c.deadline.Store(time.Now().Add(d).UnixNano())
	c.srv.noteTimeout(d)
}

func (c *Conn) nextTimeout(now int64) (time.Duration, bool) {
	if dl := c.deadline.Load(); dl != 0 {
		return time.Duration(max(dl-now, 0)), true
	}
	idle := c.idleNs.Load()
	if idle <= 0 {
		return 0, false
	}
	return time.Duration(max(c.lastRead.Load()+idle-now, 0)), true
}

// timedOut runs on the loop when the sweep found c past a deadline; it
// checks again, since the client may have been heard from since.
func (c *Conn) timedOut() {
	if c.phase == phaseClosed || c.closing {
		return
	}
	now := time.Now().UnixNano()
	if dl := c.deadline.Load(); dl != 0 {
		if now < dl {
			return
		}
		switch c.phase {
		case phaseHeader:
			c.fail(ErrHeaderTimeout)
		default:
			c.ln.m.handshakeDone(ErrHandshakeTimeout, 0)
			c.fail(ErrHandshakeTimeout)
		}
		return
	}
	idle := c.idleNs.Load()
	if idle <= 0 {
		return
	}
	if c.flags.Load()&flagPaused != 0 {
		c.lastRead.Store(now) // a command in flight is not idleness
		return
	}
	if now < c.lastRead.Load()+idle {
		return
	}
	if n, ok := c.sess.(IdleNotifier); ok {
		c.guard("OnIdleTimeout", n.OnIdleTimeout)
	}
	c.closeAfterFlush(ErrIdleTimeout)
}

// Session calls, guarded: a panic in one session must not stop the event
// loop, which serves thousands of others.

func (c *Conn) panicked(where string, r any) {
	c.Logger().Error("netloop: session panicked", "in", where, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	c.fail(fmt.Errorf("netloop: session panicked in %s: %v", where, r))
}

func (c *Conn) guard(where string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			c.panicked(where, r)
		}
	}()
	fn()
}

func (c *Conn) callOpen() (s Session) {
	defer func() {
		if r := recover(); r != nil {
			c.panicked("Open", r)
			s = nil
		}
	}()
	return c.srv.cfg.Handler.Open(c)
}

func (c *Conn) callData(p []byte) (n int) {
	defer func() {
		if r := recover(); r != nil {
			c.panicked("OnData", r)
			n = 0
		}
	}()
	return c.sess.OnData(p)
}

func (c *Conn) callShutdown() { c.guard("OnShutdown", c.sess.OnShutdown) }

func (c *Conn) callClose(err error) {
	defer func() {
		if r := recover(); r != nil {
			c.Logger().Error("netloop: session panicked", "in", "OnClose", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	c.sess.OnClose(err)
}
