package lmtp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/lmtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/internal/testkit"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// TestPipelinedTransaction sends a whole transaction, two in fact, in one
// write and gets every reply in order: one per accepted recipient after
// each message.
func TestPipelinedTransaction(t *testing.T) {
	v := newEnv(t, envOptions{})
	a := v.user("a@example.com", 0)
	b := v.user("b@example.com", 0)
	c := dial(t, v.lmtpAddr)
	c.expect(220, "")
	msg1 := "Subject: one\r\n\r\nfirst\r\n"
	msg2 := "Subject: two\r\n\r\nsecond\r\n..dot\r\n"
	c.send("LHLO client.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<nobody@example.com>\r\n" +
		"RCPT TO:<b@example.com>\r\nDATA\r\n" + msg1 + ".\r\n" +
		"MAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n" + msg2 + ".\r\nQUIT\r\n")
	c.expect(250, "")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(550, "5.1.1")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	c.expect(250, "2.0.0")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	c.expect(221, "2.0.0")
	if got := v.messages(a.ID, "INBOX"); len(got) != 1 || string(got[0]) != string(prefixed("s@remote.test", "a@example.com", []byte(msg1))) {
		t.Fatalf("a: %q", got)
	}
	got := v.messages(b.ID, "INBOX")
	want2 := "Return-Path: <>\r\nDelivered-To: b@example.com\r\nSubject: two\r\n\r\nsecond\r\n.dot\r\n"
	if len(got) != 2 || string(got[1]) != want2 {
		t.Fatalf("b: %q", got)
	}
}

// TestBDAT delivers with CHUNKING in several chunks, binary octets included.
func TestBDAT(t *testing.T) {
	v := newEnv(t, envOptions{})
	a := v.user("a@example.com", 0)
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	parts := []string{"Subject: chunked\r\n", "\r\nbody with\x00nul and\n.bare LF dot line\r\n", ".\r\nend\r\n"}
	c.send("MAIL FROM:<s@remote.test> BODY=8BITMIME\r\nRCPT TO:<a@example.com>\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	for i, p := range parts {
		last := ""
		if i == len(parts)-1 {
			last = " LAST"
		}
		c.send(fmt.Sprintf("BDAT %d%s\r\n%s", len(p), last, p))
		if last == "" {
			c.expect(250, "2.0.0")
		}
	}
	c.expect(250, "2.0.0")
	want := prefixed("s@remote.test", "a@example.com", []byte(strings.Join(parts, "")))
	if got := v.messages(a.ID, "INBOX"); len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("stored %q", got)
	}
	// A BDAT outside a transaction is read and refused; the session goes on.
	c.send("BDAT 5 LAST\r\nhello")
	c.expect(503, "5.5.1")
	c.send("NOOP\r\n")
	c.expect(250, "2.0.0")
	// DATA after BDAT in one transaction is out of sequence; RSET drops the chunks.
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nBDAT 3\r\nabcDATA\r\nRSET\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(250, "2.0.0")
	c.expect(503, "5.5.1")
	c.expect(250, "2.0.0")
	if n := v.count(a.ID, "INBOX"); n != 1 {
		t.Fatalf("%d messages after an abandoned BDAT transaction", n)
	}
}

