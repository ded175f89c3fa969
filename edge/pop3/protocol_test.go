package pop3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/engine"
)

// TestPlaintextAuthRefused: without TLS, USER/PASS and AUTH are neither
// advertised nor accepted; after STLS they are.
func TestPlaintextAuthRefused(t *testing.T) {
	v := newEnv(t, pop3.Config{})
	u := v.user("a@example.com")
	c := dial(t, v.plain)
	c.send("CAPA\r\n")
	c.ok()
	capa := string(c.multi())
	if strings.Contains(capa, "\nUSER\r\n") || strings.Contains(capa, "SASL") || strings.Contains(capa, "UTF8 USER") || !strings.Contains(capa, "STLS\r\n") {
		t.Fatalf("cleartext CAPA:\n%s", capa)
	}
	c.send("USER " + u.Name + "\r\nPASS secret\r\nAUTH PLAIN AGEAYg==\r\nAUTH\r\nSTAT\r\n")
	c.err("AUTH")
	c.err("AUTH")
	c.err("AUTH")
	c.err("AUTH")
	c.err("")
	c.startTLS(v.roots)
	c.send("CAPA\r\n")
	c.ok()
	if capa := string(c.multi()); !strings.Contains(capa, "USER\r\n") || !strings.Contains(capa, "SASL PLAIN\r\n") || strings.Contains(capa, "STLS") {
		t.Fatalf("CAPA under TLS:\n%s", capa)
	}
	c.send("STLS\r\n")
	c.err("")
	c.login(u.Name, "secret")
}

// TestAuthPlain covers AUTH PLAIN with an initial response, with a
// challenge, a cancelled exchange, bad input, and the failure limit.
func TestAuthPlain(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	tok := func(authz, user, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
	}
	c := dial(t, v.plain)
	c.send("AUTH\r\n")
	c.ok()
	if got := string(c.multi()); got != "PLAIN\r\n" {
		t.Fatalf("AUTH mechanism list %q", got)
	}
	c.send("AUTH CRAM-MD5\r\n")
	c.err("")
	c.send("AUTH PLAIN\r\n")
	if l := c.line(); l != "+ " {
		t.Fatalf("challenge %q", l)
	}
	c.send("*\r\n")
	c.err("")
	c.send("AUTH PLAIN\r\n")
	c.line()
	c.send("not base64!\r\n")
	c.err("")
	c.send("AUTH PLAIN " + tok("other@example.com", u.Name, "secret") + "\r\n")
	c.err("AUTH")
	c.send("AUTH PLAIN\r\n")
	c.line()
	c.send(tok("", u.Name, "secret") + "\r\n")
	c.ok()
	c.send("STAT\r\nQUIT\r\n")
	c.ok()
	c.ok()

	c = dial(t, v.plain)
	c.send("AUTH PLAIN " + tok(u.Name, u.Name, "secret") + "\r\n")
	c.ok()
	c.send("QUIT\r\n")
	c.ok()

	// Three wrong passwords end the connection.
	c = dial(t, v.plain)
	for range 3 {
		c.send("USER " + u.Name + "\r\nPASS wrong\r\n")
		c.ok()
		c.err("AUTH")
	}
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Fatal("connection still open after three failed logins")
	}
	// PASS without USER, USER of an unknown name gives the same answer as a known one.
	c = dial(t, v.plain)
	c.send("PASS secret\r\nUSER nobody@example.com\r\nPASS secret\r\n")
	c.err("")
	c.ok()
	c.err("AUTH")
}

// TestAuthFailureDelay: a failed login is answered after the configured delay.
func TestAuthFailureDelay(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true, AuthFailureDelay: 200 * time.Millisecond})
	v.user("a@example.com")
	c := dial(t, v.plain)
	start := time.Now()
	c.send("USER a@example.com\r\nPASS wrong\r\nNOOP\r\n")
	c.ok()
	c.err("AUTH")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("failure answered after %v", d)
	}
	c.err("") // NOOP before login, answered after the delayed reply
}

