package netloop

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// TLS over the event loop. crypto/tls wants a blocking net.Conn; gnet hands
// out bytes in callbacks. The bridge is tlsTransport, an in-memory net.Conn:
//
//   - The handshake runs in a short-lived goroutine started by the client's
//     first bytes. Its reads block until OnTraffic feeds more ciphertext; its
//     writes are copied and queued on the loop. When it ends, the result goes
//     back to the loop, and the goroutine exits: an idle TLS connection keeps
//     no goroutine.
//   - After the handshake the loop calls tls.Conn.Read itself. The transport
//     then returns a Temporary net.Error when it runs dry; crypto/tls treats
//     that as "try again later" and keeps a partial record for the next call.

// errWouldBlock is the transport's "no ciphertext buffered" signal.
var errWouldBlock net.Error = wouldBlockError{}

type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "netloop: no ciphertext buffered" }
func (wouldBlockError) Timeout() bool   { return false }
func (wouldBlockError) Temporary() bool { return true }

type tlsState struct {
	tr      tlsTransport
	conn    *tls.Conn
	started bool
	began   time.Time // the ClientHello's first bytes, for the handshake histogram
}

type tlsTransport struct {
	c *Conn

	mu       sync.Mutex
	in       []byte        // ciphertext not yet read by crypto/tls
	blocking bool          // during the handshake: Read waits for bytes
	ready    chan struct{} // handshake only: pinged when bytes arrive, closed on close
	closed   bool
	finished bool   // the handshake goroutine is done
	result   error  // and this is how it ended
	gather   []byte // non-nil: Write collects records here instead of sending
}

func (t *tlsTransport) Read(p []byte) (int, error) {
	t.mu.Lock()
	for {
		if len(t.in) > 0 {
			n := copy(p, t.in)
			t.in = t.in[n:]
			if len(t.in) == 0 {
				t.in = nil
			}
			t.mu.Unlock()
			return n, nil
		}
		if t.closed {
			t.mu.Unlock()
			return 0, net.ErrClosed
		}
		if !t.blocking {
			t.mu.Unlock()
			return 0, errWouldBlock
		}
		ready := t.ready
		t.mu.Unlock()
		<-ready
		t.mu.Lock()
	}
}

// Write copies p, since crypto/tls reuses its record buffer, and queues it
// (or gathers it, see Conn.ResumeWith).
func (t *tlsTransport) Write(p []byte) (int, error) {
	t.mu.Lock()
	if t.gather != nil {
		t.gather = append(t.gather, p...)
		t.mu.Unlock()
		return len(p), nil
	}
	t.mu.Unlock()
	b := make([]byte, len(p))
	copy(b, p)
	if err := t.c.sendRaw(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close is called by crypto/tls only on paths the server does not take
// (tls.Conn.Close); the socket itself is closed by the loop.
func (t *tlsTransport) Close() error {
	t.close()
	return nil
}

func (t *tlsTransport) LocalAddr() net.Addr  { return t.c.local }
func (t *tlsTransport) RemoteAddr() net.Addr { return t.c.remote }

// Deadlines are the loop's business (handshake timer, idle timer).
func (t *tlsTransport) SetDeadline(time.Time) error      { return nil }
func (t *tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsTransport) SetWriteDeadline(time.Time) error { return nil }

// push appends ciphertext for the handshake goroutine and returns how much is
// waiting.
func (t *tlsTransport) push(b []byte) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0
	}
	t.in = append(t.in, b...)
	select {
	case t.ready <- struct{}{}:
	default:
	}
	return len(t.in)
}

// feed lends the loop's read buffer to crypto/tls for one decrypt pass.
func (t *tlsTransport) feed(b []byte) {
	if len(b) == 0 {
		return
	}
	t.mu.Lock()
	if len(t.in) == 0 {
		t.in = b
	} else {
		t.in = append(t.in, b...)
	}
	t.mu.Unlock()
}

// unfeed ends a decrypt pass. crypto/tls reads until the transport is dry,
// so normally nothing is left; what is left (after an error) is dropped.
func (t *tlsTransport) unfeed() {
	t.mu.Lock()
	t.in = nil
	t.mu.Unlock()
}

