package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/edge/imap"
	"github.com/eidermail/eider/edge/lmtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/internal/testkit"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

const (
	benchUsers    = 8
	benchPassword = "benchpass"
	userFormat    = "bench%d@example.test"
)

// server is Eider on loopback, wired as `eider serve` wires it: one engine
// on the embedded store, IMAP (cleartext and implicit TLS), POP3S and LMTP
// sharing a worker pool.
type server struct {
	imap, imaps, pop3s, lmtp string
	logs                     *testkit.SyncBuffer
	metrics                  *prometheus.Registry // the IMAP server's
}

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{logs: &testkit.SyncBuffer{}, metrics: prometheus.NewRegistry()}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := enginekit.Open(t, enginekit.Options{Logger: log})
	for i := range benchUsers {
		enginekit.User(t, env.Engine, fmt.Sprintf(userFormat, i), benchPassword, 0)
	}
	cert := testkit.NewCert(t, "localhost")
	pool := netloop.NewPool(netloop.PoolConfig{Logger: log})
	limits := netloop.NewLimits(netloop.LimitConfig{})
	spool := t.TempDir()
	protocols := []struct {
		listeners  []netloop.Listener
		handler    netloop.Handler
		maxInbound int
	}{
		{[]netloop.Listener{
			{Name: "imap", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeStartTLS},
			{Name: "imaps", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeTLS},
		}, imap.NewServer(env.Engine, imap.Config{
			Hostname: "imap.test", AllowPlaintextLogin: true, Pool: pool, Limits: limits,
			Logger: log, SpoolDir: spool, AuthFailureDelay: -1, Registerer: s.metrics,
		}), 1 << 20},
		{[]netloop.Listener{{Name: "pop3s", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeTLS}},
			pop3.NewServer(env.Engine, pop3.Config{Hostname: "pop3.test", Pool: pool, Logger: log, AuthFailureDelay: -1}), 0},
		{[]netloop.Listener{{Name: "lmtp", Addr: "tcp://127.0.0.1:0", Mode: netloop.ModeStartTLS}},
			lmtp.NewServer(env.Engine, lmtp.Config{Hostname: "lmtp.test", Pool: pool, Logger: log, SpoolDir: spool}), 0},
	}
	var addrs []string
	for _, p := range protocols {
		srv, err := netloop.NewServer(netloop.Config{
			Listeners: p.listeners, Handler: p.handler, TLSConfig: cert.ServerConfig(),
			Limits: limits, Logger: log, EventLoops: 2, MaxInbound: p.maxInbound,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range srv.Addrs() {
			addrs = append(addrs, a.String())
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Serve(context.Background())
		}()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pool.Close(ctx)
		if t.Failed() && s.logs.Len() > 0 {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	s.imap, s.imaps, s.pop3s, s.lmtp = addrs[0], addrs[1], addrs[2], addrs[3]
	return s
}

// bench runs the command line in-process and returns the JSON report.
func bench(t *testing.T, args ...string) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), append(args, "--json", path), &stdout, &stderr)
	t.Logf("eider-bench %s (%.1fs):\n%s", strings.Join(args, " "), time.Since(start).Seconds(), stdout.String())
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, raw)
	}
	checkSchema(t, rep, raw)
	return rep
}

// checkSchema checks the fields perf/ scripts read, with their types.
func checkSchema(t *testing.T, rep map[string]any, raw []byte) {
	t.Helper()
	for _, k := range []string{"mode", "target", "started"} {
		if _, ok := rep[k].(string); !ok {
			t.Errorf("%s: not a string in %s", k, raw)
		}
	}
	if _, err := time.Parse(time.RFC3339, rep["started"].(string)); err != nil {
		t.Errorf("started: %v", err)
	}
	for _, k := range []string{"duration_s", "clients", "ops", "errors", "consistency_errors", "bytes", "ops_per_s",
		"mb_per_s", "rss_before_bytes", "rss_after_bytes", "rss_per_conn_bytes", "conns"} {
		if _, ok := rep[k].(float64); !ok {
			t.Errorf("%s: not a number in %s", k, raw)
		}
	}
	if _, ok := rep["consistency_samples"].([]any); !ok {
		t.Errorf("consistency_samples: not a list in %s", raw)
	}
	cmds, ok := rep["commands"].(map[string]any)
	if !ok || len(cmds) == 0 {
		t.Fatalf("commands: missing in %s", raw)
	}
	for name, v := range cmds {
		c, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("commands[%s] is not an object", name)
		}
		for _, k := range []string{"count", "errors", "per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms"} {
			if _, ok := c[k].(float64); !ok {
				t.Errorf("commands[%s].%s: not a number", name, k)
			}
		}
		if c["p50_ms"].(float64) > c["p99_ms"].(float64) || c["p99_ms"].(float64) > c["p999_ms"].(float64) {
			t.Errorf("commands[%s]: percentiles out of order: %v", name, c)
		}
	}
}

