package netloop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eidermail/eider/internal/testkit"
)

// echoHandler is the test protocol: a greeting, then one command or echoed
// line per CRLF-terminated line.
//
//	STARTTLS      "OK begin TLS", then TLS
//	WHO           "WHO <remote> <local>"
//	TLS           "TLS yes" or "TLS no"
//	SLOW <ms>     paused worker job, then "OK slow done"
//	BIG <n>       n pattern bytes through Conn.Writer, then "\r\nOK big done"
//	IDLE <ms>     sets the idle timeout, "OK idle"
//	QUIT          "* BYE bye" and close
//	PANIC         the session panics
//	anything else is echoed back
type echoHandler struct {
	pool *Pool

	opened    atomic.Int64
	closed    atomic.Int64
	shutdowns atomic.Int64
	bigPeak   atomic.Int64 // highest OutboundBuffered seen by BIG's writer
	closeErrs chan error
	last      atomic.Pointer[Conn] // the most recently opened connection
}

func newEchoHandler(pool *Pool) *echoHandler {
	return &echoHandler{pool: pool, closeErrs: make(chan error, 1<<16)}
}

func (h *echoHandler) Open(c *Conn) Session {
	h.opened.Add(1)
	h.last.Store(c)
	if err := c.Write([]byte("* OK echo ready\r\n")); err != nil {
		return nil
	}
	return &echoSession{h: h, c: c}
}

func (h *echoHandler) Refuse(reason error) []byte {
	if errors.Is(reason, ErrTooManyFromIP) {
		return []byte("* BYE Too many connections from your address\r\n")
	}
	return []byte("* BYE Too many connections\r\n")
}

// nextCloseErr waits for a session's OnClose.
func (h *echoHandler) nextCloseErr(t testing.TB) error {
	t.Helper()
	select {
	case err := <-h.closeErrs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no session closed")
		return nil
	}
}

type echoSession struct {
	h       *echoHandler
	c       *Conn
	literal int // bytes of a LITERAL still to take
	took    int
}

func (s *echoSession) OnData(p []byte) int {
	if s.literal > 0 {
		n := min(len(p), s.literal)
		s.literal -= n
		s.took += n
		if s.literal == 0 {
			_ = s.c.Write(fmt.Appendf(nil, "OK literal %d\r\n", s.took))
		}
		return n
	}
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return 0
	}
	s.command(p[:i+1])
	return i + 1
}

func (s *echoSession) command(line []byte) {
	verb, arg, _ := strings.Cut(strings.TrimRight(string(line), "\r\n"), " ")
	c := s.c
	switch verb {
	case "STARTTLS":
		if err := c.StartTLS([]byte("OK begin TLS\r\n")); err != nil {
			_ = c.Write([]byte("NO " + err.Error() + "\r\n"))
			return
		}
		// Written while the handshake has not even started: it must reach
		// the client encrypted, after the handshake.
		_ = c.Write([]byte("* encrypted hello\r\n"))
	case "WHO":
		_ = c.Write(fmt.Appendf(nil, "WHO %s %s\r\n", c.RemoteAddr(), c.LocalAddr()))
	case "TLS":
		if c.TLS() != nil {
			_ = c.Write([]byte("TLS yes\r\n"))
		} else {
			_ = c.Write([]byte("TLS no\r\n"))
		}
	case "SLOW":
		ms, _ := strconv.Atoi(arg)
		s.inWorker(func() {
			// Like a store call, the job gives up when the connection goes.
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
				_ = c.Write([]byte("OK slow done\r\n"))
			case <-c.Context().Done():
			}
		})
	case "BIG":
		n, _ := strconv.Atoi(arg)
		s.inWorker(func() {
			w := c.Writer(c.Context())
			chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
			for sent := 0; sent < n; {
				k := min(len(chunk), n-sent)
				if _, err := w.Write(chunk[:k]); err != nil {
					return
				}
				sent += k
				if b := int64(c.OutboundBuffered()); b > s.h.bigPeak.Load() {
					s.h.bigPeak.Store(b)
				}
			}
			_ = c.Write([]byte("\r\nOK big done\r\n"))
		})
	case "LITERAL":
		// A worker asks for n bytes the way IMAP asks for a literal.
		n, _ := strconv.Atoi(arg)
		c.Pause()
		err := s.h.pool.Submit(c.Context(), func() {
			s.literal, s.took = n, 0
			_ = c.ResumeWith([]byte("+ go\r\n"))
		})
		if err != nil {
			c.Resume()
		}
	case "IDLE":
		ms, _ := strconv.Atoi(arg)
		c.SetIdleTimeout(time.Duration(ms) * time.Millisecond)
		_ = c.Write([]byte("OK idle\r\n"))
	case "QUIT":
		_ = c.Write([]byte("* BYE bye\r\n"))
		_ = c.Close()
	case "PANIC":
		panic("echo session asked to panic")
	default:
		_ = c.Write(line)
	}
}

