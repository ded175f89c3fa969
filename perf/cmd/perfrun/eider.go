package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// eider is `eider serve` on the embedded store in a temporary data directory.
type eider struct {
	bin     string // built by perfrun
	extra   string // TOML appended to the generated config
	dir     string // config, log and data live here
	ports   ports
	version string
	proc    *child
}

func newEider(bin, dir string, p ports) *eider {
	return &eider{bin: bin, dir: dir, ports: p}
}

func (e *eider) Name() string       { return "Eider" }
func (e *eider) Ports() ports       { return e.ports }
func (e *eider) MailStore() string  { return filepath.Join(e.dir, "data") }
func (e *eider) ConfigFile() string { return filepath.Join(e.dir, "eider.toml") }

// WarningLog is serve's stderr; the config sets the level to warn.
func (e *eider) WarningLog() string { return filepath.Join(e.dir, "eider.log") }

func (e *eider) PID() int {
	if e.proc == nil {
		return 0
	}
	return e.proc.pid()
}

func (e *eider) Version() string {
	if e.version == "" {
		out, err := exec.Command(e.bin, "version").Output()
		if err != nil {
			return "unknown"
		}
		e.version = strings.TrimSpace(string(out))
	}
	return e.version
}

// eiderConfig is the eider.toml of a run: plain listeners on the run's
// ports, the TLS listeners off, plaintext logins allowed (the bench logs in
// on loopback without TLS, as it does with the peer) and blob GC off so it
// cannot run in the middle of a scenario. Everything else is the default,
// including fsync of every blob before its message commits.
func eiderConfig(dataDir string, p ports) string {
	return fmt.Sprintf(`# eider serve for perf/run
data_dir = %q

[log]
level = "warn"

[gc]
interval = "0s"

[imap]
listen = [%q]
listen_tls = []
allow_plaintext_auth = true

[pop3]
listen = [%q]
listen_tls = []
allow_plaintext_auth = true

[lmtp]
listen = [%q]
`, dataDir, p.imap(), p.pop3(), p.lmtp())
}

func (e *eider) Describe() string {
	return "`eider serve` on the embedded store with its defaults: SQLite metadata in WAL mode with " +
		"`synchronous=NORMAL` (a commit reaches the OS but is fsynced only at checkpoints, so a small message " +
		"kept inline is not fsynced before LMTP's 250), blob files fsynced before their message commits " +
		"(bodies over 64 KiB and attachments); plain IMAP/POP3/LMTP listeners on loopback, " +
		"`allow_plaintext_auth = true`, blob GC off."
}

func (e *eider) Setup(ctx context.Context, users []string, passwordHash string) error {
	if err := os.MkdirAll(e.MailStore(), 0o755); err != nil {
		return err
	}
	conf := eiderConfig(e.MailStore(), e.ports)
	if e.extra != "" {
		conf += "\n# added with --eider-config-extra\n" + e.extra + "\n"
	}
	if err := os.WriteFile(e.ConfigFile(), []byte(conf), 0o644); err != nil {
		return err
	}
	for _, u := range users {
		cmd := exec.CommandContext(ctx, e.bin, "user", "add", "--config", e.ConfigFile(), u, "--password-hash", passwordHash)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("eider user add %s: %w: %s", u, err, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

func (e *eider) Start(ctx context.Context) error {
	p, err := startChild(e.bin, []string{"serve", "--config", e.ConfigFile()}, e.WarningLog(), nil)
	if err != nil {
		return err
	}
	e.proc = p
	for _, w := range []struct{ addr, greet string }{{e.ports.imap(), "* OK"}, {e.ports.lmtp(), "220"}, {e.ports.pop3(), "+OK"}} {
		if err := waitGreeting(ctx, w.addr, w.greet, 30*time.Second); err != nil {
			e.Stop()
			return fmt.Errorf("eider serve: %w (log: %s)", err, e.WarningLog())
		}
	}
	return nil
}

func (e *eider) Stop() error {
	if e.proc == nil {
		return nil
	}
	err := e.proc.stop(20 * time.Second)
	e.proc = nil
	return err
}
