package mime

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// wantNode is what the generator says a node must parse to.
type wantNode struct {
	typ, sub  string
	multipart bool
	message   bool
	boundary  string
	header    string
	body      string // leaves only
	children  int
}

// mimeGen writes a random, well-formed (but not necessarily tidy) MIME
// message and records the tree a correct splitter must find in it.
type mimeGen struct {
	t       *rapid.T
	b       strings.Builder
	eolMode int // 0 CRLF, 1 LF, 2 either, per line
	nodes   []*wantNode
}

func (g *mimeGen) eol() string {
	switch g.eolMode {
	case 0:
		return "\r\n"
	case 1:
		return "\n"
	}
	return rapid.SampledFrom([]string{"\r\n", "\n"}).Draw(g.t, "eol")
}

// line draws one line of content. It never starts with "--" followed by a
// boundary (boundaries start with 'B'; "--~" and "--" alone are fine) and
// never ends in a CR, which would join the line break after it.
func (g *mimeGen) line(label string) string {
	s := rapid.OneOf(
		rapid.StringMatching(`[a-zA-Z0-9 =._-]{0,30}`),
		rapid.SampledFrom([]string{"--", "--~B", "-B", " --B", "\x00\xe9\xff", "a\rb", "\t", "--~~--"}),
		rapid.StringMatching(`[A-Za-z0-9+/]{60,76}`),
	).Draw(g.t, label)
	if strings.HasPrefix(s, "--B") {
		s = "x" + s
	}
	return strings.TrimRight(s, "\r")
}

// text draws zero or more lines; the last may lack its line break.
func (g *mimeGen) text(label string, maxLines int) string {
	n := rapid.IntRange(0, maxLines).Draw(g.t, label+" lines")
	var b strings.Builder
	for i := range n {
		b.WriteString(g.line(label))
		if i < n-1 || rapid.Bool().Draw(g.t, label+" final eol") {
			b.WriteString(g.eol())
		}
	}
	return b.String()
}

func (g *mimeGen) padding() string {
	return rapid.SampledFrom([]string{"", "", " ", "\t", "  \t "}).Draw(g.t, "padding")
}

// header writes a header block with the given Content-Type lines (possibly
// none) and some other fields, ending in the empty line.
func (g *mimeGen) header(contentType []string, extra ...string) string {
	var fields []string
	if rapid.Bool().Draw(g.t, "subject") {
		fields = append(fields, "Subject: "+rapid.SampledFrom([]string{"hi", "caf\xe9", "=?utf-8?q?x?=", ""}).Draw(g.t, "subject value"))
	}
	if len(contentType) > 0 {
		fields = append(fields, strings.Join(contentType, g.eol()))
	}
	fields = append(fields, extra...)
	if rapid.Bool().Draw(g.t, "x-header") {
		fields = append(fields, "X-Folded: one"+g.eol()+"\ttwo")
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f)
		b.WriteString(g.eol())
	}
	b.WriteString(g.eol())
	return b.String()
}

// entity writes a node. bound is the boundary of the nearest enclosing
// multipart ("" at the top); inDigest says its parent is multipart/digest.
func (g *mimeGen) entity(depth int, bound string, inDigest bool) {
	kinds := []string{"leaf"}
	switch {
	case depth == 0:
		kinds = []string{"leaf", "multipart", "multipart", "multipart", "message"}
	case depth < 4:
		kinds = append(kinds, "multipart", "multipart", "message", "encoded message")
	}
	kind := rapid.SampledFrom(kinds).Draw(g.t, "kind")
	if inDigest && kind == "leaf" && rapid.Bool().Draw(g.t, "digest default") {
		kind = "message" // written without Content-Type below
	}
	w := &wantNode{}
	g.nodes = append(g.nodes, w)
	switch kind {
	case "leaf":
		ct := rapid.SampledFrom([][]string{
			{"Content-Type: text/plain; charset=utf-8", "text", "plain"},
			{"Content-Type: application/octet-stream", "application", "octet-stream"},
			{"Content-Type: IMAGE/PNG;", "image", "png"},
			{"", "text", "plain"},
		}).Draw(g.t, "leaf type")
		if inDigest && ct[0] == "" {
			ct = []string{"Content-Type: text/plain", "text", "plain"}
		}
		w.typ, w.sub = ct[1], ct[2]
		var lines []string
		if ct[0] != "" {
			lines = []string{ct[0]}
		}
		w.header = g.header(lines)
		w.body = g.text("body", 5)
		g.b.WriteString(w.header)
		g.b.WriteString(w.body)

	case "encoded message":
		w.typ, w.sub = "message", "rfc822"
		w.header = g.header([]string{"Content-Type: message/rfc822"}, "Content-Transfer-Encoding: base64")
		w.body = g.text("b64", 3)
		g.b.WriteString(w.header)
		g.b.WriteString(w.body)

	case "message":
		w.typ, w.sub, w.message, w.children = "message", "rfc822", true, 1
		var ct []string
		if !inDigest || rapid.Bool().Draw(g.t, "explicit rfc822") {
			if rapid.Bool().Draw(g.t, "global") {
				ct, w.sub = []string{"Content-Type: message/global"}, "global"
			} else {
				ct = []string{"Content-Type: message/rfc822"}
			}
		}
		var extra []string
		if rapid.Bool().Draw(g.t, "7bit") {
			extra = append(extra, "Content-Transfer-Encoding: 7bit")
		}
		w.header = g.header(ct, extra...)
		g.b.WriteString(w.header)
		g.entity(depth+1, bound, false)

	case "multipart":
		sub := rapid.SampledFrom([]string{"mixed", "alternative", "digest", "related"}).Draw(g.t, "subtype")
		// Nested boundaries extend the enclosing one, so every inner
		// boundary has an outer one as a prefix.
		b := bound + rapid.SampledFrom([]string{"a", "1", "_", "=", ".", "a b"}).Draw(g.t, "boundary char")
		if bound == "" {
			b = "B" + rapid.StringMatching(`[a-z0-9'()+_,./:=?-]{0,8}`).Draw(g.t, "boundary")
			b = strings.TrimRight(b, "-") // "B--" would read as a close of "B"
		}
		w.typ, w.sub, w.multipart, w.boundary = "multipart", sub, true, b
		ct := []string{fmt.Sprintf("Content-Type: multipart/%s; boundary=%q", sub, b)}
		if rapid.Bool().Draw(g.t, "folded content-type") {
			ct = []string{"Content-Type: multipart/" + sub + ";", fmt.Sprintf("\tboundary=\"%s\"", b)}
		}
		w.header = g.header(ct)
		g.b.WriteString(w.header)
		pre := g.text("preamble", 2)
		g.b.WriteString(pre)
		first := true
		delim := func(suffix string) {
			if !first || pre != "" || rapid.Bool().Draw(g.t, "break before first delimiter") {
				g.b.WriteString(g.eol())
			}
			first = false
			g.b.WriteString("--" + b + suffix + g.padding())
		}
		w.children = rapid.IntRange(0, 3).Draw(g.t, "parts")
		for range w.children {
			delim("")
			g.b.WriteString(g.eol())
			g.entity(depth+1, b, sub == "digest")
		}
		if w.children == 0 || rapid.IntRange(0, 4).Draw(g.t, "close") > 0 {
			delim("--")
			if rapid.Bool().Draw(g.t, "epilogue") {
				g.b.WriteString(g.eol())
				g.b.WriteString(g.text("epilogue", 2))
			}
		}
	}
}

