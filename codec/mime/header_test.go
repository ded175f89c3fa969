package mime

import (
	"reflect"
	"testing"
)

func TestHeaderFields(t *testing.T) {
	raw := "Subject: one\r\n two\r\nX-Empty:\r\nbogus line\r\nSpaced Name: v\r\nObs-Colon : w\n\tfolded\nTo: a@b\r\n\r\nnot: a field\r\n"
	h := Header{Raw: []byte(raw)}
	type row struct{ name, raw, value string }
	var got []row
	for _, f := range h.Fields() {
		got = append(got, row{f.Name, string(f.Raw), string(f.Value)})
	}
	want := []row{
		{"Subject", "Subject: one\r\n two\r\n", " one\r\n two\r\n"},
		{"X-Empty", "X-Empty:\r\n", "\r\n"},
		{"", "bogus line\r\n", ""},
		{"", "Spaced Name: v\r\n", ""},
		{"Obs-Colon", "Obs-Colon : w\n\tfolded\n", " w\n\tfolded\n"},
		{"To", "To: a@b\r\n", " a@b\r\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields\n got %q\nwant %q", got, want)
	}
	if v := h.Get("subject"); v != "one two" {
		t.Errorf("Get(subject) = %q", v)
	}
	if v := h.Get("OBS-COLON"); v != "w\tfolded" {
		t.Errorf("Get(obs-colon) = %q", v)
	}
	if v := h.Get("not"); v != "" {
		t.Errorf("a field after the empty line was found: %q", v)
	}
	if v := h.Get("missing"); v != "" {
		t.Errorf("Get(missing) = %q", v)
	}
}

func TestHeaderValues(t *testing.T) {
	h := Header{Raw: []byte("Received: from a\n  by b\nReceived: from c\nreceived:   x  \nOther: y\n")}
	want := []string{"from a  by b", "from c", "x"}
	if got := h.Values("RECEIVED"); !reflect.DeepEqual(got, want) {
		t.Errorf("Values = %q, want %q", got, want)
	}
	if got := h.Values("none"); got != nil {
		t.Errorf("Values(none) = %q", got)
	}
}

func TestHeaderOddities(t *testing.T) {
	cases := []struct {
		name, raw string
		fields    int
		subject   string
	}{
		{"empty", "", 0, ""},
		{"only the blank line", "\r\n", 0, ""},
		{"no final line break", "Subject: x", 1, "x"},
		{"leading continuation line", " junk\r\nSubject: x\r\n", 2, "x"},
		{"bare CR stays", "Subject: a\rb\n", 1, "a\rb"},
		{"8-bit name and value", "Subj\xe9ct: \xff\nSubject: ok\n", 2, "ok"},
		{"colon first", ": nameless\nSubject: y\n", 2, "y"},
		{"NUL bytes", "Subject: a\x00b\n", 1, "a\x00b"},
	}
	for _, tc := range cases {
		h := Header{Raw: []byte(tc.raw)}
		if got := len(h.Fields()); got != tc.fields {
			t.Errorf("%s: %d fields, want %d", tc.name, got, tc.fields)
		}
		if got := h.Get("Subject"); got != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.name, got, tc.subject)
		}
	}
}

func TestFieldUnfolded(t *testing.T) {
	cases := map[string]string{
		" a\r\n b\r\n":       "a b",
		"\ta\n\tb\n":         "a\tb",
		"  spaced  \r\n":     "spaced",
		"":                   "",
		" x\r\n\r\n y":       "x y",
		" keep\rbare CR\r\n": "keep\rbare CR",
		" multi\r\n \r\n  z": "multi   z",
	}
	for in, want := range cases {
		if got := (Field{Value: []byte(in)}).Unfolded(); got != want {
			t.Errorf("Unfolded(%q) = %q, want %q", in, got, want)
		}
	}
}
