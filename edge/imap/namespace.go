package imap

import (
	imap "github.com/eidermail/eider/codec/imap"
)

// cmdNamespace: one personal namespace, no shared folders (RFC 2342).
func (s *session) cmdNamespace() status {
	s.w.Namespace([]imap.Namespace{{Prefix: "", Delim: '/'}}, nil, nil)
	return ok("NAMESPACE completed")
}
