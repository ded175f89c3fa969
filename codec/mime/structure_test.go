package mime

import (
	"reflect"
	"strings"
	"testing"
)

const realMessage = `From: "Doe, John" <john@example.com>
To: team: a@x.test, b@y.test;
Subject: =?utf-8?q?caf=C3=A9?=
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: Quoted-Printable

Hello=20world
--alt
Content-Type: TEXT/HTML; CHARSET=utf-8

<p>Hello</p>
--alt--

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: ATTACHMENT;
 filename*0*=utf-8''%E2%82%AC%20rate;
 filename*1=" report.pdf"; size=42
Content-Transfer-Encoding: base64 (ascii armor)
Content-ID: <pdf@x.test>
Content-Description: Quarterly report
Content-Language: en, de (German)
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Location: http://example.test/r.pdf

JVBERi0xLjQK
JVBERi0xLjQK
--outer
Content-Type: message/rfc822

From: x@y.test
Subject: fwd
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

inner text
--inner--
--outer--
trailing epilogue
`

func TestStructureRealMessage(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		in := strings.ReplaceAll(realMessage, "\n", eol)
		res, err := checkAllReaders([]byte(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		nodes := res.nodes
		if len(nodes) != 8 {
			t.Fatalf("%d nodes, want 8", len(nodes))
		}
		type shapeRow struct {
			typ, sub  string
			parent    int
			children  []int
			multipart bool
			message   bool
		}
		want := []shapeRow{
			{"multipart", "mixed", -1, []int{1, 4, 5}, true, false},
			{"multipart", "alternative", 0, []int{2, 3}, true, false},
			{"text", "plain", 1, nil, false, false},
			{"text", "html", 1, nil, false, false},
			{"application", "pdf", 0, nil, false, false},
			{"message", "rfc822", 0, []int{6}, false, true},
			{"multipart", "mixed", 5, []int{7}, true, false},
			{"text", "plain", 6, nil, false, false},
		}
		for i, w := range want {
			n := nodes[i]
			got := shapeRow{n.Type, n.Subtype, n.Parent, n.Children, n.Multipart, n.Message}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("node %d: got %+v, want %+v", i, got, w)
			}
		}

		// Leaf bodies are exactly the bytes between the header and the
		// line break of the next delimiter.
		bodies := map[int]string{
			2: "Hello=20world",
			3: "<p>Hello</p>",
			4: "JVBERi0xLjQK" + eol + "JVBERi0xLjQK",
			7: "inner text",
		}
		for i, want := range bodies {
			n := nodes[i]
			if got := in[n.BodyStart:n.BodyEnd]; got != want {
				t.Errorf("node %d body %q, want %q", i, got, want)
			}
			if wantStart := int64(strings.Index(in, want)); n.BodyStart != wantStart {
				t.Errorf("node %d BodyStart %d, want %d", i, n.BodyStart, wantStart)
			}
		}
		if nodes[4].BodyLines != 2 || nodes[2].BodyLines != 1 {
			t.Errorf("BodyLines: pdf %d, text %d", nodes[4].BodyLines, nodes[2].BodyLines)
		}

		// Multipart and message offsets.
		at := func(s string) int64 { return int64(strings.Index(in, s)) }
		alt := nodes[1]
		if alt.HeaderStart != at("Content-Type: multipart/alternative") ||
			alt.BodyStart != at("--alt"+eol) ||
			alt.BodyEnd != at(eol+eol+"--outer"+eol+"Content-Type: application")+int64(len(eol)) {
			t.Errorf("alternative offsets %d %d %d", alt.HeaderStart, alt.BodyStart, alt.BodyEnd)
		}
		if got := in[alt.BodyStart:alt.BodyEnd]; !strings.HasSuffix(got, "--alt--"+eol) {
			t.Errorf("alternative body ends %q", got[max(0, len(got)-12):])
		}
		msg, inner := nodes[5], nodes[6]
		if msg.BodyStart != at("From: x@y.test") || inner.HeaderStart != msg.BodyStart ||
			msg.BodyEnd != at(eol+"--outer--") || inner.BodyEnd != msg.BodyEnd {
			t.Errorf("message offsets: msg %d..%d, inner %d..%d", msg.BodyStart, msg.BodyEnd, inner.HeaderStart, inner.BodyEnd)
		}
		if want := int64(strings.Count(in[msg.BodyStart:msg.BodyEnd], "\n") + 1); msg.BodyLines != want {
			t.Errorf("message BodyLines %d, want %d", msg.BodyLines, want)
		}
		root := nodes[0]
		if root.BodyEnd != int64(len(in)) || root.BodyStart != at("This is a multi-part") {
			t.Errorf("root body %d..%d", root.BodyStart, root.BodyEnd)
		}

		// Preamble, delimiters and epilogue of the root, explicitly.
		var rootSegs []segment
		for _, s := range segments(res.pieces) {
			if s.Node == 0 && s.Kind != SegHeader {
				rootSegs = append(rootSegs, s)
			}
		}
		wantRoot := []segment{
			{SegPreamble, 0, "This is a multi-part message in MIME format."},
			{SegDelimiter, 0, eol + "--outer" + eol},
			{SegDelimiter, 0, eol + "--outer" + eol},
			{SegDelimiter, 0, eol + "--outer" + eol},
			{SegEpilogue, 0, eol + "--outer--" + eol + "trailing epilogue" + eol},
		}
		if !reflect.DeepEqual(rootSegs, wantRoot) {
			t.Errorf("root segments\n got %v\nwant %v", rootSegs, wantRoot)
		}
		// The alternative's epilogue keeps the line break after its close
		// delimiter and the empty line; the line break before --outer is
		// the outer delimiter's.
		var altEpilogue string
		for _, s := range segments(res.pieces) {
			if s.Node == 1 && s.Kind == SegEpilogue {
				altEpilogue = s.Data
			}
		}
		if want := eol + "--alt--" + eol; altEpilogue != want {
			t.Errorf("alternative epilogue %q, want %q", altEpilogue, want)
		}

		// Parsed fields.
		if got := root.Header.Get("subject"); got != "=?utf-8?q?caf=C3=A9?=" {
			t.Errorf("subject %q", got)
		}
		if root.Boundary != "outer" || alt.Boundary != "alt" || inner.Boundary != "inner" {
			t.Errorf("boundaries %q %q %q", root.Boundary, alt.Boundary, inner.Boundary)
		}
		text, html, pdf := nodes[2], nodes[3], nodes[4]
		if text.Encoding != "quoted-printable" || !reflect.DeepEqual(text.Params, []Param{{"charset", "utf-8"}}) {
			t.Errorf("text part: encoding %q params %v", text.Encoding, text.Params)
		}
		if !reflect.DeepEqual(html.Params, []Param{{"charset", "utf-8"}}) {
			t.Errorf("html params %v", html.Params)
		}
		wantPDF := Node{
			Type: "application", Subtype: "pdf",
			Params:      []Param{{"name", "report.pdf"}},
			ContentID:   "<pdf@x.test>",
			Description: "Quarterly report",
			Encoding:    "base64",
			MD5:         "Q2hlY2sgSW50ZWdyaXR5IQ==",
			Location:    "http://example.test/r.pdf",
			Disposition: "attachment",
			DispParams:  []Param{{"filename", "€ rate report.pdf"}, {"size", "42"}},
			Language:    []string{"en", "de"},
		}
		gotPDF := Node{
			Type: pdf.Type, Subtype: pdf.Subtype, Params: pdf.Params, ContentID: pdf.ContentID,
			Description: pdf.Description, Encoding: pdf.Encoding, MD5: pdf.MD5, Location: pdf.Location,
			Disposition: pdf.Disposition, DispParams: pdf.DispParams, Language: pdf.Language,
		}
		if !reflect.DeepEqual(gotPDF, wantPDF) {
			t.Errorf("pdf part\n got %+v\nwant %+v", gotPDF, wantPDF)
		}
		// An explicit text/plain without parameters gets no default charset:
		// only an absent Content-Type does.
		if nodes[7].Type != "text" || !reflect.DeepEqual(nodes[7].Params, []Param(nil)) {
			t.Errorf("inner text params %v", nodes[7].Params)
		}
	}
}

