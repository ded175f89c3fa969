package netloop

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"pgregory.net/rapid"
)

func TestParseProxyHeader(t *testing.T) {
	ap := netip.MustParseAddrPort
	v2tcp4 := proxyV2(false, ap("192.0.2.10:40000"), ap("198.51.100.1:143"), nil)
	v2tcp6 := proxyV2(false, ap("[2001:db8::7]:50000"), ap("[2001:db8::1]:993"), []byte{0x01, 0x00, 0x02, 'h', '2'})
	v2local := proxyV2(true, netip.AddrPort{}, netip.AddrPort{}, nil)
	v2unspec := append(append([]byte(nil), proxyV2Sig...), 0x21, 0x00, 0x00, 0x00)
	v2unix := append(append(append([]byte(nil), proxyV2Sig...), 0x21, 0x31, 0x00, 0xd8), make([]byte, 216)...)
	v2dgram := append(append(append([]byte(nil), proxyV2Sig...), 0x21, 0x12, 0x00, 0x0c), make([]byte, 12)...)
	v2short := append(append(append([]byte(nil), proxyV2Sig...), 0x21, 0x11, 0x00, 0x04), make([]byte, 4)...)
	v2badver := append(append([]byte(nil), proxyV2Sig...), 0x11, 0x11, 0x00, 0x00)
	v2badcmd := append(append([]byte(nil), proxyV2Sig...), 0x22, 0x11, 0x00, 0x00)
	v2badfam := append(append([]byte(nil), proxyV2Sig...), 0x21, 0x41, 0x00, 0x00)

	cases := []struct {
		name string
		in   []byte
		want ProxyHeader
		n    int
		err  error
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\nA1 NOOP"),
			ProxyHeader{Version: 1, Source: ap("192.0.2.10:40000"), Dest: ap("198.51.100.1:143")}, 46, nil},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 50000 993\r\n"),
			ProxyHeader{Version: 1, Source: ap("[2001:db8::7]:50000"), Dest: ap("[2001:db8::1]:993")}, 46, nil},
		{"v1 port zero", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 0 65535\r\n"),
			ProxyHeader{Version: 1, Source: ap("192.0.2.10:0"), Dest: ap("198.51.100.1:65535")}, 44, nil},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), ProxyHeader{Version: 1}, 15, nil},
		{"v1 unknown with junk", []byte("PROXY UNKNOWN whatever 1 2 3\r\nX"), ProxyHeader{Version: 1}, 30, nil},
		{"v1 longest", []byte("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
			ProxyHeader{Version: 1, Source: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Dest: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}, 104, nil},

		{"v1 incomplete", []byte("PROXY TCP4 192.0.2.10"), ProxyHeader{}, 0, ErrProxyIncomplete},
		{"v1 prefix only", []byte("PRO"), ProxyHeader{}, 0, ErrProxyIncomplete},
		{"empty", nil, ProxyHeader{}, 0, ErrProxyIncomplete},
		{"v1 no CR", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 2001:db8::1 1 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 tcp6 with v4", []byte("PROXY TCP6 192.0.2.10 198.51.100.1 1 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 port too big", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 65536 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 port leading zero", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 080 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 ipv4 leading zero", []byte("PROXY TCP4 192.0.2.010 198.51.100.1 80 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 double space", []byte("PROXY TCP4  192.0.2.10 198.51.100.1 80 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 missing port", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 80\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 zone", []byte("PROXY TCP6 fe80::1%eth0 fe80::2 80 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 bad proto", []byte("PROXY UDP4 192.0.2.10 198.51.100.1 80 2\r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 empty", []byte("PROXY \r\n"), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v1 too long", append([]byte("PROXY UNKNOWN "), bytes.Repeat([]byte("x"), 200)...), ProxyHeader{}, 0, ErrBadProxyHeader},
		{"not proxy", []byte("a001 CAPABILITY\r\n"), ProxyHeader{}, 0, ErrNotProxyHeader},
		{"not proxy P", []byte("POST / HTTP/1.1\r\n"), ProxyHeader{}, 0, ErrNotProxyHeader},
		{"v2 sig prefix", []byte("\r\n"), ProxyHeader{}, 0, ErrProxyIncomplete},
		{"not proxy CR", []byte("\r\nA1 NOOP\r\n"), ProxyHeader{}, 0, ErrNotProxyHeader},

		{"v2 tcp4", append(v2tcp4, "A1 NOOP\r\n"...),
			ProxyHeader{Version: 2, Source: ap("192.0.2.10:40000"), Dest: ap("198.51.100.1:143")}, 28, nil},
		{"v2 tcp6 tlv", v2tcp6,
			ProxyHeader{Version: 2, Source: ap("[2001:db8::7]:50000"), Dest: ap("[2001:db8::1]:993")}, 57, nil},
		{"v2 local", v2local, ProxyHeader{Version: 2, Local: true}, 16, nil},
		{"v2 unspec", v2unspec, ProxyHeader{Version: 2}, 16, nil},
		{"v2 unix", v2unix, ProxyHeader{Version: 2}, 232, nil},
		{"v2 sig only", []byte(proxyV2Sig[:5]), ProxyHeader{}, 0, ErrProxyIncomplete},
		{"v2 body missing", v2tcp4[:20], ProxyHeader{}, 0, ErrProxyIncomplete},
		{"v2 dgram", v2dgram, ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v2 short addresses", v2short, ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v2 bad version", v2badver, ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v2 bad command", v2badcmd, ProxyHeader{}, 0, ErrBadProxyHeader},
		{"v2 bad family", v2badfam, ProxyHeader{}, 0, ErrBadProxyHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := ParseProxyHeader(tc.in)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if h != tc.want || n != tc.n {
				t.Fatalf("got %+v, %d; want %+v, %d", h, n, tc.want, tc.n)
			}
		})
	}
}

func proxyV1(src, dst netip.AddrPort) []byte {
	fam := "TCP4"
	if src.Addr().Is6() {
		fam = "TCP6"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", fam, src.Addr(), dst.Addr(), src.Port(), dst.Port())
}

func drawAddrPort(t *rapid.T, label string, v6 bool) netip.AddrPort {
	var a netip.Addr
	if v6 {
		a = netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label+"ip")))
		if a.Is4In6() {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
		}
	} else {
		a = netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, label+"ip")))
	}
	return netip.AddrPortFrom(a, rapid.Uint16().Draw(t, label+"port"))
}

