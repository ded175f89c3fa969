package imap

import (
	imap "github.com/eidermail/eider/codec/imap"
)

// cmdEnable turns on IMAP4rev2, CONDSTORE, QRESYNC and UTF8=ACCEPT (RFC
// 5161); unknown names are ignored, as the RFC requires.
func (s *session) cmdEnable(a *imap.EnableCommand) status {
	var newly []string
	for _, c := range a.Capabilities {
		var x extension
		switch c {
		case "IMAP4REV2":
			x, c = extRev2, "IMAP4rev2"
		case "CONDSTORE":
			x = extCondStore
		case "QRESYNC":
			x = extQResync | extCondStore
		case "UTF8=ACCEPT":
			x = extUTF8
		default:
			continue
		}
		if s.ext&x == x {
			continue
		}
		s.ext |= x
		newly = append(newly, c)
	}
	if s.ext&(extUTF8|extRev2) != 0 {
		// RFC 9051 and RFC 6855: mailbox names and strings are UTF-8 from now on.
		s.p.SetUTF8(true)
		s.w.SetUTF8(true)
	}
	s.w.Enabled(newly...)
	return ok("ENABLE completed")
}
