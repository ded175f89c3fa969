package engine

import (
	"bytes"
	"io"
	stdmime "mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/net/html"

	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/codec/transfer"
)

// wordDecoder decodes RFC 2047 encoded words in any charset go-message knows.
func wordDecoder() *stdmime.WordDecoder {
	return &stdmime.WordDecoder{CharsetReader: charset.Reader}
}

// headerText is the searchable form of a header block: "name: value\n" per
// field, name lowercase, value unfolded and with encoded words decoded.
func headerText(h mime.Header) string {
	dec := wordDecoder()
	var b strings.Builder
	for _, f := range h.Fields() {
		v := f.Unfolded()
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		b.WriteString(strings.ToLower(f.Name))
		b.WriteString(": ")
		b.WriteString(toValidUTF8(v))
		b.WriteByte('\n')
	}
	return b.String()
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// parseDate reads a Date: header leniently (RFC 5322 plus the obsolete forms
// net/mail accepts).
func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '('); i > 0 { // trailing comment like "(PST)"
		v = strings.TrimSpace(v[:i])
	}
	return mail.ParseDate(v)
}

// textExtract collects the decoded text of a message's text/plain and
// text/html parts, up to a cap, for SEARCH BODY/TEXT and the API.
type textExtract struct {
	max  int64
	out  strings.Builder
	part []byte // raw body of the part being collected
	full bool
	// rawPer is how many raw bytes one decoded byte can take in the part's
	// transfer encoding: what of the part is kept is bounded by the text
	// budget left times this, so a large plain part is not held whole.
	rawPer int64
}

func (t *textExtract) begin(encoding string) {
	t.part, t.full = t.part[:0], false
	switch encoding {
	case "quoted-printable":
		t.rawPer = 3 // =XX
	case "base64":
		t.rawPer = 2 // 4 for 3, and line breaks
	default:
		t.rawPer = 1
	}
}

func (t *textExtract) collect(p []byte) {
	// A charset can take up to 4 bytes for a character it decodes to fewer
	// UTF-8 bytes than that only rarely; the room covers the transfer
	// encoding and a little more.
	room := t.rawPer*(t.max-int64(t.out.Len())) + 4 - int64(len(t.part))
	if room <= 0 {
		t.full = true
		return
	}
	if int64(len(p)) > room {
		p = p[:room]
		t.full = true
	}
	t.part = append(t.part, p...)
}

func (t *textExtract) end(n *mime.Node) {
	if len(t.part) == 0 || int64(t.out.Len()) >= t.max {
		return
	}
	var r io.Reader = bytes.NewReader(t.part)
	switch n.Encoding {
	case "base64":
		r = transfer.NewBase64Reader(r)
	case "quoted-printable":
		r = transfer.NewQPReader(r)
	}
	cs := "us-ascii"
	for _, p := range n.Params {
		if p.Name == "charset" {
			cs = p.Value
		}
	}
	if cr, err := charset.Reader(cs, r); err == nil {
		r = cr
	}
	limit := t.max - int64(t.out.Len())
	var buf bytes.Buffer
	buf.Grow(int(min(int64(len(t.part)), limit)) + bytes.MinRead)
	_, _ = buf.ReadFrom(io.LimitReader(r, limit))
	body := buf.Bytes()
	if n.Subtype == "html" {
		body = []byte(htmlToText(body))
	}
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	if t.out.Len() > 0 {
		t.out.WriteByte('\n')
	}
	if rem := int(t.max) - t.out.Len(); len(body) > rem {
		body = bytes.ToValidUTF8(body[:rem], nil)
	}
	t.out.Write(body) // the text without a copy of it as a string
	t.part = t.part[:0]
}

func (t *textExtract) String() string { return t.out.String() }

// htmlToText reduces HTML to its visible text: tags dropped, script and style
// skipped, block elements become line breaks, entities decoded.
func htmlToText(doc []byte) string {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "body": // a <head> that never closed ends here
				skip = 0
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			case "td", "th":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "table", "blockquote":
				b.WriteByte('\n')
			}
		}
	}
}
