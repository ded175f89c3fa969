package pop3_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/internal/testkit"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// env is an engine on the embedded backends in a temp dir with a POP3
// server on two loopback listeners: cleartext with STLS, and implicit TLS.
type env struct {
	t       testing.TB
	e       *engine.Engine
	dir     string
	plain   string // cleartext + STLS listener
	tls     string // POP3S listener
	cert    testkit.Cert
	caFile  string // PEM of the self-signed certificate
	roots   *x509.CertPool
	servers []*netloop.Server
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("EIDER_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB, cfg pop3.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, nil)
}

// newEnvWith wraps the metadata store with wrap (to inject failures).
func newEnvWith(t testing.TB, cfg pop3.Config, wrap func(engine.MetaStore) engine.MetaStore) *env {
	t.Helper()
	log := testLogger(t)
	store := enginekit.Open(t, enginekit.Options{Logger: log, WrapMeta: wrap})
	e := store.Engine
	v := &env{t: t, e: e, dir: store.Dir}
	v.makeCert()
	pool := netloop.NewPool(netloop.PoolConfig{Logger: log})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range v.servers {
			_ = s.Shutdown(ctx)
		}
		_ = pool.Close(ctx)
	})
	cfg.Pool, cfg.Logger, cfg.Hostname = pool, log, "pop3.test"
	if cfg.AuthFailureDelay == 0 {
		cfg.AuthFailureDelay = -1
	}
	addrs := v.serve(pop3.NewServer(e, cfg))
	v.plain, v.tls = addrs[0], addrs[1]
	return v
}

// serve starts a netloop server for h with both listeners.
func (v *env) serve(h netloop.Handler) []string {
	v.t.Helper()
	srv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{
			{Name: "pop3", Addr: "127.0.0.1:0", Mode: netloop.ModeStartTLS},
			{Name: "pop3s", Addr: "127.0.0.1:0", Mode: netloop.ModeTLS},
		},
		Handler:   h,
		TLSConfig: v.cert.ServerConfig(),
		Logger:    testLogger(v.t),
	})
	if err != nil {
		v.t.Fatal(err)
	}
	go srv.Serve(context.Background())
	v.servers = append(v.servers, srv)
	return []string{srv.Addrs()[0].String(), srv.Addrs()[1].String()}
}

// makeCert makes a self-signed certificate for localhost and 127.0.0.1 and
// writes it to caFile for the clients run as programs.
func (v *env) makeCert() {
	v.cert = testkit.NewCert(v.t, "localhost")
	v.roots = v.cert.Roots
	v.caFile = filepath.Join(v.dir, "cert.pem")
	if err := os.WriteFile(v.caFile, v.cert.CertPEM, 0o600); err != nil {
		v.t.Fatal(err)
	}
}

func (v *env) user(name string) engine.User {
	v.t.Helper()
	u, err := v.e.CreateUser(context.Background(), name, "secret", 0)
	if err != nil {
		v.t.Fatal(err)
	}
	return u
}

func (v *env) inbox(u engine.User) engine.Mailbox {
	v.t.Helper()
	mb, err := v.e.Mailbox(context.Background(), u.ID, "INBOX")
	if err != nil {
		v.t.Fatal(err)
	}
	return mb
}

// appendMsgs stores messages in the user's INBOX and returns their UIDs.
func (v *env) appendMsgs(u engine.User, msgs ...[]byte) []engine.UID {
	v.t.Helper()
	mb := v.inbox(u)
	var uids []engine.UID
	for _, m := range msgs {
		res, err := v.e.Append(context.Background(), u.ID, mb.ID, bytes.NewReader(m), engine.AppendOptions{})
		if err != nil {
			v.t.Fatal(err)
		}
		uids = append(uids, res.UID)
	}
	return uids
}

// state returns the INBOX UIDs and the UIDs flagged \Seen.
func (v *env) state(u engine.User, mailbox string) (all, seen []uint32) {
	v.t.Helper()
	ctx := context.Background()
	mb, err := v.e.Mailbox(ctx, u.ID, mailbox)
	if err != nil {
		v.t.Fatal(err)
	}
	uids, _, err := v.e.UIDs(ctx, u.ID, mb.ID)
	if err != nil {
		v.t.Fatal(err)
	}
	err = v.e.Messages(ctx, u.ID, mb.ID, uids, func(m *engine.MessageMeta) error {
		all = append(all, uint32(m.UID))
		for _, f := range m.Flags {
			if f == engine.FlagSeen {
				seen = append(seen, uint32(m.UID))
			}
		}
		return nil
	})
	if err != nil {
		v.t.Fatal(err)
	}
	return all, seen
}

// client is a raw POP3 client.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	c.ok()
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading line: %v", err)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// ok reads a line that must be +OK and returns its text.
func (c *client) ok() string {
	c.t.Helper()
	l := c.line()
	if !strings.HasPrefix(l, "+OK") {
		c.t.Fatalf("got %q, want +OK", l)
	}
	return strings.TrimPrefix(strings.TrimPrefix(l, "+OK"), " ")
}

// err reads a line that must be -ERR with the given response code ("" for none).
func (c *client) err(code string) string {
	c.t.Helper()
	l := c.line()
	want := "-ERR"
	if code != "" {
		want += " [" + code + "]"
	}
	if !strings.HasPrefix(l, want) || code == "" && strings.HasPrefix(l, "-ERR [") {
		c.t.Fatalf("got %q, want %s", l, want)
	}
	return l
}

// multi reads a multi-line body up to its terminator, undoing dot-stuffing.
func (c *client) multi() []byte {
	c.t.Helper()
	var out []byte
	for {
		l, err := c.r.ReadBytes('\n')
		if err != nil {
			c.t.Fatalf("multi-line reply: %v", err)
		}
		if string(l) == ".\r\n" {
			return out
		}
		if l[0] == '.' {
			l = l[1:]
		}
		out = append(out, l...)
	}
}

func (c *client) login(user, pass string) string {
	c.t.Helper()
	c.send("USER " + user + "\r\nPASS " + pass + "\r\n")
	c.ok()
	return c.ok()
}

func (c *client) retr(n int) []byte {
	c.t.Helper()
	c.send("RETR " + strconv.Itoa(n) + "\r\n")
	c.ok()
	return c.multi()
}

// startTLS runs STLS and the handshake.
func (c *client) startTLS(roots *x509.CertPool) {
	c.t.Helper()
	c.send("STLS\r\n")
	c.ok()
	tc := tls.Client(c.conn, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn = tc
	c.r.Reset(tc)
}

func dialTLS(t testing.TB, addr string, roots *x509.CertPool) *client {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	c.ok()
	return c
}

func bitmap(uids ...engine.UID) *roaring.Bitmap {
	b := roaring.New()
	for _, u := range uids {
		b.Add(uint32(u))
	}
	return b
}

func hostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}

func message(i int) []byte {
	var b strings.Builder
	b.WriteString("From: s@remote.test\r\nTo: u@example.com\r\nSubject: message " + strconv.Itoa(i) + "\r\n\r\n")
	b.WriteString("first body line\r\n.a line that starts with a dot\r\n..and two\r\n")
	for j := range i % 7 {
		b.WriteString("line " + strconv.Itoa(j) + "\r\n")
	}
	return []byte(b.String())
}
