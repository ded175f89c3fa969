package testcorpus

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Options tunes GenerateWith.
type Options struct {
	// MinSize and MaxSize bound the approximate size of a message in bytes;
	// sizes are spread log-uniformly between them, so small messages are as
	// common as in a real mailbox. Zero means 300 and 200 KiB. Raise MaxSize
	// for benchmarks that want large messages.
	MinSize, MaxSize int
}

// Generate returns n random but deterministic well-formed messages for the
// seed: random MIME trees, header styles, charsets and transfer encodings.
// About one message in ten uses bare LF line endings, the rest CRLF.
// Message i is the same whatever n is.
func Generate(seed int64, n int) []Message {
	return GenerateWith(seed, n, Options{})
}

// GenerateWith is Generate with tunable sizes.
func GenerateWith(seed int64, n int, opt Options) []Message {
	lo, hi := opt.MinSize, opt.MaxSize
	if lo <= 0 {
		lo = 300
	}
	if hi <= 0 {
		hi = 200 << 10
	}
	hi = max(hi, lo)
	msgs := make([]Message, 0, max(n, 0))
	for i := range n {
		msgs = append(msgs, generateOne(seed, i, lo, hi))
	}
	return msgs
}

func generateOne(seed int64, i, lo, hi int) Message {
	g := &gen{r: newRNG(seed, uint64(i)), nl: "\r\n"}
	lf := g.r.pct(10)
	if lf {
		g.nl = "\n"
	}
	g.utf8Hdr = g.r.pct(8)
	e := g.message(g.r.logSize(lo, hi), 0)
	data := g.render(e)
	kind, ending := "valid", "CRLF"
	if lf {
		kind, ending = "edge", "bare LF line endings"
	}
	if g.utf8Hdr {
		ending += ", raw UTF-8 headers (RFC 6532)"
	}
	if strings.Contains(e.desc, "nowrap") {
		// One base64 line for the whole attachment breaks the 998 limit.
		kind = "edge"
		ending += ", unwrapped base64 line"
	}
	return Message{
		Name: fmt.Sprintf("gen/%04d", i),
		Data: data,
		Note: fmt.Sprintf("%s: %s; %s; %d bytes", kind, e.desc, ending, len(data)),
	}
}

// gen builds one message. All its parts share the line ending nl.
type gen struct {
	r       *rng
	nl      string
	utf8Hdr bool // raw UTF-8 is allowed in header fields
}

type field struct{ name, value string }

// entity is a MIME entity: its header fields and its encoded body.
type entity struct {
	fields []field
	body   []byte
	desc   string // compact description of the tree, for Message.Note
}

func (g *gen) render(e entity) []byte {
	var b bytes.Buffer
	for _, f := range e.fields {
		b.WriteString(fold(f.name, f.value, g.nl))
		b.WriteString(g.nl)
	}
	b.WriteString(g.nl)
	b.Write(e.body)
	return b.Bytes()
}

// message builds a whole message: top-level fields and a body tree.
func (g *gen) message(budget, depth int) entity {
	top := g.topFields()
	used := 0
	for _, f := range top {
		used += len(f.name) + len(f.value) + 4
	}
	body := g.entity(budget-used, depth)
	if g.r.pct(97) {
		top = append(top, field{"MIME-Version", "1.0"})
	}
	return entity{fields: append(top, body.fields...), body: body.body, desc: body.desc}
}

// entity picks a body shape; deeper levels lean towards leaves so that
// trees stay realistic.
func (g *gen) entity(budget, depth int) entity {
	r := g.r
	if depth >= 6 || budget < 500 || r.intn(6) < depth {
		switch w := r.intn(100); {
		case w < 55:
			return g.text(budget, false)
		case w < 70:
			return g.text(budget, true)
		case w < 95:
			return g.attachment(budget)
		default:
			return g.binary(budget)
		}
	}
	switch w := r.intn(100); {
	case w < 30:
		return g.text(budget, false)
	case w < 36:
		return g.text(budget, true)
	case w < 62:
		return g.mixed(budget, depth)
	case w < 78:
		return g.alternative(budget, depth)
	case w < 85:
		return g.related(budget, depth)
	case w < 89:
		return g.digest(budget, depth)
	case w < 95:
		return g.rfc822(budget, depth)
	default:
		return g.attachment(budget)
	}
}

