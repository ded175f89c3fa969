package lmtp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/edge/lmtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// env is an engine on the embedded backends in a temp dir, with the LMTP
// server and, for reading messages back, a POP3 server on loopback ports.
type env struct {
	t        testing.TB
	e        *engine.Engine
	blobs    *blobfs.Store
	dir      string
	lmtpAddr string
	pop3Addr string
}

type envOptions struct {
	lmtp   lmtp.Config
	ingest engine.IngestOptions
	// meta wraps the metadata store (to inject failures).
	meta func(engine.MetaStore) engine.MetaStore
}

// testLogger logs to the test output with EIDER_TEST_LOG=1, else nowhere.
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

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	log := testLogger(t)
	store := enginekit.Open(t, enginekit.Options{Ingest: o.ingest, Logger: log, WrapMeta: o.meta})
	e, blobs, dir := store.Engine, store.Blobs, store.Dir
	pool := netloop.NewPool(netloop.PoolConfig{Logger: log})
	cfg := o.lmtp
	cfg.Pool, cfg.Logger, cfg.Hostname = pool, log, "lmtp.test"
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = dir
	}
	lsrv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{{Name: "lmtp", Addr: "127.0.0.1:0"}},
		Handler:   lmtp.NewServer(e, cfg),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	psrv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{{Name: "pop3", Addr: "127.0.0.1:0"}},
		Handler: pop3.NewServer(e, pop3.Config{
			Pool: pool, Logger: log, Hostname: "pop3.test", AllowPlaintextAuth: true, AuthFailureDelay: -1,
		}),
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	for _, srv := range []*netloop.Server{lsrv, psrv} {
		go func() {
			_ = srv.Serve(ctx)
			done <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = lsrv.Shutdown(sctx)
		_ = psrv.Shutdown(sctx)
		cancel()
		<-done
		<-done
		_ = pool.Close(sctx)
	})
	return &env{t: t, e: e, blobs: blobs, dir: dir, lmtpAddr: lsrv.Addrs()[0].String(), pop3Addr: psrv.Addrs()[0].String()}
}

func (v *env) user(name string, quota int64) engine.User {
	v.t.Helper()
	u, err := v.e.CreateUser(context.Background(), name, "secret", quota)
	if err != nil {
		v.t.Fatal(err)
	}
	return u
}

// messages returns every message of the user's mailbox, BODY[] in UID order.
func (v *env) messages(user engine.UserID, mailbox string) [][]byte {
	v.t.Helper()
	ctx := context.Background()
	mb, err := v.e.Mailbox(ctx, user, mailbox)
	if err != nil {
		v.t.Fatal(err)
	}
	uids, _, err := v.e.UIDs(ctx, user, mb.ID)
	if err != nil {
		v.t.Fatal(err)
	}
	var metas []engine.MessageMeta
	err = v.e.Messages(ctx, user, mb.ID, uids, func(m *engine.MessageMeta) error {
		metas = append(metas, *m)
		return nil
	})
	if err != nil {
		v.t.Fatal(err)
	}
	var out [][]byte
	for i := range metas {
		m, err := v.e.OpenMessage(ctx, user, mb.ID, &metas[i])
		if err != nil {
			v.t.Fatal(err)
		}
		sec, err := m.Section(engine.Section{})
		if err != nil {
			v.t.Fatal(err)
		}
		data, err := io.ReadAll(sec.Body)
		m.Close()
		if err != nil {
			v.t.Fatal(err)
		}
		if int64(len(data)) != metas[i].Size {
			v.t.Fatalf("uid %d: BODY[] has %d bytes, RFC822.SIZE %d", metas[i].UID, len(data), metas[i].Size)
		}
		out = append(out, data)
	}
	return out
}

func (v *env) count(user engine.UserID, mailbox string) int {
	v.t.Helper()
	ctx := context.Background()
	mb, err := v.e.Mailbox(ctx, user, mailbox)
	if err != nil {
		v.t.Fatal(err)
	}
	uids, _, err := v.e.UIDs(ctx, user, mb.ID)
	if err != nil {
		v.t.Fatal(err)
	}
	return int(uids.GetCardinality())
}

func (v *env) search(user engine.UserID, field, value string) *roaring.Bitmap {
	v.t.Helper()
	ctx := context.Background()
	mb, err := v.e.Mailbox(ctx, user, "INBOX")
	if err != nil {
		v.t.Fatal(err)
	}
	hits, err := v.e.Search(ctx, user, mb.ID, &engine.SearchQuery{Op: engine.SearchHeader, Field: field, Value: value})
	if err != nil {
		v.t.Fatal(err)
	}
	return hits
}

// blobUsage is the number of stored blobs and their total size.
func (v *env) blobUsage() (int, int64) {
	v.t.Helper()
	n, size := 0, int64(0)
	err := v.blobs.Walk(context.Background(), func(b engine.BlobInfo) error {
		n++
		size += b.Size
		return nil
	})
	if err != nil {
		v.t.Fatal(err)
	}
	return n, size
}

// client is a raw line client for LMTP and POP3.
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
	return &client{t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// reply reads one SMTP reply: its code and the text of its lines.
func (c *client) reply() (int, []string) {
	c.t.Helper()
	code, lines, err := c.tryReply()
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return code, lines
}

func (c *client) tryReply() (int, []string, error) {
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, lines, err
		}
		if len(line) < 4 || !strings.HasSuffix(line, "\r\n") {
			return 0, lines, fmt.Errorf("malformed reply line %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return 0, lines, fmt.Errorf("malformed reply line %q", line)
		}
		lines = append(lines, strings.TrimRight(line[4:], "\r\n"))
		if line[3] == ' ' {
			return code, lines, nil
		}
	}
}

// expect reads a reply and checks its code and that its first line starts
// with the enhanced code (when given).
func (c *client) expect(code int, enhanced string) []string {
	c.t.Helper()
	got, lines := c.reply()
	if got != code || enhanced != "" && !strings.HasPrefix(lines[0], enhanced) {
		c.t.Fatalf("got %d %q, want %d %s", got, lines, code, enhanced)
	}
	return lines
}

// lhlo greets and returns the advertised extensions.
func (c *client) lhlo() []string {
	c.t.Helper()
	c.expect(220, "")
	c.send("LHLO client.test\r\n")
	return c.expect(250, "")
}

// line reads one line without its ending.
func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading line: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// pop3Login opens a POP3 session.
func pop3Login(t testing.TB, addr, user, pass string) *client {
	t.Helper()
	c := dial(t, addr)
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("greeting %q", l)
	}
	c.send("USER " + user + "\r\nPASS " + pass + "\r\n")
	for range 2 {
		if l := c.line(); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("login: %q", l)
		}
	}
	return c
}

// retr fetches message n over POP3 and undoes the dot-stuffing.
func (c *client) retr(n int) []byte {
	c.t.Helper()
	c.send("RETR " + strconv.Itoa(n) + "\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		c.t.Fatalf("RETR %d: %q", n, l)
	}
	var msg []byte
	for {
		l, err := c.r.ReadBytes('\n')
		if err != nil {
			c.t.Fatalf("RETR %d: %v", n, err)
		}
		if string(l) == ".\r\n" {
			return msg
		}
		if l[0] == '.' {
			l = l[1:]
		}
		msg = append(msg, l...)
	}
}

var errInjected = errors.New("injected store failure")
