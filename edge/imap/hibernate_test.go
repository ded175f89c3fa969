package imap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/internal/testkit"
)

// A hibernated IDLE session must answer exactly as an awake one: each case
// runs once with hibernation off and once with the session asleep when the
// change happens, and the client's transcripts must be equal.
func TestHibernatedIdleAnswersLikeAwake(t *testing.T) {
	// Message 2 is stored \Deleted, so that one EXPUNGE by another session
	// is the whole change: no flag change can be told before it.
	expunge := func(_ *testServer, o *rawClient) {
		o.send("y EXPUNGE")
		o.until("y OK")
	}
	for _, tc := range []struct {
		name  string
		setup []string // commands before SELECT
		tls   bool
		// change is made by another session (o) or the store while the
		// client idles; first is the line the client must get during IDLE.
		change func(ts *testServer, o *rawClient)
		first  string
	}{
		{name: "exists-recent", first: "* 4 EXISTS",
			change: func(ts *testServer, _ *rawClient) { ts.appendMessage("INBOX", testMessage(9)) }},
		{name: "exists-rev2", setup: []string{"ENABLE IMAP4rev2"}, first: "* 4 EXISTS",
			change: func(ts *testServer, _ *rawClient) { ts.appendMessage("INBOX", testMessage(9)) }},
		{name: "expunge", first: "* 2 EXPUNGE", change: expunge},
		{name: "vanished", setup: []string{"ENABLE QRESYNC"}, first: "* VANISHED", change: expunge},
		{name: "flags-modseq", setup: []string{"ENABLE CONDSTORE"}, first: "* 1 FETCH",
			change: func(_ *testServer, o *rawClient) {
				o.send(`x STORE 1 +FLAGS (\Flagged)`)
				o.until("x OK")
			}},
		{name: "new-keyword", first: "* FLAGS",
			change: func(_ *testServer, o *rawClient) {
				o.send(`x STORE 3 +FLAGS ($Important)`)
				o.until("x OK")
			}},
		{name: "tls", tls: true, first: "* 4 EXISTS",
			change: func(ts *testServer, _ *rawClient) { ts.appendMessage("INBOX", testMessage(9)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			for i, awake := range []bool{true, false} {
				ts := newTestServer(t, serverOptions{cfg: Config{KeepIdleAwake: awake}})
				ts.appendMessage("INBOX", testMessage(0))
				ts.appendMessage("INBOX", testMessage(1), `\Deleted`)
				ts.appendMessage("INBOX", testMessage(2))
				c := dialIdler(t, ts, tc.tls)
				for j, cmd := range tc.setup {
					c.send(fmt.Sprintf("e%d %s", j, cmd))
					c.until(fmt.Sprintf("e%d OK", j))
				}
				c.send("s SELECT INBOX")
				c.until("s OK")
				c.send("i IDLE")
				c.expect("+ idling")
				if !awake {
					waitHibernating(t, ts, 1)
				}
				o := dialRaw(t, ts.addr)
				o.login()
				o.send("o SELECT INBOX")
				o.until("o OK")
				tc.change(ts, o)
				lines := c.until(tc.first)
				c.send("DONE")
				lines = append(lines, c.until("i ")...)
				if last := lines[len(lines)-1]; last != "i OK IDLE terminated" {
					t.Fatalf("IDLE ended with %q", last)
				}
				got[i] = lines
			}
			if !slices.Equal(got[0], got[1]) {
				t.Fatalf("hibernated session answered\n%s\nawake session answered\n%s",
					strings.Join(got[1], "\n"), strings.Join(got[0], "\n"))
			}
		})
	}
}

// dialIdler logs in over plaintext or implicit TLS.
func dialIdler(t *testing.T, ts *testServer, useTLS bool) *rawClient {
	t.Helper()
	if !useTLS {
		c := dialRaw(t, ts.addr)
		c.login()
		return c
	}
	conn, err := tls.Dial("tcp", ts.tlsAddr, &tls.Config{InsecureSkipVerify: true}) // the test certificate
	must(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, r: newReader(conn)}
	c.login()
	return c
}

func testMessage(n int) []byte {
	return []byte(fmt.Sprintf("From: a@example.org\r\nSubject: message %d\r\n\r\nbody %d\r\n", n, n))
}

// selectAndSleep selects INBOX, starts IDLE with tag and waits until the
// session hibernates.
func selectAndSleep(t *testing.T, ts *testServer, c *rawClient, tag string) {
	t.Helper()
	c.send("s SELECT INBOX")
	c.until("s OK")
	c.send(tag + " IDLE")
	c.expect("+ idling")
	waitHibernating(t, ts, 1)
}

func waitHibernating(t *testing.T, ts *testServer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ts.h.Hibernating() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions hibernating, want %d", ts.h.Hibernating(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// DONE wakes a session that slept through no change; a second IDLE sleeps
// again and still reports changes, and commands after IDLE see the view.
func TestHibernatedIdleDoneAndAgain(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	ts.appendMessage("INBOX", testMessage(1))
	c := dialRaw(t, ts.addr)
	c.login()
	selectAndSleep(t, ts, c, "i1")
	c.send("DONE")
	c.expect("i1 OK IDLE terminated")
	waitHibernating(t, ts, 0)

	c.send("i2 IDLE")
	c.expect("+ idling")
	waitHibernating(t, ts, 1)
	ts.appendMessage("INBOX", testMessage(2))
	c.expect("* 2 EXISTS")
	c.expect("* 2 RECENT")    // message 1 became recent in this session at SELECT
	waitHibernating(t, ts, 1) // asleep again after telling
	ts.appendMessage("INBOX", testMessage(3))
	c.expect("* 3 EXISTS")
	c.expect("* 3 RECENT")
	c.send("DONE")
	c.expect("i2 OK IDLE terminated")
	c.send("f FETCH 1:* (UID FLAGS)")
	lines := c.until("f OK")
	want := []string{`* 1 FETCH (UID 1 FLAGS (\Recent))`, `* 2 FETCH (UID 2 FLAGS (\Recent))`, `* 3 FETCH (UID 3 FLAGS (\Recent))`}
	if !slices.Equal(lines[:len(lines)-1], want) {
		t.Fatalf("FETCH after IDLE: %q, want %q", lines, want)
	}
	// Anything but DONE wakes the session too, and is refused as in IDLE.
	c.send("i3 IDLE")
	c.expect("+ idling")
	waitHibernating(t, ts, 1)
	c.send("NOOP")
	c.expect("i3 BAD")
	c.send("n NOOP")
	c.expect("n OK")
}

// Autologout ends a hibernated session with BYE, and its IDLE is counted.
func TestHibernatedIdleAutologout(t *testing.T) {
	ts := newTestServer(t, serverOptions{cfg: Config{IdleTimeout: 700 * time.Millisecond}})
	c := dialRaw(t, ts.addr)
	c.login()
	selectAndSleep(t, ts, c, "i")
	c.expect("* BYE")
	c.expectClosed()
	waitHibernating(t, ts, 0)
	waitFor(t, "session end", func() bool { return ts.h.Sessions() == 0 })
}

// A graceful shutdown says BYE to hibernated sessions.
func TestHibernatedIdleShutdown(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c := dialRaw(t, ts.addr)
	c.login()
	selectAndSleep(t, ts, c, "i")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	c.expect("* BYE")
	c.expectClosed()
	must(t, <-done)
	if n := ts.h.Sessions(); n != 0 {
		t.Fatalf("%d sessions after shutdown", n)
	}
}

// A client hanging up while its session sleeps releases the session:
// subscription, user slot, session count.
func TestHibernatedIdleHangup(t *testing.T) {
	ts := newTestServer(t, serverOptions{limits: netloop.LimitConfig{MaxSessionsPerUser: 1}})
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("i IDLE")
	c.expect("+ idling")
	waitHibernating(t, ts, 1)
	c.conn.Close()
	waitFor(t, "session end", func() bool { return ts.h.Sessions() == 0 })
	waitHibernating(t, ts, 0)
	c2 := dialRaw(t, ts.addr)
	c2.login() // the user's one slot is free again
}

// An IDLE that slept keeps its start: its duration covers the sleep, and
// it is counted once, as an awake one.
func TestHibernatedIdleMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, serverOptions{cfg: Config{Registerer: reg}})
	c := dialRaw(t, ts.addr)
	c.login()
	selectAndSleep(t, ts, c, "i")
	ts.appendMessage("INBOX", testMessage(1)) // wakes it, tells, and it sleeps again
	c.expect("* 1 EXISTS")
	c.expect("* 1 RECENT")
	waitHibernating(t, ts, 1)
	time.Sleep(300 * time.Millisecond)
	c.send("DONE")
	c.expect("i OK")
	if got := testkit.Sample(t, reg, "eider_commands_total", "command", "IDLE", "result", "ok"); got != 1 {
		t.Errorf("IDLE counted %v times, want 1", got)
	}
	mfs, err := reg.Gather()
	must(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "eider_imap_idle_duration_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 1 || h.GetSampleSum() < 0.3 {
			t.Errorf("IDLE duration: %d samples, sum %.3f s; want 1 sample of at least 0.3 s", h.GetSampleCount(), h.GetSampleSum())
		}
		return
	}
	t.Error("no IDLE duration histogram")
}

