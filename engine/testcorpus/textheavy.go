package testcorpus

import (
	"fmt"
	"strings"
)

// textStream keeps TextHeavy's random streams apart from Generate's.
const textStream = 1 << 40

// TextHeavy returns n English-like text messages, as a person's mailbox
// mostly holds: plain text or multipart/alternative with an HTML version,
// quoted replies (nested several levels), signatures and disclaimers, and
// the trace and DKIM fields that delivery adds. They are CRLF and
// deterministic for a seed. Storage-size targets are measured on them.
func TextHeavy(seed int64, n int) []Message {
	msgs := make([]Message, 0, max(n, 0))
	for i := range n {
		g := &gen{r: newRNG(seed, textStream+uint64(i)), nl: "\r\n"}
		e := g.textHeavy()
		data := g.render(e)
		msgs = append(msgs, Message{
			Name: fmt.Sprintf("text/%04d", i),
			Data: data,
			Note: fmt.Sprintf("valid: %s; %d bytes", e.desc, len(data)),
		})
	}
	return msgs
}

// textBlock is a body in structured form, rendered both as plain text and
// as HTML.
type textBlock struct {
	greeting  string
	paras     []string
	closing   []string
	signature []string
	quoteHead string     // "On ..., X wrote:"
	quoted    *textBlock // the message replied to
}

func (g *gen) textHeavy() entity {
	r := g.r
	sender := pick(r, people[langEnglish])
	to := pick(r, people[langEnglish])
	senderAddr := sender.local + "@" + pick(r, domains[:4])
	toAddr := to.local + "@" + pick(r, domains[:4])
	date := g.date()

	var f []field
	f = append(f, field{"Return-Path", "<" + senderAddr + ">"})
	for range r.between(2, 4) {
		f = append(f, field{"Received", fmt.Sprintf(
			"from smtp%d.%s (smtp%d.%s [198.51.100.%d]) by mx%d.example.com with ESMTPS id %X for <%s>; %s",
			r.intn(20), pick(r, domains[:4]), r.intn(20), pick(r, domains[:4]), r.between(1, 254), r.intn(5),
			r.next()&0xFFFFFFFFFF, toAddr, date)})
	}
	if r.pct(60) {
		f = append(f, field{"DKIM-Signature", fmt.Sprintf(
			"v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=selector%d; h=from:to:subject:date:message-id; bh=%s=; b=%s",
			pick(r, domains[:4]), r.intn(3), g.b64ish(43), g.b64ish(344))})
	}
	f = append(f, field{"From", sender.name + " <" + senderAddr + ">"})
	f = append(f, field{"To", to.name + " <" + toAddr + ">"})
	if r.pct(30) {
		c := pick(r, people[langEnglish])
		f = append(f, field{"Cc", c.name + " <" + c.local + "@" + pick(r, domains[:4]) + ">"})
	}
	depth := 0
	if r.pct(55) {
		depth = r.between(1, 4)
	}
	subject := englishSubject(r)
	if depth > 0 {
		subject = "Re: " + subject
	}
	f = append(f, field{"Subject", subject})
	f = append(f, field{"Date", date})
	f = append(f, field{"Message-ID", g.messageID()})
	if depth > 0 {
		refs := make([]string, depth)
		for i := range refs {
			refs[i] = g.messageID()
		}
		f = append(f, field{"In-Reply-To", refs[depth-1]})
		f = append(f, field{"References", strings.Join(refs, " ")})
	}
	f = append(f, field{"MIME-Version", "1.0"})

	block := g.textBlock(sender, to, depth)
	fancy := r.pct(25) // typographic punctuation, so UTF-8 and quoted-printable
	plain := block.plain()
	if fancy {
		plain = typographic(plain)
	}
	plainPart := g.heavyPart("plain", plain, fancy)
	if r.pct(45) {
		return entity{fields: append(f, plainPart.fields...), body: plainPart.body, desc: "text " + plainPart.desc}
	}
	html := "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>\n<body>\n" +
		block.html() + "</body>\n</html>\n"
	if fancy {
		html = typographic(html)
	}
	alt := g.multipart("alternative", "", []entity{plainPart, g.heavyPart("html", html, fancy || r.pct(60))})
	return entity{fields: append(f, alt.fields...), body: alt.body, desc: "text " + alt.desc}
}

// b64ish returns n characters of the base64 alphabet, like a signature value.
func (g *gen) b64ish(n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.intn(len(a))]
	}
	return string(b)
}

func typographic(s string) string {
	return strings.NewReplacer("'", "’", " - ", " — ", "...", "…").Replace(s)
}