// finish records the handshake's outcome for the loop.
func (t *tlsTransport) finish(err error) {
	t.mu.Lock()
	t.finished, t.result = true, err
	t.mu.Unlock()
}

func (t *tlsTransport) outcome() (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.finished, t.result
}

func (t *tlsTransport) toLoopMode() {
	t.mu.Lock()
	t.blocking = false
	t.ready = nil
	t.mu.Unlock()
}

func (t *tlsTransport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	t.in = nil
	if t.ready != nil {
		close(t.ready)
	}
}

// beginHandshake enters phaseHandshake; the goroutine starts with the
// client's first bytes, so a silent client costs only its timer.
func (c *Conn) beginHandshake() {
	c.phase = phaseHandshake
	c.tls = &tlsState{tr: tlsTransport{c: c, blocking: true, ready: make(chan struct{}, 1)}}
	c.setPhaseDeadline(c.srv.cfg.HandshakeTimeout)
}

func (c *Conn) onHandshakeBytes(data []byte) {
	t := c.tls
	n := t.tr.push(data)
	if done, _ := t.tr.outcome(); done {
		// The goroutine is done but its report has not reached the loop yet:
		// these bytes are application data, so finish here and decrypt them
		// instead of letting them pile up.
		c.handshakeDone(t)
		return
	}
	if n > c.srv.cfg.MaxInbound {
		c.fail(ErrInboundOverflow)
		return
	}
	if !t.started {
		t.started = true
		t.began = time.Now()
		t.conn = tls.Server(&t.tr, c.srv.tlsBase)
		go c.handshake(t)
	}
}

func (c *Conn) handshake(t *tlsState) {
	t.tr.finish(t.conn.Handshake())
	if !c.runOnLoop(func() { c.handshakeDone(t) }) {
		t.tr.close()
	}
}

func (c *Conn) handshakeDone(t *tlsState) {
	if c.phase != phaseHandshake || c.tls != t || c.closing {
		return
	}
	_, err := t.tr.outcome()
	c.ln.m.handshakeDone(err, time.Since(t.began))
	if err != nil {
		c.Logger().Info("netloop: TLS handshake failed", "err", err)
		c.fail(fmt.Errorf("netloop: TLS handshake: %w", err))
		return
	}
	t.tr.toLoopMode()
	c.deadline.Store(0)
	c.wmu.Lock()
	if c.wmode == writeHold {
		c.wmode = writeTLS
		c.wtls = t
		if r := c.rare.Load(); r != nil && len(r.pendOut) > 0 {
			_, _ = t.conn.Write(r.pendOut)
		}
	}
	if r := c.rare.Load(); r != nil {
		r.pendOut = nil
	}
	c.wmu.Unlock()
	c.tlsDone.Store(t.conn)
	c.flags.And(^flagStartTLS)
	if c.sess == nil {
		c.openSession() // implicit TLS: the session starts now
	} else {
		c.phase = phaseOpen
		c.lastRead.Store(time.Now().UnixNano())
	}
	if c.phase == phaseOpen && !c.closing {
		c.decrypt(nil) // application data sent right after the client's Finished
	}
}

// decrypt runs crypto/tls over the ciphertext that arrived and delivers the
// plaintext; loop only.
func (c *Conn) decrypt(data []byte) {
	t := c.tls
	t.tr.feed(data)
	defer t.tr.unfeed()
	bufp := c.srv.scratch.Get().(*[]byte)
	defer c.srv.scratch.Put(bufp)
	for !c.closing {
		n, err := t.conn.Read(*bufp)
		if n > 0 {
			c.receive((*bufp)[:n])
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, errWouldBlock) {
			if !errors.Is(err, io.EOF) {
				c.Logger().Debug("netloop: TLS read failed", "err", err)
			}
			c.fail(fmt.Errorf("netloop: TLS read: %w", err))
		}
		return
	}
}

// switchToTLS runs on the loop after StartTLS: the reply is the last
// cleartext, and whatever the client pipelined after the command is dropped.
func (c *Conn) switchToTLS(reply []byte) {
	if c.phase != phaseOpen || c.closing {
		return
	}
	c.held = nil
	if len(reply) > 0 {
		if _, err := c.gc.Write(reply); err != nil || c.phase != phaseOpen {
			return
		}
	}
	c.beginHandshake()
}
