package imap

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/internal/testkit"
)

// TestCommandMetrics: every tagged response counts its command once,
// under the command's name and result, in both the counter and the
// latency histogram; a refused command line counts as "unknown".
func TestCommandMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	ts.appendMessage("INBOX", readMessage(t, "plain.eml"))
	c := dialRaw(t, ts.addr)
	c.expect("* OK")
	c.send("a0 LOGIN " + testUser + " wrong")
	c.expect("a0 NO")
	c.send("a1 LOGIN " + testUser + " " + testPassword)
	c.until("a1 OK")
	// Pipelined: three NOOPs in one write.
	c.sendRaw([]byte("n1 NOOP\r\nn2 NOOP\r\nn3 NOOP\r\n"))
	c.until("n3 OK")
	c.send("s1 SELECT Nonexistent")
	c.until("s1 NO")
	c.send("s2 SELECT INBOX")
	c.until("s2 OK")
	c.send("f1 UID FETCH 1:* (FLAGS)")
	c.until("f1 OK")
	c.send("f2 FETCH 1 BODY.PEEK[]")
	c.until("f2 OK")
	c.send("x1 FROBNICATE")
	c.until("x1 BAD")
	c.send("x2 LOGIN again please")
	c.until("x2 BAD")
	c.send("z1 LOGOUT")
	c.until("z1 OK")
	c.expectClosed()

	for _, tc := range []struct {
		command, result string
		want            float64
	}{
		{"LOGIN", "no", 1}, {"LOGIN", "ok", 1}, {"LOGIN", "bad", 1},
		{"NOOP", "ok", 3},
		{"SELECT", "ok", 1}, {"SELECT", "no", 1},
		{"UID FETCH", "ok", 1}, {"FETCH", "ok", 1},
		{"unknown", "bad", 1},
		{"LOGOUT", "ok", 1},
	} {
		labels := []string{"protocol", "imap", "command", tc.command, "result", tc.result}
		if got := testkit.Sample(t, reg, "eider_commands_total", labels...); got != tc.want {
			t.Errorf("eider_commands_total %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
		if got := testkit.Sample(t, reg, "eider_command_duration_seconds", labels...); got != tc.want {
			t.Errorf("eider_command_duration_seconds count %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
	}
	if got, want := testkit.Sample(t, reg, "eider_commands_total", "protocol", "imap"), 12.0; got != want {
		t.Errorf("%v commands counted in all, want %v", got, want)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "mechanism", "login_command", "result", "failure"); got != 1 {
		t.Errorf("failed LOGIN attempts = %v, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "mechanism", "login_command", "result", "success"); got != 1 {
		t.Errorf("successful LOGIN attempts = %v, want 1", got)
	}
}

// TestAuthenticateMetrics: SASL logins count under their mechanism, and
// the AUTHENTICATE command ends with the exchange.
func TestAuthenticateMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	c := dialRaw(t, ts.addr)
	c.expect("* OK")
	c.send("a1 AUTHENTICATE PLAIN")
	c.expect("+")
	c.send("*")
	c.expect("a1 BAD")
	c.send("a2 AUTHENTICATE PLAIN")
	c.expect("+")
	c.send(base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPassword)))
	c.until("a2 OK")

	if got := testkit.Sample(t, reg, "eider_commands_total", "command", "AUTHENTICATE", "result", "bad"); got != 1 {
		t.Errorf("cancelled AUTHENTICATE counted %v times, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_commands_total", "command", "AUTHENTICATE", "result", "ok"); got != 1 {
		t.Errorf("AUTHENTICATE ok counted %v times, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "protocol", "imap", "mechanism", "PLAIN", "result", "success"); got != 1 {
		t.Errorf("PLAIN successes = %v, want 1", got)
	}
}

// TestIdleMetrics: IDLE is counted, its duration goes to its own
// histogram and not to the command latencies, and a change committed
// meanwhile is measured on its way to the session.
func TestIdleMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("s1 SELECT INBOX")
	c.until("s1 OK")
	c.send("i1 IDLE")
	c.expect("+ ")
	ts.appendMessage("INBOX", readMessage(t, "plain.eml"))
	c.expect("* 1 EXISTS")
	time.Sleep(20 * time.Millisecond)
	c.send("DONE")
	c.until("i1 OK")

	if got := testkit.Sample(t, reg, "eider_commands_total", "command", "IDLE", "result", "ok"); got != 1 {
		t.Errorf("IDLE counted %v times, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_command_duration_seconds", "command", "IDLE"); got != 0 {
		t.Errorf("IDLE has %v latency samples, want none", got)
	}
	if got := testkit.Sample(t, reg, "eider_imap_idle_duration_seconds"); got != 1 {
		t.Errorf("IDLE durations observed: %v, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_imap_notify_lag_seconds"); got < 1 {
		t.Errorf("notifier lag observed %v times, want at least 1", got)
	}
}

// TestAbandonedCommand: an IDLE the client hangs up on is recorded as
// ended by an error when the connection closes.
func TestAbandonedCommand(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("i1 IDLE")
	c.expect("+ ")
	c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for testkit.Sample(t, reg, "eider_commands_total", "command", "IDLE", "result", "error") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned IDLE not counted; server log:\n%s", ts.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkNoopMetrics measures what counting and timing costs a command:
// batches of 100 pipelined NOOPs, with and without a registry.
func BenchmarkNoopMetrics(b *testing.B) {
	for _, tc := range []struct {
		name string
		reg  prometheus.Registerer
	}{{"off", nil}, {"on", prometheus.NewRegistry()}} {
		b.Run(tc.name, func(b *testing.B) {
			ts := newTestServer(b, serverOptions{cfg: Config{Registerer: tc.reg}})
			c := dialRaw(b, ts.addr)
			c.login()
			var batch []byte
			for i := range 100 {
				batch = fmt.Appendf(batch, "n%d NOOP\r\n", i)
			}
			b.ResetTimer()
			for range b.N {
				c.sendRaw(batch)
				c.until("n99 OK")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(100*b.N), "ns/command")
		})
	}
}

// TestAppendMetrics: APPEND counts once whether it is stored, refused
// before its literal (unknown mailbox) or stored over a MULTIAPPEND.
func TestAppendMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	c := dialRaw(t, ts.addr)
	c.login()
	msg := "Subject: m\r\n\r\nbody\r\n"
	c.send(fmt.Sprintf("a1 APPEND INBOX {%d}", len(msg)))
	c.expect("+")
	c.sendRaw([]byte(msg + "\r\n"))
	c.until("a1 OK")
	c.send(fmt.Sprintf("a2 APPEND Nowhere {%d}", len(msg)))
	c.until("a2 NO")
	c.send(fmt.Sprintf("a3 APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s", len(msg), msg, len(msg), msg))
	c.until("a3 OK")
	ok := testkit.Sample(t, reg, "eider_commands_total", "protocol", "imap", "command", "APPEND", "result", "ok")
	no := testkit.Sample(t, reg, "eider_commands_total", "protocol", "imap", "command", "APPEND", "result", "no")
	hist := testkit.Sample(t, reg, "eider_command_duration_seconds", "protocol", "imap", "command", "APPEND")
	if ok != 2 || no != 1 || hist != 3 {
		t.Fatalf("APPEND counted ok=%v no=%v, histogram %v; want 2, 1, 3", ok, no, hist)
	}
}