func genMessage(t *rapid.T) (string, []*wantNode) {
	g := &mimeGen{t: t, eolMode: rapid.IntRange(0, 2).Draw(t, "eol mode")}
	g.entity(0, "", false)
	return g.b.String(), g.nodes
}

func TestRapidWellFormedTree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, want := genMessage(t)
		opt := Options{ChunkSize: rapid.SampledFrom([]int{0, 2, 5, 64}).Draw(t, "chunk")}
		res, err := checkAllReaders([]byte(in), opt)
		if err != nil {
			t.Fatalf("%v\ninput %q", err, in)
		}
		if len(res.nodes) != len(want) {
			t.Fatalf("%d nodes, want %d\ninput %q\n%s", len(res.nodes), len(want), in, shape(res))
		}
		for i, n := range res.nodes {
			w := want[i]
			got := wantNode{typ: n.Type, sub: n.Subtype, multipart: n.Multipart, message: n.Message,
				boundary: n.Boundary, header: string(n.Header.Raw), children: len(n.Children)}
			if n.IsLeaf() {
				got.body = in[n.BodyStart:n.BodyEnd]
			}
			if got != *w {
				t.Fatalf("node %d:\n got %+v\nwant %+v\ninput %q", i, got, *w, in)
			}
		}
	})
}

// mutate breaks a message at random: cut bytes, insert MIME-looking junk,
// truncate.
func mutate(t *rapid.T, in string) string {
	junk := []string{"\r", "\n", "\r\n", "--", "--B", "--Ba--", "\x00", "\xff\xfe", "\r\n--B\r\n", "\n\n",
		"Content-Type: multipart/mixed; boundary=B\n\n", "Content-Type: message/rfc822\r\n\r\n", " ", "--B--"}
	for range rapid.IntRange(1, 4).Draw(t, "mutations") {
		if len(in) == 0 {
			in = rapid.SampledFrom(junk).Draw(t, "seed")
			continue
		}
		i := rapid.IntRange(0, len(in)).Draw(t, "at")
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0:
			j := rapid.IntRange(i, min(len(in), i+20)).Draw(t, "cut end")
			in = in[:i] + in[j:]
		case 1:
			in = in[:i] + rapid.SampledFrom(junk).Draw(t, "junk") + in[i:]
		case 2:
			in = in[:i]
		}
	}
	return in
}

func TestRapidBrokenMIME(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, _ := genMessage(t)
		in = mutate(t, in)
		opt := Options{
			ChunkSize:      rapid.SampledFrom([]int{0, 2, 3, 16}).Draw(t, "chunk"),
			MaxHeaderBytes: rapid.SampledFrom([]int{0, 0, 1, 7, 40}).Draw(t, "max header"),
			MaxDepth:       rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(t, "max depth"),
			MaxParts:       rapid.SampledFrom([]int{0, 0, 1, 3}).Draw(t, "max parts"),
		}
		if _, err := checkAllReaders([]byte(in), opt); err != nil {
			t.Fatalf("%v\ninput %q", err, in)
		}
	})
}

func TestRapidByteSoup(t *testing.T) {
	frags := []string{"\r", "\n", "\r\n", "-", "--", "b", "B", "--b", "--b--", " ", "\t", "\x00", "\xe9", ":",
		"Content-Type: multipart/mixed; boundary=b\n", "Content-Type: multipart/digest; boundary=B\r\n",
		"Content-Type: message/rfc822\n", "Content-Transfer-Encoding: base64\n", "X: y\n"}
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOfN(rapid.SampledFrom(frags), 0, 60).Draw(t, "fragments")
		in := strings.Join(parts, "")
		opt := Options{ChunkSize: rapid.SampledFrom([]int{0, 2, 7}).Draw(t, "chunk")}
		if _, err := checkAllReaders([]byte(in), opt); err != nil {
			t.Fatalf("%v\ninput %q", err, in)
		}
	})
}
