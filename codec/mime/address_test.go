package mime

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	type A = Address
	cases := []struct {
		in   string
		want []A
	}{
		{``, nil},
		{`a@b`, []A{{Mailbox: "a", Host: "b"}}},
		{`"Doe, John" <j@x>`, []A{{Name: "Doe, John", Mailbox: "j", Host: "x"}}},
		{`j@x (comment)`, []A{{Name: "comment", Mailbox: "j", Host: "x"}}},
		{`<@route1,@route2:a@b>`, []A{{Route: "@route1,@route2", Mailbox: "a", Host: "b"}}},
		{`Jörg <jörg@bücher.example>, 用户@例子.广告`, []A{
			{Name: "Jörg", Mailbox: "jörg", Host: "bücher.example"},
			{Mailbox: "用户", Host: "例子.广告"},
		}},
		{`=?utf-8?q?J=C3=B6rg?= <j@x>`, []A{{Name: "=?utf-8?q?J=C3=B6rg?=", Mailbox: "j", Host: "x"}}},
		{`Team: a@x, "B" <b@y>; c@z`, []A{
			{Group: "Team"}, {Mailbox: "a", Host: "x"}, {Name: "B", Mailbox: "b", Host: "y"}, {GroupEnd: true}, {Mailbox: "c", Host: "z"},
		}},
		{`undisclosed-recipients:;`, []A{{Group: "undisclosed-recipients"}, {GroupEnd: true}}},
		{`Unclosed group: a@x`, []A{{Group: "Unclosed group"}, {Mailbox: "a", Host: "x"}, {GroupEnd: true}}},
		{`:; a@b`, []A{{Mailbox: "a", Host: "b"}}},
		{`John Doe j@x`, []A{{Name: "John Doe", Mailbox: "j", Host: "x"}}},
		{`John <j@x`, []A{{Name: "John", Mailbox: "j", Host: "x"}}},
		{`John <j@x, k@y`, []A{{Name: "John", Mailbox: "j", Host: "x"}, {Mailbox: "k", Host: "y"}}},
		{`a@b, , ,c@d,`, []A{{Mailbox: "a", Host: "b"}, {Mailbox: "c", Host: "d"}}},
		// RFC 5322 appendix A examples.
		{`Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>`, []A{
			{Name: "Mary Smith", Mailbox: "mary", Host: "x.test"},
			{Mailbox: "jdoe", Host: "example.org"},
			{Name: "Who?", Mailbox: "one", Host: "y.test"},
		}},
		{`<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>`, []A{
			{Mailbox: "boss", Host: "nil.test"},
			{Name: `Giant; "Big" Box`, Mailbox: "sysservices", Host: "example.net"},
		}},
		{`Pete(A nice \) chap) <pete(his account)@silly.test(his host)>`, []A{{Name: "Pete", Mailbox: "pete", Host: "silly.test"}}},
		{`A Group(Some people):Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)`, []A{
			{Group: "A Group"},
			{Name: "Chris Jones", Mailbox: "c", Host: "public.example"},
			{Mailbox: "joe", Host: "example.org"},
			{Name: "John", Mailbox: "jdoe", Host: "one.test"},
			{GroupEnd: true},
		}},
		{`"john doe"@x`, []A{{Mailbox: "john doe", Host: "x"}}},
		{`"quoted\"local"@x`, []A{{Mailbox: `quoted"local`, Host: "x"}}},
		{`a@[192.0.2.1]`, []A{{Mailbox: "a", Host: "[192.0.2.1]"}}},
		{`john . doe @ example . com`, []A{{Mailbox: "john.doe", Host: "example.com"}}},
		{`<>`, nil},
		{`"X" <>`, []A{{Name: "X"}}},
		{`postmaster`, []A{{Mailbox: "postmaster"}}},
		{`Name  With   Spaces <a@b>`, []A{{Name: "Name With Spaces", Mailbox: "a", Host: "b"}}},
		{`a@b@c`, []A{{Mailbox: "a@b", Host: "c"}}},
		{`<a@b> trailing (note)`, []A{{Name: "note", Mailbox: "a", Host: "b"}}},
	}
	for _, tc := range cases {
		if got := ParseAddressList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAddressList(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseAddressListGarbage(t *testing.T) {
	inputs := []string{
		`<<<>>>@@@,,,;;;:::`, `"unterminated`, `(unterminated comment`, `[unterminated`, `<`, `>`, `@`, `:`, `;`,
		`\`, "\x00\xff\xfe", `a:b:c;d;e`, `<@a:>`, `<@a,@b>`, `((nested (deep)) comments) x@y`, strings.Repeat("(", 1000),
		strings.Repeat(`"`, 999), strings.Repeat("a@", 500), "\r\n\t",
	}
	for _, in := range inputs {
		for _, a := range ParseAddressList(in) {
			if a == (Address{}) {
				t.Errorf("ParseAddressList(%q) returned an empty address", in)
			}
		}
	}
}

func TestParseAddressListLinear(t *testing.T) {
	// Unclosed angle brackets in every entry must not rescan the rest of
	// the list for each entry.
	in := strings.Repeat("<a@b,", 50000)
	if got := len(ParseAddressList(in)); got != 50000 {
		t.Fatalf("%d addresses, want 50000", got)
	}
}