func TestStructureDefaults(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		typ     string
		params  []Param
		isMsg   bool
		nodeIdx int
	}{
		{"no content-type", "Subject: x\n\nbody", "text/plain", []Param{{"charset", "us-ascii"}}, false, 0},
		{"unparsable content-type", "Content-Type: garbage\n\nbody", "text/plain", []Param{{"charset", "us-ascii"}}, false, 0},
		{"empty content-type", "Content-Type:\n\nbody", "text/plain", []Param{{"charset", "us-ascii"}}, false, 0},
		{"unknown but valid type kept", "Content-Type: x-foo/x-bar; a=b\n\nbody", "x-foo/x-bar", []Param{{"a", "b"}}, false, 0},
		{"first content-type wins", "Content-Type: text/html\nContent-Type: image/png\n\n", "text/html", nil, false, 0},
		{"digest part default", "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: x\n\nhi\n--d--\n", "message/rfc822", nil, true, 1},
		{"digest part garbage type", "Content-Type: multipart/digest; boundary=d\n\n--d\nContent-Type: ???\n\nSubject: x\n\nhi\n--d--\n", "message/rfc822", nil, true, 1},
		{"message/global descended", "Content-Type: message/global\n\nSubject: x\n\nhi", "message/global", nil, true, 0},
		{"8bit message descended", "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8BIT\n\nSubject: x\n\nhi", "message/rfc822", nil, true, 0},
		{"quoted-printable message is a leaf", "Content-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\nSubject: x\n\nhi", "message/rfc822", nil, false, 0},
		{"message/partial is a leaf", "Content-Type: message/partial; id=1\n\nSubject: x\n\nhi", "message/partial", []Param{{"id", "1"}}, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := checkAllReaders([]byte(tc.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := res.nodes[tc.nodeIdx]
			if got := n.Type + "/" + n.Subtype; got != tc.typ {
				t.Errorf("type %s, want %s", got, tc.typ)
			}
			if !reflect.DeepEqual(n.Params, tc.params) {
				t.Errorf("params %v, want %v", n.Params, tc.params)
			}
			if n.Message != tc.isMsg {
				t.Errorf("Message %v, want %v", n.Message, tc.isMsg)
			}
			if n.Message {
				c := res.nodes[n.Children[0]]
				if c.Header.Get("Subject") != "x" || c.Type != "text" {
					t.Errorf("encapsulated message: subject %q type %s", c.Header.Get("Subject"), c.Type)
				}
			}
		})
	}
}
