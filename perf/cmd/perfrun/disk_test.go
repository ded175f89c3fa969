package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMeasureDiskCountsHardLinksOnce(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a/Maildir/cur", "b/Maildir/cur"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	msg := filepath.Join(dir, "a/Maildir/cur/1.host,S=5000:2,")
	if err := os.WriteFile(msg, make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	// Dovecot's LMTP links one file into every recipient's maildir.
	if err := os.Link(msg, filepath.Join(dir, "b/Maildir/cur/1.host,S=5000:2,")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a/Maildir/dovecot.index.log"), make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	total, parts, err := measureDiskParts(dir, dovecotPart)
	if err != nil {
		t.Fatal(err)
	}
	if total.Files != 2 {
		t.Fatalf("files = %d, want 2 (the linked message once, the index log)", total.Files)
	}
	if m := parts["message files (cur/, new/)"]; m.Files != 1 || m.Apparent != 5000 || m.Allocated < 5000 {
		t.Fatalf("message part %+v", m)
	}
	if ix := parts["indexes, cache, uidlist"]; ix.Files != 1 || ix.Apparent != 100 {
		t.Fatalf("index part %+v", ix)
	}
}

func TestEiderPart(t *testing.T) {
	for rel, want := range map[string]string{
		".": "directories", "meta.db": "meta.db", "meta.db-wal": "meta.db-wal",
		"blobs": "blobs/", "blobs/ab/cdef": "blobs/", "tls/cert.pem": "tls/",
	} {
		if got := eiderPart(rel, rel == "." || rel == "blobs"); got != want {
			t.Errorf("eiderPart(%q) = %q, want %q", rel, got, want)
		}
	}
}
