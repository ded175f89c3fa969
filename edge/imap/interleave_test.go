package imap

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/eidermail/eider/engine"
)

// TestSyncLiteralLargerThanHeldInput sends synchronizing literals far
// larger than the input netloop may hold: the "+" continuation and the
// release of held input go out in one loop step, so the literal never piles
// up as held input, however fast the client answers.
func TestSyncLiteralLargerThanHeldInput(t *testing.T) {
	ts := newTestServer(t, serverOptions{maxInbound: 8 << 10})
	t.Run("plain", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		bigLiterals(t, c)
	})
	t.Run("tls", func(t *testing.T) {
		tc, err := tls.Dial("tcp", ts.tlsAddr, ts.cert.ClientConfig())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tc.Close() })
		bigLiterals(t, &rawClient{t: t, conn: tc, r: newReader(tc)})
	})
}

func bigLiterals(t *testing.T, c *rawClient) {
	c.login()
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 4096) // 256 KiB
	msg := append([]byte("Subject: big\r\n\r\n"), body...)
	for i := range 40 {
		tag := fmt.Sprintf("A%d", i)
		c.send(fmt.Sprintf("%s APPEND INBOX {%d}", tag, len(msg)))
		c.expect("+")
		// Literal, CRLF and the next command in one write: the client
		// answers the continuation as fast as it can.
		c.sendRaw(append(append(msg[:len(msg):len(msg)], "\r\n"...), fmt.Sprintf("N%d NOOP\r\n", i)...))
		c.until(tag + " OK")
		c.until(fmt.Sprintf("N%d OK", i))
	}
	// A literal inside an ordinary command (LOGIN-style strings, SEARCH).
	needle := bytes.Repeat([]byte("x"), 64<<10)
	c.send("S1 SELECT INBOX")
	c.until("S1 OK")
	c.send(fmt.Sprintf("S2 SEARCH BODY {%d}", len(needle)))
	c.expect("+")
	c.sendRaw(append(needle, "\r\n"...))
	c.until("S2 OK")
}

// goneInline is a metadata store on which one message is expunged by
// someone else between FETCH reading its row and reading its content.
type goneInline struct {
	engine.MetaStore
	uid engine.UID
}

func (g goneInline) Inline(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uid engine.UID) ([]byte, error) {
	if uid == g.uid {
		return nil, fmt.Errorf("message %d: %w", uid, engine.ErrNotFound)
	}
	return g.MetaStore.Inline(ctx, user, mailbox, uid)
}

// TestFetchOfMessageExpungedMeanwhile: the other messages are answered and
// the command ends NO [EXPUNGEISSUED] (RFC 5530), not "no such mailbox".
func TestFetchOfMessageExpungedMeanwhile(t *testing.T) {
	ts := newTestServer(t, serverOptions{wrapMeta: func(m engine.MetaStore) engine.MetaStore { return goneInline{m, 2} }})
	for i := range 3 {
		ts.appendMessage("INBOX", fmt.Appendf(nil, "Subject: %d\r\n\r\nbody %d\r\n", i, i))
	}
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("S SELECT INBOX")
	c.until("S OK")
	c.send("F FETCH 1:3 (UID BODY.PEEK[HEADER])")
	lines := c.until("F ")
	var fetched []string
	for _, l := range lines {
		if strings.HasPrefix(l, "* ") && strings.Contains(l, "FETCH") {
			fetched = append(fetched, l[:strings.Index(l, " (")])
		}
	}
	if strings.Join(fetched, ",") != "* 1 FETCH,* 3 FETCH" {
		t.Fatalf("FETCH responses %q, want messages 1 and 3", fetched)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "F NO [EXPUNGEISSUED]") {
		t.Fatalf("tagged response %q", last)
	}
	c.send("N NOOP")
	c.until("N OK")
}
