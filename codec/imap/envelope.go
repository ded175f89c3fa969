package imap

import "strconv"

// Address is one address of an ENVELOPE (RFC 3501 section 7.4.2). Empty
// fields are written as NIL. An address with an empty Host marks RFC 5322
// group syntax: with a Mailbox it starts the group of that name, with no
// Mailbox it ends the group. A real address therefore needs a Host; the
// extractor supplies a placeholder for addresses without a domain.
type Address struct {
	Name    string // display name, as in the header (possibly RFC 2047 encoded)
	Route   string // source route (obsolete), usually empty
	Mailbox string // local part, or the group name
	Host    string // domain
}

// GroupStart returns the address that opens the group name.
func GroupStart(name string) Address { return Address{Mailbox: name} }

// GroupEnd returns the address that closes a group.
func GroupEnd() Address { return Address{} }

// IsGroupStart reports whether a opens a group.
func (a Address) IsGroupStart() bool { return a.Host == "" && a.Mailbox != "" }

// IsGroupEnd reports whether a closes a group.
func (a Address) IsGroupEnd() bool { return a.Host == "" && a.Mailbox == "" }

// Envelope is the ENVELOPE of a message: header fields as found in the
// message, strings verbatim. Sender and ReplyTo are written as From when
// empty, as RFC 3501 requires of the server.
type Envelope struct {
	Date      string // the Date header field's value
	Subject   string
	From      []Address
	Sender    []Address
	ReplyTo   []Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo string
	MessageID string
}

// BodyParam is one attribute/value pair of a body or disposition parameter
// list.
type BodyParam struct {
	Name, Value string
}

// BodyStructure describes one MIME part for BODY and BODYSTRUCTURE.
// Multipart parts have Parts and Subtype and use only Params, Disposition,
// Language and Location of the remaining fields.
type BodyStructure struct {
	Type, Subtype string // e.g. "TEXT", "PLAIN"; "MULTIPART", "MIXED"
	Params        []BodyParam
	ID            string // Content-ID
	Description   string // Content-Description
	Encoding      string // Content-Transfer-Encoding; "" is 7BIT
	Size          uint32 // octets of the encoded body
	Lines         uint32 // TEXT/* and MESSAGE/RFC822: lines of the encoded body
	// MESSAGE/RFC822 and MESSAGE/GLOBAL: the encapsulated message.
	Envelope *Envelope
	Message  *BodyStructure
	// MULTIPART/*: the parts, in order.
	Parts []*BodyStructure
	// Extension data, written only in BODYSTRUCTURE.
	MD5               string
	Disposition       string // e.g. "attachment"; "" writes NIL
	DispositionParams []BodyParam
	Language          []string
	Location          string
}

// IsMultipart reports whether the part is MULTIPART/*.
func (b *BodyStructure) IsMultipart() bool { return equalFoldASCII(b.Type, "MULTIPART") }

func (w *Writer) appendAddresses(b []byte, list []Address) []byte {
	if len(list) == 0 {
		return append(b, "NIL"...)
	}
	b = append(b, '(')
	for _, a := range list {
		b = append(b, '(')
		b = appendNString(b, a.Name, w.utf8)
		b = append(b, ' ')
		b = appendNString(b, a.Route, w.utf8)
		b = append(b, ' ')
		b = appendNString(b, a.Mailbox, w.utf8)
		b = append(b, ' ')
		b = appendNString(b, a.Host, w.utf8)
		b = append(b, ')')
	}
	return append(b, ')')
}

// appendEnvelope writes an envelope; nil writes one of all NILs.
func (w *Writer) appendEnvelope(b []byte, e *Envelope) []byte {
	if e == nil {
		e = &Envelope{}
	}
	sender, replyTo := e.Sender, e.ReplyTo
	if len(sender) == 0 {
		sender = e.From
	}
	if len(replyTo) == 0 {
		replyTo = e.From
	}
	b = append(b, '(')
	b = appendNString(b, e.Date, w.utf8)
	b = append(b, ' ')
	b = appendNString(b, e.Subject, w.utf8)
	for _, list := range [6][]Address{e.From, sender, replyTo, e.To, e.Cc, e.Bcc} {
		b = append(b, ' ')
		b = w.appendAddresses(b, list)
	}
	b = append(b, ' ')
	b = appendNString(b, e.InReplyTo, w.utf8)
	b = append(b, ' ')
	b = appendNString(b, e.MessageID, w.utf8)
	return append(b, ')')
}

