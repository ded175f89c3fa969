package imap

import (
	imap "github.com/eidermail/eider/codec/imap"
)

// cmdID exchanges implementation details (RFC 2971); the client's are
// logged, which helps when a client misbehaves.
func (s *session) cmdID(a *imap.IDCommand) status {
	if len(a.Fields) > 0 {
		attrs := make([]any, 0, 2*min(len(a.Fields), 8))
		for i, f := range a.Fields {
			if i == 8 {
				break
			}
			attrs = append(attrs, "id."+safeLogKey(f.Name), f.Value)
		}
		s.log().Info("client ID", attrs...)
	}
	s.w.ID([]imap.IDField{
		{Name: "name", Value: "Eider"},
		{Name: "vendor", Value: "Eider"},
		{Name: "version", Value: s.h.cfg.Version},
	})
	return ok("ID completed")
}

// safeLogKey keeps a client-chosen ID field name short and printable.
func safeLogKey(k string) string {
	b := make([]byte, 0, min(len(k), 32))
	for i := 0; i < len(k) && len(b) < 32; i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	return string(b)
}