// TestSequenceAndSyntaxErrors covers commands out of order and bad
// arguments: each gets a clear reply and the session stays usable.
func TestSequenceAndSyntaxErrors(t *testing.T) {
	v := newEnv(t, envOptions{})
	a := v.user("a@example.com", 0)
	c := dial(t, v.lmtpAddr)
	c.expect(220, "")
	steps := []struct {
		send     string
		code     int
		enhanced string
	}{
		{"MAIL FROM:<s@remote.test>\r\n", 503, "5.5.1"},
		{"EHLO client.test\r\n", 500, "5.5.1"},
		{"HELO client.test\r\n", 500, "5.5.1"},
		{"LHLO client.test\r\n", 250, ""},
		{"RCPT TO:<a@example.com>\r\n", 503, "5.5.1"},
		{"DATA\r\n", 503, "5.5.1"},
		{"MAIL FROM:<s@remote.test> SIZE=abc\r\n", 501, "5.5.4"},
		{"MAIL FROM:<s@remote.test> FOO=bar\r\n", 555, "5.5.4"},
		{"MAIL FROM:s@\r\n", 501, "5.1.7"},
		{"MAIL FROM:<s@remote.test> BODY=BINARYMIME\r\n", 555, "5.5.4"},
		{"MAIL FROM:<s@remote.test>\r\n", 250, "2.1.0"},
		{"MAIL FROM:<s@remote.test>\r\n", 503, "5.5.1"},
		{"DATA\r\n", 503, "5.5.1"},
		{"RCPT TO:<>\r\n", 501, "5.1.3"},
		{"RCPT TO:<a@b@c>\r\n", 501, "5.1.3"},
		{"RCPT TO:<a@example.com\r\n", 501, "5.1.3"},
		{"RCPT TO:<Postmaster>\r\n", 550, "5.1.1"},
		{"RCPT TO:<a@[300.1.1.1]>\r\n", 501, "5.1.3"},
		{"RCPT TO:<a@exa mple.com>\r\n", 501, "5.1.3"},
		{"RCPT TO:<a@example.com> NOTIFY=NEVER\r\n", 250, "2.1.5"},
		{"VRFY a@example.com\r\n", 252, "2.5.0"},
		{"EXPN list\r\n", 502, "5.5.1"},
		{"AUTH PLAIN\r\n", 502, "5.5.1"},
		{"FOOBAR\r\n", 500, "5.5.1"},
		{"\r\n", 500, "5.5.2"},
		{"STARTTLS\r\n", 454, "4.7.0"}, // a plain listener offers no TLS
		{"HELP\r\n", 214, "2.0.0"},
		{"NOOP\r\n", 250, "2.0.0"},
		{"DATA\r\n", 354, ""},
		{"Subject: ok\r\n\r\nbody\r\n.\r\n", 250, "2.0.0"},
		{"RSET\r\n", 250, "2.0.0"},
		{"QUIT\r\n", 221, "2.0.0"},
	}
	for _, st := range steps {
		c.send(st.send)
		got, lines := c.reply()
		if got != st.code || !strings.HasPrefix(lines[len(lines)-1], st.enhanced) {
			t.Errorf("%q: got %d %q, want %d %s", st.send, got, lines, st.code, st.enhanced)
		}
	}
	if n := v.count(a.ID, "INBOX"); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

// TestBadInput: bare LF line endings, a 1 MB line, a missing final dot
// then a disconnect, a 1 MB command line and pipelined garbage.
func TestBadInput(t *testing.T) {
	v := newEnv(t, envOptions{})
	a := v.user("a@example.com", 0)
	begin := func(c *client) {
		c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")
		c.expect(250, "2.1.0")
		c.expect(250, "2.1.5")
		c.expect(354, "")
	}
	var want [][]byte
	t.Run("bare LF lines are stored as sent", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		begin(c)
		msg := "Subject: lf\n\nline one\nline two\r\nmixed\n"
		c.send(msg + "\r\n.\r\n")
		c.expect(250, "2.0.0")
		want = append(want, prefixed("s@remote.test", "a@example.com", []byte(msg+"\r\n")))
	})
	t.Run("a bare LF terminator is refused and the connection closed", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		begin(c)
		c.send("Subject: smuggle\n\nbody\n.\nMAIL FROM:<evil@remote.test>\r\n")
		c.expect(554, "5.6.0")
		if _, _, err := c.tryReply(); err == nil {
			t.Fatal("the smuggled command was answered")
		}
	})
	t.Run("a 1 MB line in DATA", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		begin(c)
		msg := "Subject: long\r\n\r\n" + strings.Repeat("x", 1<<20) + "\r\n"
		c.send(msg + ".\r\n")
		c.expect(250, "2.0.0")
		want = append(want, prefixed("s@remote.test", "a@example.com", []byte(msg)))
	})
	t.Run("a 1 MB command line", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		c.send("MAIL FROM:<" + strings.Repeat("y", 1<<20) + "@remote.test>\r\nNOOP\r\n")
		c.expect(500, "5.5.2")
		c.expect(250, "2.0.0")
	})
	t.Run("missing final dot then disconnect", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		begin(c)
		c.send("Subject: cut\r\n\r\n" + strings.Repeat("z", 600<<10) + "\r\n")
		c.conn.Close()
	})
	t.Run("pipelined garbage", func(t *testing.T) {
		c := dial(t, v.lmtpAddr)
		c.lhlo()
		junk := make([]byte, 64<<10)
		_, _ = rand.Read(junk)
		junk = bytes.ReplaceAll(junk, []byte("\n"), []byte("\n\x00")) // no line can start a valid command
		c.send(string(junk) + "\r\nNOOP\r\n")
		// Every garbage line gets a 5xx; the session survives to answer NOOP.
		for {
			code, _ := c.reply()
			if code == 250 {
				break
			}
			if code < 500 {
				t.Fatalf("garbage answered with %d", code)
			}
		}
	})
	// The cut transfer can never be committed: its spool never ends.
	got := v.messages(a.ID, "INBOX")
	if len(got) != len(want) {
		t.Fatalf("%d messages stored, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("message %d differs (%d vs %d bytes)", i+1, len(got[i]), len(want[i]))
		}
	}
}