// TestMaildropInUse: a second session of the same user gets [IN-USE]
// until the first one ends.
func TestMaildropInUse(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	v.appendMsgs(u, message(1))
	first := dial(t, v.plain)
	first.login(u.Name, "secret")
	second := dialTLS(t, v.tls, v.roots)
	second.send("USER " + u.Name + "\r\nPASS secret\r\n")
	second.ok()
	second.err("IN-USE")
	first.conn.Close() // dropped, not QUIT: the lock goes anyway
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dial(t, v.plain)
		c.send("USER " + u.Name + "\r\nPASS secret\r\n")
		c.ok()
		if l := c.line(); strings.HasPrefix(l, "+OK") {
			break
		} else if !strings.HasPrefix(l, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("after the first session ended: %q", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUpdateOnlyAfterQuit: DELE and the \Seen of RETR change nothing when
// the connection drops; after QUIT they are applied.
func TestUpdateOnlyAfterQuit(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	uids := v.appendMsgs(u, message(1), message(2), message(3))
	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	c.retr(2)
	c.send("DELE 1\r\nDELE 3\r\nSTAT\r\nRSET\r\nDELE 1\r\nSTAT\r\n")
	c.ok()
	c.ok()
	if st := c.ok(); st != fmt.Sprintf("1 %d", len(message(2))) {
		t.Fatalf("STAT after DELE: %q", st)
	}
	c.ok()
	c.ok()
	if st := c.ok(); !strings.HasPrefix(st, "2 ") {
		t.Fatalf("STAT after RSET and DELE: %q", st)
	}
	c.conn.Close()
	time.Sleep(50 * time.Millisecond)
	all, seen := v.state(u, "INBOX")
	if len(all) != 3 || len(seen) != 0 {
		t.Fatalf("after a dropped connection: messages %v, seen %v", all, seen)
	}

	c = dial(t, v.plain)
	c.login(u.Name, "secret")
	c.retr(2)
	c.send("TOP 3 0\r\n")
	c.ok()
	c.multi()
	c.send("DELE 1\r\nRETR 1\r\nLIST 1\r\nQUIT\r\n")
	c.ok()
	c.err("")
	c.err("")
	if q := c.ok(); !strings.Contains(q, "1 messages deleted") {
		t.Fatalf("QUIT: %q", q)
	}
	all, seen = v.state(u, "INBOX")
	if !slices.Equal(all, []uint32{uint32(uids[1]), uint32(uids[2])}) || !slices.Equal(seen, []uint32{uint32(uids[1])}) {
		t.Fatalf("after QUIT: messages %v, seen %v (TOP must not set \\Seen)", all, seen)
	}
}

// TestDeleteToTrash moves DELE'd messages to the Trash mailbox.
func TestDeleteToTrash(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true, DeleteToTrash: true})
	u := v.user("a@example.com")
	v.appendMsgs(u, message(1), message(2))
	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	c.retr(1)
	c.send("DELE 1\r\nDELE 2\r\nQUIT\r\n")
	c.ok()
	c.ok()
	c.ok()
	inbox, _ := v.state(u, "INBOX")
	trash, seen := v.state(u, "Trash")
	if len(inbox) != 0 || len(trash) != 2 || len(seen) != 1 {
		t.Fatalf("INBOX %v, Trash %v, seen in Trash %v", inbox, trash, seen)
	}
}

// TestNewestAndStableUIDL: the maildrop is the newest MaxMessages of
// INBOX, and unique-ids are the same in every session and on every node
// (another server over the same store).
func TestNewestAndStableUIDL(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true, MaxMessages: 5})
	u := v.user("a@example.com")
	var msgs [][]byte
	for i := range 8 {
		msgs = append(msgs, message(i))
	}
	uids := v.appendMsgs(u, msgs...)
	mb := v.inbox(u)
	other := v.serve(pop3.NewServer(v.e, pop3.Config{AllowPlaintextAuth: true, MaxMessages: 5, Logger: testLogger(t), Hostname: "node2"}))
	var listings []string
	for _, addr := range []string{v.plain, other[0], v.plain} {
		c := dial(t, addr)
		c.login(u.Name, "secret")
		c.send("UIDL\r\n")
		c.ok()
		listings = append(listings, string(c.multi()))
		c.send("UIDL 5\r\nLIST 5\r\nLIST 6\r\nUIDL 0\r\n")
		if got, want := c.ok(), fmt.Sprintf("5 %d.%d", mb.UIDValidity, uids[7]); got != want {
			t.Fatalf("UIDL 5 = %q, want %q", got, want)
		}
		if got, want := c.ok(), fmt.Sprintf("5 %d", len(msgs[7])); got != want {
			t.Fatalf("LIST 5 = %q, want %q", got, want)
		}
		c.err("")
		c.err("")
		if got := c.retr(1); !bytes.Equal(got, msgs[3]) {
			t.Fatalf("message 1 is not the 5th newest: %q", got)
		}
		c.send("QUIT\r\n")
		c.ok()
	}
	var want strings.Builder
	for i := range 5 {
		fmt.Fprintf(&want, "%d %d.%d\r\n", i+1, mb.UIDValidity, uids[i+3])
	}
	for i, l := range listings {
		if l != want.String() {
			t.Fatalf("session %d UIDL:\n%s\nwant\n%s", i, l, want.String())
		}
	}
}

