package imap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/netloop"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
)

// TestStartTLSDiscardsPipelined checks RFC 9051 6.2.1: commands pipelined
// after STARTTLS in cleartext are dropped, not run after the handshake.
func TestStartTLSDiscardsPipelined(t *testing.T) {
	ts := newTestServer(t, serverOptions{noPlain: true})
	c := dialRaw(t, ts.addr)
	c.expect("* OK")
	c.sendRaw([]byte("a1 STARTTLS\r\na2 LOGIN " + testUser + " " + testPassword + "\r\n"))
	c.expect("a1 OK")
	tc := tls.Client(c.conn, ts.cert.ClientConfig())
	must(t, tc.Handshake())
	s := &rawClient{t: t, conn: tc, r: newReader(tc)}
	s.send("a3 CAPABILITY")
	lines := s.until("a3 ")
	for _, l := range lines {
		if strings.HasPrefix(l, "a2 ") {
			t.Fatalf("pipelined LOGIN was run: %q", lines)
		}
	}
	if !strings.Contains(lines[0], "AUTH=PLAIN") || strings.Contains(lines[0], "STARTTLS") || strings.Contains(lines[0], "LOGINDISABLED") {
		t.Errorf("capabilities after STARTTLS: %q", lines[0])
	}
	s.send("a4 LOGIN " + testUser + " " + testPassword)
	s.expect("a4 OK")
}

// TestUserSessionLimit: a user over netloop's per-user limit is refused
// with [LIMIT] and gets in again once a session ends.
func TestUserSessionLimit(t *testing.T) {
	ts := newTestServer(t, serverOptions{limits: netloop.LimitConfig{MaxSessionsPerUser: 1}})
	a := dialRaw(t, ts.addr)
	a.login()
	b := dialRaw(t, ts.addr)
	b.expect("* OK")
	b.send("b1 LOGIN " + testUser + " " + testPassword)
	b.expect("b1 NO [LIMIT]")
	a.send("a1 LOGOUT")
	a.until("a1 OK")
	waitFor(t, "the first session to end", func() bool { return ts.h.cfg.Limits.Sessions(ts.user.Name) == 0 })
	b.send("b2 LOGIN " + testUser + " " + testPassword)
	b.expect("b2 OK")
}

// TestShutdownSaysBye: a graceful shutdown sends BYE to idle and IDLE-ing
// sessions alike.
func TestShutdownSaysBye(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	idle := dialRaw(t, ts.addr)
	idle.login()
	idling := dialRaw(t, ts.addr)
	idling.login()
	idling.send("i1 SELECT INBOX")
	idling.until("i1 OK")
	idling.send("i2 IDLE")
	idling.expect("+ ")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = ts.srv.Shutdown(ctx) }()
	idle.expect("* BYE")
	idling.expect("* BYE")
}

// TestLargeMessageRoundTrip streams a message of several megabytes in
// with APPEND and out with FETCH: what went in comes out byte for byte,
// whole and in partial ranges.
func TestLargeMessageRoundTrip(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	var msg bytes.Buffer
	msg.WriteString("From: big@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, 6<<20)
	_, _ = rand.Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n--zz--\r\n")
	data := msg.Bytes()

	c := dialRaw(t, ts.addr)
	c.login()
	c.send(fmt.Sprintf("a1 APPEND INBOX {%d}", len(data)))
	c.expect("+ ")
	for off := 0; off < len(data); off += 100 << 10 {
		c.sendRaw(data[off:min(off+100<<10, len(data))])
	}
	c.sendRaw([]byte("\r\n"))
	c.expect("a1 OK [APPENDUID")
	c.send("a2 SELECT INBOX")
	c.until("a2 OK")

	c.send("a3 FETCH 1 (RFC822.SIZE BODY.PEEK[])")
	head := c.expect("* 1 FETCH (RFC822.SIZE " + strconv.Itoa(len(data)) + " BODY[] {" + strconv.Itoa(len(data)) + "}")
	_ = head
	got := make([]byte, len(data))
	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.ReadFull(c.r, got)
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Fatal("BODY[] differs from what APPEND stored")
	}
	c.expect(")")
	c.expect("a3 OK")

	c.send("a4 FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2]<1000000.16>)")
	line := c.expect("* 1 FETCH (BINARY.SIZE[2] " + strconv.Itoa(len(raw)) + " BINARY[2]<1000000> ~{16}")
	_ = line
	part := make([]byte, 16)
	_, err = io.ReadFull(c.r, part)
	must(t, err)
	if !bytes.Equal(part, raw[1000000:1000016]) {
		t.Errorf("BINARY partial differs")
	}
	c.expect(")")
	c.expect("a4 OK")
}