// Property: an encoded header parses back to its addresses and length,
// whatever follows it, and every proper prefix of it asks for more bytes.
func TestProxyHeaderRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v6 := rapid.Bool().Draw(t, "v6")
		src, dst := drawAddrPort(t, "src", v6), drawAddrPort(t, "dst", v6)
		var hdr []byte
		version := rapid.IntRange(1, 2).Draw(t, "version")
		if version == 1 {
			hdr = proxyV1(src, dst)
		} else {
			tlvs := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "tlvs")
			hdr = proxyV2(false, src, dst, tlvs)
		}
		tail := rapid.SliceOfN(rapid.Byte(), 0, 32).Draw(t, "tail")
		h, n, err := ParseProxyHeader(append(append([]byte(nil), hdr...), tail...))
		if err != nil {
			t.Fatalf("parse %q: %v", hdr, err)
		}
		want := ProxyHeader{Version: version, Source: src, Dest: dst}
		if h != want || n != len(hdr) {
			t.Fatalf("got %+v, %d; want %+v, %d", h, n, want, len(hdr))
		}
		cut := rapid.IntRange(0, len(hdr)-1).Draw(t, "cut")
		if _, _, err := ParseProxyHeader(hdr[:cut]); !errors.Is(err, ErrProxyIncomplete) {
			t.Fatalf("prefix of %d bytes: %v, want ErrProxyIncomplete", cut, err)
		}
	})
}

func FuzzProxyHeader(f *testing.F) {
	ap := netip.MustParseAddrPort
	seeds := [][]byte{
		[]byte("PROXY TCP4 192.0.2.10 198.51.100.1 40000 143\r\n"),
		[]byte("PROXY TCP6 2001:db8::7 2001:db8::1 50000 993\r\nA1 NOOP\r\n"),
		[]byte("PROXY UNKNOWN\r\n"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n"),
		[]byte("PROXY "),
		[]byte("a001 LOGIN x y\r\n"),
		proxyV2(false, ap("192.0.2.10:40000"), ap("198.51.100.1:143"), nil),
		proxyV2(false, ap("[2001:db8::7]:50000"), ap("[2001:db8::1]:993"), []byte{0x04, 0x00, 0x01, 'x'}),
		proxyV2(true, netip.AddrPort{}, netip.AddrPort{}, nil),
		append(append([]byte(nil), proxyV2Sig...), 0x21, 0x31, 0x00, 0x00),
		append(append([]byte(nil), proxyV2Sig...), 0x21, 0x11, 0xff, 0xff),
		[]byte(proxyV2Sig[:7]),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseProxyHeader(b)
		if err != nil {
			if n != 0 || h != (ProxyHeader{}) {
				t.Fatalf("error %v with n=%d h=%+v", err, n, h)
			}
			if !errors.Is(err, ErrProxyIncomplete) && !errors.Is(err, ErrNotProxyHeader) && !errors.Is(err, ErrBadProxyHeader) {
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, ErrProxyIncomplete) && len(b) >= MaxProxyHeaderLen {
				t.Fatalf("asks for more after %d bytes", len(b))
			}
			return
		}
		if n <= 0 || n > len(b) || n > MaxProxyHeaderLen {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		if h.Version == 1 && (n > proxyV1MaxLen || !bytes.HasSuffix(b[:n], []byte("\r\n"))) {
			t.Fatalf("v1 header of %d bytes: %q", n, b[:n])
		}
		// The header stands alone: what follows it does not change the result.
		h2, n2, err2 := ParseProxyHeader(b[:n])
		if err2 != nil || h2 != h || n2 != n {
			t.Fatalf("reparse of the header alone: %+v %d %v", h2, n2, err2)
		}
		if h.Source.IsValid() != h.Dest.IsValid() || (h.Local && h.Source.IsValid()) {
			t.Fatalf("inconsistent header %+v", h)
		}
	})
}