// A session under COMPRESS=DEFLATE stays awake in IDLE (its deflate state
// cannot be put to sleep) and still reports changes.
func TestCompressedIdleStaysAwake(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c := dialRaw(t, ts.addr)
	c.login()
	c.send("s SELECT INBOX")
	c.until("s OK")
	c.send("z COMPRESS DEFLATE")
	c.expect("z OK")
	zw, err := flate.NewWriter(c.conn, flate.BestSpeed)
	must(t, err)
	zc := &rawClient{t: t, conn: c.conn, r: bufio.NewReader(flateReader(c))}
	send := func(line string) {
		t.Helper()
		_, err := zw.Write([]byte(line + "\r\n"))
		must(t, err)
		must(t, zw.Flush())
	}
	send("i IDLE")
	zc.expect("+ idling")
	time.Sleep(200 * time.Millisecond)
	if n := ts.h.Hibernating(); n != 0 {
		t.Fatalf("%d sessions hibernating under COMPRESS", n)
	}
	ts.appendMessage("INBOX", testMessage(1))
	zc.expect("* 1 EXISTS")
	send("DONE")
	zc.until("i OK")
}

// flateReader inflates what the server sends after COMPRESS, starting with
// any bytes c's reader already holds.
func flateReader(c *rawClient) io.Reader {
	buffered, _ := c.r.Peek(c.r.Buffered())
	return flate.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), c.conn))
}