// TestUnknownTransferEncoding: BINARY of a part whose encoding the server
// cannot undo is [UNKNOWN-CTE] (RFC 3516), BODY still works.
func TestUnknownTransferEncoding(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	ts.appendMessage("INBOX", []byte("Subject: uu\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n`\r\nend\r\n"))
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("a1 EXAMINE INBOX")
	c.until("a1 OK")
	c.send("a2 FETCH 1 BINARY.PEEK[1]")
	c.expect("a2 NO [UNKNOWN-CTE]")
	c.send("a3 FETCH 1 BODY.PEEK[1]")
	c.expect("* 1 FETCH (BODY[1] {21}")
	c.until("a3 OK")
}

// TestLoginFailureDelay: a failed login is answered only after the delay,
// without holding a worker, and the session goes on afterwards.
func TestLoginFailureDelay(t *testing.T) {
	ts := newTestServer(t, serverOptions{cfg: Config{AuthFailureDelay: 200 * time.Millisecond}})
	c := dialRaw(t, ts.addr)
	c.expect("* OK")
	start := time.Now()
	c.sendRaw([]byte("a1 LOGIN " + testUser + " wrong\r\na2 NOOP\r\n"))
	c.expect("a1 NO [AUTHENTICATIONFAILED]")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("failure answered after %v", d)
	}
	c.expect("a2 OK")
	c.send("a3 LOGIN " + testUser + " wrong")
	c.expect("a3 NO [AUTHENTICATIONFAILED]")
	c.send("a4 LOGIN " + testUser + " " + testPassword)
	c.expect("a4 OK")
}

// TestAutologout: a silent client is told BYE and disconnected after the
// idle timeout.
func TestAutologout(t *testing.T) {
	ts := newTestServer(t, serverOptions{cfg: Config{IdleTimeout: 300 * time.Millisecond}})
	c := dialRaw(t, ts.addr)
	c.login()
	c.expect("* BYE autologout")
	c.expectClosed()
}

// TestJournalExpired: when the journal no longer reaches back to what a
// session knows, the session compares UID sets instead, and QRESYNC's
// VANISHED (EARLIER) falls back to the UIDs missing from the mailbox.
func TestJournalExpired(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	for _, m := range []string{"plain.eml", "multipart.eml", "nested.eml"} {
		ts.appendMessage("INBOX", readMessage(t, m))
	}
	a := dialRaw(t, ts.addr)
	a.login()
	a.send("a1 ENABLE QRESYNC")
	a.until("a1 OK")
	a.send("a2 SELECT INBOX")
	a.until("a2 OK")
	b := dialRaw(t, ts.addr)
	b.login()
	b.send("b1 SELECT INBOX")
	b.until("b1 OK")
	b.send("b2 STORE 2 +FLAGS (\\Flagged)")
	b.until("b2 OK")
	b.send("b3 UID STORE 3 +FLAGS.SILENT (\\Deleted)")
	b.until("b3 OK")
	b.send("b4 EXPUNGE")
	b.until("b4 OK")
	b.send("b5 APPEND INBOX {21+}\r\nSubject: new\r\n\r\nbody\r\n")
	b.until("b5 OK")

	store, ok := ts.e.Meta().(*metasqlite.Store)
	if !ok {
		t.Skip("not the SQLite store")
	}
	_, err := store.PruneJournal(context.Background(), time.Now().Add(time.Hour))
	must(t, err)

	a.send("a3 NOOP")
	got := strings.Join(a.until("a3 OK"), "\n")
	for _, want := range []string{"* VANISHED 3", "* 3 EXISTS", "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ ("} {
		if !strings.Contains(got, want) {
			t.Errorf("NOOP after the journal expired lacks %q:\n%s", want, got)
		}
	}
	a.send("a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
	got = strings.Join(a.until("a4 OK"), "\n")
	if !strings.Contains(got, "* VANISHED (EARLIER) 3\n") {
		t.Errorf("VANISHED (EARLIER) fallback:\n%s", got)
	}
	// A client claiming to know UIDs 1:4000000000 costs the server nothing.
	a.send("a5 UID FETCH 1:4000000000 (FLAGS) (CHANGEDSINCE 1 VANISHED)")
	got = strings.Join(a.until("a5 OK"), "\n")
	if !strings.Contains(got, "* VANISHED (EARLIER) 3\n") {
		t.Errorf("VANISHED (EARLIER) over a huge range:\n%s", got)
	}
}
