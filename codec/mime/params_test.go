package mime

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseContentType(t *testing.T) {
	cases := []struct {
		in       string
		typ, sub string
		params   []Param
		ok       bool
	}{
		{`text/plain; charset="us-ascii"`, "text", "plain", []Param{{"charset", "us-ascii"}}, true},
		{`TEXT/Plain;CHARSET=UTF-8 (comment)`, "text", "plain", []Param{{"charset", "UTF-8"}}, true},
		{`text/plain (a comment) ; format=flowed; delsp=yes`, "text", "plain", []Param{{"format", "flowed"}, {"delsp", "yes"}}, true},
		{` multipart / mixed ; boundary=----=_Part_12_34.56`, "multipart", "mixed", []Param{{"boundary", "----=_Part_12_34.56"}}, true},
		{`multipart/mixed; boundary="a \"quoted\" b"`, "multipart", "mixed", []Param{{"boundary", `a "quoted" b`}}, true},
		{`multipart/mixed; boundary="unterminated`, "multipart", "mixed", []Param{{"boundary", "unterminated"}}, true},
		{`text/plain; charset=a; charset=b`, "text", "plain", []Param{{"charset", "a"}}, true},
		{`text/plain; ; =x; lonely; x=1 junk; y=2`, "text", "plain", []Param{{"x", "1"}, {"y", "2"}}, true},
		{`text/plain; name="caf` + "\xe9" + `"`, "text", "plain", []Param{{"name", "caf\xe9"}}, true},
		{`text/plain;`, "text", "plain", nil, true},
		{`text`, "", "", nil, false},
		{`/plain`, "", "", nil, false},
		{`text/`, "", "", nil, false},
		{``, "", "", nil, false},
		{`(only a comment`, "", "", nil, false},
	}
	for _, tc := range cases {
		typ, sub, params, ok := parseContentType(tc.in)
		if typ != tc.typ || sub != tc.sub || !reflect.DeepEqual(params, tc.params) || ok != tc.ok {
			t.Errorf("parseContentType(%q) = %q %q %q %v, want %q %q %q %v", tc.in, typ, sub, params, ok, tc.typ, tc.sub, tc.params, tc.ok)
		}
	}
}

func TestRFC2231(t *testing.T) {
	cases := []struct {
		in   string
		want []Param
	}{
		{`attachment; filename*=utf-8''%E2%82%AC%20rates.pdf`, []Param{{"filename", "€ rates.pdf"}}},
		{`attachment; filename*=UTF-8'en'%e2%82%ac`, []Param{{"filename", "€"}}},
		{`attachment; filename*=iso-8859-1'en'%A3%20rates`, []Param{{"filename", "£ rates"}}},
		{`attachment; filename*=windows-1252''%80uro`, []Param{{"filename", "€uro"}}},
		{`attachment; filename*=koi8-r''%F0%D2%C9%D7%C5%D4`, []Param{{"filename", "Привет"}}},
		// The RFC 2231 section 4.1 example: encoded and plain sections mixed.
		{`inline; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2="isn't it!"`,
			[]Param{{"title", "This is even more ***fun*** isn't it!"}}},
		{`attachment; filename*1="b.txt"; filename*0="a"`, []Param{{"filename", "ab.txt"}}},
		{`attachment; filename*0*=utf-8''%C3%A9; filename*1*=%C3%A8`, []Param{{"filename", "éè"}}},
		{`attachment; filename="plain.txt"; filename*=utf-8''ext.txt; size=3`, []Param{{"filename", "ext.txt"}, {"size", "3"}}},
		{`attachment; FILENAME*=utf-8''Upper`, []Param{{"filename", "Upper"}}},
		{`attachment; filename*=no-quotes%20here`, []Param{{"filename", "no-quotes here"}}},
		{`attachment; filename*=utf-8''bad%zzhex%`, []Param{{"filename", "bad%zzhex%"}}},
		{`attachment; filename*=utf-8''a%FF%FEb`, []Param{{"filename", "a\uFFFDb"}}}, // a run of invalid bytes is one U+FFFD
		{`attachment; filename*=x-unknown-charset''caf%C3%A9`, []Param{{"filename", "café"}}},
		{`attachment; filename*0=a; filename*0=b`, []Param{{"filename", "a"}}},
		{`attachment; a*99999=x; b*=`, []Param{{"a*99999", "x"}, {"b", ""}}},
		{`attachment; *=x; **=y`, []Param{{"*", "x"}, {"**", "y"}}},
	}
	for _, tc := range cases {
		d, params := parseDisposition(tc.in)
		if d == "" {
			t.Errorf("parseDisposition(%q): no disposition", tc.in)
		}
		if !reflect.DeepEqual(params, tc.want) {
			t.Errorf("parseDisposition(%q) params\n got %q\nwant %q", tc.in, params, tc.want)
		}
	}
}

func TestParseDisposition(t *testing.T) {
	if d, p := parseDisposition(" INLINE "); d != "inline" || p != nil {
		t.Errorf("got %q %v", d, p)
	}
	if d, p := parseDisposition(`; filename=x`); d != "" || p != nil {
		t.Errorf("no type: got %q %v", d, p)
	}
}

func TestParseLanguage(t *testing.T) {
	cases := map[string][]string{
		"en":                {"en"},
		"en, de-CH (Swiss)": {"en", "de-CH"},
		" , en,,fr ,":       {"en", "fr"},
		"":                  nil,
		"(only a comment)":  nil,
		"i-default x)y":     {"i-default", "x)y"},
	}
	for in, want := range cases {
		if got := parseLanguage(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirstToken(t *testing.T) {
	for in, want := range map[string]string{"base64": "base64", " (c) 7bit (more)": "7bit", "x-uuencode junk": "x-uuencode", "": ""} {
		if got := firstToken(in); got != want {
			t.Errorf("firstToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParamsLinear(t *testing.T) {
	// A hostile Content-Type with very many parameters and sections.
	var b strings.Builder
	b.WriteString("text/plain")
	for i := range 50000 {
		fmt.Fprintf(&b, "; p%d=v; q*%d=x", i, i%10000)
	}
	_, _, params, ok := parseContentType(b.String())
	if !ok || len(params) != 50001 {
		t.Fatalf("ok %v, %d params", ok, len(params))
	}
	if q := params[1]; q.Name != "q" || len(q.Value) != 10000 {
		t.Fatalf("joined sections: %q has %d bytes", q.Name, len(q.Value))
	}
}
