package smtp

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Path is the reverse-path of MAIL or the forward-path of RCPT (RFC 5321
// 4.1.2, with the UTF-8 forms of RFC 6531).
type Path struct {
	// Null marks the null reverse-path "<>" of delivery status notifications.
	Null bool
	// Route is an obsolete source route ("@a,@b") as sent. RFC 5321 says to
	// accept and ignore it; it is kept for logging only.
	Route string
	// LocalPart is the local part with quoting removed: for
	// "<\"john doe\"@example.org>" it is `john doe`.
	LocalPart string
	// Quoted is set when the local part was sent as a quoted string.
	Quoted bool
	// Domain is the domain as sent (IDNs are not normalised here), or an
	// address literal with its brackets ("[192.0.2.1]", "[IPv6:2001:db8::1]").
	// It is empty for the special recipient "<Postmaster>".
	Domain string
	// UTF8 is set when the local part or the domain holds non-ASCII octets
	// (valid UTF-8); the caller decides whether SMTPUTF8 permits them.
	UTF8 bool
}

// Address is the mailbox as "local@domain", re-quoting the local part when it
// is not a dot-string. It is "" for the null path.
func (p Path) Address() string {
	if p.Null {
		return ""
	}
	local := p.LocalPart
	if needsQuoting(local) {
		local = quoteLocalPart(local)
	}
	if p.Domain == "" {
		return local
	}
	return local + "@" + p.Domain
}

// String is the path in angle brackets, without its source route.
func (p Path) String() string { return "<" + p.Address() + ">" }

// IsAddressLiteral reports whether the domain is a bracketed address literal.
func (p Path) IsAddressLiteral() bool { return strings.HasPrefix(p.Domain, "[") }

// ParsePath parses a single path such as "<user@example.org>". reverse
// selects the reverse-path grammar of MAIL (which allows "<>"); otherwise
// the forward-path grammar of RCPT applies (which allows "<Postmaster>").
// Angle brackets are expected but, leniently, not required.
func ParsePath(s string, reverse bool) (Path, error) {
	p, rest, err := parsePath(s, reverse)
	if err != nil {
		return Path{}, err
	}
	if rest != "" {
		return Path{}, fmt.Errorf("%w: unexpected text after path", ErrBadPath)
	}
	return p, nil
}

// parsePath reads a path from the start of s and returns what follows it,
// which is empty or starts with a space.
func parsePath(s string, reverse bool) (Path, string, error) {
	var p Path
	i := 0
	bracketed := strings.HasPrefix(s, "<")
	if bracketed {
		i = 1
		if strings.HasPrefix(s[1:], ">") {
			if !reverse {
				return p, "", fmt.Errorf("%w: null path not allowed for a recipient", ErrBadPath)
			}
			p.Null = true
			return p, s[2:], nil
		}
	}

	if i < len(s) && s[i] == '@' {
		j := strings.IndexByte(s[i:], ':')
		if j < 0 {
			return p, "", fmt.Errorf("%w: source route without ':'", ErrBadPath)
		}
		route := s[i : i+j]
		for hop := range strings.SplitSeq(route, ",") {
			if !strings.HasPrefix(hop, "@") || !validDomain(hop[1:]) {
				return p, "", fmt.Errorf("%w: bad source route", ErrBadPath)
			}
		}
		p.Route = route
		i += j + 1
	}

	if i < len(s) && s[i] == '"' {
		local, n, err := scanQuotedString(s[i:])
		if err != nil {
			return p, "", err
		}
		p.LocalPart, p.Quoted = local, true
		i += n
	} else {
		j := i
		for j < len(s) && (isAtext(s[j]) || s[j] == '.' || s[j] >= utf8.RuneSelf) {
			j++
		}
		if j == i {
			return p, "", fmt.Errorf("%w: empty local part", ErrBadPath)
		}
		p.LocalPart = s[i:j]
		i = j
	}

	if i < len(s) && s[i] == '@' {
		i++
		if i < len(s) && s[i] == '[' {
			k := strings.IndexByte(s[i:], ']')
			if k < 0 || !validAddressLiteral(s[i:i+k+1]) {
				return p, "", fmt.Errorf("%w: bad address literal", ErrBadPath)
			}
			p.Domain = s[i : i+k+1]
			i += k + 1
		} else {
			j := i
			for j < len(s) && isDomainOctet(s[j]) {
				j++
			}
			if !validDomain(s[i:j]) {
				return p, "", fmt.Errorf("%w: bad domain", ErrBadPath)
			}
			p.Domain = s[i:j]
			i = j
		}
	} else if reverse || p.Quoted || p.Route != "" || !strings.EqualFold(p.LocalPart, "postmaster") {
		// RFC 5321 4.1.1.3: only "<Postmaster>" may go without a domain.
		return p, "", fmt.Errorf("%w: missing domain", ErrBadPath)
	}

	if bracketed {
		if i >= len(s) || s[i] != '>' {
			return p, "", fmt.Errorf("%w: missing '>'", ErrBadPath)
		}
		i++
	}
	rest := s[i:]
	if rest != "" && rest[0] != ' ' {
		return p, "", fmt.Errorf("%w: unexpected text after path", ErrBadPath)
	}
	if !isASCII(p.LocalPart) || !isASCII(p.Domain) {
		if !utf8.ValidString(p.LocalPart) || !utf8.ValidString(p.Domain) {
			return p, "", fmt.Errorf("%w: invalid UTF-8", ErrBadPath)
		}
		p.UTF8 = true
	}
	return p, rest, nil
}

// scanQuotedString reads an RFC 5321 Quoted-string (with RFC 6531's UTF-8
// qtext) from the start of s, which begins with a double quote. It returns
// the content without quotes and escapes, and the length consumed.
func scanQuotedString(s string) (string, int, error) {
	var b []byte // allocated only when an escape forces a copy
	start := 1
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if b == nil {
				return s[start:i], i + 1, nil
			}
			return string(append(b, s[start:i]...)), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) || s[i+1] < 32 || s[i+1] > 126 {
				return "", 0, fmt.Errorf("%w: bad quoted pair", ErrBadPath)
			}
			b = append(b, s[start:i]...)
			i++
			start = i // the escaped octet is kept, the backslash dropped
		case c >= 32 && c != 127:
			// qtextSMTP, space, and UTF-8 octets (validated by the caller)
		default:
			return "", 0, fmt.Errorf("%w: control character in quoted string", ErrBadPath)
		}
	}
	return "", 0, fmt.Errorf("%w: unterminated quoted string", ErrBadPath)
}

