package imap

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/internal/testkit"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

const (
	testUser     = "alice@example.com"
	testPassword = "secret"
)

// testServer is an IMAP server on the embedded store in a temp dir, with
// a STARTTLS listener and an implicit-TLS listener on loopback.
type testServer struct {
	t       testing.TB
	e       *engine.Engine
	h       *Handler
	srv     *netloop.Server
	user    engine.User
	dir     string
	addr    string // STARTTLS (plaintext until upgraded)
	tlsAddr string
	cert    testkit.Cert
	logs    *testkit.SyncBuffer
}

type serverOptions struct {
	cfg        Config
	quota      int64
	ingest     engine.IngestOptions
	noPlain    bool // keep LOGINDISABLED on plaintext
	limits     netloop.LimitConfig
	maxInbound int // 0: productionMaxInbound
	wrapMeta   func(engine.MetaStore) engine.MetaStore
}

func newTestServer(t testing.TB, opt serverOptions) *testServer {
	t.Helper()
	env := enginekit.Open(t, enginekit.Options{
		Ingest:   opt.ingest,
		Meta:     metasqlite.Options{TextIndex: metasqlite.TextIndexInline},
		WrapMeta: opt.wrapMeta,
	})
	e, dir := env.Engine, env.Dir
	u, err := e.CreateUser(context.Background(), testUser, testPassword, opt.quota)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, e: e, user: u, dir: dir, cert: testkit.NewCert(t, "localhost"), logs: &testkit.SyncBuffer{}}
	logger := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := opt.cfg
	cfg.Hostname = "imap.test"
	cfg.AllowPlaintextLogin = !opt.noPlain
	if cfg.AuthFailureDelay == 0 {
		cfg.AuthFailureDelay = -1
	}
	cfg.Logger = logger
	cfg.SpoolDir = dir
	limits := netloop.NewLimits(opt.limits)
	cfg.Limits = limits
	pool := netloop.NewPool(netloop.PoolConfig{Logger: logger, IdleTimeout: time.Second})
	cfg.Pool = pool
	ts.h = NewServer(e, cfg)
	srv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{
			{Name: "imap", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeStartTLS},
			{Name: "imaps", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeTLS},
		},
		Handler:    ts.h,
		TLSConfig:  ts.cert.ServerConfig(),
		Limits:     limits,
		Logger:     logger,
		EventLoops: 2,
		MaxInbound: cmp.Or(opt.maxInbound, productionMaxInbound),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	addrs := srv.Addrs()
	ts.addr, ts.tlsAddr = addrs[0].String(), addrs[1].String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(context.Background())
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		_ = pool.Close(ctx)
		if t.Failed() && ts.logs.Len() > 0 {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// appendMessage stores a message through the engine, as a delivery would.
func (ts *testServer) appendMessage(mailbox string, data []byte, flags ...string) engine.AppendResult {
	ts.t.Helper()
	ctx := context.Background()
	mb, err := ts.e.Mailbox(ctx, ts.user.ID, mailbox)
	if err != nil {
		ts.t.Fatalf("mailbox %q: %v", mailbox, err)
	}
	res, err := ts.e.Append(ctx, ts.user.ID, mb.ID, bytes.NewReader(data), engine.AppendOptions{
		Flags: flags, InternalDate: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		ts.t.Fatalf("append: %v", err)
	}
	return res
}

// rawClient speaks IMAP line by line over a socket.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c, r: newReader(c)}
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }

func (c *rawClient) send(line string) {
	c.t.Helper()
	c.sendRaw([]byte(line + "\r\n"))
}

func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readLine returns the next line without its line ending, or an error
// after the timeout.
func (c *rawClient) readLine(timeout time.Duration) (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return line, err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

func (c *rawClient) expect(prefix string) string {
	c.t.Helper()
	line, err := c.readLine(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %q: %v (got %q)", prefix, err, line)
	}
	if !strings.HasPrefix(line, prefix) {
		c.t.Fatalf("got %q, want prefix %q", line, prefix)
	}
	return line
}

// until reads lines until one starts with prefix and returns them all.
func (c *rawClient) until(prefix string) []string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.readLine(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v (after %q)", prefix, err, lines)
		}
		lines = append(lines, line)
		if strings.HasPrefix(line, prefix) {
			return lines
		}
	}
}

func (c *rawClient) login() {
	c.t.Helper()
	c.expect("* OK")
	c.send("L0 LOGIN " + testUser + " " + testPassword)
	c.until("L0 OK")
}

// expectClosed waits for the server to close the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c.r)
	if err != nil {
		c.t.Fatalf("connection not closed: %v", err)
	}
}

// readMessage loads testdata/messages/name.
func readMessage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Errorf("unexpected: %w", err))
	}
}

// productionMaxInbound is the held-input room `eider serve` gives IMAP
// connections (cmd/eider/edges.go): input a client pipelines while a
// command runs (LITERAL+ uploads, bursts of FETCH/STORE).
const productionMaxInbound = 1 << 20
