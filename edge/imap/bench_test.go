package imap

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
)

// populate fills INBOX with n small messages through the engine, in
// batches, so a benchmark mailbox builds in seconds.
func populate(tb testing.TB, ts *testServer, n int) {
	tb.Helper()
	ctx := context.Background()
	mb, err := ts.e.Mailbox(ctx, ts.user.ID, "INBOX")
	must(tb, err)
	const batch = 1000
	for done := 0; done < n; done += batch {
		srcs := make([]engine.AppendSource, 0, batch)
		for i := done; i < min(n, done+batch); i++ {
			msg := fmt.Sprintf("From: sender%d@example.org\r\nTo: alice@example.com\r\nSubject: message %d\r\n\r\nBody of message %d.\r\n", i%97, i, i)
			var flags []string
			if i%3 == 0 {
				flags = []string{engine.FlagSeen}
			}
			srcs = append(srcs, engine.AppendSource{Body: bytes.NewReader([]byte(msg)), Options: engine.AppendOptions{Flags: flags}})
		}
		_, err := ts.e.AppendMany(ctx, ts.user.ID, mb.ID, srcs)
		must(tb, err)
	}
}

// BenchmarkIdleNotify measures the time from another session's APPEND
// (its command sent) to the IDLE-ing client reading "* n EXISTS", on
// loopback; it reports p50 and p99. The idler hibernates between changes
// unless EIDER_IDLE_AWAKE=1 (Config.KeepIdleAwake), for comparison.
func BenchmarkIdleNotify(b *testing.B) {
	ts := newTestServer(b, serverOptions{cfg: Config{KeepIdleAwake: os.Getenv("EIDER_IDLE_AWAKE") == "1"}})
	idler := dialRaw(b, ts.addr)
	idler.login()
	idler.send("s SELECT INBOX")
	idler.until("s OK")
	appender := dialRaw(b, ts.addr)
	appender.login()
	msg := "Subject: ping\r\n\r\nping\r\n"
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idler.send(fmt.Sprintf("i%d IDLE", i))
		idler.expect("+ ")
		start := time.Now()
		appender.sendRaw([]byte(fmt.Sprintf("a%d APPEND INBOX {%d+}\r\n%s\r\n", i, len(msg), msg)))
		line := idler.expect("* ")
		lat = append(lat, time.Since(start))
		if !strings.HasSuffix(line, " EXISTS") {
			b.Fatalf("during IDLE: %q", line)
		}
		appender.until(fmt.Sprintf("a%d OK", i))
		idler.send("DONE")
		idler.until(fmt.Sprintf("i%d OK", i))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkFetchFlags is FETCH 1:* (UID FLAGS RFC822.SIZE) over a whole
// mailbox, the first thing a client does after SELECT.
func BenchmarkFetchFlags(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ts := newTestServer(b, serverOptions{})
			populate(b, ts, n)
			c := dialRaw(b, ts.addr)
			c.login()
			c.send("s SELECT INBOX")
			c.until("s OK")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.send("f FETCH 1:* (UID FLAGS RFC822.SIZE)")
				lines := 0
				for {
					line, err := c.readLine(time.Minute)
					if err != nil {
						b.Fatal(err)
					}
					if strings.HasPrefix(line, "f ") {
						break
					}
					lines++
				}
				if lines != n {
					b.Fatalf("%d FETCH responses, want %d", lines, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/msg")
		})
	}
}

// BenchmarkSelect is SELECT of a large mailbox: its UID set, counters,
// keywords and first unseen message.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ts := newTestServer(b, serverOptions{})
			populate(b, ts, n)
			c := dialRaw(b, ts.addr)
			c.login()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.send("s SELECT INBOX")
				lines := c.until("s ")
				if !strings.HasPrefix(lines[len(lines)-1], "s OK") {
					b.Fatalf("SELECT: %q", lines)
				}
			}
		})
	}
}

// BenchmarkIdleSessionMemory measures the heap each idle, logged-in
// session with a selected mailbox costs the server, plaintext and TLS,
// both after SELECT and in IDLE (the client ends of the sockets live in
// the same process and are counted too, so this is an upper bound). With
// EIDER_HEAPPROFILE=DIR a heap profile of each case is written while its
// sessions are held (run with -memprofilerate=1 for exact numbers).
func BenchmarkIdleSessionMemory(b *testing.B) {
	for _, bc := range []struct {
		name      string
		tls, idle bool
	}{
		{"selected", false, false},
		{"idle", false, true},
		{"idle-tls", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) { idleSessionMemory(b, bc.tls, bc.idle) })
	}
}

func idleSessionMemory(b *testing.B, useTLS, idle bool) {
	const conns = 2000
	ts := newTestServer(b, serverOptions{})
	populate(b, ts, 100)
	script := "a LOGIN " + testUser + " " + testPassword + "\r\nb SELECT INBOX\r\n"
	want := []byte("b OK")
	if idle {
		script += "c IDLE\r\n"
		want = []byte("+ idling")
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: true} // the test certificate
	var ms0, ms1 runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		clients := make([]net.Conn, 0, conns)
		buf := make([]byte, 4096)
		for j := 0; j < conns; j++ {
			var c net.Conn
			var err error
			if useTLS {
				c, err = tls.Dial("tcp", ts.tlsAddr, tlsCfg)
			} else {
				c, err = net.Dial("tcp", ts.addr)
			}
			must(b, err)
			clients = append(clients, c)
			_, err = c.Write([]byte(script))
			must(b, err)
			var got []byte
			for !bytes.Contains(got, want) {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(buf)
				must(b, err)
				got = append(got, buf[:n]...)
			}
		}
		time.Sleep(100 * time.Millisecond) // let the workers finish their turns
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(int64(ms1.HeapInuse)-int64(ms0.HeapInuse))/conns, "heap-B/session")
		if dir := os.Getenv("EIDER_HEAPPROFILE"); dir != "" {
			f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "-")+".pprof"))
			must(b, err)
			must(b, pprof.WriteHeapProfile(f))
			must(b, f.Close())
		}
		for _, c := range clients {
			c.Close()
		}
	}
}
