package engine

import (
	"slices"
	"strings"

	"github.com/eidermail/eider/codec/mime"
)

// EnvelopeAddress is an address in IMAP ENVELOPE form (RFC 9051 7.5.2): ""
// stands for NIL. A group start has Mailbox = group name and Host = ""; a group
// end has every field "".
type EnvelopeAddress struct {
	Name, Route, Mailbox, Host string
}

// missingHost is written for an address that has no domain, so that it is not
// read as a group marker (the convention of the UW and Dovecot servers).
const missingHost = ".MISSING-HOST-NAME."

// Envelope is the IMAP ENVELOPE of a message: header values as sent (encoded
// words are not decoded; the client does that).
type Envelope struct {
	Date, Subject                      string
	From, Sender, ReplyTo, To, Cc, Bcc []EnvelopeAddress
	InReplyTo, MessageID               string
}

// BuildEnvelope computes the ENVELOPE of a header block.
func BuildEnvelope(h mime.Header) *Envelope {
	e := &Envelope{
		Date:      h.Get("Date"),
		Subject:   h.Get("Subject"),
		From:      envelopeAddresses(h, "From"),
		Sender:    envelopeAddresses(h, "Sender"),
		ReplyTo:   envelopeAddresses(h, "Reply-To"),
		To:        envelopeAddresses(h, "To"),
		Cc:        envelopeAddresses(h, "Cc"),
		Bcc:       envelopeAddresses(h, "Bcc"),
		InReplyTo: h.Get("In-Reply-To"),
		MessageID: h.Get("Message-Id"),
	}
	// RFC 9051 7.5.2: absent or empty Sender and Reply-To take From's value.
	if len(e.Sender) == 0 {
		e.Sender = e.From
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = e.From
	}
	return e
}

func envelopeAddresses(h mime.Header, field string) []EnvelopeAddress {
	v := h.Get(field)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []EnvelopeAddress
	for _, a := range mime.ParseAddressList(v) {
		switch {
		case a.Group != "":
			out = append(out, EnvelopeAddress{Mailbox: a.Group})
		case a.GroupEnd:
			out = append(out, EnvelopeAddress{})
		case a.Mailbox == "" && a.Host == "":
			continue
		default:
			host := a.Host
			if host == "" {
				host = missingHost
			}
			out = append(out, EnvelopeAddress{Name: a.Name, Route: a.Route, Mailbox: a.Mailbox, Host: host})
		}
	}
	return out
}

// The stored form writes Sender and Reply-To as no addresses when they are
// From's (most mail has neither field): BuildEnvelope never leaves them
// empty unless From is, so no address there always means From's.
func (e *Envelope) encode(b *wbuf) {
	b.str(e.Date)
	b.str(e.Subject)
	for i, l := range [][]EnvelopeAddress{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		if (i == 1 || i == 2) && slices.Equal(l, e.From) {
			l = nil
		}
		b.uint(uint64(len(l)))
		for _, a := range l {
			b.str(a.Name)
			b.str(a.Route)
			b.str(a.Mailbox)
			b.str(a.Host)
		}
	}
	b.str(e.InReplyTo)
	b.str(e.MessageID)
}

func decodeEnvelope(r *rbuf) *Envelope {
	e := &Envelope{Date: r.str(), Subject: r.str()}
	for _, l := range []*[]EnvelopeAddress{&e.From, &e.Sender, &e.ReplyTo, &e.To, &e.Cc, &e.Bcc} {
		n := r.count(4)
		if n == 0 {
			continue
		}
		*l = make([]EnvelopeAddress, n)
		for i := range *l {
			(*l)[i] = EnvelopeAddress{Name: r.str(), Route: r.str(), Mailbox: r.str(), Host: r.str()}
		}
	}
	if len(e.Sender) == 0 {
		e.Sender = e.From
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = e.From
	}
	e.InReplyTo = r.str()
	e.MessageID = r.str()
	return e
}

// EncodeEnvelope returns the stored form of an envelope (MessageMeta.Envelope).
func EncodeEnvelope(e *Envelope) []byte {
	var b wbuf
	e.encode(&b)
	return b
}

// DecodeEnvelope reads MessageMeta.Envelope.
func DecodeEnvelope(p []byte) (*Envelope, error) {
	r := rbuf{b: p}
	e := decodeEnvelope(&r)
	return e, r.err
}
