package pop3_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/internal/testkit"
)

// TestCommandMetrics: each reply counts its command once, by verb and
// result, whether the loop answered it or a job (PASS, RETR, QUIT's
// UPDATE state); pipelined commands count one by one.
func TestCommandMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true, Registerer: reg})
	u := v.user("a@example.com")
	v.appendMsgs(u, []byte("Subject: one\r\n\r\nfirst\r\n"))

	c := dial(t, v.plain)
	c.send("CAPA\r\n")
	c.ok()
	c.multi()
	c.send("USER " + u.Name + "\r\nPASS wrong\r\n")
	c.ok()
	c.err("AUTH")
	c.login(u.Name, "secret")
	c.send("STAT\r\nNOOP\r\nNOOP\r\n")
	c.ok()
	c.ok()
	c.ok()
	c.send("LIST\r\n")
	c.ok()
	c.multi()
	c.retr(1)
	c.send("RETR 9\r\n")
	c.err("")
	c.send("DELE 1\r\nFROBNICATE\r\n")
	c.ok()
	c.err("")
	c.send("QUIT\r\n")
	c.ok()

	deadline := time.Now().Add(5 * time.Second)
	for testkit.Sample(t, reg, "eider_commands_total", "command", "QUIT") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, tc := range []struct {
		command, result string
		want            float64
	}{
		{"CAPA", "ok", 1}, {"USER", "ok", 2}, {"PASS", "err", 1}, {"PASS", "ok", 1},
		{"STAT", "ok", 1}, {"NOOP", "ok", 2}, {"LIST", "ok", 1},
		{"RETR", "ok", 1}, {"RETR", "err", 1}, {"DELE", "ok", 1},
		{"unknown", "err", 1}, {"QUIT", "ok", 1},
	} {
		labels := []string{"protocol", "pop3", "command", tc.command, "result", tc.result}
		if got := testkit.Sample(t, reg, "eider_commands_total", labels...); got != tc.want {
			t.Errorf("eider_commands_total %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
		if got := testkit.Sample(t, reg, "eider_command_duration_seconds", labels...); got != tc.want {
			t.Errorf("latency samples %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
	}
	if got := testkit.Sample(t, reg, "eider_commands_total", "protocol", "pop3"); got != 14 {
		t.Errorf("%v commands counted, want 14", got)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "mechanism", "user_pass", "result", "failure"); got != 1 {
		t.Errorf("USER/PASS failures = %v, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "mechanism", "user_pass", "result", "success"); got != 1 {
		t.Errorf("USER/PASS successes = %v, want 1", got)
	}
}

// TestAuthPlainMetrics: AUTH with a challenge is one command that ends
// with the client's answer.
func TestAuthPlainMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true, Registerer: reg})
	u := v.user("a@example.com")
	c := dial(t, v.plain)
	c.send("AUTH PLAIN\r\n")
	if l := c.line(); l != "+ " {
		t.Fatalf("challenge %q", l)
	}
	c.send(base64.StdEncoding.EncodeToString([]byte("\x00"+u.Name+"\x00secret")) + "\r\n")
	c.ok()
	c.send("QUIT\r\n")
	c.ok()
	deadline := time.Now().Add(5 * time.Second)
	for testkit.Sample(t, reg, "eider_commands_total", "command", "QUIT") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := testkit.Sample(t, reg, "eider_commands_total", "command", "AUTH", "result", "ok"); got != 1 {
		t.Errorf("AUTH counted %v times, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_auth_attempts_total", "protocol", "pop3", "mechanism", "PLAIN", "result", "success"); got != 1 {
		t.Errorf("PLAIN successes = %v, want 1", got)
	}
}
