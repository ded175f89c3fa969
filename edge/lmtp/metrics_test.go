package lmtp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/edge/lmtp"
	"github.com/eidermail/eider/internal/testkit"
)

// TestDeliveryMetrics: commands count by reply class, RCPT after its
// lookup; a message counts as a delivery with its recipients' results and
// its bytes; BDAT's last chunk is answered (and counted) with the delivery.
func TestDeliveryMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	v := newEnv(t, envOptions{lmtp: lmtp.Config{Registerer: reg}})
	v.user("rcpt@example.com", 0)
	msg := "Subject: metrics\r\n\r\nhello\r\n"

	c := dial(t, v.lmtpAddr)
	c.lhlo()
	c.send("MAIL FROM:<s@example.org>\r\n")
	c.expect(250, "")
	// Pipelined: one known and one unknown recipient in one lookup job.
	c.send("RCPT TO:<rcpt@example.com>\r\nRCPT TO:<nobody@example.com>\r\n")
	c.expect(250, "")
	c.expect(550, "")
	c.send("DATA\r\n")
	c.expect(354, "")
	c.send(msg + ".\r\n")
	c.expect(250, "")

	// The same message in two BDAT chunks.
	c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<rcpt@example.com>\r\n")
	c.expect(250, "")
	c.expect(250, "")
	half := len(msg) / 2
	c.send(fmt.Sprintf("BDAT %d\r\n%s", half, msg[:half]))
	c.expect(250, "")
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(msg)-half, msg[half:]))
	c.expect(250, "")
	c.send("NOOP\r\nXYZZY\r\nQUIT\r\n")
	c.expect(250, "")
	c.expect(500, "")
	c.expect(221, "")

	deadline := time.Now().Add(5 * time.Second)
	for testkit.Sample(t, reg, "eider_commands_total", "command", "QUIT") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, tc := range []struct {
		command, result string
		want            float64
	}{
		{"LHLO", "2xx", 1}, {"MAIL", "2xx", 2}, {"RCPT", "2xx", 2}, {"RCPT", "5xx", 1},
		{"DATA", "3xx", 1}, {"BDAT", "2xx", 2}, {"NOOP", "2xx", 1}, {"unknown", "5xx", 1},
		{"QUIT", "2xx", 1},
	} {
		labels := []string{"protocol", "lmtp", "command", tc.command, "result", tc.result}
		if got := testkit.Sample(t, reg, "eider_commands_total", labels...); got != tc.want {
			t.Errorf("eider_commands_total %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
		if got := testkit.Sample(t, reg, "eider_command_duration_seconds", labels...); got != tc.want {
			t.Errorf("latency samples %s %s = %v, want %v", tc.command, tc.result, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"eider_lmtp_deliveries_total", []string{"result", "delivered"}, 2},
		{"eider_lmtp_recipients_total", []string{"result", "2xx"}, 2},
		{"eider_lmtp_received_bytes_total", nil, float64(2 * len(msg))},
		{"eider_lmtp_message_size_bytes", nil, 2},
		{"eider_lmtp_delivery_duration_seconds", nil, 2},
	} {
		if got := testkit.Sample(t, reg, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s %v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
