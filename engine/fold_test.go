package engine

import (
	"strings"
	"testing"
)

func TestFoldText(t *testing.T) {
	cases := map[string]string{
		"plain":              "plain",
		"MiXeD":              "mixed",
		"ÄÖÜ straße":         "äöü straße",
		"ПРИВЕТ":             "привет",
		"cafe\u0301":         "café",
		"ＡＢＣ":                "abc",
		"ﬁ":                  "fi",
		"nul\x00byte":        "nulbyte",
		"bad\xffutf8":        "bad\ufffdutf8",
		"ǅ":                  "dž",
		"\u212a (kelvin)":    "k (kelvin)",
		"東京":                 "東京",
		"Σίσυφος":            "σίσυφοσ",
		"already lower case": "already lower case",
		"T\u0308":            "\u1e97", // no precomposed capital; the lower case composes
	}
	for in, want := range cases {
		if got := FoldText(in); got != want {
			t.Errorf("FoldText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzFoldText: folding is idempotent, so text folded when stored and again
// when a store is migrated still matches a needle folded once.
func FuzzFoldText(f *testing.F) {
	for _, s := range []string{"plain", "ÄÖÜ straße", "T\u0308", "Σίσυφος", "ﬁ", "\u212a", "A\u030a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := FoldText(s)
		if twice := FoldText(once); twice != once {
			t.Fatalf("foldText not idempotent on %q: %q then %q", s, once, twice)
		}
	})
}

func TestHeaderMatch(t *testing.T) {
	h := "from: alice <alice@example.com>\nsubject: hello world\nx-empty:\nreceived: by mx\nreceived: from relay\n"
	cases := []struct {
		name, value string
		want        bool
	}{
		{"subject", "hello", true},
		{"subject", "alice", false},
		{"from", "alice", true},
		{"", "alice", true},
		{"", "subject", false}, // names are not values
		{"received", "relay", true},
		{"x-empty", "", true},
		{"x-empty", "x", false},
		{"cc", "", false},
		{"", "", true},
		{"subject", "hello world", true},
		{"subject", "world\nreceived", false},
	}
	for _, tc := range cases {
		if got := HeaderMatch([]byte(h), []byte(tc.name), []byte(tc.value)); got != tc.want {
			t.Errorf("HeaderMatch(%q, %q) = %v", tc.name, tc.value, got)
		}
	}
	if HeaderMatch(nil, nil, nil) || HeaderMatch([]byte("no colon here\n"), nil, nil) {
		t.Errorf("a header without fields matched")
	}
}

// headerMatchReference is headerMatch written the obvious way.
func headerMatchReference(header, name, value string) bool {
	for _, line := range strings.Split(header, "\n") {
		n, v, ok := strings.Cut(line, ":")
		if !ok || (name != "" && strings.TrimRight(n, " \t") != name) {
			continue
		}
		if strings.Contains(strings.TrimLeft(v, " \t"), value) {
			return true
		}
	}
	return false
}

func FuzzHeaderMatch(f *testing.F) {
	f.Add("subject: hello\nfrom: a\n", "subject", "hell")
	f.Add("subject:hello", "subject", "")
	f.Add(":\n:\n", "", "")
	f.Add("a: b\r\nc: d", "c", "d")
	f.Fuzz(func(t *testing.T, header, name, value string) {
		if got, want := HeaderMatch([]byte(header), []byte(name), []byte(value)), headerMatchReference(header, name, value); got != want {
			t.Fatalf("HeaderMatch(%q, %q, %q) = %v, reference %v", header, name, value, got, want)
		}
	})
}

func TestSearchableHeader(t *testing.T) {
	h := "from: ann\nreceived: from mx by relay\ndkim-signature: v=1; b=abc\nsubject: hi\nreceived: again\n"
	if got := string(SearchableHeader([]byte(h), nil)); got != "from: ann\nsubject: hi\n" {
		t.Errorf("SearchableHeader = %q", got)
	}
	plain := []byte("from: ann\nsubject: hi")
	if got := SearchableHeader(plain, nil); &got[0] != &plain[0] {
		t.Error("a header without trace fields was copied")
	}
}