func (w *Writer) appendParams(b []byte, params []BodyParam) []byte {
	if len(params) == 0 {
		return append(b, "NIL"...)
	}
	b = append(b, '(')
	for i, p := range params {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendString(b, p.Name, w.utf8)
		b = append(b, ' ')
		b = appendString(b, p.Value, w.utf8)
	}
	return append(b, ')')
}

// appendBodyExt writes body-fld-dsp SP body-fld-lang SP body-fld-loc.
func (w *Writer) appendBodyExt(b []byte, s *BodyStructure) []byte {
	if s.Disposition == "" {
		b = append(b, "NIL"...)
	} else {
		b = append(b, '(')
		b = appendString(b, s.Disposition, w.utf8)
		b = append(b, ' ')
		b = w.appendParams(b, s.DispositionParams)
		b = append(b, ')')
	}
	b = append(b, ' ')
	switch len(s.Language) {
	case 0:
		b = append(b, "NIL"...)
	case 1:
		b = appendString(b, s.Language[0], w.utf8)
	default:
		b = append(b, '(')
		for i, l := range s.Language {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendString(b, l, w.utf8)
		}
		b = append(b, ')')
	}
	b = append(b, ' ')
	return appendNString(b, s.Location, w.utf8)
}

// emptyTextPart stands in for a missing part (a multipart without parts,
// whose grammar requires at least one, or a message without a structure).
func emptyTextPart() *BodyStructure {
	return &BodyStructure{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "US-ASCII"}}}
}

// appendBody writes a body structure; ext selects BODYSTRUCTURE (with
// extension data) over BODY.
func (w *Writer) appendBody(b []byte, s *BodyStructure, ext bool) []byte {
	if s == nil {
		s = emptyTextPart()
	}
	b = append(b, '(')
	if s.IsMultipart() {
		if len(s.Parts) == 0 {
			b = w.appendBody(b, emptyTextPart(), ext)
		}
		for _, p := range s.Parts {
			b = w.appendBody(b, p, ext)
		}
		b = append(b, ' ')
		b = appendString(b, s.Subtype, w.utf8)
		if ext {
			b = append(b, ' ')
			b = w.appendParams(b, s.Params)
			b = append(b, ' ')
			b = w.appendBodyExt(b, s)
		}
		return append(b, ')')
	}
	b = appendString(b, s.Type, w.utf8)
	b = append(b, ' ')
	b = appendString(b, s.Subtype, w.utf8)
	b = append(b, ' ')
	b = w.appendParams(b, s.Params)
	b = append(b, ' ')
	b = appendNString(b, s.ID, w.utf8)
	b = append(b, ' ')
	b = appendNString(b, s.Description, w.utf8)
	b = append(b, ' ')
	enc := s.Encoding
	if enc == "" {
		enc = "7BIT"
	}
	b = appendString(b, enc, w.utf8)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(s.Size), 10)
	switch {
	case equalFoldASCII(s.Type, "MESSAGE") && (equalFoldASCII(s.Subtype, "RFC822") || equalFoldASCII(s.Subtype, "GLOBAL")):
		b = append(b, ' ')
		b = w.appendEnvelope(b, s.Envelope)
		b = append(b, ' ')
		b = w.appendBody(b, s.Message, ext)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(s.Lines), 10)
	case equalFoldASCII(s.Type, "TEXT"):
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(s.Lines), 10)
	}
	if ext {
		b = append(b, ' ')
		b = appendNString(b, s.MD5, w.utf8)
		b = append(b, ' ')
		b = w.appendBodyExt(b, s)
	}
	return append(b, ')')
}
