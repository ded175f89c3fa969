package imap

import (
	"strings"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary client bytes into a logged-in session with
// a selected mailbox: whatever arrives, no session may panic, and the
// server keeps serving the next connection.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"a1 NOOP\r\n",
		"a1 FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)] BODY[1.MIME]<0.10> BINARY[2] BINARY.SIZE[2] BODYSTRUCTURE ENVELOPE)\r\n",
		"a1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
		"a1 STORE 1:2 (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen $Junk)\r\n",
		"a1 SEARCH RETURN (MIN MAX COUNT SAVE) OR (FROM a) (NOT SEEN) UID 1:* MODSEQ 2 YOUNGER 60\r\na2 FETCH $ UID\r\n",
		"a1 APPEND INBOX (\\Seen) {11+}\r\nSubject: x\r\n {3+}\r\nabc\r\n",
		"a1 APPEND INBOX {20}\r\n",
		"a1 IDLE\r\nDONE\r\na2 IDLE\r\nnot done\r\n",
		"a1 MOVE 1 Archive\r\na2 COPY 1:* Nowhere\r\na3 EXPUNGE\r\n",
		"a1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% INBOX/*) RETURN (CHILDREN STATUS (MESSAGES SIZE))\r\n",
		"a1 ENABLE QRESYNC IMAP4rev2 UTF8=ACCEPT\r\na2 SELECT INBOX (QRESYNC (1 1 1:5 (1:2 1:2)))\r\n",
		"a1 COMPRESS DEFLATE\r\n\x00\x01\x02",
		"a1 CREATE a/b/c\r\na2 RENAME a x\r\na3 DELETE x/b\r\n",
		"\xff\xfe\r\n(((((((\r\n{99999999}\r\n",
		"a1 AUTHENTICATE PLAIN\r\n*\r\n",
		"a1 CLOSE\r\na2 SELECT Nowhere\r\na3 FETCH 1 FLAGS\r\n",
	} {
		f.Add([]byte(seed))
	}
	ts := newTestServer(f, serverOptions{})
	ts.appendMessage("INBOX", readMessage(f, "plain.eml"), `\Seen`)
	ts.appendMessage("INBOX", readMessage(f, "multipart.eml"))
	ts.appendMessage("INBOX", readMessage(f, "nested.eml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := dialRawNoCleanup(t, ts.addr)
		if c == nil {
			return
		}
		defer c.conn.Close()
		start := time.Now()
		c.login()
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("login took %v: an earlier input left the server stuck", d)
		}
		c.send("s1 SELECT INBOX")
		c.until("s1 ")
		_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.conn.Write(data)
		// Read whatever comes until the server goes quiet or closes.
		for {
			if _, err := c.readLine(20 * time.Millisecond); err != nil {
				break
			}
		}
		if strings.Contains(ts.logs.String(), "panic") {
			t.Fatalf("session panicked on %q:\n%s", data, ts.logs.String())
		}
	})
}
