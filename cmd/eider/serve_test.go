package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eidermail/eider/internal/testkit"
)

// TestServeEndToEnd runs `eider serve` as an operator would (no setup beyond
// a user), delivers over LMTP, and reads the message back over IMAPS with
// go-imap's client and over POP3S, checking it byte for byte.
func TestServeEndToEnd(t *testing.T) {
	dir, log := serveWithUser(t, loopbackConfig)
	addrs := waitListening(t, log)

	msg := "From: dave@example.org\r\nTo: carol@example.com\r\nSubject: end to end\r\n\r\nHello Carol.\r\n.. a dot-stuffed line\r\n"
	lmtpDeliver(t, addrs["lmtp"][0], "carol+e2e@example.com", msg)
	want := "Return-Path: <dave@example.org>\r\nDelivered-To: carol+e2e@example.com\r\n" +
		strings.Replace(msg, "\r\n.. ", "\r\n. ", 1)

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "cert.pem"))
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("self-signed certificate: %v", err)
	}
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: "localhost"}

	c, err := imapclient.DialTLS(addrs["imaps"][0], &imapclient.Options{TLSConfig: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("carol@example.com", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	body := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{RFC822Size: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v (%d messages)", err, len(msgs))
	}
	if got := string(msgs[0].FindBodySection(body)); got != want {
		t.Fatalf("IMAP BODY[] = %q, want %q", got, want)
	}
	if msgs[0].RFC822Size != int64(len(want)) {
		t.Fatalf("RFC822.SIZE %d, want %d", msgs[0].RFC822Size, len(want))
	}

	if got := pop3Retr(t, addrs["pop3s"][0], tlsConfig, "carol@example.com", "s3cret"); got != want {
		t.Fatalf("POP3 RETR = %q, want %q", got, want)
	}
}

// serveWithUser runs `eider serve` in this process on a new data directory
// with config as its eider.toml and the user carol@example.com (password
// s3cret), until the test ends; it returns the directory and serve's log.
func serveWithUser(t *testing.T, config string) (string, *testkit.SyncBuffer) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eider.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := eider(t, "s3cret\n", "user", "add", "carol@example.com", "--data", dir); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := &testkit.SyncBuffer{}
	go func() { done <- run(ctx, []string{"serve", "--data", dir}, strings.NewReader(""), log, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, log.String())
		}
	})
	return dir, log
}

// waitListening reads the listeners' addresses from serve's log, once
// every listener of loopbackConfig has logged its own.
func waitListening(t *testing.T, log *testkit.SyncBuffer) map[string][]string {
	t.Helper()
	re := regexp.MustCompile(`msg="netloop: listening" proto=\w+ listener=(\w+) addr=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out := map[string][]string{}
		for _, m := range re.FindAllStringSubmatch(log.String(), -1) {
			out[m[1]] = append(out[m[1]], m[2])
		}
		if strings.Contains(log.String(), "eider serving") && len(out) == 5 {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not start:\n%s", log.String())
	return nil
}

func lmtpDeliver(t *testing.T, addr, rcpt, msg string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("lmtp: %v", err)
			}
			if !strings.HasPrefix(line, code) {
				t.Fatalf("lmtp: got %q, want %s", line, code)
			}
			if len(line) > 3 && line[3] == ' ' {
				return
			}
		}
	}
	send := func(s string) { fmt.Fprint(conn, s) }
	expect("220")
	send("LHLO test\r\n")
	expect("250")
	send("MAIL FROM:<dave@example.org>\r\n")
	expect("250")
	send("RCPT TO:<" + rcpt + ">\r\n")
	expect("250")
	send("DATA\r\n")
	expect("354")
	send(msg + ".\r\n")
	expect("250")
	send("QUIT\r\n")
	expect("221")
}

func pop3Retr(t *testing.T, addr string, cfg *tls.Config, user, pass string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	ok := func() string {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+OK") {
			t.Fatalf("pop3: %q, %v", line, err)
		}
		return line
	}
	ok()
	fmt.Fprintf(conn, "USER %s\r\n", user)
	ok()
	fmt.Fprintf(conn, "PASS %s\r\n", pass)
	ok()
	fmt.Fprint(conn, "RETR 1\r\n")
	ok()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF || err != nil {
			t.Fatalf("pop3 RETR: %v", err)
		}
		if line == ".\r\n" {
			break
		}
		b.WriteString(strings.TrimPrefix(line, ".")) // undo dot-stuffing
	}
	fmt.Fprint(conn, "QUIT\r\n")
	ok()
	return b.String()
}