// TestPipelinedCommands sends a whole session in one write.
func TestPipelinedCommands(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	msgs := [][]byte{message(1), message(2), message(3)}
	v.appendMsgs(u, msgs...)
	c := dial(t, v.plain)
	c.send("CAPA\r\nUSER " + u.Name + "\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nRETR 3\r\nLIST\r\nRETR 2\r\nNOOP\r\nQUIT\r\n")
	c.ok()
	c.multi()
	c.ok()
	c.ok()
	c.ok()
	for _, i := range []int{0, 2} {
		c.ok()
		if got := c.multi(); !bytes.Equal(got, msgs[i]) {
			t.Fatalf("pipelined RETR %d: %q", i+1, got)
		}
	}
	c.ok()
	c.multi()
	c.ok()
	if got := c.multi(); !bytes.Equal(got, msgs[1]) {
		t.Fatalf("pipelined RETR 2: %q", got)
	}
	c.ok()
	c.ok()
	if _, seen := v.state(u, "INBOX"); len(seen) != 3 {
		t.Fatalf("seen after pipelined session: %v", seen)
	}
}

// TestBadInput: unknown commands, bad arguments, commands in the wrong
// state, a long line, garbage: each gets -ERR and the session goes on.
func TestBadInput(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	v.appendMsgs(u, message(1))
	c := dial(t, v.plain)
	for _, cmd := range []string{"STAT", "RETR 1", "LIST", "DELE 1", "FOO", "", "APOP a@example.com 0123456789abcdef0123456789abcdef", "LANG", "USER", "TOP 1"} {
		c.send(cmd + "\r\n")
		c.err("")
	}
	c.send("USER " + strings.Repeat("x", 100<<10) + "\r\nNOOP\r\n")
	c.err("")
	c.err("")
	c.send("UTF8\r\n")
	c.ok()
	c.login(u.Name, "secret")
	for _, cmd := range []string{"RETR 0", "RETR 2", "RETR x", "RETR 99999999999", "TOP 1", "TOP 1 -1", "LIST 2", "UIDL 2", "DELE 2", "USER a", "PASS b", "STLS", "AUTH PLAIN", "UTF8"} {
		c.send(cmd + "\r\n")
		c.err("")
	}
	junk := []byte("\x00\xff garbage\r\n\x01\x02\r\n")
	c.send(string(junk) + "NOOP\r\n")
	c.err("")
	c.err("")
	c.ok()
	if got := c.retr(1); !bytes.Equal(got, message(1)) {
		t.Fatalf("RETR after bad input: %q", got)
	}
}

