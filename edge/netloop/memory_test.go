package netloop

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestIdleMemory measures what an idle connection costs the server: 5,000
// plaintext and then 2,000 TLS connections are opened by a child process (so
// that client memory does not count) and the server's RSS growth is divided
// by the connections. It is a scale test, run only with EIDER_SCALE=1:
//
//	EIDER_SCALE=1 go test -run TestIdleMemory -v ./edge/netloop
func TestIdleMemory(t *testing.T) {
	if os.Getenv("EIDER_SCALE") != "1" {
		t.Skip("scale test: set EIDER_SCALE=1")
	}
	const nPlain, nTLS = 5000, 2000
	if os.Getenv("EIDER_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1 // exact, for the profile only: it slows allocation
	}
	raiseFileLimit(t)
	ts := startServer(t, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})

	child := exec.Command(os.Args[0], "-test.run=^TestIdleMemoryClient$")
	child.Env = append(os.Environ(), fmt.Sprintf("EIDER_NETLOOP_CLIENT=%s,%s,%d,%d", ts.plain, ts.tls, nPlain, nTLS))
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = child.Wait()
	}()
	out := bufio.NewScanner(stdout)
	await := func(word string) {
		t.Helper()
		for out.Scan() {
			if strings.HasPrefix(out.Text(), word) {
				return
			}
		}
		t.Fatalf("client process ended before %s", word)
	}

	await("STARTED")
	rss0, g0 := settledRSS(t), runtime.NumGoroutine()
	if _, err := io.WriteString(stdin, "plain\n"); err != nil {
		t.Fatal(err)
	}
	await("PLAIN")
	waitFor(t, "plain connections", 30*time.Second, func() bool { return ts.Conns() == nPlain })
	rss1, g1 := settledRSS(t), runtime.NumGoroutine()
	if _, err := io.WriteString(stdin, "tls\n"); err != nil {
		t.Fatal(err)
	}
	await("TLS")
	waitFor(t, "TLS connections", 60*time.Second, func() bool { return ts.Conns() == nPlain+nTLS })
	rss2, g2 := settledRSS(t), runtime.NumGoroutine()
	if path := os.Getenv("EIDER_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}

	plainPer := float64(rss1-rss0) / nPlain
	tlsPer := float64(rss2-rss1) / nTLS
	t.Logf("server RSS: %d KiB idle, +%d KiB with %d plaintext (%.2f KiB/conn), +%d KiB with %d TLS (%.2f KiB/conn)",
		rss0>>10, (rss1-rss0)>>10, nPlain, plainPer/1024, (rss2-rss1)>>10, nTLS, tlsPer/1024)
	t.Logf("goroutines: %d idle, %d with plaintext, %d with TLS", g0, g1, g2)
	if plainPer > 2048 {
		t.Errorf("plaintext idle connection costs %.0f bytes, want < 2 KB", plainPer)
	}
	if tlsPer > 12*1024 {
		t.Errorf("TLS idle connection costs %.0f bytes, want < 12 KB", tlsPer)
	}
	if g2 > g0+2 {
		t.Errorf("idle connections hold goroutines: %d before, %d after", g0, g2)
	}
}

// settledRSS returns the process's resident set after the garbage collector
// returned what it could to the OS.
func settledRSS(t *testing.T) int64 {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(200 * time.Millisecond)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func raiseFileLimit(t *testing.T) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// TestIdleMemoryClient is the client side of TestIdleMemory, run in a child
// process: it opens the connections when told on stdin, reads each greeting,
// and holds them until stdin closes.
func TestIdleMemoryClient(t *testing.T) {
	spec := os.Getenv("EIDER_NETLOOP_CLIENT")
	if spec == "" {
		t.Skip("helper process of TestIdleMemory")
	}
	parts := strings.Split(spec, ",")
	nPlain, _ := strconv.Atoi(parts[2])
	nTLS, _ := strconv.Atoi(parts[3])
	raiseFileLimit(t)
	var mu sync.Mutex
	var conns []net.Conn
	open := func(n int, dial func() (net.Conn, error)) {
		var wg sync.WaitGroup
		next := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 64)
				for range next {
					nc, err := dial()
					if err != nil {
						t.Errorf("dial: %v", err)
						return
					}
					_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
					if _, err := io.ReadAtLeast(nc, buf, len("* OK echo ready\r\n")); err != nil {
						t.Errorf("greeting: %v", err)
						return
					}
					mu.Lock()
					conns = append(conns, nc)
					mu.Unlock()
				}
			}()
		}
		for range n {
			next <- struct{}{}
		}
		close(next)
		wg.Wait()
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: true} // a throwaway certificate on loopback
	fmt.Println("STARTED")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "plain":
			open(nPlain, func() (net.Conn, error) { return net.Dial("tcp", parts[0]) })
			fmt.Println("PLAIN")
		case "tls":
			open(nTLS, func() (net.Conn, error) { return tls.Dial("tcp", parts[1], tlsCfg) })
			fmt.Println("TLS")
		}
	}
	for _, nc := range conns {
		_ = nc.Close()
	}
}
