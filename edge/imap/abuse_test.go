package imap

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAbuseAndLeaks throws bad input at the server from many connections
// at once: oversized lines and literals, unbalanced parentheses, invalid
// sequence sets, 8-bit garbage, commands in the wrong state, clients that
// vanish mid-literal or mid-IDLE, TLS garbage. Each gets BAD/NO or a clean
// close, nothing half-received is stored, other clients are served
// throughout, and goroutines and sessions return to their baseline.
func TestAbuseAndLeaks(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	// Warm up: one normal session, so lazily started machinery is counted
	// in the baseline.
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("w1 LOGOUT")
	c.until("w1 OK")
	waitFor(t, "sessions to close", func() bool { return ts.h.Sessions() == 0 })
	base := runtime.NumGoroutine()

	abuses := []func(t *testing.T, c *rawClient){
		// a line far over the 64 KiB limit, then a normal command
		func(t *testing.T, c *rawClient) {
			c.expect("* OK")
			c.sendRaw([]byte("a1 NOOP " + strings.Repeat("x", 100<<10) + "\r\n"))
			c.expect("a1 BAD")
			c.send("a2 NOOP")
			c.expect("a2 OK")
		},
		// a literal over the limit, synchronizing: refused without reading
		func(t *testing.T, c *rawClient) {
			c.login()
			c.send("a1 CREATE {1000000}")
			c.expect("a1 BAD [TOOBIG]")
			c.send("a2 NOOP")
			c.expect("a2 OK")
		},
		// disconnect in the middle of an APPEND literal (synchronizing)
		func(t *testing.T, c *rawClient) {
			c.login()
			c.send("a1 APPEND INBOX {1000}")
			c.expect("+ ")
			c.sendRaw([]byte("Subject: half\r\n\r\nonly part of it"))
		},
		// disconnect in the middle of a non-synchronizing MULTIAPPEND
		func(t *testing.T, c *rawClient) {
			c.login()
			c.sendRaw([]byte("a1 APPEND INBOX {5+}\r\none\r\n {300000+}\r\n" + strings.Repeat("y", 200000)))
		},
		// unbalanced parentheses, invalid sets, garbage, wrong state
		func(t *testing.T, c *rawClient) {
			c.expect("* OK")
			c.send("a0 FETCH 1 (FLAGS")
			c.expect("a0 BAD")
			c.sendRaw([]byte("\x00\x01\xff\xfe\r\n"))
			c.expect("* BAD")
			c.send("a00 SELECT INBOX")
			c.expect("a00 BAD")
			c.send("L0 LOGIN " + testUser + " " + testPassword)
			c.until("L0 OK")
			c.send("a1 SELECT INBOX")
			c.until("a1 OK")
			c.send("a2 FETCH 1:*:3 FLAGS")
			c.expect("a2 BAD")
			c.send("a3 STORE 99 +FLAGS (\\Seen)")
			c.expect("a3 BAD")
			c.send("a4 SEARCH ((((((((((((((((((((((((((((((((((((((((((((ALL")
			c.expect("a4 BAD")
			c.send("a5 UID FETCH 1:* (BODY[HEADER.FIELDS (a b c)")
			c.expect("a5 BAD")
		},
		// IDLE and vanish
		func(t *testing.T, c *rawClient) {
			c.login()
			c.send("a1 SELECT INBOX")
			c.until("a1 OK")
			c.send("a2 IDLE")
			c.expect("+ ")
		},
		// AUTHENTICATE and vanish in the middle of the exchange
		func(t *testing.T, c *rawClient) {
			c.expect("* OK")
			c.send("a1 AUTHENTICATE PLAIN")
			c.expect("+ ")
		},
		// a flood of pipelined commands
		func(t *testing.T, c *rawClient) {
			c.login()
			var b strings.Builder
			for i := 0; i < 500; i++ {
				fmt.Fprintf(&b, "p%d NOOP\r\n", i)
			}
			c.sendRaw([]byte(b.String()))
			c.until("p499 OK")
		},
		// garbage instead of a TLS handshake on the implicit-TLS port
		func(t *testing.T, c *rawClient) {
			g, err := net.DialTimeout("tcp", ts.tlsAddr, time.Second)
			if err != nil {
				return
			}
			_, _ = g.Write([]byte("a1 LOGIN plain text on a TLS port\r\n"))
			_ = g.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 64)
			_, _ = g.Read(buf)
			g.Close()
		},
		// a TLS session that logs in and drops the connection
		func(t *testing.T, c *rawClient) {
			tc, err := tls.Dial("tcp", ts.tlsAddr, ts.cert.ClientConfig())
			if err != nil {
				t.Errorf("TLS dial: %v", err)
				return
			}
			defer tc.Close()
			r := &rawClient{t: t, conn: tc, r: newReader(tc)}
			r.login()
			r.send("a1 SELECT INBOX")
			r.until("a1 OK")
		},
	}

	var wg sync.WaitGroup
	const rounds = 6
	for round := 0; round < rounds; round++ {
		for i, abuse := range abuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sub := &recordingT{TB: t, name: fmt.Sprintf("abuse %d", i)}
				c := dialRawNoCleanup(sub, ts.addr)
				if c == nil {
					return
				}
				defer c.conn.Close()
				func() {
					defer func() { _ = recover() }() // sub.Fatalf panics to stop the goroutine
					abuse(t, &rawClient{t: sub, conn: c.conn, r: c.r})
				}()
			}()
		}
	}
	// Meanwhile an ordinary client keeps being served.
	good := dialRaw(t, ts.addr)
	good.login()
	for i := 0; i < 20; i++ {
		good.send(fmt.Sprintf("g%d NOOP", i))
		good.until(fmt.Sprintf("g%d OK", i))
	}
	wg.Wait()
	good.send("g LOGOUT")
	good.until("g OK")
	good.conn.Close()

	waitFor(t, "sessions to close", func() bool { return ts.h.Sessions() == 0 })
	waitFor(t, "goroutines to return to the baseline", func() bool { return runtime.NumGoroutine() <= base+2 })

	// Nothing of the interrupted uploads was stored.
	mb, err := ts.e.Mailbox(context.Background(), ts.user.ID, "INBOX")
	must(t, err)
	st, err := ts.e.Status(context.Background(), ts.user.ID, mb.ID)
	must(t, err)
	if st.Messages != 0 {
		t.Errorf("%d messages stored from interrupted APPENDs", st.Messages)
	}
	if strings.Contains(ts.logs.String(), "panic") {
		t.Errorf("a session panicked:\n%s", ts.logs.String())
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("timed out waiting for %s (goroutines %d):\n%s", what, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordingT reports failures of a helper goroutine on the test without
// calling FailNow from it.
type recordingT struct {
	testing.TB
	name string
}

func (r *recordingT) Fatalf(format string, args ...any) {
	r.TB.Errorf(r.name+": "+format, args...)
	panic("stop")
}

func (r *recordingT) Fatal(args ...any) {
	r.TB.Error(append([]any{r.name + ":"}, args...)...)
	panic("stop")
}

func (r *recordingT) Helper() {}

func dialRawNoCleanup(t testing.TB, addr string) *rawClient {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Errorf("dial: %v", err)
		return nil
	}
	return &rawClient{t: t, conn: c, r: newReader(c)}
}
