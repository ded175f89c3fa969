package imap

import "strconv"

// capabilities lists what the session offers now: the authentication
// mechanisms and STARTTLS before login, everything else after.
func (s *session) capabilities() []string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"}
	if s.state == stateNotAuth {
		if s.conn.CanStartTLS() {
			caps = append(caps, "STARTTLS")
		}
		if s.loginAllowed() {
			caps = append(caps, "AUTH=PLAIN", "AUTH=LOGIN")
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
		return caps
	}
	caps = append(caps,
		"NAMESPACE", "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN",
		"SPECIAL-USE", "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS",
		"CONDSTORE", "QRESYNC", "ESEARCH", "SEARCHRES", "WITHIN",
		"UTF8=ACCEPT", "QUOTA", "QUOTA=RES-STORAGE",
		"APPENDLIMIT="+strconv.FormatInt(s.h.cfg.AppendLimit, 10), "MULTIAPPEND",
		"BINARY", "STATUS=SIZE", "OBJECTID")
	if s.inflater == nil {
		caps = append(caps, "COMPRESS=DEFLATE")
	}
	return caps
}

// loginAllowed reports whether credentials may be sent on this connection.
func (s *session) loginAllowed() bool {
	return s.h.cfg.AllowPlaintextLogin || s.conn.TLS() != nil
}

func (s *session) cmdCapability() status {
	s.w.Capability(s.capabilities()...)
	return ok("CAPABILITY completed")
}