func needsQuoting(local string) bool {
	if local == "" {
		return true
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAtext(c) && c != '.' && c < utf8.RuneSelf {
			return true
		}
	}
	return false
}

func quoteLocalPart(local string) string {
	var b strings.Builder
	b.Grow(len(local) + 2)
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if local[i] == '"' || local[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isAtext reports the ASCII atext of RFC 5322 3.2.3.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~':
		return true
	}
	return false
}

// isDomainOctet accepts letters, digits, hyphen, dot, and, leniently,
// underscore (seen in real host names) and the octets of U-labels.
func isDomainOctet(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c >= utf8.RuneSelf
}

// validDomain checks the shape of a domain: non-empty labels of domain
// octets, no label starting or ending with a hyphen. IDNs pass raw.
func validDomain(d string) bool {
	if d == "" || len(d) > 255 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isDomainOctet(label[i]) || label[i] == '.' {
				return false
			}
		}
	}
	return true
}

// validAddressLiteral checks "[IPv4]", "[IPv6:addr]" and the
// General-address-literal "[tag:content]" of RFC 5321 4.1.3.
func validAddressLiteral(lit string) bool {
	if len(lit) < 3 || lit[0] != '[' || lit[len(lit)-1] != ']' {
		return false
	}
	inner := lit[1 : len(lit)-1]
	if a, err := netip.ParseAddr(inner); err == nil {
		return a.Is4()
	}
	tag, content, ok := strings.Cut(inner, ":")
	if !ok || tag == "" || content == "" {
		return false
	}
	if strings.EqualFold(tag, "IPv6") {
		a, err := netip.ParseAddr(content)
		return err == nil && a.Is6() && a.Zone() == ""
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(content); i++ {
		c := content[i]
		if c < 33 || c > 126 || c == '[' || c == '\\' || c == ']' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
