package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestServersServeTheBenchUsers starts each server the way a run does, with
// the same users and password hash, delivers a message over LMTP, logs in
// over IMAP and sees it, sizes the store and samples the process tree.
// Dovecot is tried only when it is installed and the test runs as root
// (its mail processes then run as nobody, as in a run here).
func TestServersServeTheBenchUsers(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build eider with")
	}
	dir, err := os.MkdirTemp("", "perfrun-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "eider-bin")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/eider")
	build.Dir = filepath.Join("..", "..", "..")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/eider: %v\n%s", err, out)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("benchpass"), 4)
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"bench0@example.test", "bench1@example.test"}

	servers := map[string]func(p ports) mailServer{
		"eider": func(p ports) mailServer { return newEider(bin, filepath.Join(dir, "eider"), p) },
	}
	if _, err := exec.LookPath("dovecot"); err == nil && os.Geteuid() == 0 {
		servers["dovecot"] = func(p ports) mailServer {
			return newDovecot(filepath.Join(dir, "dovecot"), p, dovecotOptions{Hibernate: true, MaxIMAP: 100})
		}
	} else {
		t.Log("Dovecot not tried: it needs the dovecot binary and root")
	}
	for name, mk := range servers {
		t.Run(name, func(t *testing.T) {
			pp, err := freePorts(3)
			if err != nil {
				t.Fatal(err)
			}
			s := mk(ports{IMAP: pp[0], POP3: pp[1], LMTP: pp[2]})
			ctx := t.Context()
			if err := s.Setup(ctx, users, string(hash)); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Stop() })
			pid := s.PID()

			deliver(t, s.Ports().lmtp(), users[1])
			if n := selectCount(t, s.Ports().imap(), users[1], "benchpass"); n != 1 {
				t.Fatalf("INBOX of %s has %d messages after one delivery", users[1], n)
			}
			total, _, err := measureDiskParts(s.MailStore(), eiderPart)
			if err != nil || total.Files == 0 {
				t.Fatalf("store: %+v, %v", total, err)
			}
			m, err := sampleTree(pid)
			if err != nil || m.PSSBytes == 0 {
				t.Fatalf("memory of %d: %+v, %v", pid, m, err)
			}
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := waitGone(pid); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func waitGone(pid int) error {
	for range 50 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("process %d is still there after Stop", pid)
}

// chat is a line-oriented exchange with a server in a test.
type chat struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *chat {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &chat{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *chat) send(line string) {
	if _, err := fmt.Fprintf(c.c, "%s\r\n", line); err != nil {
		c.t.Fatal(err)
	}
}

// until reads lines up to one starting with prefix and returns them all.
func (c *chat) until(prefix string) []string {
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q after %q: %v", prefix, lines, err)
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
		if strings.HasPrefix(l, prefix) {
			return lines
		}
	}
}

func (c *chat) expect(prefix string) {
	lines := c.until(prefix[:3])
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, prefix) {
		c.t.Fatalf("got %q, want %q", last, prefix)
	}
}

func deliver(t *testing.T, addr, rcpt string) {
	c := dial(t, addr)
	c.until("220 ")
	c.send("LHLO perf.test")
	c.until("250 ")
	c.send("MAIL FROM:<sender@example.test>")
	c.expect("250")
	c.send("RCPT TO:<" + rcpt + ">")
	c.expect("250")
	c.send("DATA")
	c.expect("354")
	c.send("From: sender@example.test\r\nTo: " + rcpt + "\r\nSubject: perf\r\nMessage-ID: <1@perf.test>\r\n\r\nhello\r\n.")
	c.expect("250")
	c.send("QUIT")
}

func selectCount(t *testing.T, addr, user, password string) int {
	c := dial(t, addr)
	c.until("* OK")
	c.send(fmt.Sprintf("a LOGIN %s %s", user, password))
	if l := c.until("a "); !strings.HasPrefix(l[len(l)-1], "a OK") {
		t.Fatalf("LOGIN: %q", l)
	}
	c.send("b SELECT INBOX")
	lines := c.until("b ")
	n := -1
	for _, l := range lines {
		var k int
		if _, err := fmt.Sscanf(l, "* %d EXISTS", &k); err == nil {
			n = k
		}
	}
	c.send("c LOGOUT")
	return n
}