// clean asserts a run without errors that did something.
func clean(t *testing.T, rep map[string]any, commands ...string) {
	t.Helper()
	if rep["errors"].(float64) != 0 || rep["consistency_errors"].(float64) != 0 {
		t.Errorf("%s: %v errors, %v consistency errors: %v %v", rep["mode"], rep["errors"], rep["consistency_errors"],
			rep["error_samples"], rep["consistency_samples"])
	}
	if rep["ops"].(float64) <= 0 {
		t.Errorf("%s: no operations", rep["mode"])
	}
	cmds := rep["commands"].(map[string]any)
	for _, name := range commands {
		c, ok := cmds[name].(map[string]any)
		if !ok || c["count"].(float64) <= 0 {
			t.Errorf("%s: no %s commands in %v", rep["mode"], name, cmds)
		}
	}
}

// TestModesAgainstEider runs every mode against a real Eider in the order a
// side-by-side run uses them: deliver a corpus with attachments, stress it,
// download it, fetch a section of each message, download it over POP3,
// and hold idle connections.
func TestModesAgainstEider(t *testing.T) {
	srv := startServer(t)
	users := strconv.Itoa(benchUsers)

	rep := bench(t, "lmtp", "--quiet", "--addr", srv.lmtp, "--users", users, "--rcpt-format", userFormat,
		"--size", "2048", "--attach-size", "8192", "--messages", "200", "--conns", "4")
	clean(t, rep, "MAIL", "RCPT", "DATA", "QUIT")
	if rep["messages"].(float64) != 200 {
		t.Errorf("lmtp delivered %v messages, want 200", rep["messages"])
	}

	rep = bench(t, "imap", "--quiet", "--addr", srv.imap, "--users", users, "--user-format", userFormat,
		"--password", benchPassword, "--clients", "8", "--duration", "3s", "--seed", "7",
		"--min-messages", "20", "--max-messages", "60")
	clean(t, rep, "LOGIN", "SELECT", "FETCH", "UID FETCH", "UID STORE", "UID SEARCH", "APPEND",
		"UID COPY", "UID MOVE", "UID EXPUNGE", "IDLE", "LOGOUT")

	rep = bench(t, "fetch", "--quiet", "--addr", srv.imaps, "--tls", "--insecure", "--users", users,
		"--user-format", userFormat, "--password", benchPassword, "--conns", "4")
	clean(t, rep, "LOGIN", "SELECT", "UID FETCH", "LOGOUT")
	imapMessages, imapBytes := rep["messages"].(float64), rep["bytes"].(float64)
	if imapMessages < 100 || imapBytes < imapMessages*2048 {
		t.Errorf("fetch downloaded %v messages, %v bytes", imapMessages, imapBytes)
	}

	rep = bench(t, "partial", "--quiet", "--addr", srv.imap, "--users", users, "--user-format", userFormat,
		"--password", benchPassword, "--conns", "4", "--section", "2", "--partial", "0.1024")
	clean(t, rep, "FETCH")
	// The stress run expunged some of the delivered messages and added
	// single-part ones; every attachment left is longer than 1024 bytes.
	if n := rep["messages"].(float64); n < 50 || rep["bytes"].(float64) != n*1024 {
		t.Errorf("partial fetched %v bytes of section 2 of %v messages, want 1024 of each of 50 or more", rep["bytes"], n)
	}

	rep = bench(t, "pop3", "--quiet", "--addr", srv.pop3s, "--tls", "--insecure", "--users", users,
		"--user-format", userFormat, "--password", benchPassword, "--conns", "4")
	clean(t, rep, "USER", "PASS", "STAT", "UIDL", "RETR", "QUIT")
	// The same mailboxes, read over two protocols, byte for byte.
	if rep["messages"].(float64) != imapMessages || rep["bytes"].(float64) != imapBytes {
		t.Errorf("POP3 downloaded %v messages, %v bytes; IMAP %v, %v", rep["messages"], rep["bytes"], imapMessages, imapBytes)
	}

	rep = bench(t, "idle", "--quiet", "--addr", srv.imap, "--users", users, "--user-format", userFormat,
		"--password", benchPassword, "--conns", "200", "--sources", "127.0.0.1-127.0.0.4",
		"--hold", "200ms", "--pid", strconv.Itoa(os.Getpid()))
	clean(t, rep, "CONNECT", "LOGIN", "SELECT", "IDLE")
	if rep["conns"].(float64) != 200 || rep["rss_before_bytes"].(float64) <= 0 || rep["rss_after_bytes"].(float64) <= 0 {
		t.Errorf("idle: %v connections, RSS %v -> %v", rep["conns"], rep["rss_before_bytes"], rep["rss_after_bytes"])
	}
}
