package main

import (
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestServerMetricsMatchBench runs the IMAP stress against Eider and checks
// that the server's per-command metrics count exactly the commands the
// bench reports having sent: the counter by command and the latency
// histogram (which leaves IDLE out: its duration is not a latency).
func TestServerMetricsMatchBench(t *testing.T) {
	srv := startServer(t)
	users := strconv.Itoa(benchUsers)
	bench(t, "lmtp", "--quiet", "--addr", srv.lmtp, "--users", users, "--rcpt-format", userFormat,
		"--size", "2048", "--messages", "80", "--conns", "2")
	before := imapCounts(t, srv.metrics)
	rep := bench(t, "imap", "--quiet", "--addr", srv.imap, "--users", users, "--user-format", userFormat,
		"--password", benchPassword, "--clients", "6", "--duration", "2s", "--seed", "3",
		"--min-messages", "10", "--max-messages", "40")
	after := imapCounts(t, srv.metrics)
	sent := rep["commands"].(map[string]any)
	for name, v := range sent {
		if name == "CONNECT" { // the bench's own entry: connect, TLS, greeting
			continue
		}
		want := v.(map[string]any)["count"].(float64)
		got := after[name].sub(before[name])
		if got.total != want {
			t.Errorf("%s: server counted %v, bench sent %v", name, got.total, want)
		}
		if name != "IDLE" && got.timed != want {
			t.Errorf("%s: latency histogram has %v samples, bench sent %v", name, got.timed, want)
		}
	}
	for name, c := range after {
		if _, ok := sent[name]; !ok && c.total-before[name].total > 0 {
			t.Errorf("server counted %v %s the bench never sent", c.total-before[name].total, name)
		}
	}
}

type counts struct{ total, timed float64 }

func (a counts) sub(b counts) counts { return counts{a.total - b.total, a.timed - b.timed} }

// imapCounts reads eider_commands_total and the sample counts of
// eider_command_duration_seconds of protocol imap, summed over results.
func imapCounts(t *testing.T, g prometheus.Gatherer) map[string]counts {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]counts{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var proto, cmd string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "protocol":
					proto = l.GetValue()
				case "command":
					cmd = l.GetValue()
				}
			}
			if proto != "imap" {
				continue
			}
			c := out[cmd]
			switch mf.GetName() {
			case "eider_commands_total":
				c.total += m.GetCounter().GetValue()
			case "eider_command_duration_seconds":
				c.timed += float64(m.GetHistogram().GetSampleCount())
			}
			out[cmd] = c
		}
	}
	return out
}
