package imap

import (
	"reflect"
	"strings"
	"testing"
)

func parseOne(t *testing.T, line string) (*Command, error) {
	t.Helper()
	p := NewParser(Options{})
	p.Feed([]byte(line + "\r\n"))
	ev, err := p.Next()
	if err != nil {
		return nil, err
	}
	if ev.Kind != EventCommand {
		t.Fatalf("%q: got event %+v", line, ev)
	}
	return ev.Command, nil
}

func TestFetchItems(t *testing.T) {
	tests := []struct {
		items string
		want  []FetchItem
		str   string // canonical form of the items, space separated
	}{
		{"ENVELOPE", []FetchItem{{Kind: FetchEnvelope}}, "ENVELOPE"},
		{"flags internaldate rfc822.size", nil, "FLAGS INTERNALDATE RFC822.SIZE"},
		{"RFC822 RFC822.HEADER RFC822.TEXT", nil, "RFC822 RFC822.HEADER RFC822.TEXT"},
		{"UID MODSEQ BODY BODYSTRUCTURE EMAILID THREADID SAVEDATE", nil, "UID MODSEQ BODY BODYSTRUCTURE EMAILID THREADID SAVEDATE"},
		{"BODY[]", []FetchItem{{Kind: FetchBodySection}}, "BODY[]"},
		{"BODY.PEEK[]<0.1024>", []FetchItem{{Kind: FetchBodySection, Peek: true, Partial: Partial{0, 1024}}}, "BODY.PEEK[]<0.1024>"},
		{"body[header]", []FetchItem{{Kind: FetchBodySection, Section: Section{Spec: SpecHeader}}}, "BODY[HEADER]"},
		{"BODY[TEXT]<100.50>", nil, "BODY[TEXT]<100.50>"},
		{"BODY[1]", []FetchItem{{Kind: FetchBodySection, Section: Section{Part: []uint32{1}}}}, "BODY[1]"},
		{"BODY[1.2.3]", []FetchItem{{Kind: FetchBodySection, Section: Section{Part: []uint32{1, 2, 3}}}}, "BODY[1.2.3]"},
		{"BODY[4.2.MIME]", []FetchItem{{Kind: FetchBodySection, Section: Section{Part: []uint32{4, 2}, Spec: SpecMIME}}}, "BODY[4.2.MIME]"},
		{"BODY[3.HEADER]", nil, "BODY[3.HEADER]"},
		{"BODY[3.TEXT]", nil, "BODY[3.TEXT]"},
		{"BODY.PEEK[HEADER.FIELDS (DATE FROM Subject)]",
			[]FetchItem{{Kind: FetchBodySection, Peek: true, Section: Section{Spec: SpecHeaderFields, Fields: []string{"DATE", "FROM", "Subject"}}}},
			"BODY.PEEK[HEADER.FIELDS (DATE FROM Subject)]"},
		{"BODY[1.HEADER.FIELDS.NOT (Received \"X-Spam Score\")]<0.10>", nil, "BODY[1.HEADER.FIELDS.NOT (Received \"X-Spam Score\")]<0.10>"},
		{"BINARY[]", []FetchItem{{Kind: FetchBinary}}, "BINARY[]"},
		{"BINARY.PEEK[1.2]<5.6>", []FetchItem{{Kind: FetchBinary, Peek: true, Section: Section{Part: []uint32{1, 2}}, Partial: Partial{5, 6}}}, "BINARY.PEEK[1.2]<5.6>"},
		{"BINARY.SIZE[2]", []FetchItem{{Kind: FetchBinarySize, Section: Section{Part: []uint32{2}}}}, "BINARY.SIZE[2]"},
		{"BINARY.SIZE[]", nil, "BINARY.SIZE[]"},
	}
	for _, tc := range tests {
		cmd, err := parseOne(t, "a FETCH 1 ("+tc.items+")")
		if err != nil {
			t.Errorf("%s: %v", tc.items, err)
			continue
		}
		items := cmd.Args.(*FetchCommand).Items
		if tc.want != nil && !reflect.DeepEqual(items, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.items, items, tc.want)
		}
		var strs []string
		for _, it := range items {
			strs = append(strs, it.String())
		}
		if got := strings.Join(strs, " "); got != tc.str {
			t.Errorf("%s: formatted %q, want %q", tc.items, got, tc.str)
		}
		// The formatted items parse back to the same items.
		again, err := parseOne(t, "a FETCH 1 ("+tc.str+")")
		if err != nil || !reflect.DeepEqual(again.Args.(*FetchCommand).Items, items) {
			t.Errorf("%s: round trip %v %+v", tc.items, err, again)
		}
	}
}

func TestFetchItemResponseNameAndSeen(t *testing.T) {
	tests := []struct {
		item FetchItem
		resp string
		seen bool
	}{
		{FetchItem{Kind: FetchBodySection, Peek: true, Partial: Partial{10, 20}}, "BODY[]<10>", false},
		{FetchItem{Kind: FetchBodySection, Section: Section{Part: []uint32{2}, Spec: SpecMIME}}, "BODY[2.MIME]", true},
		{FetchItem{Kind: FetchBinary, Peek: true, Section: Section{Part: []uint32{1}}}, "BINARY[1]", false},
		{FetchItem{Kind: FetchBinary, Section: Section{Part: []uint32{1}}}, "BINARY[1]", true},
		{FetchItem{Kind: FetchRFC822}, "RFC822", true},
		{FetchItem{Kind: FetchRFC822Header}, "RFC822.HEADER", false},
		{FetchItem{Kind: FetchRFC822Text}, "RFC822.TEXT", true},
		{FetchItem{Kind: FetchBinarySize, Section: Section{Part: []uint32{3}}}, "BINARY.SIZE[3]", false},
	}
	for _, tc := range tests {
		if got := string(tc.item.AppendResponseName(nil)); got != tc.resp {
			t.Errorf("%v: response name %q, want %q", tc.item, got, tc.resp)
		}
		if got := tc.item.SetsSeen(); got != tc.seen {
			t.Errorf("%v: SetsSeen %v, want %v", tc.item, got, tc.seen)
		}
	}
}
