package imap

import (
	imap "github.com/eidermail/eider/codec/imap"
)

// startTLS answers STARTTLS: the OK is the last cleartext, every byte the
// client pipelined after the command is dropped (RFC 9051 6.2.1), and the
// handshake follows.
func (s *session) startTLS(tag string) status {
	if s.state != stateNotAuth {
		return bad("already authenticated")
	}
	if !s.conn.CanStartTLS() {
		return bad("STARTTLS is not available on this connection")
	}
	if err := s.out.flush(); err != nil {
		return deferred
	}
	reply := tag + " OK Begin TLS negotiation now\r\n"
	if err := s.conn.StartTLS([]byte(reply)); err != nil {
		return no(imap.CodeUnavailable, "TLS is not available")
	}
	s.p.Discard()
	s.answered(tag, imap.OK) // the OK went out with StartTLS
	return deferred
}