// TestBareLFTerminatorAllowed: with AllowBareLFTerminator the message is kept.
func TestBareLFTerminatorAllowed(t *testing.T) {
	v := newEnv(t, envOptions{lmtp: lmtp.Config{AllowBareLFTerminator: true}})
	a := v.user("a@example.com", 0)
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: lf\n\nbody\n.\nNOOP\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	c.expect(250, "2.0.0")
	if got := v.messages(a.ID, "INBOX"); len(got) != 1 || !bytes.HasSuffix(got[0], []byte("\r\nSubject: lf\n\nbody\n")) {
		t.Fatalf("stored %q", got)
	}
}

// TestSizeLimits: a declared SIZE over the limit is refused at MAIL; an
// undeclared oversized message after DATA, once per recipient; a BDAT
// chunk over the limit ends the transaction.
func TestSizeLimits(t *testing.T) {
	v := newEnv(t, envOptions{lmtp: lmtp.Config{MaxMessageSize: 10 << 10}})
	a := v.user("a@example.com", 0)
	v.user("b@example.com", 0)
	c := dial(t, v.lmtpAddr)
	if ext := strings.Join(c.lhlo(), "\n"); !strings.Contains(ext, "SIZE 10240") {
		t.Fatalf("LHLO: %s", ext)
	}
	c.send("MAIL FROM:<s@remote.test> SIZE=10241\r\n")
	c.expect(552, "5.3.4")
	c.send("MAIL FROM:<s@remote.test> SIZE=100\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.send("Subject: big\r\n\r\n" + strings.Repeat("0123456789\r\n", 2000) + ".\r\n")
	c.expect(552, "5.3.4")
	c.expect(552, "5.3.4")
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	chunk := strings.Repeat("c", 6<<10)
	c.send("BDAT 6144\r\n" + chunk)
	c.expect(250, "2.0.0")
	c.send("BDAT 6144\r\n" + chunk)
	c.expect(552, "5.3.4")
	c.send("BDAT 1 LAST\r\nx")
	c.expect(503, "5.5.1")
	if n := v.count(a.ID, "INBOX"); n != 0 {
		t.Fatalf("%d oversized messages stored", n)
	}
}

// TestJunkAndQuotaTemporary: a spam verdict files into Junk; with
// QuotaTemporary a full mailbox answers 452 4.2.2.
func TestJunkAndQuotaTemporary(t *testing.T) {
	v := newEnv(t, envOptions{lmtp: lmtp.Config{QuotaTemporary: true}})
	a := v.user("a@example.com", 0)
	v.user("full@example.com", 100)
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	spam := "X-Spam-Flag: YES\r\nSubject: buy\r\n\r\nnow\r\n"
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<full@example.com>\r\nDATA\r\n" + spam + ".\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	c.expect(452, "4.2.2")
	if n := v.count(a.ID, "Junk"); n != 1 || v.count(a.ID, "INBOX") != 0 {
		t.Fatalf("junk filing: Junk %d, INBOX %d", n, v.count(a.ID, "INBOX"))
	}
	c.send("MAIL FROM:<s@remote.test> SIZE=1000\r\nRCPT TO:<full@example.com>\r\n")
	c.expect(250, "2.1.0")
	c.expect(452, "4.2.2")
}

// failingMeta fails the metadata commit for one user: a store failure that
// must answer 451 4.3.0 for that recipient only.
type failingMeta struct {
	engine.MetaStore
	victim atomic.Int64 // the UserID whose commits fail
}

func (m *failingMeta) Append(ctx context.Context, user engine.UserID, mb engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	if int64(user) == m.victim.Load() {
		return 0, nil, errInjected
	}
	return m.MetaStore.Append(ctx, user, mb, msgs)
}

func TestTemporaryStoreFailure(t *testing.T) {
	fm := &failingMeta{}
	v := newEnv(t, envOptions{meta: func(m engine.MetaStore) engine.MetaStore { fm.MetaStore = m; return fm }})
	a := v.user("a@example.com", 0)
	b := v.user("b@example.com", 0)
	fm.victim.Store(int64(b.ID))
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: x\r\n\r\ny\r\n.\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	c.expect(451, "4.3.0")
	if v.count(a.ID, "INBOX") != 1 || v.count(b.ID, "INBOX") != 0 {
		t.Fatal("a store failure for one recipient affected the other")
	}
}

// TestMaxRecipients: recipients past the limit get 452 4.5.3.
func TestMaxRecipients(t *testing.T) {
	v := newEnv(t, envOptions{lmtp: lmtp.Config{MaxRecipients: 3}})
	for i := range 4 {
		v.user(fmt.Sprintf("r%d@example.com", i), 0)
	}
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	var cmds strings.Builder
	cmds.WriteString("MAIL FROM:<s@remote.test>\r\n")
	for i := range 4 {
		fmt.Fprintf(&cmds, "RCPT TO:<r%d@example.com>\r\n", i)
	}
	c.send(cmds.String())
	c.expect(250, "2.1.0")
	for range 3 {
		c.expect(250, "2.1.5")
	}
	c.expect(452, "4.5.3")
}

// TestStartTLS upgrades the connection, forgets the earlier LHLO, and
// delivers over TLS; bytes pipelined after STARTTLS are dropped.
func TestStartTLS(t *testing.T) {
	e := enginekit.Open(t, enginekit.Options{}).Engine
	u, _ := enginekit.User(t, e, "a@example.com", "pw", 0)
	cert := testkit.NewCert(t, "localhost")
	log := testLogger(t)
	srv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{{Addr: "127.0.0.1:0", Mode: netloop.ModeStartTLS}},
		Handler:   lmtp.NewServer(e, lmtp.Config{Logger: log, Hostname: "lmtp.test"}),
		TLSConfig: cert.ServerConfig(),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(t.Context())
	defer srv.Close()

	c := dial(t, srv.Addrs()[0].String())
	if ext := strings.Join(c.lhlo(), " "); !strings.Contains(ext, "STARTTLS") {
		t.Fatalf("STARTTLS not advertised: %s", ext)
	}
	c.send("STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\n")
	c.expect(220, "2.0.0")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: cert.Roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.r.Reset(tc)
	c.send("MAIL FROM:<s@remote.test>\r\n")
	c.expect(503, "5.5.1") // LHLO again first
	c.send("LHLO client.test\r\n")
	if ext := strings.Join(c.expect(250, ""), " "); strings.Contains(ext, "STARTTLS") {
		t.Fatalf("STARTTLS offered again under TLS: %s", ext)
	}
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: tls\r\n\r\nsecret\r\n.\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.expect(250, "2.0.0")
	inbox, _ := e.Mailbox(t.Context(), u.ID, "INBOX")
	if st, _ := e.Status(t.Context(), u.ID, inbox.ID); st.Messages != 1 {
		t.Fatalf("%d messages after delivery over TLS", st.Messages)
	}
}

// TestSpillToFile: with a tiny memory window the message goes through the
// spool file and is stored exactly; no spool file is left behind.
func TestSpillToFile(t *testing.T) {
	spoolDir := t.TempDir()
	v := newEnv(t, envOptions{lmtp: lmtp.Config{SpoolMemory: 1024, SpoolDir: spoolDir}})
	a := v.user("a@example.com", 0)
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	var sent bytes.Buffer
	if _, err := bigMessage(io.MultiWriter(c.conn, &sent), 3<<20, 3); err != nil {
		t.Fatal(err)
	}
	c.send(".\r\n")
	c.expect(250, "2.0.0")
	if got := v.messages(a.ID, "INBOX"); len(got) != 1 || !bytes.Equal(got[0], prefixed("s@remote.test", "a@example.com", sent.Bytes())) {
		t.Fatal("message carried through the spool file differs")
	}
	if entries, _ := os.ReadDir(spoolDir); len(entries) != 0 {
		t.Fatalf("spool files left: %v", entries)
	}
}

// TestShutdownSaysGoodbye: a graceful shutdown answers 421 4.3.2.
func TestShutdownSaysGoodbye(t *testing.T) {
	e := enginekit.Open(t, enginekit.Options{}).Engine
	log := testLogger(t)
	srv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{{Addr: "127.0.0.1:0"}},
		Handler:   lmtp.NewServer(e, lmtp.Config{Logger: log, Hostname: "lmtp.test"}),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(t.Context())
	c := dial(t, srv.Addrs()[0].String())
	c.lhlo()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect(421, "4.3.2")
}

// TestBDATPipelinedBehindRCPT: a client may send MAIL, its RCPTs and a
// large BDAT chunk in one go (RFC 3030 with PIPELINING). The chunk must
// stream into the spool while the recipients are looked up, not pile up in
// netloop's input buffer (which would cut the connection at MaxInbound).
func TestBDATPipelinedBehindRCPT(t *testing.T) {
	v := newEnv(t, envOptions{})
	var users []engine.User
	var rcpts strings.Builder
	for i := range 20 {
		users = append(users, v.user(fmt.Sprintf("p%02d@example.com", i), 0))
		fmt.Fprintf(&rcpts, "RCPT TO:<p%02d@example.com>\r\n", i)
	}
	rcpts.WriteString("RCPT TO:<missing@example.com>\r\n")
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	var msg bytes.Buffer
	if _, err := bigMessage(&msg, 3<<20, 11); err != nil {
		t.Fatal(err)
	}
	send := "MAIL FROM:<s@remote.test>\r\n" + rcpts.String() + fmt.Sprintf("BDAT %d LAST\r\n", msg.Len()) + msg.String() + "NOOP\r\n"
	go func() { _, _ = io.WriteString(c.conn, send) }()
	c.expect(250, "2.1.0")
	for range 20 {
		c.expect(250, "2.1.5")
	}
	c.expect(550, "5.1.1")
	for range 20 {
		c.expect(250, "2.0.0")
	}
	c.expect(250, "2.0.0") // NOOP
	for _, u := range []engine.User{users[0], users[19]} {
		got := v.messages(u.ID, "INBOX")
		if len(got) != 1 || !bytes.Equal(got[0], prefixed("s@remote.test", u.Name, msg.Bytes())) {
			t.Fatalf("%s: message differs", u.Name)
		}
	}

	// When every pipelined recipient fails, the chunk gets one 503.
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<nobody@example.com>\r\nBDAT 5 LAST\r\nhelloNOOP\r\n")
	c.expect(250, "2.1.0")
	c.expect(550, "5.1.1")
	c.expect(503, "5.5.1")
	c.expect(250, "2.0.0")
}

// blockingMeta holds the metadata commit until release is closed.
type blockingMeta struct {
	engine.MetaStore
	entered chan struct{}
	release chan struct{}
}

func (m *blockingMeta) Append(ctx context.Context, user engine.UserID, mb engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	select {
	case m.entered <- struct{}{}:
	default:
	}
	<-m.release
	return m.MetaStore.Append(ctx, user, mb, msgs)
}

// TestShutdownDuringDelivery: a graceful shutdown lets a delivery in
// progress finish and answer, then says goodbye after its replies.
func TestShutdownDuringDelivery(t *testing.T) {
	var bm *blockingMeta
	e := enginekit.Open(t, enginekit.Options{WrapMeta: func(meta engine.MetaStore) engine.MetaStore {
		bm = &blockingMeta{MetaStore: meta, entered: make(chan struct{}, 1), release: make(chan struct{})}
		return bm
	}}).Engine
	if _, err := e.CreateUser(t.Context(), "a@example.com", "pw", 0); err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	srv, err := netloop.NewServer(netloop.Config{
		Listeners: []netloop.Listener{{Addr: "127.0.0.1:0"}},
		Handler:   lmtp.NewServer(e, lmtp.Config{Logger: log, Hostname: "lmtp.test"}),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(t.Context())
	c := dial(t, srv.Addrs()[0].String())
	c.lhlo()
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	c.send("Subject: late\r\n\r\nbody\r\n.\r\n")
	select {
	case <-bm.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery never reached the commit")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // let the shutdown reach the session
	close(bm.release)
	c.expect(250, "2.0.0")
	c.expect(421, "4.3.2")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
