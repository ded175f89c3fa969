package load

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

func TestMessageGenIsDeterministic(t *testing.T) {
	a := NewMessageGen(7, 3).Message("bench1@example.test", 2048, 0)
	b := NewMessageGen(7, 3).Message("bench1@example.test", 2048, 0)
	c := NewMessageGen(8, 3).Message("bench1@example.test", 2048, 0)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed and stream gave different messages")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same message")
	}
	if n := len(a); n < 2048 || n > 2048+100 {
		t.Errorf("message of %d bytes for size 2048", n)
	}
	if bytes.Contains(bytes.ReplaceAll(a, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in a generated message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("To") != "<bench1@example.test>" || m.Header.Get("Message-Id") == "" || m.Header.Get("Subject") == "" {
		t.Errorf("headers %v", m.Header)
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
}

// TestMessageGenAttachment checks that part 2 is a base64 attachment of
// exactly the asked size: the partial-fetch scenario reads it.
func TestMessageGenAttachment(t *testing.T) {
	raw := NewMessageGen(1, 1).Message("x@example.test", 1000, 10000)
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type"))
		if len(parts) == 2 {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
			if err != nil || len(dec) != 10000 {
				t.Fatalf("attachment: %d bytes, %v", len(dec), err)
			}
			for _, line := range strings.Split(strings.TrimRight(string(body), "\r\n"), "\r\n") {
				if len(line) > 76 {
					t.Fatalf("base64 line of %d characters", len(line))
				}
			}
		}
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "text/plain") || !strings.HasPrefix(parts[1], "application/octet-stream") {
		t.Fatalf("parts %q", parts)
	}
}

func TestCheckNameFormat(t *testing.T) {
	for f, ok := range map[string]bool{"bench%d": true, "bench%d@example.test": true, "bench": false, "%d%d": false, "%s%d": false} {
		if err := CheckNameFormat("--user-format", f); (err == nil) != ok {
			t.Errorf("%q: %v", f, err)
		}
	}
}
