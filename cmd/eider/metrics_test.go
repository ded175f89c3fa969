package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/eidermail/eider/internal/testkit"
)

// TestMetricsEndToEnd runs serve with the access log on, sends a known set
// of IMAP commands, scrapes /metrics over HTTP and checks that the latency
// histograms count exactly the commands sent, in the text format (classic
// buckets) and in the protobuf format (native histograms too).
func TestMetricsEndToEnd(t *testing.T) {
	dir, log := serveWithUser(t, loopbackConfig+"pprof = true\n[log]\naccess = true\n[gc]\ninterval = \"100ms\"\n")
	addrs := waitListening(t, log)
	apiAddr := waitAPI(t, log)
	metricsURL := "http://" + apiAddr + "/metrics"
	// api.pprof = true (loopbackConfig ends in [api]) serves Go's profiler.
	if resp, err := http.Get("http://" + apiAddr + "/debug/pprof/goroutine?debug=1"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pprof: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	lmtpDeliver(t, addrs["lmtp"][0], "carol@example.com", "Subject: metrics\r\n\r\nHello.\r\n")

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "cert.pem"))
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("self-signed certificate: %v", err)
	}
	conn, err := tls.Dial("tcp", addrs["imaps"][0], &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	until := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		}
	}
	// The commands sent and how many times; IDLE is timed on its own.
	sent := []struct {
		line, command, result string
	}{
		{"a1 LOGIN carol@example.com s3cret", "LOGIN", "ok"},
		{"a2 SELECT INBOX", "SELECT", "ok"},
		{"a3 NOOP", "NOOP", "ok"},
		{"a4 NOOP", "NOOP", "ok"},
		{"a5 FETCH 1 (FLAGS)", "FETCH", "ok"},
		{"a6 UID FETCH 1 (BODY.PEEK[])", "UID FETCH", "ok"},
		{"a7 FETCH 9 (FLAGS)", "FETCH", "bad"},
		{"a8 FROBNICATE", "unknown", "bad"},
	}
	until("* OK")
	for _, c := range sent {
		fmt.Fprintf(conn, "%s\r\n", c.line)
		until(strings.Fields(c.line)[0] + " ")
	}
	fmt.Fprintf(conn, "i1 IDLE\r\n")
	until("+ ")
	fmt.Fprintf(conn, "DONE\r\n")
	until("i1 OK")
	fmt.Fprintf(conn, "z1 LOGOUT\r\n")
	until("z1 OK")

	want := map[[2]string]uint64{{"LOGOUT", "ok"}: 1}
	for _, c := range sent {
		want[[2]string{c.command, c.result}]++
	}
	mfs := scrape(t, metricsURL, "text/plain")
	for k, n := range want {
		h := findMetric(mfs, "eider_command_duration_seconds", "protocol", "imap", "command", k[0], "result", k[1])
		if h == nil || h.GetHistogram().GetSampleCount() != n {
			t.Errorf("latency histogram of %s %s: %v samples, want %d", k[0], k[1], h.GetHistogram().GetSampleCount(), n)
			continue
		}
		if len(h.GetHistogram().GetBucket()) < 20 {
			t.Errorf("%s: %d classic buckets", k[0], len(h.GetHistogram().GetBucket()))
		}
	}
	total := uint64(0)
	for _, m := range mfs["eider_command_duration_seconds"].GetMetric() {
		if labelValue(m, "protocol") == "imap" {
			total += m.GetHistogram().GetSampleCount()
		}
	}
	if total != uint64(len(sent)+1) {
		t.Errorf("IMAP latency histograms hold %d samples, want %d (the commands sent but IDLE)", total, len(sent)+1)
	}
	if m := findMetric(mfs, "eider_commands_total", "command", "IDLE", "result", "ok"); m.GetCounter().GetValue() != 1 {
		t.Errorf("IDLE counted %v times", m.GetCounter().GetValue())
	}
	if m := findMetric(mfs, "eider_imap_idle_duration_seconds"); m.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("IDLE durations: %v", m.GetHistogram().GetSampleCount())
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"eider_connections_accepted_total", []string{"listener", "imaps"}},
		{"eider_tls_handshakes_total", []string{"listener", "imaps", "result", "ok"}},
		{"eider_auth_attempts_total", []string{"protocol", "imap", "mechanism", "login_command", "result", "success"}},
		{"eider_lmtp_deliveries_total", []string{"result", "delivered"}},
		{"eider_lmtp_received_bytes_total", nil},
		{"eider_store_operation_duration_seconds", []string{"store", "meta", "backend", "sqlite", "operation", "Append"}},
		{"eider_store_operation_duration_seconds", []string{"store", "notify", "backend", "local", "operation", "Publish"}},
		{"eider_ingest_bytes_total", []string{"kind", "inline", "form", "raw"}},
		{"eider_pool_wait_seconds", nil},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
		{"eider_build_info", nil},
	} {
		m := findMetric(mfs, c.name, c.labels...)
		if m == nil || metricValue(m) <= 0 {
			t.Errorf("%s %v: %v", c.name, c.labels, m)
		}
	}

	// serve's GC loop records its runs.
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(findMetric(mfs, "eider_gc_runs_total", "result", "ok")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no GC run recorded")
		}
		time.Sleep(50 * time.Millisecond)
		mfs = scrape(t, metricsURL, "text/plain")
	}
	if resp, err := http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	checkMetricsDocumented(t, mfs)

	// A scraper that negotiates protobuf gets native histograms as well.
	pb := scrape(t, metricsURL, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	h := findMetric(pb, "eider_command_duration_seconds", "protocol", "imap", "command", "NOOP", "result", "ok").GetHistogram()
	if h.GetSampleCount() != 2 || h.Schema == nil || len(h.GetPositiveSpan()) == 0 {
		t.Errorf("NOOP native histogram: count %d schema %v spans %v", h.GetSampleCount(), h.Schema, h.GetPositiveSpan())
	}

	// The access log: one line per command, but not the body FETCH.
	logged := log.String()
	if n := len(regexp.MustCompile(`msg=command .*command=NOOP`).FindAllString(logged, -1)); n != 2 {
		t.Errorf("%d access log lines for NOOP, want 2:\n%s", n, logged)
	}
	if !strings.Contains(logged, `command=FETCH tag=a5 result=ok`) {
		t.Errorf("no access log line for the FLAGS FETCH:\n%s", logged)
	}
	if strings.Contains(logged, "tag=a6") {
		t.Errorf("the body FETCH was logged:\n%s", logged)
	}
	if !regexp.MustCompile(`msg=command .*conn=\d+ remote=127\.0\.0\.1:\d+ user=carol@example.com command=LOGOUT`).MatchString(logged) {
		t.Errorf("access log lines lack the session's fields:\n%s", logged)
	}
}

