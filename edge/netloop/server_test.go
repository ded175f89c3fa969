package netloop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eidermail/eider/internal/testkit"
)

// echoPayload builds CRLF lines of mixed sizes, some far larger than a read
// chunk, none starting with a command verb.
func echoPayload(rng *rand.Rand, lines int) []byte {
	var b bytes.Buffer
	for range lines {
		n := 1 + rng.IntN(200)
		if rng.IntN(10) == 0 {
			n = 50<<10 + rng.IntN(100<<10)
		}
		b.WriteByte('x')
		for range n {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// writeSplit writes p in random pieces, sometimes single bytes, so that the
// server sees lines split at every possible place.
func writeSplit(w io.Writer, rng *rand.Rand, p []byte) error {
	for len(p) > 0 {
		n := 1 + rng.IntN(8192)
		if rng.IntN(8) == 0 {
			n = 1 + rng.IntN(3)
		}
		n = min(n, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// exerciseEcho sends a payload in random pieces while reading the echo
// concurrently and checks the echo is byte-identical.
func exerciseEcho(t *testing.T, nc net.Conn, r io.Reader, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	payload := echoPayload(rng, 20)
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	werr := make(chan error, 1)
	go func() { werr <- writeSplit(nc, rand.New(rand.NewPCG(seed, 2)), payload) }()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("reading echo: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("echo differs from what was sent (%d bytes)", len(payload))
	}
	_ = nc.SetDeadline(time.Time{})
}

func TestEchoManyClients(t *testing.T) {
	ts := startServer(t, nil)
	const clients = 16
	modes := []struct {
		name string
		dial func(t *testing.T) (net.Conn, *bufio.Reader)
	}{
		{"plain", func(t *testing.T) (net.Conn, *bufio.Reader) {
			c := dialPlain(t, ts.plain)
			c.expect("* OK echo ready\r\n")
			return c.nc, c.r
		}},
		{"tls", func(t *testing.T) (net.Conn, *bufio.Reader) {
			c := ts.dialTLS(t)
			c.expect("* OK echo ready\r\n")
			return c.nc, c.r
		}},
		{"starttls", func(t *testing.T) (net.Conn, *bufio.Reader) {
			c := dialPlain(t, ts.start)
			c.expect("* OK echo ready\r\n")
			c.send("STARTTLS\r\n")
			c.expect("OK begin TLS\r\n")
			tc := newClient(t, tls.Client(c.nc, ts.cert.ClientConfig()))
			tc.expect("* encrypted hello\r\n")
			tc.send("TLS\r\n")
			tc.expect("TLS yes\r\n")
			return tc.nc, tc.r
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			for i := range clients {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					t.Parallel()
					nc, r := mode.dial(t)
					exerciseEcho(t, nc, r, uint64(i))
				})
			}
		})
	}
}

// Property: however the client splits its stream, the echo is the stream.
func TestEchoSplitProperty(t *testing.T) {
	ts := startServer(t, nil)
	rapid.Check(t, func(rt *rapid.T) {
		lines := rapid.SliceOfN(rapid.StringMatching(`x[a-z ]{0,300}`), 1, 20).Draw(rt, "lines")
		payload := []byte(strings.Join(lines, "\r\n") + "\r\n")
		cuts := rapid.SliceOfN(rapid.IntRange(1, 64), 1, 50).Draw(rt, "cuts")
		nc, err := net.Dial("tcp", ts.plain)
		if err != nil {
			rt.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(nc)
		if g, err := r.ReadString('\n'); err != nil || g != "* OK echo ready\r\n" {
			rt.Fatalf("greeting %q, %v", g, err)
		}
		go func() {
			p := payload
			for i := 0; len(p) > 0; i++ {
				n := min(cuts[i%len(cuts)], len(p))
				if _, err := nc.Write(p[:n]); err != nil {
					return
				}
				p = p[n:]
			}
		}()
		got := make([]byte, len(payload))
		if _, err := io.ReadFull(r, got); err != nil {
			rt.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			rt.Fatalf("echo %q, sent %q", got, payload)
		}
	})
}

func TestStartTLSDiscardsPipelinedBytes(t *testing.T) {
	ts := startServer(t, nil)
	c := dialPlain(t, ts.start)
	c.expect("* OK echo ready\r\n")
	c.send("TLS\r\n")
	c.expect("TLS no\r\n")
	// An injection attempt: commands pipelined behind STARTTLS in the same
	// segment must never be executed, in clear or after the upgrade.
	c.send("STARTTLS\r\nWHO\r\nINJECTED\r\n")
	c.expect("OK begin TLS\r\n")
	time.Sleep(50 * time.Millisecond)
	if n := c.r.Buffered(); n != 0 {
		t.Fatalf("%d cleartext bytes after the STARTTLS reply", n)
	}
	tc := tls.Client(c.nc, ts.cert.ClientConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake after STARTTLS: %v", err)
	}
	sc := &client{t: t, nc: tc, r: bufio.NewReader(tc)}
	sc.expect("* encrypted hello\r\n") // written during the handshake, sent after it
	sc.send("TLS\r\n")
	sc.expect("TLS yes\r\n") // not the output of WHO or INJECTED
	sc.send("STARTTLS\r\n")
	if got := sc.line(); !strings.HasPrefix(got, "NO ") {
		t.Fatalf("second STARTTLS answered %q", got)
	}
	sc.send("PING\r\n")
	sc.expect("PING\r\n")
}

// Input that arrives while a command runs is held and delivered in order
// after it, in clear and over TLS.
func TestPausedInputKeepsOrder(t *testing.T) {
	ts := startServer(t, nil)
	for _, c := range []*client{dialPlain(t, ts.plain), ts.dialTLS(t)} {
		c.expect("* OK echo ready\r\n")
		c.send("SLOW 200\r\nFIRST\r\nSLOW 10\r\nSECOND\r\nTHI")
		time.Sleep(50 * time.Millisecond)
		c.send("RD\r\n")
		for _, want := range []string{"OK slow done\r\n", "FIRST\r\n", "OK slow done\r\n", "SECOND\r\n", "THIRD\r\n"} {
			c.expect(want)
		}
	}
}

func TestStartTLSRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	c.send("STARTTLS\r\n")
	if got := c.line(); !strings.HasPrefix(got, "NO ") {
		t.Fatalf("STARTTLS on a plain listener answered %q", got)
	}
	tc := ts.dialTLS(t)
	tc.expect("* OK echo ready\r\n")
	tc.send("STARTTLS\r\n")
	if got := tc.line(); !strings.HasPrefix(got, "NO ") {
		t.Fatalf("STARTTLS on implicit TLS answered %q", got)
	}
}

func TestTLSConfigReload(t *testing.T) {
	a, b := testkit.NewCert(t, "first"), testkit.NewCert(t, "second")
	var mu sync.Mutex
	current := a
	ts := startServer(t, func(cfg *Config) {
		cfg.TLSConfig = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			defer mu.Unlock()
			return &tls.Config{Certificates: []tls.Certificate{current.Cert}}, nil
		}
	})
	subject := func() string {
		cfg := &tls.Config{InsecureSkipVerify: true}
		nc, err := tls.Dial("tcp", ts.tls, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		return nc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := subject(); got != "first" {
		t.Fatalf("certificate %q, want first", got)
	}
	mu.Lock()
	current = b
	mu.Unlock()
	if got := subject(); got != "second" {
		t.Fatalf("after reload: certificate %q, want second", got)
	}
}

// proxyV2 encodes a PROXY v2 header for the tests.
func proxyV2(local bool, src, dst netip.AddrPort, tlvs []byte) []byte {
	b := append([]byte(nil), proxyV2Sig...)
	if local {
		b = append(b, 0x20, 0x00, 0, 0)
		return b
	}
	var addrs []byte
	fam := byte(0x11)
	if src.Addr().Is4() {
		a4, d4 := src.Addr().As4(), dst.Addr().As4()
		addrs = append(append(addrs, a4[:]...), d4[:]...)
	} else {
		fam = 0x21
		a16, d16 := src.Addr().As16(), dst.Addr().As16()
		addrs = append(append(addrs, a16[:]...), d16[:]...)
	}
	addrs = append(addrs, byte(src.Port()>>8), byte(src.Port()), byte(dst.Port()>>8), byte(dst.Port()))
	addrs = append(addrs, tlvs...)
	b = append(b, 0x21, fam, byte(len(addrs)>>8), byte(len(addrs)))
	return append(b, addrs...)
}

func TestProxyProtocolTrusted(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		cfg.HeaderTimeout = time.Second
		for i := range cfg.Listeners {
			cfg.Listeners[i].Proxy = ProxyTrusted
		}
	})
	src4 := netip.MustParseAddrPort("192.0.2.10:40000")
	dst4 := netip.MustParseAddrPort("198.51.100.1:143")
	src6 := netip.MustParseAddrPort("[2001:db8::7]:50000")
	dst6 := netip.MustParseAddrPort("[2001:db8::1]:993")
	cases := []struct {
		name   string
		header []byte
		want   string // "" means the socket's own address
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\n"), "WHO 192.0.2.10:40000 198.51.100.1:143\r\n"},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 50000 993\r\n"), "WHO [2001:db8::7]:50000 [2001:db8::1]:993\r\n"},
		{"v1 unknown", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), ""},
		{"v2 tcp4", proxyV2(false, src4, dst4, nil), "WHO 192.0.2.10:40000 198.51.100.1:143\r\n"},
		{"v2 tcp6 with TLVs", proxyV2(false, src6, dst6, []byte{0x04, 0x00, 0x03, 'a', 'b', 'c'}), "WHO [2001:db8::7]:50000 [2001:db8::1]:993\r\n"},
		{"v2 local", proxyV2(true, netip.AddrPort{}, netip.AddrPort{}, nil), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialPlain(t, ts.plain)
			// Header byte by byte, then a command pipelined behind its end.
			for _, b := range tc.header[:len(tc.header)-1] {
				c.send(string([]byte{b}))
			}
			c.send(string(tc.header[len(tc.header)-1:]) + "WHO\r\n")
			c.expect("* OK echo ready\r\n")
			want := tc.want
			if want == "" {
				want = fmt.Sprintf("WHO %s %s\r\n", c.nc.LocalAddr(), c.nc.RemoteAddr())
			}
			c.expect(want)
		})
	}
	t.Run("implicit TLS after header", func(t *testing.T) {
		nc, err := net.Dial("tcp", ts.tls)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Write(proxyV2(false, src4, dst4, nil)); err != nil {
			t.Fatal(err)
		}
		tc := tls.Client(nc, ts.cert.ClientConfig())
		c := newClient(t, tc)
		c.expect("* OK echo ready\r\n")
		c.send("WHO\r\n")
		c.expect("WHO 192.0.2.10:40000 198.51.100.1:143\r\n")
	})
	t.Run("no header from trusted peer", func(t *testing.T) {
		c := dialPlain(t, ts.plain)
		c.send("WHO\r\n")
		if lines := c.expectEOF(5 * time.Second); len(lines) != 0 {
			t.Fatalf("server answered %q", lines)
		}
	})
	t.Run("silent trusted peer", func(t *testing.T) {
		c := dialPlain(t, ts.plain)
		start := time.Now()
		c.expectEOF(5 * time.Second)
		if el := time.Since(start); el < 900*time.Millisecond {
			t.Fatalf("closed after %v, before the header timeout", el)
		}
	})
	t.Run("malformed header", func(t *testing.T) {
		c := dialPlain(t, ts.plain)
		c.send("PROXY TCP4 192.0.2.10 198.51.100.1 99999 143\r\n")
		c.expectEOF(5 * time.Second)
	})
}

