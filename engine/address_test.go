package engine

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	var r AddressRules
	cases := []struct {
		in, local, label, domain string
	}{
		{"Bob@Example.COM", "bob", "", "example.com"},
		{"<bob+news@example.com>", "bob", "news", "example.com"},
		{"bob+a+b@example.com", "bob", "a+b", "example.com"},
		{"bob@xn--bcher-kva.example", "bob", "", "bücher.example"},
		{"bob@BÜCHER.example", "bob", "", "bücher.example"},
		{"Ünïcødé@example.com", "ünïcødé", "", "example.com"},
		{"用户@例子.广告", "用户", "", "例子.广告"},
		{"+label@example.com", "+label", "", "example.com"}, // a leading separator is not a label
		{"bob@example.com.", "bob", "", "example.com"},
		{"bob@[192.0.2.1]", "bob", "", "[192.0.2.1]"},
	}
	for _, c := range cases {
		p, err := r.ParseAddress(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if p.Local != c.local || p.Label != c.label || p.Domain != c.domain {
			t.Errorf("%q: got %+v, want %s / %s / %s", c.in, p, c.local, c.label, c.domain)
		}
	}
	for _, bad := range []string{"", "bob", "@example.com", "bob@", "bo b@example.com", "bob@exa mple.com", "\xff@example.com"} {
		if _, err := r.ParseAddress(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: got %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestPunycodeAndUnicodeAreOneAddress(t *testing.T) {
	var r AddressRules
	a, err1 := r.NormalizeAddress("Anna@xn--mnchen-3ya.de")
	b, err2 := r.NormalizeAddress("anna@MÜNCHEN.de")
	if err1 != nil || err2 != nil || a != b {
		t.Fatalf("%q (%v) != %q (%v)", a, err1, b, err2)
	}
}

func TestCaseSensitiveLocalAndSeparator(t *testing.T) {
	r := AddressRules{CaseSensitiveLocal: true, LabelSeparator: "-"}
	p, err := r.ParseAddress("Bob-Lists@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if p.Local != "Bob" || p.Label != "Lists" || p.Domain != "example.com" {
		t.Fatalf("got %+v", p)
	}
	r = AddressRules{NoLabels: true}
	if p, _ := r.ParseAddress("bob+x@example.com"); p.Label != "" || p.Local != "bob+x" {
		t.Fatalf("labels off: got %+v", p)
	}
}

func TestNormalizeUserName(t *testing.T) {
	var r AddressRules
	for in, want := range map[string]string{"Alice": "alice", "Alice@Example.com": "alice@example.com", " bob ": "bob"} {
		got, err := r.NormalizeUserName(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a b", "a\"b", "\xff"} {
		if _, err := r.NormalizeUserName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNormalizeMailboxName(t *testing.T) {
	for in, want := range map[string]string{"inbox": "INBOX", "InBoX/Sub": "INBOX/Sub", "Work/": "Work", "Archiv/2024": "Archiv/2024", "Entwürfe": "Entwürfe"} {
		got, err := NormalizeMailboxName(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a//b", "/a", "a\x00b", "a\tb", "\xff"} {
		if _, err := NormalizeMailboxName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNormalizeFlags(t *testing.T) {
	got := NormalizeFlags([]string{`\SEEN`, "$Junk", `\recent`, "$junk", `\flagged`, ""})
	want := []string{"$Junk", `\Flagged`, `\Seen`}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
