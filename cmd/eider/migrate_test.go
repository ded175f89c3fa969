package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateCommand copies one embedded store into another with `eider
// migrate`, twice (the second run finds everything there), and checks the
// copy with the operator commands.
func TestMigrateCommand(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	dst := filepath.Join(t.TempDir(), "dst")
	if out, err := eider(t, "pw\n", "user", "add", "gina@example.com", "--data", src); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := eider(t, "", "mailbox", "create", "gina@example.com", "Projects/Eider", "--data", src); err != nil {
		t.Fatalf("mailbox create: %v\n%s", err, out)
	}
	to := filepath.Join(t.TempDir(), "dst.toml")
	if err := os.WriteFile(to, []byte("data_dir = "+strconvQuote(dst)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		out, err := eider(t, "", "migrate", "--data", src, "--to", to, "--verify", "--sample", "1")
		if err != nil {
			t.Fatalf("migrate (run %d): %v\n%s", run+1, err, out)
		}
		if !strings.Contains(out, "users 1, mailboxes 8") {
			t.Fatalf("migrate (run %d) summary: %s", run+1, out)
		}
	}
	out, err := eider(t, "", "mailbox", "list", "gina@example.com", "--data", dst)
	if err != nil || !strings.Contains(out, "Projects/Eider") || !strings.Contains(out, "INBOX") {
		t.Fatalf("mailboxes in the copy: %v\n%s", err, out)
	}
	if _, err := eider(t, "", "migrate", "--data", src); err == nil {
		t.Fatal("migrate without --to succeeded")
	}
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
