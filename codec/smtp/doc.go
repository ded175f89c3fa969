// Package smtp is a sans-I/O codec for the SMTP command language as LMTP
// (RFC 2033) uses it: a push-fed command parser with a streaming DATA
// unstuffer and BDAT chunk reader, and a reply writer with enhanced status
// codes (RFC 3463, RFC 2034).
//
// The parser never reads a socket and never blocks. The caller feeds it the
// bytes that arrived and pulls events until it asks for more input:
//
//	p.Feed(buf)
//	for {
//		ev, err := p.Next()
//		if err != nil { // a bad command line: answer it, keep going
//			reply(err.(*smtp.CommandError).Reply)
//			continue
//		}
//		switch ev.Kind {
//		case smtp.EventNeedInput:
//			return
//		case smtp.EventCommand: // LHLO, MAIL, RCPT, DATA, BDAT, ...
//		case smtp.EventData: // message bytes, already unstuffed
//		case smtp.EventTooBig: // the message passed Config.MaxMessageSize
//		case smtp.EventDataEnd: // end of DATA or of a BDAT chunk
//		}
//	}
//
// A message is never held whole: DATA and BDAT bytes come out as slices of
// the fed buffer, one chunk at a time, without copying.
//
// The two ways a message arrives differ in who switches modes. DATA waits
// for the server's 354, so the parser switches to the message only when
// the caller calls BeginData; a refused DATA leaves it reading commands.
// A BDAT chunk follows its command at once (RFC 3030), so the parser reads
// it automatically and always hands it out, even when the session refuses
// the BDAT: the session answers at EventDataEnd. Only a BDAT with bad
// arguments is answered at once; its chunk is then skipped silently, or,
// when its size was unreadable, the error is Fatal.
//
// After answering STARTTLS, call Discard: bytes pipelined behind it must
// not be read as commands. Before handing work to another goroutine while
// input is still buffered, call Detach so that the fed buffer can be reused.
package smtp
