package lmtp_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestRandomSessions pipelines random mixes of valid, misplaced and broken
// commands, messages and chunks, split at random points, and checks that
// every session still answers QUIT: no panic, no stall, no lost reply
// ordering that would leave the client waiting.
func TestRandomSessions(t *testing.T) {
	v := newEnv(t, envOptions{})
	for i := range 4 {
		v.user(fmt.Sprintf("r%d@example.com", i), 0)
	}
	v.user("full@example.com", 10)
	rng := rand.New(rand.NewPCG(7, 11))
	pieces := []func() string{
		func() string { return "LHLO client.test\r\n" },
		func() string { return "MAIL FROM:<s@remote.test>\r\n" },
		func() string { return fmt.Sprintf("MAIL FROM:<s@remote.test> SIZE=%d\r\n", rng.IntN(1<<20)) },
		func() string { return fmt.Sprintf("RCPT TO:<r%d@example.com>\r\n", rng.IntN(5)) },
		func() string { return "RCPT TO:<full@example.com>\r\n" },
		func() string { return "RCPT TO:<nobody@example.com>\r\n" },
		func() string { return "RCPT TO:<bad address>\r\n" },
		func() string { return "DATA\r\nSubject: r\r\n\r\nbody\r\n..dot\r\n.\r\n" },
		func() string {
			n := rng.IntN(3000)
			last := ""
			if rng.IntN(2) == 0 {
				last = " LAST"
			}
			return fmt.Sprintf("BDAT %d%s\r\n%s", n, last, strings.Repeat("b", n))
		},
		func() string { return "RSET\r\n" },
		func() string { return "NOOP\r\n" },
		func() string { return "VRFY x\r\n" },
		func() string { return "garbage \x00\xff\r\n" },
		func() string { return strings.Repeat("L", 5000) + "\r\n" },
		func() string { return "\r\n" },
	}
	for round := range 60 {
		var script strings.Builder
		for range 5 + rng.IntN(40) {
			script.WriteString(pieces[rng.IntN(len(pieces))]())
		}
		// End any open DATA or chunk the script may have left the parser in
		// (a BDAT without LAST is complete on its own), then quit.
		script.WriteString("RSET\r\nQUIT\r\n")
		c := dial(t, v.lmtpAddr)
		c.expect(220, "")
		data := script.String()
		split := rand.New(rand.NewPCG(uint64(round), 3)) // the writer's own: rng is not shared
		go func() {
			for len(data) > 0 {
				n := min(len(data), 1+split.IntN(700))
				if _, err := c.conn.Write([]byte(data[:n])); err != nil {
					return
				}
				data = data[n:]
				if split.IntN(4) == 0 {
					time.Sleep(time.Duration(split.IntN(300)) * time.Microsecond)
				}
			}
		}()
		for {
			code, lines, err := c.tryReply()
			if err != nil {
				t.Fatalf("round %d: connection ended without 221 (%v); script:\n%q", round, err, script.String())
			}
			if code == 221 {
				break
			}
			if code == 354 && strings.Contains(lines[0], "End data") {
				continue
			}
			if code < 200 || code > 599 {
				t.Fatalf("round %d: reply %d %q", round, code, lines)
			}
		}
		c.conn.Close()
	}
}