// heavyPart wraps text (with "\n" line ends) as a text part, quoted-printable
// when asked or when it is not ASCII.
func (g *gen) heavyPart(sub, text string, qp bool) entity {
	text = strings.ReplaceAll(text, "\n", g.nl)
	cs := "us-ascii"
	if !isASCII([]byte(text)) || sub == "html" {
		cs = "utf-8"
	}
	fields := []field{{"Content-Type", "text/" + sub + "; charset=\"" + cs + "\""}}
	if qp || !isASCII([]byte(text)) {
		fields = append(fields, field{"Content-Transfer-Encoding", "quoted-printable"})
		return entity{fields: fields, body: qpEncode([]byte(text), g.nl, false), desc: sub + "/qp"}
	}
	fields = append(fields, field{"Content-Transfer-Encoding", "7bit"})
	return entity{fields: fields, body: []byte(text), desc: sub + "/7bit"}
}

var disclaimer = "This message and any attachments are confidential and intended solely for " +
	"the addressee. If you have received it in error, please notify the sender and delete it. " +
	"Any views expressed are those of the author and not necessarily those of the company."

func (g *gen) textBlock(from, to person, depth int) *textBlock {
	r := g.r
	first := func(p person) string { f, _, _ := strings.Cut(p.name, " "); return f }
	b := &textBlock{
		greeting: pick(r, []string{"Hi " + first(to) + ",", "Hello " + first(to) + ",", "Dear " + to.name + ",", "Hi all,", "Team,"}),
	}
	for range r.between(1, 6) {
		b.paras = append(b.paras, paragraph(r))
	}
	b.closing = []string{pick(r, []string{"Thanks,", "Best regards,", "Cheers,", "Kind regards,", "Best,"}), first(from)}
	if r.pct(60) {
		b.signature = []string{from.name, pick(r, []string{"Senior Analyst", "Project Manager", "Engineering Lead", "Account Director"}) +
			", Example Corp", fmt.Sprintf("+1 555 01%02d | www.example.com", r.intn(100))}
		if r.pct(25) {
			b.signature = append(b.signature, "", disclaimer)
		}
	}
	if depth > 0 {
		b.quoteHead = "On " + g.date() + ", " + to.name + " <" + to.local + "@example.org> wrote:"
		b.quoted = g.textBlock(to, from, depth-1)
	}
	return b
}

func (b *textBlock) plain() string {
	var s strings.Builder
	s.WriteString(b.greeting + "\n\n")
	for _, p := range b.paras {
		for _, l := range wrap(p, 72) {
			s.WriteString(l + "\n")
		}
		s.WriteString("\n")
	}
	for _, l := range b.closing {
		s.WriteString(l + "\n")
	}
	if b.signature != nil {
		s.WriteString("\n-- \n") // RFC 3676 4.3 signature separator
		for _, l := range b.signature {
			for _, w := range wrap(l, 72) {
				s.WriteString(w + "\n")
			}
		}
	}
	if b.quoted != nil {
		s.WriteString("\n" + b.quoteHead + "\n")
		for _, l := range strings.Split(strings.TrimSuffix(b.quoted.plain(), "\n"), "\n") {
			switch {
			case l == "":
				s.WriteString(">\n")
			case strings.HasPrefix(l, ">"):
				s.WriteString(">" + l + "\n")
			default:
				s.WriteString("> " + l + "\n")
			}
		}
	}
	return s.String()
}

func (b *textBlock) html() string {
	var s strings.Builder
	s.WriteString("<div dir=\"ltr\">\n<p>" + htmlEscape(b.greeting) + "</p>\n")
	for _, p := range b.paras {
		// Wrapped: a 7bit body must keep lines under 998 octets.
		s.WriteString("<p>" + strings.Join(wrap(htmlEscape(p), 76), "\n") + "</p>\n")
	}
	s.WriteString("<p>" + strings.Join(b.closing, "<br>\n") + "</p>\n")
	if b.signature != nil {
		s.WriteString("<div class=\"signature\" style=\"color:#666666;font-size:small\">")
		for _, l := range b.signature {
			s.WriteString(htmlEscape(l) + "<br>\n")
		}
		s.WriteString("</div>\n")
	}
	s.WriteString("</div>\n")
	if b.quoted != nil {
		s.WriteString("<div class=\"quote\">" + htmlEscape(b.quoteHead) + "<br>\n")
		s.WriteString("<blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">\n")
		s.WriteString(b.quoted.html())
		s.WriteString("</blockquote>\n</div>\n")
	}
	return s.String()
}
