package testcorpus

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// The torture cases are written as templates with "\n" line ends; crlf
// turns them into the CRLF form that mail has on the wire. Cases about line
// endings build their bytes directly.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// std returns ordinary top-level fields, a distinct Message-ID per case.
func std(slug string) string {
	return "From: Torture Sender <sender@example.com>\n" +
		"To: Eider Test <test@example.org>\n" +
		"Subject: torture " + slug + "\n" +
		"Date: Tue, 05 Mar 2024 10:15:00 +0100\n" +
		"Message-ID: <" + slug + "@torture.example.com>\n"
}

// stdMIME is std plus MIME-Version.
func stdMIME(slug string) string { return std(slug) + "MIME-Version: 1.0\n" }

// mp renders a multipart body: each part (its header, an empty line, its
// body) between delimiter lines, then the close delimiter.
func mp(boundary string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\n" + p + "\n")
	}
	b.WriteString("--" + boundary + "--\n")
	return b.String()
}

// textPart is a text/plain part with the given body.
func textPart(body string) string {
	return "Content-Type: text/plain; charset=us-ascii\n\n" + body + "\n"
}

// innerMessage is a small message for message/rfc822 parts.
func innerMessage(slug, body string) string {
	return "From: Inner Sender <inner@example.net>\n" +
		"To: Torture Sender <sender@example.com>\n" +
		"Subject: inner " + slug + "\n" +
		"Date: Mon, 04 Mar 2024 09:00:00 -0500\n" +
		"Message-ID: <" + slug + "@inner.example.net>\n" +
		"\n" + body + "\n"
}

// pseudoRandom returns n deterministic bytes for attachment bodies.
func pseudoRandom(stream uint64, n int) []byte {
	b := make([]byte, n)
	newRNG(0, stream).fill(b)
	return b
}

func b64(data []byte) string { return string(b64Lines(data, 76, "\n")) }

// uuencode encodes data the way the uuencode utility does: lines of up to
// 45 bytes, each prefixed by its length character.
func uuencode(name string, data []byte) string {
	enc := func(v byte) byte {
		if v == 0 {
			return '`'
		}
		return 32 + v
	}
	var b strings.Builder
	b.WriteString("begin 644 " + name + "\n")
	for len(data) > 0 {
		n := min(len(data), 45)
		line := make([]byte, (n+2)/3*3)
		copy(line, data[:n])
		data = data[n:]
		b.WriteByte(enc(byte(n)))
		for i := 0; i < len(line); i += 3 {
			c0, c1, c2 := line[i], line[i+1], line[i+2]
			b.WriteByte(enc(c0 >> 2))
			b.WriteByte(enc((c0&3)<<4 | c1>>4))
			b.WriteByte(enc((c1&15)<<2 | c2>>6))
			b.WriteByte(enc(c2 & 63))
		}
		b.WriteByte('\n')
	}
	b.WriteString("`\nend\n")
	return b.String()
}

