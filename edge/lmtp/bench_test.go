package lmtp_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkDeliver measures LMTP deliveries per second, one recipient each,
// over 1 and 8 concurrent connections (one user per connection). The 2 KB
// and 50 KB messages are text stored inline; the 1 MB message carries a
// base64 attachment that differs between deliveries (64 variants, made
// before the clock starts), so deliveries write new blobs.
//
//	go test -run '^$' -bench Deliver -benchtime 5s ./edge/lmtp/
func BenchmarkDeliver(b *testing.B) {
	sizes := []struct {
		name string
		size int
	}{{"2KB", 2 << 10}, {"50KB", 50 << 10}, {"1MB", 1 << 20}}
	for _, sz := range sizes {
		for _, conns := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/conns=%d", sz.name, conns), func(b *testing.B) {
				benchDeliver(b, sz.size, conns)
			})
		}
	}
}

func textMessage(size int) []byte {
	var m bytes.Buffer
	m.WriteString("From: s@remote.test\r\nTo: r@example.com\r\nSubject: benchmark\r\nContent-Type: text/plain\r\n\r\n")
	for i := 0; m.Len() < size-80; i++ {
		fmt.Fprintf(&m, "%06d The quick brown fox jumps over the lazy dog, again and again.\r\n", i)
	}
	return m.Bytes()
}

func benchDeliver(b *testing.B, size, conns int) {
	v := newEnv(b, envOptions{})
	clients := make([]*client, conns)
	for i := range clients {
		v.user(fmt.Sprintf("bench%d@example.com", i), 0)
		clients[i] = dial(b, v.lmtpAddr)
		clients[i].lhlo()
	}
	bodies := [][]byte{textMessage(size)}
	if size >= 1<<20 {
		bodies = bodies[:0]
		for i := range min(b.N, 64) {
			var m bytes.Buffer
			if _, err := bigMessage(&m, size, uint64(i)); err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, m.Bytes())
		}
	}
	var next atomic.Int64
	b.SetBytes(int64(size))
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			head := fmt.Sprintf("MAIL FROM:<s@remote.test> SIZE=%d\r\nRCPT TO:<bench%d@example.com>\r\nDATA\r\n", size, i)
			// RFC 2920: DATA ends a pipelined group; the message follows the 354.
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				if _, err := io.WriteString(c.conn, head); err != nil {
					b.Error(err)
					return
				}
				for _, want := range []int{250, 250, 354} {
					if code, lines, err := c.tryReply(); err != nil || code != want {
						b.Errorf("got %d %q (%v), want %d", code, lines, err, want)
						return
					}
				}
				body := bodies[int(n)%len(bodies)]
				if _, err := c.conn.Write(body); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.WriteString(c.conn, ".\r\n"); err != nil {
					b.Error(err)
					return
				}
				if code, lines, err := c.tryReply(); err != nil || code != 250 {
					b.Errorf("after the message: %d %q (%v)", code, lines, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