// TestRetrStoredBytes: bare LF line endings, a final line without ending,
// lines of dots and a long line come back as stored, dot-stuffed on the
// wire; TOP counts body lines.
func TestRetrStoredBytes(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	odd := []byte("Subject: odd\n\n.\n..\n.x\nbare LF\nlong " + strings.Repeat("y", 200<<10) + "\r\n.\r\nend\r\n")
	v.appendMsgs(u, odd, []byte("Subject: h\r\n\r\na\r\nb\r\nc\r\n"))
	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	if got := c.retr(1); !bytes.Equal(got, odd) {
		t.Fatalf("RETR of a message with bare LFs and dots differs (%d vs %d bytes)", len(got), len(odd))
	}
	for _, tc := range []struct {
		lines int
		want  string
	}{{0, "Subject: h\r\n\r\n"}, {2, "Subject: h\r\n\r\na\r\nb\r\n"}, {100, "Subject: h\r\n\r\na\r\nb\r\nc\r\n"}} {
		c.send(fmt.Sprintf("TOP 2 %d\r\n", tc.lines))
		c.ok()
		if got := string(c.multi()); got != tc.want {
			t.Fatalf("TOP 2 %d = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

// TestExpungedElsewhere: a message expunged by another session (IMAP)
// after login answers -ERR, not a broken reply.
func TestExpungedElsewhere(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	uids := v.appendMsgs(u, message(1), message(2))
	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	if _, err := v.e.Expunge(context.Background(), u.ID, v.inbox(u).ID, bitmap(uids[0])); err != nil {
		t.Fatal(err)
	}
	c.send("RETR 1\r\nDELE 1\r\nRETR 2\r\n")
	c.err("")
	c.ok()
	c.ok()
	c.multi()
	c.send("QUIT\r\n")
	c.ok()
	if all, _ := v.state(u, "INBOX"); !slices.Equal(all, []uint32{uint32(uids[1])}) {
		t.Fatalf("INBOX after QUIT: %v", all)
	}
}

// TestQuitAppliesAfterHangUp: the client may hang up right after QUIT;
// the changes it asked for are still applied.
func TestQuitAppliesAfterHangUp(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	v.appendMsgs(u, message(1), message(2))
	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	c.send("DELE 1\r\nDELE 2\r\n")
	c.ok()
	c.ok()
	// Hang up without reading QUIT's answer. (Sent while the server still
	// paused for the login, QUIT could be lost: netloop drops input held
	// for a paused connection when the client closes.)
	c.send("QUIT\r\n")
	c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if all, _ := v.state(u, "INBOX"); len(all) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("QUIT's deletions were not applied after the client hung up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// brokenMeta fails the listing of a mailbox and message expunges: store
// failures a session must answer with [SYS/TEMP].
type brokenMeta struct{ engine.MetaStore }

func (brokenMeta) UIDs(context.Context, engine.UserID, engine.MailboxID) (*roaring.Bitmap, engine.ModSeq, error) {
	return nil, 0, errors.New("injected store failure")
}

func TestStoreFailureIsSysTemp(t *testing.T) {
	v := newEnvWith(t, pop3.Config{AllowPlaintextAuth: true}, func(m engine.MetaStore) engine.MetaStore { return brokenMeta{m} })
	u := v.user("a@example.com")
	c := dial(t, v.plain)
	c.send("USER " + u.Name + "\r\nPASS secret\r\n")
	c.ok()
	c.err("SYS/TEMP")
	// The failed login released the maildrop: the session can try again.
	c.send("USER " + u.Name + "\r\nPASS secret\r\n")
	c.ok()
	c.err("SYS/TEMP")
}

// TestUTF8Login: a UTF-8 user name logs in with USER/PASS and AUTH PLAIN.
func TestUTF8Login(t *testing.T) {
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("jörg@münchen.example")
	v.appendMsgs(u, []byte("Subject: Grüße\r\nFrom: jörg@münchen.example\r\n\r\nHallo\r\n"))
	c := dial(t, v.plain)
	c.send("CAPA\r\n")
	c.ok()
	if capa := string(c.multi()); !strings.Contains(capa, "UTF8 USER\r\n") {
		t.Fatalf("CAPA:\n%s", capa)
	}
	c.send("UTF8\r\n")
	c.ok()
	c.login("jörg@xn--mnchen-3ya.example", "secret")
	if got := string(c.retr(1)); !strings.Contains(got, "Subject: Grüße\r\n") {
		t.Fatalf("RETR: %q", got)
	}
	c.send("QUIT\r\n")
	c.ok()
	c = dial(t, v.plain)
	c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00JÖRG@münchen.example\x00secret")) + "\r\n")
	c.ok()
}