// Torture returns the hand-written torture cases: real-world oddities and
// deliberately broken messages. Each call returns fresh slices.
func Torture() []Message {
	var out []Message
	add := func(slug, note string, data []byte) {
		out = append(out, Message{Name: "torture/" + slug, Data: data, Note: note})
	}
	pdf := pseudoRandom(1, 3000)
	copy(pdf, "%PDF-1.4\n")
	png := pseudoRandom(2, 700)
	copy(png, "\x89PNG\r\n\x1a\n")

	// --- Ordinary shapes, as a baseline ---

	add("plain-minimal", "valid: the simplest message, no MIME-Version, no Content-Type",
		crlf(std("plain-minimal")+"\nHello Bob,\n\nThis is the simplest message there is.\n\nAlice\n"))

	add("alternative-plain-html", "valid: multipart/alternative with text/plain and quoted-printable text/html",
		crlf(stdMIME("alternative-plain-html")+"Content-Type: multipart/alternative; boundary=\"alt-7d1c\"\n\n"+
			mp("alt-7d1c",
				"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\nHello in plain text.\n",
				"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"+
					"<html><body><p style=3D\"color:#333\">Hello in <b>HTML</b>.</p></body></html>\n")))

	add("related-inline-image", "valid: multipart/related (RFC 2387), HTML referring to an image by Content-ID",
		crlf(stdMIME("related-inline-image")+"Content-Type: multipart/related; type=\"text/html\"; boundary=\"rel-01\"\n\n"+
			mp("rel-01",
				"Content-Type: text/html; charset=us-ascii\n\n<html><body><img src=\"cid:logo@example.com\"></body></html>\n",
				"Content-Type: image/png\nContent-ID: <logo@example.com>\nContent-Disposition: inline; filename=\"logo.png\"\n"+
					"Content-Transfer-Encoding: base64\n\n"+b64(png))))

	// --- Structure ---

	{
		// Six multiparts inside each other, every kind of container.
		kinds := []string{"mixed", "alternative", "related", "mixed", "alternative", "mixed"}
		body := textPart("Six levels down.")
		for i := len(kinds) - 1; i >= 0; i-- {
			b := fmt.Sprintf("deep-%d", i)
			body = "Content-Type: multipart/" + kinds[i] + "; boundary=\"" + b + "\"\n\n" +
				mp(b, body, textPart(fmt.Sprintf("Sibling at level %d.", i)))
		}
		add("nested-6-deep", "valid: multiparts nested six deep, each with a sibling text part",
			crlf(stdMIME("nested-6-deep")+body))
	}

	{
		innermost := innerMessage("innermost", "The innermost message.")
		middle := "From: Bob <bob@example.org>\nTo: Alice <alice@example.com>\nSubject: Fwd: innermost\n" +
			"Date: Mon, 04 Mar 2024 10:00:00 +0000\nMessage-ID: <middle@example.org>\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/mixed; boundary=\"middle-b\"\n\n" +
			mp("middle-b", textPart("Forwarding the message below."), "Content-Type: message/rfc822\n\n"+innermost)
		add("rfc822-mixed-rfc822", "valid: multipart/mixed holding message/rfc822 holding multipart/mixed holding message/rfc822",
			crlf(stdMIME("rfc822-mixed-rfc822")+"Content-Type: multipart/mixed; boundary=\"outer-b\"\n\n"+
				mp("outer-b", textPart("See the attached forward."),
					"Content-Type: message/rfc822\nContent-Disposition: attachment; filename=\"fwd.eml\"\n\n"+middle)))
		add("top-level-rfc822", "valid: the whole body is message/rfc822 (a bounced or wrapped message)",
			crlf(stdMIME("top-level-rfc822")+"Content-Type: message/rfc822\n\n"+middle))
	}

	add("digest-default-rfc822", "valid: multipart/digest; three parts rely on the message/rfc822 default, one says so, one is text/plain",
		crlf(stdMIME("digest-default-rfc822")+"Content-Type: multipart/digest; boundary=\"digest-b\"\n\n"+
			"Digest of the eider-users list, issue 42.\n"+
			mp("digest-b",
				"\n"+innerMessage("digest-1", "First message of the digest."),
				"\n"+innerMessage("digest-2", "Second message of the digest."),
				"Content-Type: message/rfc822\n\n"+innerMessage("digest-3", "Third message, typed explicitly."),
				"\n"+innerMessage("digest-4", "Fourth message."),
				"Content-Type: text/plain\n\nEnd of digest.\n")))

	{
		var b strings.Builder
		b.WriteString(stdMIME("nested-100-levels"))
		for i := range 100 {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"level-%03d\"\n\n--level-%03d\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\n\nThe innermost part, 100 multiparts down.\n")
		for i := 99; i >= 0; i-- {
			fmt.Fprintf(&b, "\n--level-%03d--\n", i)
		}
		add("nested-100-levels", "edge: 100 nested multipart/mixed levels, one part each; a parser should cap depth without losing bytes",
			crlf(b.String()))
	}

	{
		parts := make([]string, 1000)
		for i := range parts {
			parts[i] = textPart(fmt.Sprintf("Part %d of 1000.", i+1))
		}
		add("many-parts-1000", "valid: one multipart/mixed with 1000 small parts",
			crlf(stdMIME("many-parts-1000")+"Content-Type: multipart/mixed; boundary=\"many\"\n\n"+mp("many", parts...)))
	}

	// --- Boundaries and delimiters ---

	add("boundary-never-used", "invalid: multipart/mixed whose boundary never appears; the body is plain text",
		crlf(stdMIME("boundary-never-used")+"Content-Type: multipart/mixed; boundary=\"unused-boundary\"\n\n"+
			"This body has no delimiter lines at all.\n--other-boundary\nNot the declared boundary either.\n"))

	add("truncated-no-close-delimiter", "invalid: the message is cut inside a base64 attachment; no close delimiter",
		crlf(stdMIME("truncated-no-close-delimiter")+"Content-Type: multipart/mixed; boundary=\"trunc\"\n\n"+
			"--trunc\n"+textPart("The attachment below is cut off.")+"\n--trunc\n"+
			"Content-Type: application/pdf; name=\"cut.pdf\"\nContent-Transfer-Encoding: base64\n\n"+
			b64(pdf)[:1500]))

	{
		var ep strings.Builder
		ep.WriteString("Epilogue starts here; everything below is outside every part.\n")
		for i := 0; ep.Len() < 64<<10; i++ {
			switch i % 7 {
			case 3:
				ep.WriteString("--epi\n") // looks like a delimiter, but the multipart has ended
			case 6:
				ep.WriteString("--epi--\n")
			default:
				fmt.Fprintf(&ep, "Epilogue line %d, which a reader must keep but not show.\n", i)
			}
		}
		add("long-epilogue", "edge: 64 KB epilogue after the close delimiter, containing lines that look like delimiters",
			crlf(stdMIME("long-epilogue")+"Content-Type: multipart/mixed; boundary=\"epi\"\n\n"+
				mp("epi", textPart("The only part."))+ep.String()))
	}

	add("preamble", "valid: a multi-line preamble, including a line starting with \"--\"",
		crlf(stdMIME("preamble")+"Content-Type: multipart/mixed; boundary=\"pre\"\n\n"+
			"This is a multi-part message in MIME format.\nIf you can read this, your mail client is too old.\n"+
			"--\nA dash line that is not a delimiter.\n\n"+mp("pre", textPart("First part."), textPart("Second part."))))

	add("boundary-prefix-outer-b-inner-b1", "edge: outer boundary \"b\", nested boundary \"b1\": \"--b1\" is not a delimiter of the outer part",
		crlf(stdMIME("boundary-prefix-outer-b-inner-b1")+"Content-Type: multipart/mixed; boundary=b\n\n"+
			mp("b", textPart("Outer first."),
				"Content-Type: multipart/alternative; boundary=b1\n\n"+mp("b1", textPart("Inner one."), textPart("Inner two.")),
				textPart("Outer last."))))

	add("boundary-prefix-outer-b1-inner-b", "edge: outer boundary \"b1\", nested boundary \"b\"",
		crlf(stdMIME("boundary-prefix-outer-b1-inner-b")+"Content-Type: multipart/mixed; boundary=b1\n\n"+
			mp("b1", textPart("Outer first."),
				"Content-Type: multipart/alternative; boundary=b\n\n"+mp("b", textPart("Inner one."), textPart("Inner two.")))))

	add("delimiter-trailing-whitespace", "valid: spaces and tabs after delimiter lines (RFC 2046 transport padding)",
		crlf(stdMIME("delimiter-trailing-whitespace")+"Content-Type: multipart/mixed; boundary=\"pad\"\n\n"+
			"--pad  \t\n"+textPart("First.")+"\n--pad \n"+textPart("Second.")+"\n--pad--\t \n"))

	add("boundary-quoted-with-spaces", "valid: boundary parameter quoted and containing spaces",
		crlf(stdMIME("boundary-quoted-with-spaces")+"Content-Type: multipart/mixed; boundary=\"simple boundary with spaces\"\n\n"+
			mp("simple boundary with spaces", textPart("First."), textPart("Second."))))

	add("boundary-max-length-specials", "valid: 70-character boundary using every special character RFC 2046 allows",
		crlf(stdMIME("boundary-max-length-specials")+"Content-Type: multipart/mixed;\n boundary=\"'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU\"\n\n"+
			mp("'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU", textPart("Long boundary."))))

	add("boundary-unquoted-tspecials", "invalid: unquoted boundary containing \"=\", which must be quoted (common in the wild)",
		crlf(stdMIME("boundary-unquoted-tspecials")+"Content-Type: multipart/mixed; boundary==_NextPart_000_0012\n\n"+
			mp("=_NextPart_000_0012", textPart("Part."))))

	add("boundary-param-duplicated", "invalid: two boundary parameters; the body uses the second",
		crlf(stdMIME("boundary-param-duplicated")+"Content-Type: multipart/mixed; boundary=\"first\"; boundary=\"second\"\n\n"+
			mp("second", textPart("Delimited by the second boundary."))))

	add("multipart-without-boundary", "invalid: multipart/mixed with no boundary parameter",
		crlf(stdMIME("multipart-without-boundary")+"Content-Type: multipart/mixed\n\n"+mp("guess-me", textPart("Unreachable part."))))

	add("empty-body-part", "valid: a part with a header and an empty body, and a part with neither",
		crlf(stdMIME("empty-body-part")+"Content-Type: multipart/mixed; boundary=\"empty\"\n\n"+
			"--empty\nContent-Type: text/plain\n\n\n--empty\n\n\n--empty\n"+textPart("Last part.")+"\n--empty--\n"))

	add("first-delimiter-after-header", "valid: empty preamble, the first delimiter right after the header's empty line",
		crlf(stdMIME("first-delimiter-after-header")+"Content-Type: multipart/mixed; boundary=\"nopre\"\n\n"+
			"--nopre\n"+textPart("Right after the header.")+"\n--nopre--\n"))

	add("delimiter-in-header-block", "invalid: the first delimiter line follows the header fields without an empty line",
		crlf(stdMIME("delimiter-in-header-block")+"Content-Type: multipart/mixed; boundary=\"nohdrend\"\n"+
			"--nohdrend\n"+textPart("Part.")+"\n--nohdrend--\n"))

	add("part-without-blank-line", "invalid: a part's header runs straight into the next delimiter, with no empty line and no body",
		crlf(stdMIME("part-without-blank-line")+"Content-Type: multipart/mixed; boundary=\"noblank\"\n\n"+
			"--noblank\nContent-Type: text/plain\nContent-Disposition: inline\n--noblank\n"+textPart("Next part.")+"\n--noblank--\n"))

	add("part-without-content-type", "valid: parts with no Content-Type default to text/plain; charset=us-ascii",
		crlf(stdMIME("part-without-content-type")+"Content-Type: multipart/mixed; boundary=\"dflt\"\n\n"+
			mp("dflt", "\nNo header at all.\n", "Content-Disposition: inline\n\nOnly a disposition.\n")))

	add("multipart-zero-parts", "invalid: a multipart with only a close delimiter (RFC 2046 requires one part)",
		crlf(stdMIME("multipart-zero-parts")+"Content-Type: multipart/mixed; boundary=\"none\"\n\n--none--\n"))

	add("nested-same-boundary", "invalid: a nested multipart reuses its parent's boundary",
		crlf(stdMIME("nested-same-boundary")+"Content-Type: multipart/mixed; boundary=\"same\"\n\n"+
			"--same\nContent-Type: multipart/alternative; boundary=\"same\"\n\n--same\n"+textPart("Which level am I?")+
			"\n--same--\n\n--same\n"+textPart("After.")+"\n--same--\n"))

	add("close-delimiter-trailing-junk", "invalid: text after the close delimiter's dashes on the same line",
		crlf(stdMIME("close-delimiter-trailing-junk")+"Content-Type: multipart/mixed; boundary=\"junk\"\n\n"+
			"--junk\n"+textPart("Part.")+"\n--junk--this is junk\n"))

	add("close-delimiter-at-eof", "valid: the close delimiter is the last thing, with no line break after it",
		append(crlf(stdMIME("close-delimiter-at-eof")+"Content-Type: multipart/mixed; boundary=\"eof\"\n\n--eof\n"+
			textPart("Part.")+"\n"), "--eof--"...))

	add("delimiter-inside-line", "valid: the boundary string appears inside lines and after other text; none are delimiters",
		crlf(stdMIME("delimiter-inside-line")+"Content-Type: multipart/mixed; boundary=\"inl\"\n\n"+
			mp("inl", textPart("This line mentions --inl in the middle.\nx--inl\n ---inl\n--inline is longer than the boundary."))))

	add("multipart-with-base64-cte", "invalid: Content-Transfer-Encoding: base64 on a multipart (RFC 2045 6.4 forbids it)",
		crlf(stdMIME("multipart-with-base64-cte")+"Content-Type: multipart/mixed; boundary=\"enc\"\nContent-Transfer-Encoding: base64\n\n"+
			b64(crlf(mp("enc", textPart("Hidden inside base64."))))))

	// --- Line endings and control bytes ---

	add("bare-lf-multipart", "edge: bare LF line endings everywhere (the local form of Unix mailboxes; RFC 5322 wants CRLF)",
		[]byte(stdMIME("bare-lf-multipart")+"Content-Type: multipart/mixed; boundary=\"lf\"\n\n"+
			mp("lf", textPart("Only LF here."), "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"+b64(pdf[:600]))))

	add("mixed-crlf-lf", "invalid: CRLF and bare LF mixed, in the header, in bodies and on delimiter lines",
		[]byte("From: Torture Sender <sender@example.com>\r\nTo: Eider Test <test@example.org>\n"+
			"Subject: torture mixed-crlf-lf\r\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <mixed-crlf-lf@torture.example.com>\r\nMIME-Version: 1.0\n"+
			"Content-Type: multipart/mixed; boundary=\"mix\"\r\n\n"+
			"--mix\r\nContent-Type: text/plain\n\r\nline one CRLF\r\nline two LF\nline three CRLF\r\n"+
			"\n--mix\nContent-Type: text/plain\r\n\r\nsecond part\n\r\n--mix--\n"))

	add("lone-cr", "invalid: lone CR bytes inside lines, at line ends and in a header value",
		[]byte("From: Torture Sender <sender@example.com>\r\nTo: Eider Test <test@example.org>\r\n"+
			"Subject: torture lone\rcr\r\nDate: Tue, 05 Mar 2024 10:15:00 +0100\r\n"+
			"Message-ID: <lone-cr@torture.example.com>\r\n\r\n"+
			"A line with a lone\rCR inside.\r\nA line ending in CR only\rThe next line.\r\nCR at the end\r\r\n\r"))

	add("cr-only-line-endings", "invalid: every line ends with a bare CR, as classic Mac OS wrote files",
		[]byte(strings.ReplaceAll(stdMIME("cr-only-line-endings")+"Content-Type: text/plain\n\nOld Mac line endings.\nSecond line.\n", "\n", "\r")))

	{
		bin := pseudoRandom(3, 2048)
		for i := range bin {
			if i%5 == 0 {
				bin[i] = 0
			}
		}
		copy(bin[100:], "\r\n--not-nul\r\n\n\r\x00\x00\x00")
		head := crlf(stdMIME("nul-in-binary-part") + "Content-Type: multipart/mixed; boundary=\"nul-b\"\n\n" +
			"--nul-b\n" + textPart("A binary part follows.") + "\n--nul-b\n" +
			"Content-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n")
		data := append(head, bin...)
		data = append(data, "\r\n--nul-b--\r\n"...)
		add("nul-in-binary-part", "edge: Content-Transfer-Encoding: binary (RFC 3030) with NUL bytes, stray CR/LF and high bytes", data)
	}

	add("nul-in-text-and-header", "invalid: NUL bytes in a header value and in a text body",
		crlf(std("nul-in-text-and-header")+"X-Null: before\x00after\n\nText with a NUL\x00byte.\n\x00\n"))

	add("utf8-bom", "invalid: the message starts with a UTF-8 byte order mark",
		append([]byte("\xef\xbb\xbf"), crlf(std("utf8-bom")+"\nA BOM before the first header.\n")...))

	add("mbox-from-line", "invalid: an mbox \"From \" separator line before the header",
		crlf("From sender@example.com Tue Mar  5 10:15:00 2024\n"+std("mbox-from-line")+"\nBody.\n>From the start of a line.\n"))

	// --- Degenerate messages ---

	add("empty", "invalid: zero bytes", []byte{})

	add("only-blank-line", "invalid: a single CRLF: no fields, empty body", []byte("\r\n"))

	add("body-without-header-blank-first", "invalid: starts with an empty line, so the header is empty and everything is body",
		crlf("\nJust a body, with no header fields at all.\nFrom: this is body text, not a field\n"))

	add("body-without-header-text", "invalid: plain text with no header; the first line is not a field",
		crlf("Just some text without any header.\nSecond line: it has a colon, but the first had none.\n"))

	add("header-only-no-blank-line", "valid: header fields and no body, without the empty line (RFC 5322 3.5 allows it)",
		crlf(std("header-only-no-blank-line")))

	add("header-only-no-final-newline", "invalid: header only, the last field has no line break",
		[]byte(strings.TrimSuffix(string(crlf(std("header-only-no-final-newline"))), "\r\n")))

	add("no-final-newline", "valid: the body's last line has no line break",
		[]byte(strings.TrimSuffix(string(crlf(std("no-final-newline")+"\nLast line without CRLF\n")), "\r\n")))

	add("whitespace-only-separator", "invalid: the header ends at a line of spaces instead of an empty line",
		crlf(std("whitespace-only-separator")+"   \nBody after a whitespace line.\n"))

	add("leading-whitespace-first-line", "invalid: the first line is a continuation line with nothing to continue",
		crlf(" X-Orphan: continuation\n"+std("leading-whitespace-first-line")+"\nBody.\n"))

	// --- Header fields ---

	{
		long := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
		add("header-line-1mb", "invalid: a single unfolded header line of 1 MiB (RFC 5322 limit: 998)",
			crlf(std("header-line-1mb")+"X-Long: "+long+"\n\nShort body.\n"))
	}

	{
		var b strings.Builder
		b.WriteString(std("headers-10000"))
		for i := range 10000 {
			fmt.Fprintf(&b, "X-Trace-%d: hop %d\n", i, i)
		}
		add("headers-10000", "valid: 10000 header fields", crlf(b.String()+"\nBody.\n"))
	}

	{
		refs := make([]string, 500)
		for i := range refs {
			refs[i] = fmt.Sprintf("<thread-%03d.%d@lists.example.org>", i, i*7919)
		}
		add("references-500", "valid: References with 500 message IDs folded over 500 lines",
			crlf(std("references-500")+"In-Reply-To: "+refs[499]+"\nReferences: "+strings.Join(refs, "\n ")+"\n\nLong thread.\n"))
	}

	add("header-8bit-utf8", "edge: raw UTF-8 in Subject and From display name (valid only under RFC 6532)",
		crlf("From: Jürgen Groß <juergen@example.de>\nTo: Zoë <zoe@example.org>\nSubject: Grüße aus München – 東京 🎉\n"+
			"Date: Tue, 05 Mar 2024 10:15:00 +0100\nMessage-ID: <header-8bit-utf8@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nKörper in UTF-8.\n"))

	add("header-8bit-latin1", "invalid: raw ISO-8859-1 bytes (not UTF-8) in Subject and From",
		crlf(string(csLatin1.encode("From: Jürgen Groß <juergen@example.de>\nTo: Eider Test <test@example.org>\n"+
			"Subject: Grüße aus Köln, Bestätigung\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <header-8bit-latin1@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nSchöne Grüße.\n"))))

	add("folding-with-tabs", "valid: fields folded with tabs, including a Content-Type before its boundary",
		crlf("Received: from mail.example.net\n\tby mx.example.com\n\twith ESMTP id 123;\n\tTue, 05 Mar 2024 10:14:59 +0100\n"+
			"From: Torture Sender\n\t<sender@example.com>\nTo: Eider Test <test@example.org>\n"+
			"Subject: torture folding\n\twith tabs\n\t and a tab-space mix\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <folding-with-tabs@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: multipart/alternative;\n\tboundary=\"tabbed\"\n\n"+mp("tabbed", textPart("Folded."))))

	add("obsolete-space-before-colon", "edge: obsolete syntax, whitespace between field name and colon (RFC 5322 4.5)",
		crlf("From : Torture Sender <sender@example.com>\nTo\t: Eider Test <test@example.org>\nSubject  : torture obsolete\n"+
			"Date : Tue, 05 Mar 2024 10:15:00 +0100\nMessage-ID : <obsolete-space-before-colon@torture.example.com>\n"+
			"MIME-Version : 1.0\nContent-Type : text/plain; charset=us-ascii\n\nBody.\n"))

	add("header-without-colon", "invalid: a line with no colon in the middle of the header",
		crlf("From: Torture Sender <sender@example.com>\nThis line is not a header field\nTo: Eider Test <test@example.org>\n"+
			"Subject: torture header-without-colon\n\nBody.\n"))

	add("empty-header-values", "edge: fields with empty values, one with only a trailing space",
		crlf(std("empty-header-values")+"Cc:\nX-Empty: \nKeywords:\n\nBody.\n"))

	add("whitespace-only-continuation", "edge: a folded field with a continuation line of only whitespace (obsolete syntax)",
		crlf(std("whitespace-only-continuation")+"X-Folded: first\n \n \t\n last\n\nBody.\n"))

	add("encoded-word-edge-cases", "invalid: encoded words that are adjacent, mid-word, unterminated, in an unknown charset, empty, with a language tag",
		crlf("From: \"=?utf-8?Q?Quoted_=C3=A9ncoded?=\" <q@example.com>\nTo: =?UTF-8?b?w4lkaXRo?= <edith@example.org>\n"+
			"Subject: =?utf-8?Q?adjacent_?= =?utf-8?Q?words?= mid=?utf-8?Q?word?= =?utf-8?Q?unterminated "+
			"=?x-unknown?B?SGVsbG8=?= =?utf-8?B??= =?utf-8*en?Q?tagged?= =?iso-8859-1?q?caf=e9?=\n"+
			"Date: Tue, 05 Mar 2024 10:15:00 +0100\nMessage-ID: <encoded-word-edge-cases@torture.example.com>\n\nBody.\n"))

	add("koi8r-subject-and-body", "valid: KOI8-R body (8bit) with a KOI8-R encoded-word Subject",
		crlf("From: "+encodedWords(csKOI8R, "Ольга Петрова", false)+" <olga@example.ru>\nTo: Eider Test <test@example.org>\n"+
			"Subject: "+encodedWords(csKOI8R, "Отчёт за март", true)+"\nDate: Tue, 05 Mar 2024 10:15:00 +0300\n"+
			"Message-ID: <koi8r-subject-and-body@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n"+
			string(csKOI8R.encode(strings.Join(samples[langRussian], "\n")))+"\n"))

	add("iso2022jp-subject-and-body", "valid: the classic Japanese mail: ISO-2022-JP body in 7bit and B-encoded Subject",
		crlf("From: "+encodedWords(csISO2022, "山田太郎", false)+" <yamada@example.jp>\nTo: Eider Test <test@example.org>\n"+
			"Subject: "+encodedWords(csISO2022, "会議資料の送付", false)+"\nDate: Tue, 05 Mar 2024 18:15:00 +0900\n"+
			"Message-ID: <iso2022jp-subject-and-body@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n"+
			string(csISO2022.encode(strings.Join(samples[langJapanese], "\n")))+"\n"))

	{
		euckr := charset{"euc-kr", korean.EUCKR, langAny, false}
		gbk := charset{"gbk", simplifiedchinese.GBK, langAny, false}
		cp1251 := charset{"windows-1251", charmap.Windows1251, langRussian, false}
		add("charsets-in-bodies", "valid: one part per non-UTF-8 charset, each in real bytes of that charset",
			crlf(stdMIME("charsets-in-bodies")+"Content-Type: multipart/mixed; boundary=\"cs\"\n\n"+
				mp("cs",
					"Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n"+string(csKOI8R.encode(samples[langRussian][0]))+"\n",
					"Content-Type: text/plain; charset=windows-1251\nContent-Transfer-Encoding: 8bit\n\n"+string(cp1251.encode(samples[langRussian][1]))+"\n",
					"Content-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: 8bit\n\n"+string(csShiftJIS.encode(samples[langJapanese][1]))+"\n",
					"Content-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: base64\n\n"+b64(csShiftJIS.encode(samples[langJapanese][4])),
					"Content-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 7bit\n\n"+string(csISO2022.encode(samples[langJapanese][2]))+"\n",
					"Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n"+string(qpEncode(csWin1252.encode(samples[langWestern1252][0]), "\n", false))+"\n",
					"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"+string(csLatin1.encode(samples[langWestern][4]))+"\n",
					"Content-Type: text/plain; charset=euc-kr\nContent-Transfer-Encoding: 8bit\n\n"+string(euckr.encode("안녕하세요. 회의 자료를 보내드립니다."))+"\n",
					"Content-Type: text/plain; charset=gbk\nContent-Transfer-Encoding: 8bit\n\n"+string(gbk.encode("请查收附件中的季度报告。"))+"\n",
				)))
	}

	add("unknown-charset", "edge: an unknown charset name and an empty charset parameter",
		crlf(stdMIME("unknown-charset")+"Content-Type: multipart/mixed; boundary=\"uc\"\n\n"+
			mp("uc", "Content-Type: text/plain; charset=x-unknown-2000\nContent-Transfer-Encoding: 8bit\n\nBytes \xa4\xa5\xa6.\n",
				"Content-Type: text/plain; charset=\"\"\n\nEmpty charset.\n")))

	add("html-meta-charset-mismatch", "edge: the header says iso-8859-1, the HTML meta says utf-8, the bytes are UTF-8",
		crlf(stdMIME("html-meta-charset-mismatch")+"Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"+
			"<html><head><meta charset=\"utf-8\"></head><body>Grüße – naïve</body></html>\n"))

	add("8bit-declared-7bit", "invalid: bytes above 0x7f in a part declared 7bit",
		crlf(stdMIME("8bit-declared-7bit")+"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\nCafé déjà vu.\n"))

	// --- Addresses ---

	add("utf8-local-part", "edge: UTF-8 local parts and domains (RFC 6531/6532) in From, To and Cc",
		crlf("From: Δοκιμή <δοκιμή@παράδειγμα.example>\nTo: 用户@例子.example\nCc: \"José\" <josé@bücher.example>\n"+
			"Subject: torture utf8-local-part\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <utf8-local-part@torture.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nInternationalized addresses.\n"))

	add("idn-domains", "edge: the same IDN domain as punycode (valid) and as Unicode (RFC 6532 only)",
		crlf("From: Torture Sender <sender@xn--bcher-kva.example>\nTo: Bücher <info@bücher.example>, Punycode <info@xn--bcher-kva.example>\n"+
			"Subject: torture idn-domains\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <idn-domains@xn--bcher-kva.example>\n\nBody.\n"))

	// --- Content-Type and parameters ---

	add("rfc2231-continuations", "valid: RFC 2231 parameter continuations with charset and percent-encoding",
		crlf(stdMIME("rfc2231-continuations")+"Content-Type: multipart/mixed; boundary=\"r2231\"\n\n"+
			mp("r2231", textPart("Attachment with a long non-ASCII name."),
				"Content-Type: application/pdf;\n name*0*=utf-8''%E2%82%AC%20Jahres;\n name*1*=bericht%20f%C3%BCr;\n name*2=\" 2024.pdf\"\n"+
					"Content-Disposition: attachment;\n filename*0*=utf-8''%E2%82%AC%20Jahres;\n filename*1*=bericht%20f%C3%BCr;\n filename*2=\" 2024.pdf\"\n"+
					"Content-Transfer-Encoding: base64\n\n"+b64(pdf[:300]))))

	add("content-type-text-slash", "invalid: Content-Type \"text/\"",
		crlf(stdMIME("content-type-text-slash")+"Content-Type: text/\n\nBody.\n"))

	add("content-type-semicolons", "invalid: Content-Type \";;;\"",
		crlf(stdMIME("content-type-semicolons")+"Content-Type: ;;;\n\nBody.\n"))

	add("content-type-missing-subtype", "invalid: Content-Type \"text\" with no subtype",
		crlf(stdMIME("content-type-missing-subtype")+"Content-Type: text; charset=us-ascii\n\nBody.\n"))

	add("broken-content-types-in-parts", "invalid: parts with malformed Content-Type values",
		crlf(stdMIME("broken-content-types-in-parts")+"Content-Type: multipart/mixed; boundary=\"broken\"\n\n"+
			mp("broken",
				"Content-Type: image\n\nNo subtype.\n",
				"Content-Type: /plain\n\nNo type.\n",
				"Content-Type: text/plain; charset\n\nParameter without a value.\n",
				"Content-Type: text/plain; charset=\"unterminated\n\nUnterminated quote.\n",
				"Content-Type: application/octet-stream; name=a.bin; name=b.bin\n\nDuplicate parameter.\n",
				"Content-Type: text/plain; =value; charset=us-ascii\n\nParameter without a name.\n")))

	add("content-type-case-and-comments", "edge: mixed-case type and parameter name, comments, whitespace around \"=\"",
		crlf(stdMIME("content-type-case-and-comments")+"Content-Type: (comment) Multipart/MIXED (another) ; BOUNDARY = \"cc\" (end)\n\n"+
			mp("cc", "Content-Type: TEXT/Plain; CharSet=US-ASCII\n\nCase-insensitive.\n")))

	add("duplicate-content-type", "invalid: two Content-Type fields; the body matches the second",
		crlf(stdMIME("duplicate-content-type")+"Content-Type: text/plain\nContent-Type: multipart/mixed; boundary=\"dup\"\n\n"+
			mp("dup", textPart("Part."))))

	add("no-mime-version", "invalid: multipart without MIME-Version (common; most readers accept it)",
		crlf(std("no-mime-version")+"Content-Type: multipart/mixed; boundary=\"nomv\"\n\n"+mp("nomv", textPart("Part."))))

	add("rfc2047-in-quoted-filename", "invalid: RFC 2047 encoded words inside quoted parameters (RFC 2047 5 forbids it; Outlook and Gmail send it)",
		crlf(stdMIME("rfc2047-in-quoted-filename")+"Content-Type: multipart/mixed; boundary=\"ew\"\n\n"+
			mp("ew", textPart("See attachment."),
				"Content-Type: application/pdf; name=\"=?UTF-8?B?UsOpc3Vtw6kucGRm?=\"\n"+
					"Content-Disposition: attachment; filename=\"=?UTF-8?B?UsOpc3Vtw6kucGRm?=\"\n"+
					"Content-Transfer-Encoding: base64\n\n"+b64(pdf[:200]))))

	add("format-flowed-delsp", "valid: text/plain format=flowed; delsp=yes (RFC 3676), with quoted flowed lines",
		crlf(stdMIME("format-flowed-delsp")+"Content-Type: text/plain; charset=us-ascii; format=flowed; delsp=yes\n\n"+
			"This paragraph is flowed and breaks in the mid \ndle of a word with delsp. \nEnd.\n"+
			"> Quoted flowed text that \n> continues here.\n\n-- \nSignature\n"))

	// --- Transfer encodings ---

	{
		good := strings.TrimSuffix(b64(pdf[:570]), "\n")
		lines := strings.Split(good, "\n")
		bad := strings.Join(lines[:len(lines)-1], "\n") + "\nQUJDR\n"
		add("base64-bad-final-line", "invalid: base64 whose last line is 5 characters, not a multiple of 4",
			crlf(stdMIME("base64-bad-final-line")+"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"+bad))

		var ws strings.Builder
		for i, l := range lines {
			ws.WriteString(l + []string{" ", "\t", "  \t", ""}[i%4] + "\n")
		}
		add("base64-trailing-whitespace", "edge: base64 lines ending in spaces and tabs, which decoders must skip",
			crlf(stdMIME("base64-trailing-whitespace")+"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"+ws.String()))
	}

	add("base64-noncanonical-padding", "edge: base64 whose padding bits are not zero (\"QUJ=\" for \"AB\", \"QR==\" for \"A\"); strict decoders reject it",
		crlf(stdMIME("base64-noncanonical-padding")+"Content-Type: multipart/mixed; boundary=\"pad\"\n\n"+
			mp("pad", "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nQUJDQUJ=\n",
				"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nQR==\n")))

	add("base64-no-padding", "invalid: base64 without its final \"=\" padding",
		crlf(stdMIME("base64-no-padding")+"Content-Type: multipart/mixed; boundary=\"nopad\"\n\n"+
			mp("nopad", "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nSGVsbG8sIHdvcmxkIQ\n",
				"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nQUI\n")))

	add("base64-padding-mid-stream", "invalid: concatenated base64 chunks, each padded (\"QUI=QUJD\")",
		crlf(stdMIME("base64-padding-mid-stream")+"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nQUI=QUJD\nQQ==\nQUJD\n"))

	add("base64-garbage-and-long-lines", "edge: base64 with characters outside the alphabet and a 200-character line",
		crlf(stdMIME("base64-garbage-and-long-lines")+"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"+
			"QUJD*REVG!R0hJ\n"+strings.Repeat("QUJD", 50)+"\nSktM\n"))

	add("qp-soft-breaks-lowercase", "edge: quoted-printable with soft breaks (one followed by spaces) and lowercase hex digits",
		crlf(stdMIME("qp-soft-breaks-lowercase")+"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"+
			"Caf=c3=a9 cr=C3=A8me br=c3=bbl=c3=a9e, a line long enough to need a soft line=\n"+
			" break, and another soft break with trailing blanks=  \n"+
			"continuing here. Trailing space encoded=20\nTab=09and equals =3d sign.\n"))

	add("qp-invalid-escapes", "invalid: quoted-printable with \"=ZZ\", a truncated \"=4\", a bare \"=\" and a line over 76 characters",
		crlf(stdMIME("qp-invalid-escapes")+"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n"+
			"Bad escape =ZZ here.\nTruncated =4\nBare = sign in the middle.\n"+strings.Repeat("x", 120)+"\nEnds with =\n"))

	add("unknown-cte", "invalid: unknown transfer encodings \"x-foo\" and \"8-bit\"",
		crlf(stdMIME("unknown-cte")+"Content-Type: multipart/mixed; boundary=\"cte\"\n\n"+
			mp("cte", "Content-Type: text/plain\nContent-Transfer-Encoding: x-foo\n\nEncoded somehow.\n",
				"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8-bit\n\nÜbel.\n")))

	add("uuencode-attachment", "edge: an x-uuencode part and a uuencoded block inside a plain text body",
		crlf(stdMIME("uuencode-attachment")+"Content-Type: multipart/mixed; boundary=\"uu\"\n\n"+
			mp("uu", "Content-Type: application/octet-stream; name=\"data.bin\"\nContent-Transfer-Encoding: x-uuencode\n\n"+
				uuencode("data.bin", pdf[:200]),
				textPart("Old style:\n\n"+uuencode("notes.txt", []byte("Uuencoded text inside a body.\n"))))))

	{
		long := strings.Repeat("All work and no line breaks makes a very long line. ", 4000)[:200<<10]
		add("long-line-200kb", "invalid: a text body that is one 200 KiB line with no line break (RFC 5322 limit: 998)",
			append(crlf(stdMIME("long-line-200kb")+"Content-Type: text/plain; charset=us-ascii\n\n"), long...))
	}

	add("rfc822-base64", "invalid: message/rfc822 with Content-Transfer-Encoding: base64 (RFC 2046 5.2.1 allows only 7bit, 8bit, binary)",
		crlf(stdMIME("rfc822-base64")+"Content-Type: multipart/mixed; boundary=\"r64\"\n\n"+
			mp("r64", textPart("Forwarded message attached."),
				"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"+
					b64(crlf(innerMessage("rfc822-base64", "Hidden in base64."))))))

	add("truncated-rfc822", "invalid: a message/rfc822 part whose message stops in the middle of a header field",
		crlf(stdMIME("truncated-rfc822")+"Content-Type: multipart/mixed; boundary=\"tr\"\n\n"+
			mp("tr", textPart("Forward below."), "Content-Type: message/rfc822\n\nFrom: Inner <inner@example.net>\nSubject: cut he")))

	add("message-global", "valid: message/global (RFC 6532), 8bit, with UTF-8 header fields",
		crlf(stdMIME("message-global")+"Content-Type: multipart/mixed; boundary=\"glob\"\n\n"+
			mp("glob", textPart("An internationalized message is attached."),
				"Content-Type: message/global\nContent-Transfer-Encoding: 8bit\n\nFrom: Zoë <zoë@bücher.example>\nSubject: Ünïcödé header\n"+
					"Date: Mon, 04 Mar 2024 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nGrüße.\n")))

	// --- Real-world containers where byte-exact storage matters ---

	add("multipart-signed-pgp", "valid: multipart/signed (RFC 3156); the signed part must come back byte for byte",
		crlf(stdMIME("multipart-signed-pgp")+"Content-Type: multipart/signed; micalg=pgp-sha256;\n"+
			" protocol=\"application/pgp-signature\"; boundary=\"sig\"\n\n"+
			mp("sig", "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\nSigned text. \nTrailing space above matters.\n",
				"Content-Type: application/pgp-signature; name=\"signature.asc\"\n\n-----BEGIN PGP SIGNATURE-----\n\n"+
					b64(pseudoRandom(4, 119))+"=Ab3x\n-----END PGP SIGNATURE-----\n")))

	add("smime-enveloped", "valid: S/MIME application/pkcs7-mime enveloped data in base64",
		crlf(stdMIME("smime-enveloped")+"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\n"+
			"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"smime.p7m\"\n\n"+b64(pseudoRandom(5, 1200))))

	add("delivery-status-report", "valid: multipart/report (RFC 6522) with message/delivery-status and text/rfc822-headers",
		crlf("From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\nTo: sender@example.com\n"+
			"Subject: Undelivered Mail Returned to Sender\nDate: Tue, 05 Mar 2024 10:15:00 +0100\n"+
			"Message-ID: <delivery-status-report@mx.example.com>\nMIME-Version: 1.0\n"+
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\n\n"+
			mp("dsn", textPart("Your message could not be delivered."),
				"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"+
					"Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n",
				"Content-Type: text/rfc822-headers\n\n"+strings.TrimSuffix(std("original"), "\n"))))

	add("calendar-invite", "valid: multipart/alternative with text/calendar; method=REQUEST",
		crlf(stdMIME("calendar-invite")+"Content-Type: multipart/alternative; boundary=\"cal\"\n\n"+
			mp("cal", textPart("You are invited."),
				"Content-Type: text/calendar; charset=utf-8; method=REQUEST\nContent-Transfer-Encoding: 7bit\n\n"+
					"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example//Calendar//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\n"+
					"UID:calendar-invite@example.com\nDTSTART:20240310T090000Z\nDTEND:20240310T100000Z\n"+
					"SUMMARY:Planning\nEND:VEVENT\nEND:VCALENDAR\n")))

	return out
}
