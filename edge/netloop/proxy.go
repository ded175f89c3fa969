package netloop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
)

// ProxyHeader is what a load balancer in front of the server reports about the
// connection it relays (HAProxy PROXY protocol, versions 1 and 2).
type ProxyHeader struct {
	// Version is 1 for the text form and 2 for the binary form.
	Version int
	// Local is set for a version 2 LOCAL command: the proxy opened the
	// connection itself (a health check) and relays no client address.
	Local bool
	// Source is the client's address and Dest the address the client
	// connected to. Both are the zero AddrPort when the proxy does not know
	// them (v1 UNKNOWN, v2 LOCAL, AF_UNSPEC or AF_UNIX); the socket's own
	// addresses are used then.
	Source, Dest netip.AddrPort
}

// Errors of ParseProxyHeader.
var (
	// ErrProxyIncomplete means b holds the start of a header and more bytes are needed.
	ErrProxyIncomplete = errors.New("netloop: PROXY header incomplete")
	// ErrNotProxyHeader means b does not start with a PROXY protocol signature.
	ErrNotProxyHeader = errors.New("netloop: not a PROXY protocol header")
	// ErrBadProxyHeader means b starts with a signature but the header is malformed.
	ErrBadProxyHeader = errors.New("netloop: malformed PROXY header")
)

const (
	proxyV1Prefix = "PROXY "
	// The longest v1 line: "PROXY TCP6 " + 2 × 39 address chars + 2 × 5 port
	// digits + 3 spaces + CRLF, as the specification counts it.
	proxyV1MaxLen = 107
	proxyV2SigLen = 12
	proxyV2HdrLen = 16
	// MaxProxyHeaderLen is the longest header the parser can accept: a v2
	// header with the largest length field (TLVs included).
	MaxProxyHeaderLen = proxyV2HdrLen + 0xffff
)

const proxyV2Sig = "\r\n\r\n\x00\r\nQUIT\n"

// ParseProxyHeader parses a PROXY protocol header (v1 or v2) at the start of b.
// It returns the header and how many bytes of b it occupies; the bytes after
// it belong to the relayed stream. ErrProxyIncomplete asks for more bytes,
// ErrNotProxyHeader says b is not a PROXY header at all, ErrBadProxyHeader
// that it is a broken one. v2 TLVs are skipped. It never panics on any input.
func ParseProxyHeader(b []byte) (ProxyHeader, int, error) {
	if len(b) == 0 {
		return ProxyHeader{}, 0, ErrProxyIncomplete
	}
	switch b[0] {
	case 'P':
		return parseProxyV1(b)
	case '\r':
		return parseProxyV2(b)
	}
	return ProxyHeader{}, 0, ErrNotProxyHeader
}

// hasPrefixSoFar reports whether b, however short, can still be the start of sig.
func hasPrefixSoFar(b []byte, sig string) bool {
	if len(b) < len(sig) {
		return string(b) == sig[:len(b)]
	}
	return string(b[:len(sig)]) == sig
}

func parseProxyV1(b []byte) (ProxyHeader, int, error) {
	if !hasPrefixSoFar(b, proxyV1Prefix) {
		return ProxyHeader{}, 0, ErrNotProxyHeader
	}
	window := b
	if len(window) > proxyV1MaxLen {
		window = window[:proxyV1MaxLen]
	}
	end := bytes.IndexByte(window, '\n')
	if end < 0 {
		if len(b) >= proxyV1MaxLen {
			return ProxyHeader{}, 0, ErrBadProxyHeader
		}
		return ProxyHeader{}, 0, ErrProxyIncomplete
	}
	if end < len(proxyV1Prefix)+1 || b[end-1] != '\r' {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	line := b[len(proxyV1Prefix) : end-1]
	h := ProxyHeader{Version: 1}
	n := end + 1

	proto, rest, _ := bytes.Cut(line, []byte{' '})
	switch string(proto) {
	case "UNKNOWN":
		// The receiver must ignore whatever follows UNKNOWN.
		return h, n, nil
	case "TCP4", "TCP6":
	default:
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	fields := bytes.Split(rest, []byte{' '})
	if len(fields) != 4 {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	src, err1 := netip.ParseAddr(string(fields[0]))
	dst, err2 := netip.ParseAddr(string(fields[1]))
	sport, ok1 := parseProxyPort(fields[2])
	dport, ok2 := parseProxyPort(fields[3])
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	want4 := string(proto) == "TCP4"
	for _, a := range []netip.Addr{src, dst} {
		if a.Is4() != want4 || a.Zone() != "" {
			return ProxyHeader{}, 0, ErrBadProxyHeader
		}
	}
	h.Source = netip.AddrPortFrom(src, sport)
	h.Dest = netip.AddrPortFrom(dst, dport)
	return h, n, nil
}

// parseProxyPort accepts a decimal port 0..65535 without leading zeros.
func parseProxyPort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 0xffff {
		return 0, false
	}
	return uint16(v), true
}

func parseProxyV2(b []byte) (ProxyHeader, int, error) {
	if !hasPrefixSoFar(b, proxyV2Sig) {
		return ProxyHeader{}, 0, ErrNotProxyHeader
	}
	if len(b) < proxyV2HdrLen {
		return ProxyHeader{}, 0, ErrProxyIncomplete
	}
	verCmd, fam := b[12], b[13]
	if verCmd>>4 != 2 {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	n := proxyV2HdrLen + int(binary.BigEndian.Uint16(b[14:16]))
	if len(b) < n {
		return ProxyHeader{}, 0, ErrProxyIncomplete
	}
	body := b[proxyV2HdrLen:n]
	h := ProxyHeader{Version: 2}
	switch verCmd & 0x0f {
	case 0x0: // LOCAL: addresses, if any, are to be ignored.
		h.Local = true
		return h, n, nil
	case 0x1: // PROXY
	default:
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	af, proto := fam>>4, fam&0x0f
	if af > 3 || proto > 2 {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	if af == 0 || af == 3 || proto == 0 {
		// Unspecified or AF_UNIX: nothing usable, keep the socket's addresses.
		return h, n, nil
	}
	if proto != 1 {
		return ProxyHeader{}, 0, ErrBadProxyHeader // a datagram relay on a stream listener
	}
	alen := 4
	if af == 2 {
		alen = 16
	}
	if len(body) < 2*alen+4 {
		return ProxyHeader{}, 0, ErrBadProxyHeader
	}
	var src, dst netip.Addr
	if af == 1 {
		src = netip.AddrFrom4([4]byte(body[0:4]))
		dst = netip.AddrFrom4([4]byte(body[4:8]))
	} else {
		src = netip.AddrFrom16([16]byte(body[0:16]))
		dst = netip.AddrFrom16([16]byte(body[16:32]))
	}
	ports := body[2*alen:]
	h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(ports[0:2]))
	h.Dest = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(ports[2:4]))
	return h, n, nil
}
