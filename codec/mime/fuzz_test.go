package mime

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzSplitter(f *testing.F) {
	for _, tc := range splitCases {
		f.Add([]byte(tc.in), uint16(0), uint16(tc.opt.MaxHeaderBytes), uint8(tc.opt.MaxDepth), uint8(tc.opt.MaxParts))
		f.Add([]byte(strings.ReplaceAll(tc.in, "\n", "\r\n")), uint16(3), uint16(0), uint8(0), uint8(0))
	}
	f.Add([]byte(realMessage), uint16(0), uint16(0), uint8(0), uint8(0))
	f.Add([]byte(strings.ReplaceAll(realMessage, "\n", "\r\n")), uint16(2), uint16(30), uint8(2), uint8(4))
	f.Fuzz(func(t *testing.T, in []byte, chunk, maxHeader uint16, maxDepth, maxParts uint8) {
		opt := Options{ChunkSize: int(chunk), MaxHeaderBytes: int(maxHeader), MaxDepth: int(maxDepth), MaxParts: int(maxParts)}
		if _, err := checkAllReaders(in, opt); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzAddressList(f *testing.F) {
	for _, s := range []string{
		`"Doe, John" <j@x>`, `j@x (comment)`, `<@route1,@route2:a@b>`, `Team: a@x, "B" <b@y>; c@z`,
		`undisclosed-recipients:;`, `John Doe j@x`, `John <j@x, k@y`, `Jörg <jörg@bücher.example>`,
		`Pete(A nice \) chap) <pete(his account)@silly.test(his host)>`, `a@[192.0.2.1]`, `<<<>>>@@@,,,;;;:::`,
		`"unterminated`, `(unterminated`, "\x00\xff", `A:B:c@d;;`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		open := false
		for _, a := range ParseAddressList(s) {
			switch {
			case a == (Address{}):
				t.Fatalf("empty address from %q", s)
			case a.Group != "":
				if open {
					t.Fatalf("nested group start from %q", s)
				}
				open = true
			case a.GroupEnd:
				if !open {
					t.Fatalf("group end without start from %q", s)
				}
				open = false
			}
		}
		if open {
			t.Fatalf("unterminated group from %q", s)
		}
	})
}

func FuzzHeader(f *testing.F) {
	f.Add([]byte("Subject: one\r\n two\r\nX: y\r\n\r\n"))
	f.Add([]byte("bogus\n \tcont\n: x\nA : b\n\nafter: blank"))
	f.Add([]byte("Content-Type: text/plain\r"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h := Header{Raw: raw}
		var joined []byte
		for _, fl := range h.Fields() {
			if !bytes.HasSuffix(fl.Raw, fl.Value) {
				t.Fatalf("value %q not at the end of field %q", fl.Value, fl.Raw)
			}
			if fl.Name != "" && !slices.Contains(h.Values(fl.Name), fl.Unfolded()) {
				t.Fatalf("field %q not found by name", fl.Name)
			}
			joined = append(joined, fl.Raw...)
		}
		if !bytes.HasPrefix(raw, joined) {
			t.Fatalf("fields %q are not a prefix of the header %q", joined, raw)
		}
		if rest := raw[len(joined):]; len(rest) > 0 && emptyLine(rest) == 0 {
			t.Fatalf("fields stopped before %q", rest)
		}
	})
}

func FuzzContentType(f *testing.F) {
	for _, s := range []string{
		`text/plain; charset="us-ascii"`, `multipart/mixed; boundary=----=_Part_1`,
		`inline; title*0*=us-ascii'en'This%20is; title*1*=%2A; title*2="isn't it!"`,
		`attachment; filename*=koi8-r''%F0%D2`, `x/y; a*0=1; a*1*=%ZZ; a="q\"`, `(c) text / html (d) ; ;;=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, sub, params, ok := parseContentType(s)
		if ok && (typ == "" || sub == "" || typ != lowerASCII(typ) || sub != lowerASCII(sub)) {
			t.Fatalf("bad type %q/%q from %q", typ, sub, s)
		}
		_, dparams := parseDisposition(s)
		for _, p := range append(params, dparams...) {
			if p.Name == "" || p.Name != lowerASCII(p.Name) {
				t.Fatalf("bad parameter name %q from %q", p.Name, s)
			}
		}
		// Values decoded from RFC 2231 sections are valid UTF-8, whatever
		// the charset and the bytes.
		for _, sec := range []paramSection{{ext: true, value: s}, {ext: true, value: "koi8-r''" + s}, {value: s}} {
			if v := joinSections([]paramSection{sec}); !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 %q from section %q", v, sec.value)
			}
		}
		parseLanguage(s)
		firstToken(s)
	})
}
