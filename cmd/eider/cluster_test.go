package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eidermail/eider/internal/testkit"
	"github.com/eidermail/eider/internal/testkit/ferret"
	"github.com/eidermail/eider/internal/testkit/redis"
)

// TestClusterNodes runs two `eider serve` processes on one shared store
// (MongoDB protocol, served here by an in-process FerretDB, with GridFS
// blobs) and one real redis-server, the way a cluster runs:
//
//   - a client IDLE-ing on node A hears of a delivery on node B (EXISTS) and
//     of a flag change made on node B (FETCH FLAGS) through a Redis beacon;
//   - node B killed in the middle of a delivery loses nothing that was
//     acknowledged and leaves no half-visible message;
//   - with Redis stopped, nodes keep serving and sessions fall back to
//     polling their journal; when Redis returns, beacons flow again.
//
// Latencies are logged, not asserted tightly (machines here are noisy); the
// bounds only separate a beacon (well under poll_interval) from a poll.
// FerretDB is single-writer correct only, so the test writes through one
// delivery at a time.
func TestClusterNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds eider and starts FerretDB, Redis and two nodes")
	}
	mongoURI := ferret.Start(t)
	rds := redis.Start(t)
	bin := buildEider(t)

	const pollInterval = 3 * time.Second
	cfgA := clusterConfig(t, "a", mongoURI, rds.URL(), pollInterval)
	cfgB := clusterConfig(t, "b", mongoURI, rds.URL(), pollInterval)
	if out, err := eider(t, "s3cret\n", "user", "add", "erin@example.com", "--config", cfgA); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	a := startNode(t, bin, cfgA)
	b := startNode(t, bin, cfgB)

	exists := make(chan uint32, 64)
	flags := make(chan string, 64)
	ca := dialIMAP(t, a.addrs["imaps"][0], &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
		Fetch: func(m *imapclient.FetchMessageData) {
			for item := m.Next(); item != nil; item = m.Next() {
				if f, ok := item.(imapclient.FetchItemDataFlags); ok {
					var s []string
					for _, fl := range f.Flags {
						s = append(s, string(fl))
					}
					flags <- strings.Join(s, " ")
				}
			}
		},
	})
	if _, err := ca.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle := func() *imapclient.IdleCommand {
		cmd, err := ca.Idle()
		if err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	waitExists := func(want uint32, within time.Duration, what string) time.Duration {
		t.Helper()
		start := time.Now()
		deadline := time.After(within)
		for {
			select {
			case n := <-exists:
				if n >= want {
					d := time.Since(start)
					t.Logf("%s: * %d EXISTS on node A %v after node B acknowledged", what, n, d.Round(time.Millisecond))
					return d
				}
			case <-deadline:
				t.Fatalf("%s: no * %d EXISTS on node A within %v", what, want, within)
			}
		}
	}

	// Delivery on B, IDLE on A.
	msg := func(i int) string {
		return fmt.Sprintf("From: frank@example.org\r\nTo: erin@example.com\r\nSubject: cluster %d\r\n\r\nBody %d.\r\n", i, i)
	}
	cmd := idle()
	lmtpDeliver(t, b.addrs["lmtp"][0], "erin@example.com", msg(1))
	waitExists(1, pollInterval/2, "beacon")

	// A flag change on B reaches A as FETCH FLAGS during IDLE.
	cb := dialIMAP(t, b.addrs["imaps"][0], nil)
	if _, err := cb.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := cb.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-flags:
		if !strings.Contains(f, `\Flagged`) {
			t.Fatalf("FETCH FLAGS on node A = %q, want \\Flagged", f)
		}
	case <-time.After(pollInterval / 2):
		t.Fatal("no FETCH FLAGS on node A for node B's STORE")
	}

	// One POP3 session per maildrop across the cluster (RFC 1939): a login
	// on node B is refused while node A's session holds it, and accepted
	// once it ended.
	popA := pop3Login(t, a.addrs["pop3s"][0])
	if reply := pop3Login(t, b.addrs["pop3s"][0]).reply; !strings.HasPrefix(reply, "-ERR [IN-USE]") {
		t.Fatalf("second POP3 login on node B: %q, want -ERR [IN-USE]", reply)
	}
	fmt.Fprint(popA.conn, "QUIT\r\n")
	if line, _ := popA.r.ReadString('\n'); !strings.HasPrefix(line, "+OK") {
		t.Fatalf("POP3 QUIT on node A: %q", line)
	}
	var reply string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if reply = pop3Login(t, b.addrs["pop3s"][0]).reply; strings.HasPrefix(reply, "+OK") {
			break
		}
	}
	if !strings.HasPrefix(reply, "+OK") {
		t.Fatalf("POP3 login on node B after node A's session ended: %q", reply)
	}

	// Node B dies mid-delivery: once while the message is still arriving,
	// once right after its last byte (the commit may or may not have
	// happened; either way the message is whole or absent).
	partial := lmtpUpTo(t, b.addrs["lmtp"][0], "erin@example.com")
	fmt.Fprint(partial, "From: frank@example.org\r\nSubject: never finished\r\n\r\n"+strings.Repeat("half a message\r\n", 4096))
	b.kill()
	partial.Close()
	b = startNode(t, bin, cfgB)
	last := lmtpUpTo(t, b.addrs["lmtp"][0], "erin@example.com")
	fmt.Fprint(last, msg(2)+".\r\n")
	b.kill()
	last.Close()
	b = startNode(t, bin, cfgB)

	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	n := uint32(countMessages(t, ca))

	// Redis down: nodes go on serving, sessions poll.
	cmd = idle()
	rds.Stop()
	lmtpDeliver(t, b.addrs["lmtp"][0], "erin@example.com", msg(3))
	waitExists(n+1, 3*pollInterval, "poll while Redis is down")

	// Redis back: beacons again (after the notifiers reconnect).
	rds.Restart()
	time.Sleep(2 * pollInterval) // reconnects are tried every poll_interval
	lmtpDeliver(t, b.addrs["lmtp"][0], "erin@example.com", msg(4))
	waitExists(n+2, pollInterval/2, "beacon after Redis returned")
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	// Whatever the kills left: every visible message is whole, and exactly
	// the acknowledged ones plus at most the one cut off after its last byte.
	got := fetchAll(t, ca)
	for i := 1; i <= 4; i++ {
		subject := fmt.Sprintf("cluster %d", i)
		sender := "dave@example.org" // lmtpDeliver's
		if i == 2 {
			sender = "frank@example.org" // lmtpUpTo's
		}
		want := "Return-Path: <" + sender + ">\r\nDelivered-To: erin@example.com\r\n" + msg(i)
		switch body, ok := got[subject]; {
		case ok && body != want:
			t.Errorf("%s on node A = %q, want %q", subject, body, want)
		case !ok && i != 2:
			t.Errorf("acknowledged %q is missing on node A", subject)
		}
	}
	if _, ok := got["never finished"]; ok {
		t.Errorf("the message cut off mid-upload is visible")
	}
	if len(got) < 3 || len(got) > 4 {
		t.Errorf("%d messages on node A, want 3 or 4: %q", len(got), got)
	}
}