// waitAPI reads the HTTP API's address from serve's log.
func waitAPI(t *testing.T, log *testkit.SyncBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`msg="api: listening" proto=api addr=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the HTTP API did not start:\n%s", log.String())
	return ""
}

// scrape GETs /metrics in the format accept asks for and parses it.
func scrape(t *testing.T, url, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if !strings.Contains(string(format), strings.Split(accept, ";")[0]) {
		t.Fatalf("asked for %s, got %s", accept, format)
	}
	out := map[string]*dto.MetricFamily{}
	if format.FormatType() == expfmt.TypeTextPlain {
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return mfs
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			break
		}
		out[mf.GetName()] = mf
	}
	if len(out) == 0 {
		t.Fatal("no metric families decoded")
	}
	return out
}

// findMetric returns the series of family name whose labels include want.
func findMetric(mfs map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
metrics:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			if labelValue(m, want[i]) != want[i+1] {
				continue metrics
			}
		}
		return m
	}
	return nil
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// TestObservabilityConfig: the api, metrics and log keys decode, default
// sensibly and are validated by name.
func TestObservabilityConfig(t *testing.T) {
	cfg := defaultConfig()
	if cfg.API.Listen != "127.0.0.1:8080" || cfg.Metrics.Listen != "" || cfg.Log.Access || cfg.Log.AccessFetchBodies {
		t.Errorf("defaults: %+v %+v %+v", cfg.API, cfg.Metrics, cfg.Log)
	}
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "eider.toml")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := loadConfig(write("[api]\nlisten = \"0.0.0.0:8081\"\n[metrics]\nlisten = \"10.0.0.1:9100\"\n[log]\naccess = true\naccess_fetch_bodies = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	if err := cfg.finish(); err != nil {
		t.Fatal(err)
	}
	if cfg.API.Listen != "0.0.0.0:8081" || cfg.Metrics.Listen != "10.0.0.1:9100" || !cfg.Log.Access || !cfg.Log.AccessFetchBodies {
		t.Errorf("decoded: %+v %+v %+v", cfg.API, cfg.Metrics, cfg.Log)
	}
	cfg, err = loadConfig(write("[metrics]\nlisten = \"no port\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	if err := cfg.finish(); err == nil || !strings.Contains(err.Error(), "metrics.listen") {
		t.Errorf("bad metrics.listen: %v", err)
	}
}

// checkMetricsDocumented: every eider_ family serve exposes is listed in
// docs/metrics.md, and every metric the Grafana dashboard queries is one
// of those listed.
func checkMetricsDocumented(t *testing.T, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("\\| `(eider_[a-z0-9_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for name := range mfs {
		if strings.HasPrefix(name, "eider_") && !documented[name] {
			t.Errorf("%s is not in docs/metrics.md", name)
		}
	}
	dash, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &board); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	queried := 0
	for _, p := range board.Panels {
		for _, tg := range p.Targets {
			for _, name := range regexp.MustCompile(`eider_[a-z0-9_]+`).FindAllString(tg.Expr, -1) {
				queried++
				base := name
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if documented[strings.TrimSuffix(name, suffix)] {
						base = strings.TrimSuffix(name, suffix)
					}
				}
				if !documented[base] {
					t.Errorf("dashboard panel %q queries %s, which no component exposes", p.Title, name)
				}
			}
		}
	}
	if queried < 20 {
		t.Errorf("the dashboard queries %d metrics", queried)
	}
}