// inWorker runs fn on the pool with input paused, the way a protocol runs a
// store command.
func (s *echoSession) inWorker(fn func()) {
	s.c.Pause()
	err := s.h.pool.Submit(s.c.Context(), func() {
		defer s.c.Resume()
		fn()
	})
	if err != nil {
		s.c.Resume()
		_ = s.c.Write([]byte("NO busy\r\n"))
	}
}

func (s *echoSession) OnShutdown() {
	s.h.shutdowns.Add(1)
	_ = s.c.Write([]byte("* BYE server shutting down\r\n"))
}

func (s *echoSession) OnIdleTimeout() {
	_ = s.c.Write([]byte("* BYE idle timeout\r\n"))
}

func (s *echoSession) OnClose(err error) {
	s.h.closed.Add(1)
	select {
	case s.h.closeErrs <- err:
	default:
	}
}

// testLogger discards logs unless EIDER_TEST_LOG is set, but always formats
// them at debug level so the logging paths run.
func testLogger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("EIDER_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testServer struct {
	*Server
	h     *echoHandler
	pool  *Pool
	cert  testkit.Cert
	start string // the ModeStartTLS listener
	tls   string // the ModeTLS listener
	plain string // the ModePlain listener
	done  chan error
}

// startServer runs an echo server with a plain, an implicit-TLS and a
// STARTTLS listener on loopback; edit adjusts the configuration.
func startServer(t testing.TB, edit func(*Config)) *testServer {
	t.Helper()
	cert := testkit.NewCert(t, "netloop test")
	pool := NewPool(PoolConfig{Workers: 16, IdleTimeout: 50 * time.Millisecond, Logger: testLogger()})
	h := newEchoHandler(pool)
	cfg := Config{
		Listeners: []Listener{
			{Name: "starttls", Addr: "tcp://127.0.0.1:0", Mode: ModeStartTLS},
			{Name: "tls", Addr: "tcp://127.0.0.1:0", Mode: ModeTLS},
			{Name: "plain", Addr: "127.0.0.1:0", Mode: ModePlain},
		},
		Handler:    h,
		TLSConfig:  cert.ServerConfig(),
		Logger:     testLogger(),
		EventLoops: 2,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, h: h, pool: pool, cert: cert, done: make(chan error, 1)}
	addrs := srv.Addrs()
	ts.start = addrs[0].String()
	if len(addrs) > 1 {
		ts.tls = addrs[1].String()
	}
	if len(addrs) > 2 {
		ts.plain = addrs[2].String()
	}
	go func() { ts.done <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case err := <-ts.done:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
		_ = pool.Close(context.Background())
	})
	return ts
}

// client is a line-oriented test client.
type client struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func newClient(t testing.TB, nc net.Conn) *client {
	t.Helper()
	t.Cleanup(func() { _ = nc.Close() })
	return &client{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func dialPlain(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, nc)
}

func (ts *testServer) dialTLS(t testing.TB) *client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", ts.tls, ts.cert.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, nc)
}

func (c *client) line() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading a line (got %q): %v", s, err)
	}
	return s
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.line(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("writing %q: %v", s, err)
	}
}

// expectEOF waits for the server to close the connection, skipping lines.
func (c *client) expectEOF(within time.Duration) []string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(within))
	var lines []string
	for {
		s, err := c.r.ReadString('\n')
		if s != "" {
			lines = append(lines, s)
		}
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v (read %q)", within, lines)
		}
		return lines // EOF or reset: closed
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