// clusterConfig writes a node's eider.toml and returns its path.
func clusterConfig(t *testing.T, name, mongoURI, redisURL string, poll time.Duration) string {
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data_dir = %q
notify = "redis"

[redis]
url = %q
poll_interval = %q

[storage]
meta = "mongodb"

[storage.mongodb]
uri = %q
database = "eider"

[storage.blobs]
backend = "gridfs"
%s`, dir, redisURL, poll.String(), mongoURI, loopbackConfig)
	path := filepath.Join(dir, "eider.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildEider builds the eider binary the nodes run.
func buildEider(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eider")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type node struct {
	t     *testing.T
	cmd   *exec.Cmd
	log   *testkit.SyncBuffer
	addrs map[string][]string
	done  chan struct{}
}

// startNode runs `eider serve` as its own process.
func startNode(t *testing.T, bin, cfg string) *node {
	t.Helper()
	n := &node{t: t, log: &testkit.SyncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(bin, "serve", "--config", cfg)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			n.kill()
		}
		if t.Failed() {
			t.Logf("node log (%s):\n%s", cfg, n.log.String())
		}
	})
	n.addrs = waitListening(t, n.log)
	if len(n.addrs["imaps"]) == 0 || len(n.addrs["lmtp"]) == 0 {
		t.Fatalf("node listeners not found in its log:\n%s", n.log.String())
	}
	return n
}

// kill ends the node the way a crash does.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

func dialIMAP(t *testing.T, addr string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(addr, &imapclient.Options{
		TLSConfig:             &tls.Config{InsecureSkipVerify: true}, // each node's self-signed certificate
		UnilateralDataHandler: h,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("erin@example.com", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// lmtpUpTo opens an LMTP transaction to rcpt and returns the connection
// just after 354, for the caller to send (part of) a message.
func lmtpUpTo(t *testing.T, addr, rcpt string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	for _, step := range []struct{ send, want string }{
		{"", "220"}, {"LHLO test\r\n", "250"}, {"MAIL FROM:<frank@example.org>\r\n", "250"},
		{"RCPT TO:<" + rcpt + ">\r\n", "250"}, {"DATA\r\n", "354"},
	} {
		fmt.Fprint(conn, step.send)
		for {
			line, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, step.want) {
				t.Fatalf("lmtp: %q, %v (want %s)", line, err, step.want)
			}
			if len(line) > 3 && line[3] == ' ' {
				break
			}
		}
	}
	return conn
}

func countMessages(t *testing.T, c *imapclient.Client) int {
	t.Helper()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return int(*st.NumMessages)
}

// fetchAll reads every message of INBOX whole, by subject; two messages
// with one subject fail the test.
func fetchAll(t *testing.T, c *imapclient.Client) map[string]string {
	t.Helper()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	body := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{RFC822Size: true, Envelope: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		b := m.FindBodySection(body)
		if int64(len(b)) != m.RFC822Size {
			t.Errorf("message %d: %d bytes, RFC822.SIZE %d", m.SeqNum, len(b), m.RFC822Size)
		}
		if _, dup := out[m.Envelope.Subject]; dup {
			t.Errorf("%q is in INBOX twice", m.Envelope.Subject)
		}
		out[m.Envelope.Subject] = string(b)
	}
	return out
}

type pop3Session struct {
	conn  net.Conn
	r     *bufio.Reader
	reply string // to PASS
}

// pop3Login logs in over POP3S and returns the session and PASS's reply.
func pop3Login(t *testing.T, addr string) pop3Session {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	s := pop3Session{conn: conn, r: bufio.NewReader(conn)}
	for _, cmd := range []string{"", "USER erin@example.com\r\n", "PASS s3cret\r\n"} {
		fmt.Fprint(conn, cmd)
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("pop3 %q: %v", cmd, err)
		}
		s.reply = strings.TrimRight(line, "\r\n")
		if cmd != "PASS s3cret\r\n" && !strings.HasPrefix(line, "+OK") {
			t.Fatalf("pop3 %q: %q", cmd, line)
		}
	}
	return s
}
