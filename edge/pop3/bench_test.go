package pop3_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/engine"
)

// BenchmarkRetrMailbox measures POP3 RETR throughput: one iteration logs
// in and retrieves every message of a 1,000-message INBOX (text messages of
// 2 to 60 KB, about 30 MB in all) with pipelined RETR commands.
//
//	go test -run '^$' -bench RetrMailbox -benchtime 3x ./edge/pop3/
func BenchmarkRetrMailbox(b *testing.B) {
	v := newEnv(b, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("bench@example.com")
	mb := v.inbox(u)
	var total int64
	srcs := make([]engine.AppendSource, 0, 100)
	flush := func() {
		if _, err := v.e.AppendMany(context.Background(), u.ID, mb.ID, srcs); err != nil {
			b.Fatal(err)
		}
		srcs = srcs[:0]
	}
	for i := range 1000 {
		m := benchMessage(i, 2<<10+(i*7919)%(58<<10))
		total += int64(len(m))
		srcs = append(srcs, engine.AppendSource{Body: bytes.NewReader(m)})
		if len(srcs) == cap(srcs) {
			flush()
		}
	}
	flush()
	// Let the full-text index catch up first: its background work is the
	// cost of delivery, not of reading.
	if ix, ok := v.e.Meta().(interface {
		IndexText(context.Context) (int, error)
	}); ok {
		if _, err := ix.IndexText(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	var cmds strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&cmds, "RETR %d\r\n", i)
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		c := dial(b, v.plain)
		c.login(u.Name, "secret")
		go func() { _, _ = c.conn.Write([]byte(cmds.String())) }()
		var got int64
		for range 1000 {
			c.ok()
			got += int64(len(c.multi()))
		}
		if got != total {
			b.Fatalf("retrieved %d bytes, stored %d", got, total)
		}
		c.send("QUIT\r\n")
		c.ok()
		c.conn.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "messages/s")
}

func benchMessage(i, size int) []byte {
	var m bytes.Buffer
	fmt.Fprintf(&m, "From: s@remote.test\r\nTo: bench@example.com\r\nSubject: message %d\r\nContent-Type: text/plain\r\n\r\n", i)
	for j := 0; m.Len() < size; j++ {
		fmt.Fprintf(&m, "%d.%d A line of text that looks like mail and compresses like mail does.\r\n", i, j)
	}
	return m.Bytes()
}
