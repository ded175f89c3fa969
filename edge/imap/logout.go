package imap

import imap "github.com/eidermail/eider/codec/imap"

// cmdLogout says BYE, answers and closes the connection after the output
// is flushed.
func (s *session) cmdLogout(tag string) status {
	s.w.Bye("", "logging out")
	s.byeSent = true
	s.w.OK(tag, "", "LOGOUT completed")
	s.answered(tag, imap.OK)
	s.out.flush()
	s.state = stateLogout
	s.stop = true
	_ = s.conn.Close()
	return deferred
}