// split divides total into n random shares.
func (g *gen) split(total, n int) []int {
	w := make([]int, n)
	sum := 0
	for i := range w {
		w[i] = g.r.between(1, 100)
		sum += w[i]
	}
	for i := range w {
		w[i] = total * w[i] / sum
	}
	return w
}

func (g *gen) mixed(budget, depth int) entity {
	r := g.r
	n := r.between(1, 4)
	textBudget := min(budget/4, r.between(200, 12000))
	shares := g.split(budget-textBudget, n)
	var children []entity
	// The readable body comes first, as mail clients put it.
	if r.pct(35) {
		children = append(children, g.alternative(textBudget, depth+1))
	} else {
		children = append(children, g.text(textBudget, r.pct(10)))
	}
	for _, s := range shares {
		switch w := r.intn(100); {
		case w < 60:
			children = append(children, g.attachment(s))
		case w < 70:
			children = append(children, g.binary(s))
		case w < 85:
			children = append(children, g.rfc822(s, depth+1))
		case w < 95:
			children = append(children, g.text(s, false))
		default:
			children = append(children, g.entity(s, depth+1))
		}
	}
	return g.multipart("mixed", "", children)
}

func (g *gen) alternative(budget, depth int) entity {
	r := g.r
	cs := pick(r, bodyCharsets)
	paras := g.paragraphs(budget*2/5, cs.lang)
	plain := g.textEntity(cs, paras, false, "")
	var html entity
	if depth < 4 && r.pct(25) {
		html = g.relatedHTML(cs, paras, budget*3/5)
	} else {
		html = g.textEntity(cs, paras, true, "")
	}
	return g.multipart("alternative", "", []entity{plain, html})
}

func (g *gen) related(budget, depth int) entity {
	cs := pick(g.r, bodyCharsets)
	return g.relatedHTML(cs, g.paragraphs(budget/4, cs.lang), budget*3/4)
}

// relatedHTML builds multipart/related: an HTML body referring to inline
// images by Content-ID (RFC 2387).
func (g *gen) relatedHTML(cs charset, paras []string, imageBudget int) entity {
	r := g.r
	n := r.between(1, 3)
	shares := g.split(imageBudget, n)
	var imgs []entity
	var extra strings.Builder
	for i, s := range shares {
		cid := fmt.Sprintf("image%03d.%08x@%s", i+1, uint32(r.next()), pick(r, domains))
		name := fmt.Sprintf("image%03d.png", i+1)
		extra.WriteString(fmt.Sprintf(`<p><img src="cid:%s" alt="%s"></p>`, cid, name) + "\n")
		data := g.blob(max(s*3/4, 32), "\x89PNG\r\n\x1a\n")
		imgs = append(imgs, entity{
			fields: []field{
				{"Content-Type", `image/png; name="` + name + `"`},
				{"Content-Transfer-Encoding", "base64"},
				{"Content-ID", "<" + cid + ">"},
				{"Content-Disposition", `inline; filename="` + name + `"`},
			},
			body: b64Lines(data, 76, g.nl),
			desc: "png/b64",
		})
	}
	html := g.textEntity(cs, paras, true, extra.String())
	return g.multipart("related", `type="text/html"`, append([]entity{html}, imgs...))
}

// digest builds multipart/digest, whose parts default to message/rfc822
// (RFC 2046 5.1.5); most parts here rely on that default.
func (g *gen) digest(budget, depth int) entity {
	r := g.r
	n := r.between(2, 5)
	var children []entity
	for _, s := range g.split(budget, n) {
		inner := g.message(s, depth+2)
		var fields []field
		if r.pct(15) {
			fields = []field{{"Content-Type", "message/rfc822"}}
		}
		children = append(children, entity{fields: fields, body: g.render(inner), desc: "msg(" + inner.desc + ")"})
	}
	return g.multipart("digest", "", children)
}

