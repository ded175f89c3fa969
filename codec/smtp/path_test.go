package smtp

import (
	"errors"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in       string
		reverse  bool
		address  string
		str      string
		utf8     bool
		literal  bool
		quoted   bool
		nullPath bool
	}{
		{in: "<user@example.org>", address: "user@example.org", str: "<user@example.org>"},
		{in: "user@example.org", address: "user@example.org", str: "<user@example.org>"},
		{in: "<>", reverse: true, nullPath: true, str: "<>"},
		{in: "<first.last+tag@sub.example.org>", address: "first.last+tag@sub.example.org", str: "<first.last+tag@sub.example.org>"},
		{in: "<a..b@docomo.example>", address: "a..b@docomo.example", str: "<a..b@docomo.example>"},
		{in: `<"john doe"@example.org>`, address: `"john doe"@example.org`, str: `<"john doe"@example.org>`, quoted: true},
		{in: `<"john\"q\\x"@example.org>`, address: `"john\"q\\x"@example.org`, str: `<"john\"q\\x"@example.org>`, quoted: true},
		{in: `<"plain"@example.org>`, address: `plain@example.org`, str: `<plain@example.org>`, quoted: true},
		{in: `<""@example.org>`, address: `""@example.org`, str: `<""@example.org>`, quoted: true},
		{in: "<@a.example,@b.example:user@example.org>", address: "user@example.org", str: "<user@example.org>"},
		{in: "<user@[192.0.2.1]>", address: "user@[192.0.2.1]", str: "<user@[192.0.2.1]>", literal: true},
		{in: "<user@[IPv6:::1]>", address: "user@[IPv6:::1]", str: "<user@[IPv6:::1]>", literal: true},
		{in: "<user@[x-tag:some-content]>", address: "user@[x-tag:some-content]", str: "<user@[x-tag:some-content]>", literal: true},
		{in: "<用户@例子.广告>", address: "用户@例子.广告", str: "<用户@例子.广告>", utf8: true},
		{in: "<user@bücher.example>", address: "user@bücher.example", str: "<user@bücher.example>", utf8: true},
		{in: `<"δοκιμή ok"@example.org>`, address: `"δοκιμή ok"@example.org`, str: `<"δοκιμή ok"@example.org>`, utf8: true, quoted: true},
		{in: "<user@under_score.example>", address: "user@under_score.example", str: "<user@under_score.example>"},
		{in: "<POSTMASTER>", address: "POSTMASTER", str: "<POSTMASTER>"},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.in, tt.reverse)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if p.Address() != tt.address || p.String() != tt.str || p.UTF8 != tt.utf8 ||
			p.IsAddressLiteral() != tt.literal || p.Quoted != tt.quoted || p.Null != tt.nullPath {
			t.Errorf("ParsePath(%q) = %+v (address %q, string %q)", tt.in, p, p.Address(), p.String())
		}
		// Rendering is a fixed point: the rendered path parses to the same mailbox.
		if !p.Null {
			q, err := ParsePath(p.String(), tt.reverse)
			if err != nil || q.LocalPart != p.LocalPart || q.Domain != p.Domain {
				t.Errorf("ParsePath(%q) re-render %q -> %+v, %v", tt.in, p.String(), q, err)
			}
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, in := range []string{
		"", "<", "<>", "<user>", "<user@>", "<@example.org>", "<user@example.org> x",
		"<user@example.org>x", "<user@exa mple.org>", "<user@.example.org>", "<user@example-.org>",
		"<user@[]>", "<user@[1.2.3]>", "<user@[IPv6:fe80::1%eth0]>", "<user@[tag:a[b]>",
		"<user@[:x]>", "<user@[t_g:x]>", `<"a\` + "\x01" + `"@example.org>`, `<"a\`, "<@:user@example.org>",
		"<user@example.org", "<a@b@c>", "<\xc3@example.org>", "<user@\xe4\xb8.example>",
	} {
		if _, err := ParsePath(in, false); !errors.Is(err, ErrBadPath) {
			t.Errorf("ParsePath(%q) = %v, want ErrBadPath", in, err)
		}
	}
	if _, err := ParsePath("<postmaster>", true); !errors.Is(err, ErrBadPath) {
		t.Errorf("reverse <postmaster> accepted")
	}
}