func TestProxyProtocolUntrusted(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		cfg.Listeners[0].Proxy = ProxyRequired
		cfg.Listeners[2].Proxy = ProxyTrusted
	})
	// Not trusted: the header is ordinary protocol data and changes nothing.
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	c.send("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\nWHO\r\n")
	c.expect("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\n")
	c.expect(fmt.Sprintf("WHO %s %s\r\n", c.nc.LocalAddr(), c.nc.RemoteAddr()))

	// A listener that requires a proxy refuses direct peers outright.
	r := dialPlain(t, ts.start)
	r.send("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\n")
	if lines := r.expectEOF(5 * time.Second); len(lines) != 0 {
		t.Fatalf("untrusted peer got %q", lines)
	}
}

func TestLimitsPerIPAndGlobal(t *testing.T) {
	limits := NewLimits(LimitConfig{MaxConns: 5, MaxConnsPerIP: 3})
	ts := startServer(t, func(cfg *Config) {
		cfg.Limits = limits
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		cfg.Listeners[1].Proxy = ProxyTrusted // the TLS listener sits behind a proxy
	})
	var open []*client
	for range 3 {
		c := dialPlain(t, ts.plain)
		c.expect("* OK echo ready\r\n")
		open = append(open, c)
	}
	over := dialPlain(t, ts.plain)
	over.expect("* BYE Too many connections from your address\r\n")
	over.expectEOF(5 * time.Second)

	// Proxied clients count under their own addresses.
	proxied := func(src string) *client {
		nc, err := net.Dial("tcp", ts.tls)
		if err != nil {
			t.Fatal(err)
		}
		hdr := proxyV2(false, netip.MustParseAddrPort(src), netip.MustParseAddrPort("198.51.100.1:993"), nil)
		if _, err := nc.Write(hdr); err != nil {
			t.Fatal(err)
		}
		return newClient(t, tls.Client(nc, ts.cert.ClientConfig()))
	}
	p1 := proxied("192.0.2.1:1000")
	p1.expect("* OK echo ready\r\n")
	p2 := proxied("192.0.2.2:1000")
	p2.expect("* OK echo ready\r\n")
	if n := limits.ConnsFrom(netip.MustParseAddr("192.0.2.1")); n != 1 {
		t.Fatalf("ConnsFrom(192.0.2.1) = %d", n)
	}

	// Five connections now: the sixth is over the global limit.
	global := dialPlain(t, ts.plain)
	global.expect("* BYE Too many connections\r\n")
	global.expectEOF(5 * time.Second)

	// Closing one frees a slot, for the global and the per-IP count.
	open[0].send("QUIT\r\n")
	open[0].expect("* BYE bye\r\n")
	open[0].expectEOF(5 * time.Second)
	waitFor(t, "slot released", 5*time.Second, func() bool { return limits.Conns() == 4 })
	again := dialPlain(t, ts.plain)
	again.expect("* OK echo ready\r\n")
}

