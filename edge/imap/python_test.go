package imap

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runPython runs a script from testdata/python and wants it to print OK.
func runPython(t *testing.T, script string, args ...string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "python", script)}, args...)...)
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s timed out:\n%s", script, out)
	}
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// TestPythonImaplib runs a full session with Python's imaplib over
// implicit TLS and over STARTTLS, trusting the test's self-signed CA.
func TestPythonImaplib(t *testing.T) {
	for _, mode := range []string{"tls", "starttls"} {
		t.Run(mode, func(t *testing.T) {
			ts := newTestServer(t, serverOptions{noPlain: true})
			plain := readMessage(t, "plain.eml")
			ts.appendMessage("INBOX", plain, `\Seen`)
			ts.appendMessage("INBOX", readMessage(t, "multipart.eml"))
			ca := filepath.Join(t.TempDir(), "ca.pem")
			must(t, os.WriteFile(ca, ts.cert.CertPEM, 0o600))
			addr := ts.addr
			if mode == "tls" {
				addr = ts.tlsAddr
			}
			host, port, _ := net.SplitHostPort(addr)
			runPython(t, "imaplib_session.py", mode, host, port, ca, testUser, testPassword,
				filepath.Join("testdata", "messages", "plain.eml"))
		})
	}
}

// TestCompressPartialFlush checks COMPRESS=DEFLATE with a client that
// ends each command with a zlib partial flush (what stalls servers whose
// inflater waits for a block end).
func TestCompressPartialFlush(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	ts.appendMessage("INBOX", readMessage(t, "plain.eml"))
	host, port, _ := net.SplitHostPort(ts.addr)
	runPython(t, "compress.py", host, port, testUser, testPassword)
}
