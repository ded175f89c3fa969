package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// start runs a server for cfg on loopback ports and returns its base URLs.
func start(t *testing.T, cfg Config) (*Server, []string) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.MetricsListen != "" {
		cfg.MetricsListen = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	var urls []string
	for _, a := range s.Addrs() {
		urls = append(urls, "http://"+a.String())
	}
	return s, urls
}

func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func testRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "eider_test_things_total", Help: "Things."})
	c.Add(3)
	reg.MustRegister(c)
	return reg
}

// TestMetricsAndHealth: /metrics serves the registry in the text format
// and, when asked, OpenMetrics; /healthz answers ok until the drain.
func TestMetricsAndHealth(t *testing.T) {
	reg := testRegistry()
	s, urls := start(t, Config{Gatherer: reg, Registerer: reg})
	code, _, body := get(t, urls[0]+"/metrics")
	if code != 200 || !strings.Contains(body, "eider_test_things_total 3") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	code, h, body := get(t, urls[0]+"/metrics", "Accept", "application/openmetrics-text; version=1.0.0")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/openmetrics-text") || !strings.HasSuffix(body, "# EOF\n") {
		t.Fatalf("OpenMetrics: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	// The scrape handler counts its own scrapes.
	if _, _, body = get(t, urls[0]+"/metrics"); !strings.Contains(body, `promhttp_metric_handler_requests_total{code="200"} 2`) {
		t.Errorf("scrapes not counted:\n%s", body)
	}
	if code, _, body = get(t, urls[0]+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	s.Drain()
	if code, _, body = get(t, urls[0]+"/healthz"); code != 503 || body != "draining\n" {
		t.Fatalf("/healthz while draining: %d %q", code, body)
	}
	if code, _, _ = get(t, urls[0]+"/nothing"); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}

// TestSeparateMetricsListener: with MetricsListen, /metrics moves there.
func TestSeparateMetricsListener(t *testing.T) {
	_, urls := start(t, Config{Gatherer: testRegistry(), MetricsListen: "set"})
	if len(urls) != 2 {
		t.Fatalf("addresses %v", urls)
	}
	if code, _, _ := get(t, urls[0]+"/metrics"); code != 404 {
		t.Errorf("/metrics on the API port: %d", code)
	}
	if code, _, body := get(t, urls[1]+"/metrics"); code != 200 || !strings.Contains(body, "eider_test_things_total 3") {
		t.Errorf("/metrics on its own port: %d\n%s", code, body)
	}
	if code, _, _ := get(t, urls[1]+"/healthz"); code != 404 {
		t.Errorf("/healthz on the metrics port: %d", code)
	}
}

// TestHealthCheck: a failing check makes /healthz answer 503 with the reason.
func TestHealthCheck(t *testing.T) {
	var failing atomic.Pointer[error]
	_, urls := start(t, Config{Health: func(context.Context) error {
		if err := failing.Load(); err != nil {
			return *err
		}
		return nil
	}})
	if code, _, _ := get(t, urls[0]+"/healthz"); code != 200 {
		t.Fatalf("healthy: %d", code)
	}
	err := errors.New("metadata store unreachable")
	failing.Store(&err)
	if code, _, body := get(t, urls[0]+"/healthz"); code != 503 || !strings.Contains(body, "metadata store unreachable") {
		t.Fatalf("unhealthy: %d %q", code, body)
	}
	if code, _, _ := get(t, urls[0]+"/metrics"); code != 404 {
		t.Errorf("/metrics without a Gatherer: %d", code)
	}
}

// TestAddressInUse: a taken port is an error of New, not of Serve.
func TestAddressInUse(t *testing.T) {
	s, _ := start(t, Config{})
	if _, err := New(Config{Listen: s.Addrs()[0].String()}); err == nil {
		t.Fatal("New bound a port in use")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without an address")
	}
}
