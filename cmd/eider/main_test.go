package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/internal/testkit"
)

func eider(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"[ingest]\ninline_max = \"64 parsecs\"\n":   "ingest.inline_max",
		"[ingest]\nframe_size = 12\n":               "ingest.frame_size",
		"[storage]\nmeta = \"oracle\"\n":            "storage.meta",
		"[log]\nlevel = \"loud\"\n":                 "log.level",
		"[gc]\ngrace = \"1s\"\n":                    "gc.grace",
		"[storage.blobs]\ncold_pth = \"/x\"\n":      "storage.blobs.cold_pth",
		"[journal]\nretention = \"soon\"\n":         "journal.retention",
		"[addresses]\nlabel_separator = \"@\"\n":    "addresses.label_separator",
		"[storage.blobs.cold]\ninterval = \"1h\"\n": "storage.blobs.cold.interval",
		"[lmtp]\njunk_headers = [\"X-Spam\"]\n":     "lmtp.junk_headers[0]",
		"[imap]\nlisten = [\"nowhere\"]\n":          "imap.listen",
		"[runtime]\ngc_percent = -5\n":              "runtime.gc_percent",
		"[ingest]\ndictionary_samples = -1\n":       "ingest.dictionary_samples",
	}
	for body, key := range cases {
		path := filepath.Join(dir, "eider.toml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := eider(t, "", "mailbox", "list", "x", "--config", path, "--data", dir)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("config %q: error %v (output %q) does not name %s", body, err, out, key)
		}
	}
}

func TestConfigDefaultsAndUnits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eider.toml")
	os.WriteFile(path, []byte("data_dir = \"/srv/mail\"\n[ingest]\ninline_max = \"32KiB\"\nmax_message_size = 1048576\n[journal]\nretention = \"3d\"\n"), 0o600)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.finish(); err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.InlineMax != 32<<10 || cfg.Ingest.MaxMessageSize != 1<<20 || cfg.Journal.Retention.std() != 72*time.Hour {
		t.Fatalf("parsed %+v", cfg.Ingest)
	}
	if cfg.Storage.Path != "/srv/mail/meta.db" || cfg.Storage.Blobs.Path != "/srv/mail/blobs" || cfg.Ingest.FrameSize != 256<<10 {
		t.Fatalf("defaults not applied: %+v", cfg.Storage)
	}
}

// TestCommands drives the binary's commands end to end on a fresh data directory.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, err := eider(t, stdin, append(args, "--data", dir)...)
		if err != nil {
			t.Fatalf("eider %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("secret\n", "user", "add", "Alice@Example.com", "--quota", "1GiB")
	must("", "user", "add", "bob@example.com", "--password-hash", "$2a$04$2eHgtnp0ZVBSqTgcHeZqVuuQ8Q3.UAjAvvq0i6qwg8EtIxI/Ym1Ha")
	if _, err := eider(t, "x\n", "user", "add", "alice@example.com", "--data", dir); err == nil {
		t.Fatal("adding an existing user succeeded")
	}
	must("", "user", "alias", "alice@example.com", "ali@bücher.example")
	list := must("", "user", "list")
	for _, want := range []string{"alice@example.com", "bob@example.com", "1GiB", "ali@bücher.example"} {
		if !strings.Contains(list, want) {
			t.Errorf("user list lacks %q:\n%s", want, list)
		}
	}
	must("", "mailbox", "create", "alice@example.com", "Projects/2026", "--special-use", `\Archive`)
	mbs := must("", "mailbox", "list", "alice@example.com")
	for _, want := range []string{"INBOX", "Drafts", `\Drafts`, "Sent", `\Sent`, "Junk", "Trash", "Archive", "Projects/2026"} {
		if !strings.Contains(mbs, want) {
			t.Errorf("mailbox list lacks %q:\n%s", want, mbs)
		}
	}
	must("", "mailbox", "delete", "alice@example.com", "Projects/2026")
	if _, err := eider(t, "", "mailbox", "delete", "alice@example.com", "INBOX", "--data", dir); err == nil {
		t.Fatal("deleting INBOX succeeded")
	}
	must("new secret\n", "user", "passwd", "alice@example.com")
	if out := must("", "blobs", "gc"); !strings.Contains(out, "scanned 0 blobs") {
		t.Errorf("gc: %s", out)
	}
	if out := must("", "blobs", "fsck"); !strings.Contains(out, "reference drift: 0") {
		t.Errorf("fsck: %s", out)
	}
	must("", "user", "delete", "bob@example.com")
	if list := must("", "user", "list"); strings.Contains(list, "bob@") {
		t.Errorf("deleted user still listed:\n%s", list)
	}
	if out := must("", "version"); !strings.HasPrefix(out, "eider ") {
		t.Errorf("version: %q", out)
	}
	if _, err := eider(t, "", "frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}

// TestServeStartsAndStops: serve needs no setup and stops cleanly on signal.
func TestServeStartsAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "eider.toml"), []byte(loopbackConfig), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out testkit.SyncBuffer
	go func() { done <- run(ctx, []string{"serve", "--data", dir}, strings.NewReader(""), &out, &out) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "eider serving") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, want := range []string{"eider serving", "listener=imaps", "listener=pop3s", "listener=lmtp"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("no %q in the start-up log:\n%s", want, out.String())
		}
	}
	if !fileExists(filepath.Join(dir, "tls", "cert.pem")) {
		t.Fatal("no self-signed certificate generated")
	}
}

// loopbackConfig puts every listener on a free loopback port.
const loopbackConfig = `
[imap]
listen = ["127.0.0.1:0"]
listen_tls = ["127.0.0.1:0"]
[pop3]
listen = ["127.0.0.1:0"]
listen_tls = ["127.0.0.1:0"]
[lmtp]
listen = ["127.0.0.1:0"]
[api]
listen = "127.0.0.1:0"
`
