package imap

import (
	"strings"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/engine"
)

// bodyStructure builds BODYSTRUCTURE of part idx of a stored skeleton.
func bodyStructure(st *engine.Structure, idx int) *imap.BodyStructure {
	p := &st.Parts[idx]
	b := &imap.BodyStructure{
		Params:            bodyParams(p.Params),
		MD5:               p.MD5,
		Disposition:       p.Disposition,
		DispositionParams: bodyParams(p.DispParams),
		Language:          p.Language,
		Location:          p.Location,
	}
	if p.Multipart {
		b.Type, b.Subtype = "MULTIPART", strings.ToUpper(p.Subtype)
		for _, c := range p.Children {
			b.Parts = append(b.Parts, bodyStructure(st, c))
		}
		return b
	}
	b.Type, b.Subtype = strings.ToUpper(p.Type), strings.ToUpper(p.Subtype)
	if b.Type == "" {
		b.Type, b.Subtype = "TEXT", "PLAIN"
	}
	b.ID = p.ContentID
	b.Description = p.Description
	b.Encoding = strings.ToUpper(p.Encoding)
	b.Size = uint32(min(p.BodyEnd-p.BodyStart, 1<<32-1))
	b.Lines = uint32(min(p.Lines, 1<<32-1))
	if p.Message && len(p.Children) == 1 {
		b.Envelope = envelope(p.Envelope)
		b.Message = bodyStructure(st, p.Children[0])
	}
	return b
}

func bodyParams(ps []mime.Param) []imap.BodyParam {
	if len(ps) == 0 {
		return nil
	}
	out := make([]imap.BodyParam, len(ps))
	for i, p := range ps {
		out[i] = imap.BodyParam{Name: strings.ToUpper(p.Name), Value: p.Value}
	}
	return out
}

// envelope converts a stored envelope to the writer's form.
func envelope(e *engine.Envelope) *imap.Envelope {
	if e == nil {
		return nil
	}
	return &imap.Envelope{
		Date: e.Date, Subject: e.Subject,
		From: addresses(e.From), Sender: addresses(e.Sender), ReplyTo: addresses(e.ReplyTo),
		To: addresses(e.To), Cc: addresses(e.Cc), Bcc: addresses(e.Bcc),
		InReplyTo: e.InReplyTo, MessageID: e.MessageID,
	}
}

func addresses(list []engine.EnvelopeAddress) []imap.Address {
	if len(list) == 0 {
		return nil
	}
	out := make([]imap.Address, len(list))
	for i, a := range list {
		out[i] = imap.Address{Name: a.Name, Route: a.Route, Mailbox: a.Mailbox, Host: a.Host}
	}
	return out
}
