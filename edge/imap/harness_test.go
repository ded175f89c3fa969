package imap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/notify/local"
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
	cert    testCert
	logs    *syncBuffer
}

type serverOptions struct {
	cfg        Config
	quota      int64
	ingest     engine.IngestOptions
	noPlain    bool // keep LOGINDISABLED on plaintext
	limits     netloop.LimitConfig
	maxInbound int
}

func newTestServer(t testing.TB, opt serverOptions) *testServer {
	t.Helper()
	dir := t.TempDir()
	meta, err := metasqlite.Open(filepath.Join(dir, "meta.db"), metasqlite.Options{TextIndex: metasqlite.TextIndexInline})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobfs.Open(blobfs.Options{Path: filepath.Join(dir, "blobs"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{
		Meta: meta, Blobs: blobs, Notifier: local.New(), Ingest: opt.ingest,
		Passwords: engine.PasswordParams{Time: 1, MemKiB: 1024, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.CreateUser(context.Background(), testUser, testPassword, opt.quota)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, e: e, user: u, dir: dir, cert: newTestCert(t), logs: &syncBuffer{}}
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
		TLSConfig:  ts.cert.serverConfig(),
		Limits:     limits,
		Logger:     logger,
		EventLoops: 2,
		MaxInbound: opt.maxInbound,
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
		_ = e.Close()
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

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
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

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	cert    tls.Certificate
	roots   *x509.CertPool
	certPEM []byte
}

func newTestCert(t testing.TB) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return testCert{
		cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		roots:   roots,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
}

func (tc testCert) serverConfig() func(*tls.ClientHelloInfo) (*tls.Config, error) {
	cfg := &tls.Config{Certificates: []tls.Certificate{tc.cert}, MinVersion: tls.VersionTLS12}
	return func(*tls.ClientHelloInfo) (*tls.Config, error) { return cfg, nil }
}

func (tc testCert) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: tc.roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
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