// rfc822 builds a forwarded message as an attachment.
func (g *gen) rfc822(budget, depth int) entity {
	r := g.r
	inner := g.message(budget-200, depth+1)
	fields := []field{{"Content-Type", "message/rfc822"}}
	switch r.intn(3) {
	case 0:
		fields = append(fields, field{"Content-Disposition", `attachment; filename="forwarded message.eml"`})
	case 1:
		fields = append(fields, field{"Content-Disposition", "inline"})
	}
	return entity{fields: fields, body: g.render(inner), desc: "rfc822(" + inner.desc + ")"}
}

func (g *gen) multipart(sub, params string, children []entity) entity {
	r := g.r
	parts := make([][]byte, len(children))
	descs := make([]string, len(children))
	for i, c := range children {
		parts[i] = g.render(c)
		descs[i] = c.desc
	}
	// A delimiter must not occur inside any part (RFC 2046 5.1.1); random
	// boundaries practically never do, and this makes sure.
	boundary := g.boundary()
	for clash := true; clash; {
		clash = false
		for _, p := range parts {
			if bytes.Contains(p, []byte("--"+boundary)) {
				clash = true
				boundary = g.boundary()
				break
			}
		}
	}
	var body bytes.Buffer
	if r.pct(35) {
		body.WriteString("This is a multi-part message in MIME format." + g.nl)
	}
	for _, p := range parts {
		body.WriteString("--" + boundary + g.nl)
		body.Write(p)
		body.WriteString(g.nl)
	}
	body.WriteString("--" + boundary + "--" + g.nl)
	if r.pct(5) {
		body.WriteString(g.nl + "--" + g.nl + "Sent through the list server." + g.nl)
	}
	ct := "multipart/" + sub + "; "
	if params != "" {
		ct += params + "; "
	}
	ct += "boundary=" + g.quoteParam(boundary)
	return entity{
		fields: []field{{"Content-Type", ct}},
		body:   body.Bytes(),
		desc:   sub + "[" + strings.Join(descs, ",") + "]",
	}
}

// quoteParam quotes a parameter value when RFC 2045 requires it, and
// sometimes when it does not, as mailers do.
func (g *gen) quoteParam(v string) string {
	if strings.ContainsAny(v, "()<>@,;:\\\"/[]?= ") || g.r.pct(60) {
		return `"` + v + `"`
	}
	return v
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (g *gen) alnum(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.r.intn(len(alnum))]
	}
	return string(b)
}

// boundary returns a boundary in the style of a common mailer.
func (g *gen) boundary() string {
	r := g.r
	switch r.intn(6) {
	case 0:
		return fmt.Sprintf("----=_Part_%d_%d.%d", r.intn(1000000), r.intn(1000000000), 1500000000000+r.intn(100000000000))
	case 1:
		return fmt.Sprintf("000000000000%016x", r.next())
	case 2:
		return fmt.Sprintf("Apple-Mail=_%08X-%04X-%04X-%04X-%012X", uint32(r.next()), uint16(r.next()),
			uint16(r.next()), uint16(r.next()), r.next()&0xFFFFFFFFFFFF)
	case 3:
		return "------------" + g.alnum(24)
	case 4:
		return "_000_" + g.alnum(30) + "_"
	default:
		return fmt.Sprintf("=_%016x%016x", r.next(), r.next())
	}
}

// paragraphs returns about budget bytes of text as paragraphs.
func (g *gen) paragraphs(budget int, lang language) []string {
	var paras []string
	n := 0
	for n < budget || len(paras) == 0 {
		p := sampleParagraph(g.r, lang)
		paras = append(paras, p)
		n += len(p) + 2
	}
	return paras
}

