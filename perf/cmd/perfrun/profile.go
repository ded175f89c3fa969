package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// fetchProfile saves a CPU profile of `seconds` from a net/http/pprof
// endpoint at addr.
func fetchProfile(ctx context.Context, addr string, seconds int, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+30)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serverComms are the command names of a server's processes, for
// filtering a system-wide perf profile down to the server.
var serverComms = map[string]string{
	"Eider":   "eider",
	"Dovecot": "dovecot,imap,imap-login,imap-hibernate,lmtp,pop3,pop3-login,auth,log,anvil,stats,config",
}

// perfRecording is `perf record` sampling the whole machine while a
// scenario runs: it sees every process of a forking server, and its
// per-command split shows how the CPU was shared with the bench and with
// whatever else ran.
type perfRecording struct {
	cmd  *exec.Cmd
	data string
}

func startPerf(dataPath string) (*perfRecording, error) {
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-a", "-q", "-o", dataPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// perf opens a sampling event per CPU before it records anything.
	time.Sleep(time.Second)
	return &perfRecording{cmd: cmd, data: dataPath}, nil
}

// stop ends the recording and writes a short text summary for comms: the
// CPU split by command, then the server's hottest functions (flat, as a
// share of the server's own samples).
func (p *perfRecording) stop(comms, summary string) error {
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := p.cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
	}
	byComm, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children", "--sort", "comm",
		"--percent-limit", "1", "-g", "none").Output()
	if err != nil {
		return fmt.Errorf("perf report: %w", err)
	}
	top, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children", "--comms", comms,
		"--percentage", "relative", "--sort", "comm,dso,sym", "--percent-limit", "0.7", "-g", "none").Output()
	if err != nil {
		return fmt.Errorf("perf report: %w", err)
	}
	var b strings.Builder
	b.WriteString("# CPU by command, whole machine, while the scenario ran\n")
	b.WriteString(reportBody(byComm, 30))
	fmt.Fprintf(&b, "\n# hottest functions of %s (share of its own samples)\n", comms)
	b.WriteString(reportBody(top, 60))
	return os.WriteFile(summary, []byte(b.String()), 0o644)
}

// reportBody keeps the table lines of perf report's output, at most n.
func reportBody(out []byte, n int) string {
	var b strings.Builder
	kept := 0
	for line := range strings.Lines(string(out)) {
		t := strings.TrimSpace(line)
		if t == "" || (strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "# Overhead")) {
			continue
		}
		if kept == n {
			break
		}
		b.WriteString(line)
		kept++
	}
	return b.String()
}
