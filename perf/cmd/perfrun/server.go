package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ports are the loopback listeners of one server under test.
type ports struct {
	IMAP, POP3, LMTP int
}

func (p ports) imap() string { return fmt.Sprintf("127.0.0.1:%d", p.IMAP) }
func (p ports) pop3() string { return fmt.Sprintf("127.0.0.1:%d", p.POP3) }
func (p ports) lmtp() string { return fmt.Sprintf("127.0.0.1:%d", p.LMTP) }

// mailServer is a server under test: Eider or a peer. Both are started as
// children of perfrun in their own process group, so an interrupt of the
// terminal reaches perfrun, which stops them in order.
type mailServer interface {
	Name() string
	Version() string
	// Setup writes the configuration and creates the users; it runs once.
	Setup(ctx context.Context, users []string, passwordHash string) error
	Start(ctx context.Context) error
	Stop() error
	PID() int
	Ports() ports
	// MailStore is the directory that holds everything the server stores
	// for its users (messages, indexes, metadata).
	MailStore() string
	// Describe says how the server is configured, for the report.
	Describe() string
	// ConfigFile is the configuration the server runs with.
	ConfigFile() string
	// WarningLog is the file where the server writes its warnings and
	// errors (and nothing routine).
	WarningLog() string
}

// freePorts asks the kernel for n unused loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// waitGreeting waits until addr accepts a connection and sends a greeting
// line starting with want ("* OK", "+OK", "220").
func waitGreeting(ctx context.Context, addr, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, want) {
				return nil
			}
			last = fmt.Errorf("greeting %q: %v", strings.TrimSpace(line), rerr)
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not greet with %q within %s: %v", addr, want, timeout, last)
}

// child is a server process perfrun started.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

func startChild(name string, args []string, logPath string, env []string) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() {
		c.done <- cmd.Wait()
		logf.Close()
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the process has ended, and how.
func (c *child) exited() (bool, error) {
	select {
	case err := <-c.done:
		c.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop asks the process to shut down with SIGTERM and kills its whole
// process group if it is still there after grace.
func (c *child) stop(grace time.Duration) error {
	if ok, _ := c.exited(); ok {
		return nil
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	syscall.Kill(-c.pid(), syscall.SIGKILL)
	select {
	case <-c.done:
		return fmt.Errorf("%s did not stop within %s after SIGTERM; killed", c.cmd.Path, grace)
	case <-time.After(5 * time.Second):
		return errors.New("process did not die after SIGKILL")
	}
}