func TestLimitsProxiedPerIP(t *testing.T) {
	limits := NewLimits(LimitConfig{MaxConnsPerIP: 1})
	ts := startServer(t, func(cfg *Config) {
		cfg.Limits = limits
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		cfg.Listeners[2].Proxy = ProxyTrusted
	})
	first := dialPlain(t, ts.plain)
	first.send("PROXY TCP4 192.0.2.1 198.51.100.1 1000 143\r\n")
	first.expect("* OK echo ready\r\n")
	second := dialPlain(t, ts.plain)
	second.send("PROXY TCP4 192.0.2.1 198.51.100.1 1001 143\r\n")
	second.expect("* BYE Too many connections from your address\r\n")
	second.expectEOF(5 * time.Second)
	other := dialPlain(t, ts.plain)
	other.send("PROXY TCP4 192.0.2.9 198.51.100.1 1001 143\r\n")
	other.expect("* OK echo ready\r\n")
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.IdleTimeout = 500 * time.Millisecond })

	silent := dialPlain(t, ts.plain)
	silent.expect("* OK echo ready\r\n")
	start := time.Now()
	lines := silent.expectEOF(5 * time.Second)
	if len(lines) != 1 || lines[0] != "* BYE idle timeout\r\n" {
		t.Fatalf("idle client got %q", lines)
	}
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("closed after %v", el)
	}
	if err := ts.h.nextCloseErr(t); !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("OnClose(%v), want ErrIdleTimeout", err)
	}

	// A command in flight is not idleness, and the protocol can lengthen the timeout.
	busy := dialPlain(t, ts.plain)
	busy.expect("* OK echo ready\r\n")
	busy.send("SLOW 1000\r\n")
	busy.expect("OK slow done\r\n")
	busy.send("IDLE 60000\r\n")
	busy.expect("OK idle\r\n")
	time.Sleep(700 * time.Millisecond)
	busy.send("PING\r\n")
	busy.expect("PING\r\n")

	// Activity keeps a connection open.
	chatty := ts.dialTLS(t)
	chatty.expect("* OK echo ready\r\n")
	for range 8 {
		time.Sleep(100 * time.Millisecond)
		chatty.send("PING\r\n")
		chatty.expect("PING\r\n")
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *Config) { cfg.HandshakeTimeout = 500 * time.Millisecond })
	silent := dialPlain(t, ts.tls)
	start := time.Now()
	if lines := silent.expectEOF(5 * time.Second); len(lines) != 0 {
		t.Fatalf("silent TLS client got %q", lines)
	}
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("closed after %v", el)
	}
	// A client that stalls mid-ClientHello: the handshake goroutine is
	// blocked in a read and must be released by the timeout.
	partial := dialPlain(t, ts.tls)
	partial.send("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	partial.expectEOF(5 * time.Second)
	// Cleartext on a TLS port fails the handshake at once.
	garbage := dialPlain(t, ts.tls)
	garbage.send("a001 LOGIN user pass\r\n")
	garbage.expectEOF(5 * time.Second)
	waitFor(t, "connections gone", 5*time.Second, func() bool { return ts.Conns() == 0 })
	if ts.h.opened.Load() != 0 {
		t.Fatalf("a session was opened without a handshake")
	}
}