func (g *gen) text(budget int, html bool) entity {
	cs := pick(g.r, bodyCharsets)
	return g.textEntity(cs, g.paragraphs(budget, cs.lang), html, "")
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// textEntity renders paragraphs as text/plain or text/html in the charset,
// with a transfer encoding that suits the bytes. extraHTML is appended to an
// HTML body (inline image references).
func (g *gen) textEntity(cs charset, paras []string, html bool, extraHTML string) entity {
	r := g.r
	width := 72
	if cs.lang == langJapanese {
		width = 36
	}
	cte := "7bit"
	raw := []byte(strings.Join(paras, ""))
	switch {
	case cs.sevenBit && isASCII(cs.encode(strings.Join(paras, ""))):
		if r.pct(15) {
			cte = "base64"
		}
	case isASCII(raw):
		if r.pct(20) {
			cte = "quoted-printable"
		}
	default:
		cte = pick(r, []string{"8bit", "8bit", "quoted-printable", "quoted-printable", "base64"})
	}
	// Quoted-printable lets some mailers skip wrapping and rely on soft breaks.
	unwrapped := cte == "quoted-printable" && r.pct(50)
	flowed := !html && !unwrapped && cte != "base64" && r.pct(15)

	var text strings.Builder
	if html {
		text.WriteString(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=` + cs.name + `"></head>` + "\n<body>\n")
	}
	for i, p := range paras {
		if html {
			p = "<p>" + htmlEscape(p) + "</p>"
		} else if i > 0 {
			text.WriteString("\n")
		}
		if unwrapped {
			text.WriteString(p + "\n")
			continue
		}
		lines := wrap(p, width)
		for j, l := range lines {
			text.WriteString(l)
			if flowed && j < len(lines)-1 {
				text.WriteString(" ") // RFC 3676 soft line break
			}
			text.WriteString("\n")
		}
	}
	if html {
		text.WriteString(extraHTML + "</body>\n</html>\n")
	}
	content := strings.ReplaceAll(text.String(), "\n", g.nl)
	encoded := cs.encode(content)

	var body []byte
	switch cte {
	case "quoted-printable":
		body = qpEncode(encoded, g.nl, r.pct(10))
	case "base64":
		body = b64Lines(encoded, 76, g.nl)
	default:
		body = encoded
	}

	sub := "plain"
	if html {
		sub = "html"
	}
	csName := cs.name
	if r.pct(30) {
		csName = strings.ToUpper(csName)
	}
	ct := "text/" + sub + "; charset=" + g.quoteParam(csName)
	if flowed {
		ct += "; format=flowed"
		if r.pct(50) {
			ct += "; delsp=no"
		}
	}
	var fields []field
	if !(cs == csASCII && cte == "7bit" && !html && r.pct(20)) {
		// Otherwise leave the RFC 2045 default (text/plain; charset=us-ascii) implicit.
		fields = append(fields, field{"Content-Type", ct})
	}
	if cte != "7bit" || r.pct(60) {
		fields = append(fields, field{"Content-Transfer-Encoding", cte})
	}
	return entity{fields: fields, body: body, desc: sub + "/" + cs.name + "/" + cte}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

// blob returns n deterministic random bytes starting with magic, so that
// attachments look like their type to sniffers.
func (g *gen) blob(n int, magic string) []byte {
	b := make([]byte, max(n, len(magic)))
	g.r.fill(b)
	copy(b, magic)
	return b
}

type attachKind struct{ ctype, ext, magic string }

var attachKinds = []attachKind{
	{"application/pdf", "pdf", "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"},
	{"image/png", "png", "\x89PNG\r\n\x1a\n"},
	{"image/jpeg", "jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00"},
	{"application/zip", "zip", "PK\x03\x04"},
	{"application/octet-stream", "bin", ""},
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "PK\x03\x04"},
	{"text/csv", "csv", ""},
}

var asciiNames = []string{"report", "invoice-2024-03", "scan_0001", "Quarterly Figures", "photo", "contract v2 (signed)", "data"}

var unicodeNames = []string{"Résumé", "отчёт", "見積書", "€ rapport", "Übersicht März"}

func (g *gen) attachment(budget int) entity {
	r := g.r
	k := pick(r, attachKinds)
	n := max(budget*3/4, 16)
	var data []byte
	if k.ext == "csv" {
		var b strings.Builder
		b.WriteString("date,account,amount,comment\r\n")
		for b.Len() < n {
			fmt.Fprintf(&b, "2024-%02d-%02d,%d,%d.%02d,%s\r\n", r.between(1, 12), r.between(1, 28),
				r.intn(100000), r.intn(10000), r.intn(100), pick(r, vocabulary))
		}
		data = []byte(b.String())
	} else {
		data = g.blob(n, k.magic)
	}

	var ctParam, cdParam string
	if r.pct(25) {
		name := pick(r, unicodeNames) + "." + k.ext
		switch {
		case g.utf8Hdr && r.pct(50):
			ctParam = `name="` + name + `"`
			cdParam = `filename="` + name + `"`
		case r.pct(50):
			// RFC 2231 is the standard way to carry a non-ASCII file name.
			v := "utf-8''" + percentEncode(name)
			ctParam = "name*=" + v
			cdParam = "filename*=" + v
		default:
			// Encoded words inside a quoted string break RFC 2047 5 but are
			// what many mailers send.
			w := encodedWords(csUTF8, name, false)
			ctParam = `name="` + w + `"`
			cdParam = `filename="` + w + `"`
		}
	} else {
		name := pick(r, asciiNames) + "." + k.ext
		ctParam = "name=" + g.quoteParam(name)
		cdParam = "filename=" + g.quoteParam(name)
	}
	width := pick(r, []int{76, 76, 76, 76, 76, 76, 64, 72, 0})
	fields := []field{
		{"Content-Type", k.ctype + "; " + ctParam},
		{"Content-Disposition", "attachment; " + cdParam},
		{"Content-Transfer-Encoding", "base64"},
	}
	if r.pct(20) {
		fields[1].value += fmt.Sprintf("; size=%d", len(data))
	}
	desc := fmt.Sprintf("%s/b64-%d/%dB", k.ext, width, len(data))
	if width == 0 {
		desc = fmt.Sprintf("%s/b64-nowrap/%dB", k.ext, len(data))
	}
	return entity{fields: fields, body: b64Lines(data, width, g.nl), desc: desc}
}

// percentEncode encodes s for an RFC 2231 extended value.
func percentEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// binary builds a part sent with Content-Transfer-Encoding: binary
// (RFC 3030), full of NUL bytes and stray CR and LF.
func (g *gen) binary(budget int) entity {
	data := g.blob(max(budget, 8), "")
	for i, c := range data {
		if c&7 == 0 {
			data[i] = 0
		}
	}
	return entity{
		fields: []field{
			{"Content-Type", `application/octet-stream; name="blob.dat"`},
			{"Content-Disposition", `attachment; filename="blob.dat"`},
			{"Content-Transfer-Encoding", "binary"},
		},
		body: data,
		desc: fmt.Sprintf("binary/%dB", len(data)),
	}
}

// topFields returns the header fields a message carries besides the MIME ones.
func (g *gen) topFields() []field {
	r := g.r
	var f []field
	date := g.date()
	from := g.mailbox()
	if r.pct(30) {
		f = append(f, field{"Return-Path", "<" + pick(r, people[langEnglish]).local + "@" + pick(r, domains) + ">"})
	}
	if r.pct(40) {
		for range r.between(1, 3) {
			f = append(f, field{"Received", fmt.Sprintf(
				"from mail%d.%s (mail%d.%s [192.0.2.%d]) by mx.example.com (Postfix) with ESMTPS id %X for <%s@example.com>; %s",
				r.intn(10), pick(r, domains), r.intn(10), pick(r, domains), r.between(1, 254), r.next()&0xFFFFFFFFFF,
				pick(r, people[langEnglish]).local, date)})
		}
	}
	f = append(f, field{"From", from})
	f = append(f, field{"To", g.addressList(r.between(1, 4))})
	if r.pct(30) {
		f = append(f, field{"Cc", g.addressList(r.between(1, 3))})
	}
	reply := r.pct(35)
	subject := g.subject()
	switch {
	case reply:
		subject = pick(r, []string{"Re: ", "RE: ", "Re: Re: ", "AW: "}) + subject
	case r.pct(8):
		subject = pick(r, []string{"Fwd: ", "FW: "}) + subject
	}
	f = append(f, field{"Subject", subject})
	f = append(f, field{"Date", date})
	f = append(f, field{"Message-ID", g.messageID()})
	if reply {
		refs := make([]string, r.between(1, 8))
		for i := range refs {
			refs[i] = g.messageID()
		}
		f = append(f, field{"In-Reply-To", refs[len(refs)-1]})
		f = append(f, field{"References", strings.Join(refs, " ")})
	}
	if r.pct(30) {
		f = append(f, field{pick(r, []string{"X-Mailer", "User-Agent"}), pick(r, []string{
			"Microsoft Outlook 16.0", "Apple Mail (2.3731.500.231)", "Mozilla Thunderbird 115.6.0",
			"Roundcube Webmail/1.6.5", "Mutt/2.2.12 (2023-09-09)",
		})})
	}
	return f
}

func (g *gen) addressList(n int) string {
	a := make([]string, n)
	for i := range a {
		a[i] = g.mailbox()
	}
	return strings.Join(a, ", ")
}

// mailbox returns an address with one of the display-name styles found in
// real mail: none, plain, quoted, RFC 2047 encoded, raw UTF-8.
func (g *gen) mailbox() string {
	r := g.r
	cs := pick(r, bodyCharsets)
	p := personFor(r, cs.lang)
	addr := p.local + "@" + pick(r, domains)
	if g.utf8Hdr && r.pct(30) {
		// RFC 6531 address: UTF-8 local part, Unicode domain.
		addr = pick(r, utf8Locals) + "@" + pick(r, utf8Domains)
	}
	if isASCII([]byte(p.name)) {
		switch r.intn(6) {
		case 0:
			return addr
		case 1:
			return "<" + addr + ">"
		case 2:
			first, last, _ := strings.Cut(p.name, " ")
			return `"` + last + ", " + first + `" <` + addr + ">"
		default:
			return p.name + " <" + addr + ">"
		}
	}
	if g.utf8Hdr && r.pct(70) {
		return p.name + " <" + addr + ">"
	}
	// personFor chose a name that cs can represent.
	return encodedWords(cs, p.name, r.pct(40)) + " <" + addr + ">"
}

func (g *gen) subject() string {
	r := g.r
	cs := pick(r, bodyCharsets)
	if cs.lang == langEnglish || r.pct(40) {
		return englishSubject(r)
	}
	s := sampleSentence(r, cs.lang)
	if utf8.RuneCountInString(s) > 60 && r.pct(50) {
		s = string([]rune(s)[:40])
	}
	if g.utf8Hdr && r.pct(70) {
		return s
	}
	return encodedWords(cs, s, r.pct(30))
}

func sampleSentence(r *rng, lang language) string {
	switch lang {
	case langWestern1252:
		if r.pct(50) {
			return pick(r, samples[langWestern1252])
		}
		return pick(r, samples[langWestern])
	case langAny:
		return pick(r, samples[pick(r, []language{langWestern, langWestern1252, langRussian, langJapanese, langAny})])
	}
	return pick(r, samples[lang])
}

var zoneMinutes = []int{-480, -300, -240, 0, 0, 60, 120, 180, 330, 540, 600}

func (g *gen) date() string {
	r := g.r
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.intn(26*365*24*3600)) * time.Second)
	off := pick(r, zoneMinutes)
	t = t.In(time.FixedZone("", off*60))
	switch r.intn(10) {
	case 0:
		return t.Format("02 Jan 2006 15:04:05 -0700")
	case 1:
		return t.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	case 2:
		if off == 0 {
			return t.Format("Mon, 02 Jan 2006 15:04:05 -0700") + " (UTC)"
		}
	}
	return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

func (g *gen) messageID() string {
	r := g.r
	switch r.intn(4) {
	case 0:
		return "<CA" + g.alnum(38) + "@mail.gmail.com>"
	case 1:
		return fmt.Sprintf("<%d%02d%02d%06d.GA%d@%s>", 2000+r.intn(26), r.between(1, 12), r.between(1, 28),
			r.intn(1000000), r.intn(100000), pick(r, domains))
	case 2:
		return fmt.Sprintf("<%08X-%04X-%04X-%04X-%012X@%s>", uint32(r.next()), uint16(r.next()), uint16(r.next()),
			uint16(r.next()), r.next()&0xFFFFFFFFFFFF, pick(r, domains))
	default:
		return fmt.Sprintf("<%016x.%x@%s>", r.next(), r.intn(1<<20), pick(r, domains))
	}
}
