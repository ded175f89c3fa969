// Package redis starts real redis-server processes on loopback ports for
// the tests of the Redis notifier and of multi-node setups: a standalone
// server that a test can stop and restart on the same port (an outage), and
// a Sentinel watching it.
//
// It needs the redis-server binary from Debian's redis-server package;
// `make test` installs it. It depends on the standard library only and
// speaks just enough RESP to wait for PONG.
//
// Only tests import this package.
package redis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string // command line; Restart reuses it

	mu  sync.Mutex
	cmd *exec.Cmd
	out *lockedWriter // combined output of the current process, for failure messages
}

// Binary returns the path of redis-server or fails the test with how to
// get it.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (%v): run `make test`, which installs Debian's redis-server package, "+
			"or `apt-get install -y redis-server`", err)
	}
	return bin
}

// Start starts a standalone redis-server on a free 127.0.0.1 port with
// persistence off and its working files in a temp dir. It is stopped when
// the test ends. Extra arguments are redis-server options
// ("--requirepass", "secret").
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir(), port: FreePort(t)}
	s.args = []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	}
	s.args = append(s.args, extra...)
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// StartCluster starts a one-node Redis Cluster that owns all 16384 slots:
// enough for a client to run in cluster mode and use sharded pub/sub. It
// is stopped when the test ends.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	s := Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if _, err := Command(s.Addr(), "CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
		t.Fatalf("assign cluster slots: %v", err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		info, err := Command(s.Addr(), "CLUSTER", "INFO")
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("one-node cluster not ready within %v: %q, %v", startTimeout, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port; it stays the same across Restart.
func (s *Server) Port() int { return s.port }

func (s *Server) start() {
	s.t.Helper()
	var out lockedWriter
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Its own process group: a test binary killed by a signal does not
	// leave a server behind holding the port.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd, s.out = cmd, &out
	s.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for {
		if Ping(s.Addr(), 200*time.Millisecond) == nil {
			// Keep reaping the process when it ends.
			go func() { <-exited }()
			return
		}
		select {
		case err := <-exited:
			s.t.Fatalf("redis-server on port %d exited at start (%v):\n%s", s.port, err, s.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			s.t.Fatalf("redis-server on port %d did not answer PING within %v:\n%s", s.port, startTimeout, s.output())
		}
	}
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return strings.TrimSpace(s.out.String())
}

// Stop kills the server (an outage, not a shutdown: clients see their
// connections drop) and waits until its port refuses connections. Stopping
// a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart starts a stopped server again on the same port, empty (nothing is
// persisted). Clients reconnect to the same address.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Ping dials addr and waits for +PONG, or for the NOAUTH error of a
// server that requires a password: either way it is serving.
func Ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// Command sends one command to addr and returns its reply: a simple
// string, an integer as text or a bulk string. An error reply is an error.
// For test setup only; it does not read arrays.
func Command(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(req.Bytes()); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bulk reply %q", line)
		}
		p := make([]byte, n+2)
		if _, err := io.ReadFull(r, p); err != nil {
			return "", err
		}
		return string(p[:n]), nil
	}
	return "", fmt.Errorf("unsupported reply %q", line)
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Sentinel is a redis-server running in Sentinel mode that monitors one
// master under a master-set name.
type Sentinel struct {
	*Server
	MasterSet string
}

// StartSentinel starts a Sentinel on a free port monitoring master under
// masterSet (quorum 1, fast failure detection). It is stopped when the
// test ends.
func StartSentinel(t testing.TB, master *Server, masterSet string) *Sentinel {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir(), port: FreePort(t)}
	// Sentinel rewrites its config file, so it needs one of its own.
	conf := filepath.Join(s.dir, "sentinel.conf")
	body := strings.Join([]string{
		"port " + strconv.Itoa(s.port),
		"bind 127.0.0.1",
		"dir " + s.dir,
		"logfile \"\"",
		"loglevel warning",
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1", masterSet, master.port),
		fmt.Sprintf("sentinel down-after-milliseconds %s 1000", masterSet),
		fmt.Sprintf("sentinel failover-timeout %s 5000", masterSet),
		"",
	}, "\n")
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatalf("write sentinel config: %v", err)
	}
	s.args = []string{conf, "--sentinel"}
	s.start()
	t.Cleanup(s.Stop)
	return &Sentinel{Server: s, MasterSet: masterSet}
}

// URL is the sentinel URL a client uses to find the master.
func (s *Sentinel) URL() string {
	return "redis-sentinel://" + s.Addr() + "/" + s.MasterSet
}

// lockedWriter collects a process's output; exec copies into it from its
// own goroutine while a failing test reads it.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