// A client that sends and never reads must be cut off at the outbound cap,
// not make the server buffer its echo.
func TestFloodWithoutReading(t *testing.T) {
	for _, mode := range []string{"plain", "tls"} {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, nil)
			var c *client
			if mode == "tls" {
				c = ts.dialTLS(t)
			} else {
				c = dialPlain(t, ts.plain)
			}
			c.expect("* OK echo ready\r\n")
			line := append(bytes.Repeat([]byte("y"), 1022), '\r', '\n')
			const total = 50 << 20
			_ = c.nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
			sent := 0
			var werr error
			for sent < total {
				var n int
				n, werr = c.nc.Write(bytes.Repeat(line, 64))
				sent += n
				if werr != nil {
					break
				}
			}
			if werr == nil {
				t.Fatalf("the server took all %d bytes from a client that never reads", sent)
			}
			var ne net.Error
			if errors.As(werr, &ne) && ne.Timeout() {
				t.Fatalf("write timed out after %d bytes: the server stopped reading instead of closing", sent)
			}
			if err := ts.h.nextCloseErr(t); !errors.Is(err, ErrOutboundOverflow) {
				t.Fatalf("OnClose(%v), want ErrOutboundOverflow", err)
			}
			t.Logf("%s: cut off after %d MB sent", mode, sent>>20)
		})
	}
	t.Run("paused", func(t *testing.T) {
		// While a command runs, input is held: a flood hits the inbound cap.
		ts := startServer(t, nil)
		c := dialPlain(t, ts.plain)
		c.expect("* OK echo ready\r\n")
		c.send("SLOW 3000\r\n")
		_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		sent := 0
		for sent < 50<<20 {
			n, err := c.nc.Write(chunk)
			sent += n
			if err != nil {
				break
			}
		}
		if sent >= 50<<20 {
			t.Fatal("a paused connection absorbed 50 MB")
		}
		if err := ts.h.nextCloseErr(t); !errors.Is(err, ErrInboundOverflow) {
			t.Fatalf("OnClose(%v), want ErrInboundOverflow", err)
		}
	})
}

