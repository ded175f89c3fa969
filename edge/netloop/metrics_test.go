package netloop

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/internal/testkit"
)

// TestConnectionMetrics: connections are counted per listener as they are
// accepted, open and closed (with the reason), TLS handshakes by result,
// and refusals by the limit that refused them.
func TestConnectionMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, func(cfg *Config) {
		cfg.Registerer = reg
		cfg.Limits = NewLimits(LimitConfig{MaxConnsPerIP: 2})
	})

	// A session the server ends (QUIT) and one the client ends.
	a := dialPlain(t, ts.plain)
	a.expect("* OK echo ready\r\n")
	b := dialPlain(t, ts.plain)
	b.expect("* OK echo ready\r\n")
	if got := testkit.Sample(t, reg, "eider_connections_open", "listener", "plain"); got != 2 {
		t.Errorf("open connections = %v, want 2", got)
	}
	// A third from the same address is over the per-IP limit.
	c := dialPlain(t, ts.plain)
	if line := c.line(); !strings.Contains(line, "BYE") {
		t.Errorf("refused connection got %q", line)
	}
	a.send("QUIT\r\n")
	a.expectEOF(5 * time.Second)
	_ = b.nc.Close()

	// A TLS handshake that works and one that does not.
	tc := ts.dialTLS(t)
	tc.expect("* OK echo ready\r\n")
	bad, err := net.Dial("tcp", ts.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, _ = bad.Write([]byte("this is no ClientHello\r\n\r\n"))
	_ = tc.nc.Close()

	waitFor(t, "connections closed", 5*time.Second, func() bool {
		return testkit.Sample(t, reg, "eider_connections_closed_total") == 4 &&
			testkit.Sample(t, reg, "eider_tls_handshakes_total", "result", "failed") == 1
	})
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"eider_connections_accepted_total", []string{"listener", "plain"}, 3},
		{"eider_connections_accepted_total", []string{"listener", "tls"}, 2},
		{"eider_connections_refused_total", []string{"listener", "plain", "reason", "max_connections_per_ip"}, 1},
		{"eider_connections_closed_total", []string{"listener", "plain", "reason", "server"}, 1},
		{"eider_connections_closed_total", []string{"listener", "plain", "reason", "client"}, 1},
		{"eider_connections_closed_total", []string{"listener", "tls", "reason", "client"}, 1},
		{"eider_connections_closed_total", []string{"listener", "tls", "reason", "error"}, 1},
		{"eider_connections_open", nil, 0},
		{"eider_tls_handshakes_total", []string{"listener", "tls", "result", "ok"}, 1},
		{"eider_tls_handshake_duration_seconds", []string{"listener", "tls"}, 1},
	} {
		if got := testkit.Sample(t, reg, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s %v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// TestSharedRegistry: servers registering on one registry share its
// collectors instead of failing, and keep their listeners apart.
func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	one := startServer(t, func(cfg *Config) {
		cfg.Registerer = reg
		cfg.Listeners = []Listener{{Name: "one", Addr: "127.0.0.1:0"}}
	})
	two := startServer(t, func(cfg *Config) {
		cfg.Registerer = reg
		cfg.Listeners = []Listener{{Name: "two", Addr: "127.0.0.1:0"}}
	})
	dialPlain(t, one.start).expect("* OK echo ready\r\n")
	dialPlain(t, two.start).expect("* OK echo ready\r\n")
	dialPlain(t, two.start).expect("* OK echo ready\r\n")
	if got := testkit.Sample(t, reg, "eider_connections_accepted_total", "listener", "one"); got != 1 {
		t.Errorf("listener one accepted %v, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_connections_accepted_total", "listener", "two"); got != 2 {
		t.Errorf("listener two accepted %v, want 2", got)
	}
}

// TestOutputStallMetric: a large response to a client that does not read
// waits for it, and the wait is counted.
func TestOutputStallMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, func(cfg *Config) {
		cfg.Registerer = reg
		cfg.HighWater = 64 << 10
	})
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	c.send("BIG 16777216\n")
	waitFor(t, "a stall", 5*time.Second, func() bool {
		return testkit.Sample(t, reg, "eider_output_stalls_total", "listener", "plain") > 0
	})
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	var tail string
	for !strings.Contains(tail, "OK big done") {
		n, err := c.r.Read(buf)
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		tail = (tail + string(buf[:n]))[max(0, len(tail)+n-64):]
	}
}

// TestPoolMetrics: queue depth, busy workers, job counters and queue waits.
func TestPoolMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := NewPool(PoolConfig{Workers: 1, QueueLimit: 1, Registerer: reg, Logger: testLogger()})
	defer p.Close(context.Background())
	release := make(chan struct{})
	started := make(chan struct{})
	ctx := context.Background()
	if err := p.Submit(ctx, func() { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := p.Submit(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(ctx, func() {}); err == nil {
		t.Fatal("third job accepted past the queue limit")
	}
	if got := testkit.Sample(t, reg, "eider_pool_queue_depth"); got != 1 {
		t.Errorf("queue depth = %v, want 1", got)
	}
	if got := testkit.Sample(t, reg, "eider_pool_busy_workers"); got != 1 {
		t.Errorf("busy workers = %v, want 1", got)
	}
	close(release)
	waitFor(t, "the queue to drain", 5*time.Second, func() bool {
		return testkit.Sample(t, reg, "eider_pool_wait_seconds") == 2
	})
	if got := testkit.Sample(t, reg, "eider_pool_jobs_submitted_total"); got != 2 {
		t.Errorf("submitted = %v, want 2", got)
	}
	if got := testkit.Sample(t, reg, "eider_pool_jobs_rejected_total"); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
}

// TestCommandMetricsNil: a nil Registerer gives nil metrics that record
// nothing, so protocols call them unconditionally.
func TestCommandMetricsNil(t *testing.T) {
	var m *CommandMetrics = NewCommandMetrics(nil, "imap")
	m.Observe("NOOP", "ok", time.Millisecond)
	m.Count("IDLE", "ok")
	var a *AuthMetrics = NewAuthMetrics(nil, "imap")
	a.Observe("PLAIN", AuthSuccess)
	if m != nil || a != nil {
		t.Fatal("metrics without a registry")
	}
}

// BenchmarkCommandObserve is the cost of counting and timing one command:
// through the resolved children, and through label lookups for comparison.
func BenchmarkCommandObserve(b *testing.B) {
	m := NewCommandMetrics(prometheus.NewRegistry(), "imap")
	b.Run("children", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Observe("UID FETCH", "ok", 350*time.Microsecond)
			}
		})
	})
	b.Run("label-lookup", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.total.WithLabelValues("UID FETCH", "ok").Inc()
				m.duration.WithLabelValues("UID FETCH", "ok").Observe(0.00035)
			}
		})
	})
}