// The streaming writer must keep the server's queue near the high-water mark
// while a slow client reads a 50 MB response.
func TestWriterBackPressure(t *testing.T) {
	const highWater = 256 << 10
	for _, tc := range []struct {
		mode string
		size int
	}{{"plain", 50 << 20}, {"tls", 16 << 20}} {
		t.Run(tc.mode, func(t *testing.T) {
			ts := startServer(t, func(cfg *Config) { cfg.HighWater = highWater })
			var c *client
			if tc.mode == "tls" {
				c = ts.dialTLS(t)
			} else {
				c = dialPlain(t, ts.plain)
			}
			c.expect("* OK echo ready\r\n")
			c.send(fmt.Sprintf("BIG %d\r\n", tc.size))
			_ = c.nc.SetReadDeadline(time.Now().Add(25 * time.Second))
			buf := make([]byte, 64<<10)
			want := bytes.Repeat([]byte("0123456789abcdef"), 4096)
			got := 0
			for reads := 0; got < tc.size; reads++ {
				// Slow at first, so that the kernel buffers fill and the
				// server's own queue has to hold back the writer.
				if reads < 200 {
					time.Sleep(2 * time.Millisecond)
				}
				n, err := c.r.Read(buf[:min(len(buf), tc.size-got)])
				if err != nil {
					t.Fatalf("after %d bytes: %v", got, err)
				}
				for i := range n {
					if buf[i] != want[(got+i)%len(want)] {
						t.Fatalf("byte %d is %q", got+i, buf[i])
					}
				}
				got += n
			}
			c.expect("\r\n")
			c.expect("OK big done\r\n")
			peak := ts.h.bigPeak.Load()
			t.Logf("%s: peak queued %d KiB for a %d MB response", tc.mode, peak>>10, tc.size>>20)
			if bound := int64(highWater + streamChunk + 4096); peak > bound {
				t.Fatalf("queued %d bytes, above the bound %d", peak, bound)
			}
			if peak < highWater/2 {
				t.Fatalf("peak %d never reached the high-water region: back-pressure untested", peak)
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	ts := startServer(t, nil)
	var idle []*client
	for range 3 {
		c := dialPlain(t, ts.plain)
		c.expect("* OK echo ready\r\n")
		idle = append(idle, c)
	}
	tlsIdle := ts.dialTLS(t)
	tlsIdle.expect("* OK echo ready\r\n")
	busy := dialPlain(t, ts.start)
	busy.expect("* OK echo ready\r\n")
	busy.send("SLOW 600\r\n")
	time.Sleep(50 * time.Millisecond) // the command is in flight

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("Shutdown returned after %v, before the command in flight finished", el)
	}
	for _, c := range append(idle, tlsIdle) {
		if lines := c.expectEOF(5 * time.Second); len(lines) != 1 || lines[0] != "* BYE server shutting down\r\n" {
			t.Fatalf("idle client got %q", lines)
		}
	}
	lines := busy.expectEOF(5 * time.Second)
	if strings.Join(lines, "") != "* BYE server shutting down\r\nOK slow done\r\n" {
		t.Fatalf("busy client got %q", lines)
	}
	if n := ts.h.shutdowns.Load(); n != 5 {
		t.Fatalf("OnShutdown called %d times, want 5", n)
	}
	select {
	case err := <-ts.done:
		if !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
		ts.done <- err
	case <-time.After(2 * time.Second):
		t.Fatal("Serve still running after Shutdown")
	}
	if _, err := net.Dial("tcp", ts.plain); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
}

func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, nil)
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	c.send("SLOW 5000\r\n")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := ts.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
	c.expectEOF(5 * time.Second)
	if err := ts.h.nextCloseErr(t); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("OnClose(%v), want ErrServerClosed", err)
	}
}

func TestCloseAndClientHangup(t *testing.T) {
	ts := startServer(t, nil)
	// QUIT: the goodbye is flushed before the close, in clear and over TLS.
	for _, c := range []*client{dialPlain(t, ts.plain), ts.dialTLS(t)} {
		c.expect("* OK echo ready\r\n")
		c.send("QUIT\r\nPIPELINED\r\n")
		if lines := c.expectEOF(5 * time.Second); len(lines) != 1 || lines[0] != "* BYE bye\r\n" {
			t.Fatalf("QUIT got %q", lines)
		}
		if err := ts.h.nextCloseErr(t); err != nil {
			t.Fatalf("OnClose(%v) after QUIT, want nil", err)
		}
	}
	// After Close, writes fail and nothing more is delivered.
	closed := ts.h.last.Load()
	if err := closed.Write([]byte("late\r\n")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after close: %v", err)
	}
	if _, err := closed.Writer(context.Background()).Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Writer after close: %v", err)
	}
	if closed.TLS() == nil || closed.CanStartTLS() {
		t.Fatal("closed TLS connection forgot its TLS state")
	}
	// The client hangs up: OnClose sees io.EOF.
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	_ = c.nc.Close()
	if err := ts.h.nextCloseErr(t); !errors.Is(err, io.EOF) {
		t.Fatalf("OnClose(%v), want io.EOF", err)
	}
}

func TestSessionPanicClosesOnlyItsConnection(t *testing.T) {
	ts := startServer(t, nil)
	other := dialPlain(t, ts.plain)
	other.expect("* OK echo ready\r\n")
	c := dialPlain(t, ts.plain)
	c.expect("* OK echo ready\r\n")
	c.send("PANIC\r\n")
	c.expectEOF(5 * time.Second)
	other.send("STILL THERE\r\n")
	other.expect("STILL THERE\r\n")
}

func TestServerLifecycle(t *testing.T) {
	h := newEchoHandler(NewPool(PoolConfig{}))
	if _, err := NewServer(Config{Handler: h}); err == nil {
		t.Fatal("NewServer accepted no listeners")
	}
	if _, err := NewServer(Config{Listeners: []Listener{{Addr: "127.0.0.1:0"}}}); err == nil {
		t.Fatal("NewServer accepted no handler")
	}
	if _, err := NewServer(Config{Handler: h, Listeners: []Listener{{Addr: "127.0.0.1:0", Mode: ModeTLS}}}); err == nil {
		t.Fatal("NewServer accepted a TLS listener without TLSConfig")
	}
	if _, err := NewServer(Config{Handler: h, Listeners: []Listener{{Addr: "udp://127.0.0.1:0"}}}); err == nil {
		t.Fatal("NewServer accepted a UDP listener")
	}
	// An address in use is reported by NewServer.
	s1, err := NewServer(Config{Handler: h, Listeners: []Listener{{Addr: "127.0.0.1:0"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(Config{Handler: h, Listeners: []Listener{{Addr: s1.Addrs()[0].String()}}}); err == nil {
		t.Fatal("NewServer bound an address in use")
	}
	// Shutdown before Serve releases the listeners; Serve then refuses to run.
	if err := s1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s1.Serve(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	// Cancelling Serve's context stops the server.
	s2, err := NewServer(Config{Handler: h, Logger: testLogger(), Listeners: []Listener{{Addr: "127.0.0.1:0"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s2.Serve(ctx) }()
	c := dialPlain(t, s2.Addrs()[0].String())
	c.expect("* OK echo ready\r\n")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve ignored its context")
	}
	c.expectEOF(5 * time.Second)
}

func TestUnixListener(t *testing.T) {
	dir := t.TempDir()
	startServer(t, func(cfg *Config) {
		cfg.Listeners = []Listener{
			{Name: "lmtp", Addr: "unix://" + dir + "/lmtp.sock"},
			{Name: "lmtp-relay", Addr: "unix://" + dir + "/relay.sock", Proxy: ProxyTrusted},
		}
	})
	nc, err := net.Dial("unix", dir+"/lmtp.sock")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, nc)
	c.expect("* OK echo ready\r\n")
	c.send("WHO\r\n")
	c.expect("WHO @ " + dir + "/lmtp.sock\r\n") // an unnamed client socket

	nc, err = net.Dial("unix", dir+"/relay.sock")
	if err != nil {
		t.Fatal(err)
	}
	r := newClient(t, nc)
	// A local socket is trusted, so a relay in front of it may send a header.
	r.send("PROXY TCP4 192.0.2.10 198.51.100.1 40000 24\r\n")
	r.expect("* OK echo ready\r\n")
	r.send("WHO\r\n")
	r.expect("WHO 192.0.2.10:40000 198.51.100.1:24\r\n")
}

// goroutines waits for the goroutine count to settle at or below want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := startServer(t, func(cfg *Config) { cfg.HandshakeTimeout = time.Second })
	waitFor(t, "server up", 5*time.Second, func() bool {
		c, err := net.Dial("tcp", ts.plain)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	waitFor(t, "probe closed", 5*time.Second, func() bool { return ts.Conns() == 0 })
	running := runtime.NumGoroutine()

	var clients []*client
	for i := range 60 {
		var c *client
		switch i % 3 {
		case 0:
			c = dialPlain(t, ts.plain)
		case 1:
			c = ts.dialTLS(t)
		case 2:
			c = dialPlain(t, ts.start)
		}
		c.expect("* OK echo ready\r\n")
		if i%3 == 2 {
			c.send("STARTTLS\r\n")
			c.expect("OK begin TLS\r\n")
			tc := tls.Client(c.nc, ts.cert.ClientConfig())
			c = newClient(t, tc)
			c.expect("* encrypted hello\r\n")
		}
		c.send("PING\r\n")
		c.expect("PING\r\n")
		clients = append(clients, c)
	}
	clients[0].send("SLOW 20\r\n")
	clients[0].expect("OK slow done\r\n")
	clients[1].send("BIG 1000000\r\n")
	if _, err := io.ReadFull(clients[1].r, make([]byte, 1000000)); err != nil {
		t.Fatal(err)
	}
	clients[1].expect("\r\n")
	clients[1].expect("OK big done\r\n")
	// Stalled handshakes, timed out by the server.
	for range 5 {
		p := dialPlain(t, ts.tls)
		p.send("\x16\x03\x01\x02\x00\x01")
		clients = append(clients, p)
	}
	for _, c := range clients[:60] {
		_ = c.nc.Close()
	}
	waitFor(t, "all connections closed", 5*time.Second, func() bool { return ts.Conns() == 0 })
	settleGoroutines(t, running)

	_ = ts.Close()
	<-ts.done
	ts.done <- ErrServerClosed
	_ = ts.pool.Close(context.Background())
	settleGoroutines(t, before)
}

// BenchmarkEchoRoundTrip measures one command/response round trip through
// the loop (plain and TLS), the path every IMAP command takes.
func BenchmarkEchoRoundTrip(b *testing.B) {
	ts := startServer(b, nil)
	for _, mode := range []string{"plain", "tls"} {
		b.Run(mode, func(b *testing.B) {
			var c *client
			if mode == "tls" {
				c = ts.dialTLS(b)
			} else {
				c = dialPlain(b, ts.plain)
			}
			c.expect("* OK echo ready\r\n")
			line := "a001 NOOP " + strings.Repeat("x", 50) + "\r\n"
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := io.WriteString(c.nc, line); err != nil {
					b.Fatal(err)
				}
				if _, err := c.r.ReadString('\n'); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestResumeWithLargeAnswer: a worker asks for more than Config.MaxInbound
// bytes with ResumeWith and the client sends them the moment it reads the
// request. Input is released before the loop can read that answer, so none
// of it is held and the connection survives, in plaintext and over TLS.
func TestResumeWithLargeAnswer(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxInbound = 4 << 10 })
	payload := bytes.Repeat([]byte("x"), 512<<10)
	for name, dial := range map[string]func(t *testing.T) *client{
		"plain": func(t *testing.T) *client { return dialPlain(t, ts.plain) },
		"tls":   func(t *testing.T) *client { return ts.dialTLS(t) },
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t)
			c.expect("* OK echo ready\r\n")
			for range 30 {
				c.send(fmt.Sprintf("LITERAL %d\r\n", len(payload)))
				c.expect("+ go\r\n")
				_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.nc.Write(payload); err != nil {
					t.Fatal(err)
				}
				c.expect(fmt.Sprintf("OK literal %d\r\n", len(payload)))
			}
		})
	}
}
