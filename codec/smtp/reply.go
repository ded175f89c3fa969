package smtp

import (
	"io"
	"strconv"
)

// Reply is an SMTP reply: a three-digit code, an optional enhanced status
// code (RFC 3463) repeated on every line, and one or more text lines.
type Reply struct {
	Code     int
	Enhanced string // "2.1.0"; empty for the greeting and the LHLO reply
	Lines    []string
}

// AppendTo appends the reply in wire form ("250-...\r\n250 ...\r\n") to dst.
// CR, LF and other control octets in the text are replaced by spaces, so
// that text taken from a client can never forge an extra reply line.
func (r Reply) AppendTo(dst []byte) []byte {
	lines := r.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, line := range lines {
		dst = appendCode(dst, r.Code)
		if i < len(lines)-1 {
			dst = append(dst, '-')
		} else {
			dst = append(dst, ' ')
		}
		if r.Enhanced != "" {
			dst = append(dst, r.Enhanced...)
			if line != "" {
				dst = append(dst, ' ')
			}
		}
		for j := 0; j < len(line); j++ {
			c := line[j]
			if c < 32 || c == 127 {
				c = ' '
			}
			dst = append(dst, c)
		}
		dst = append(dst, '\r', '\n')
	}
	return dst
}

func appendCode(dst []byte, code int) []byte {
	if code < 100 || code > 999 {
		code = 500 // a reply code must be three digits; never emit garbage
	}
	return strconv.AppendInt(dst, int64(code), 10)
}

// WriteTo writes the reply to w in one Write call.
func (r Reply) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.AppendTo(nil))
	return int64(n), err
}

// String is the reply in wire form.
func (r Reply) String() string { return string(r.AppendTo(nil)) }

// Capabilities selects the extensions advertised in the LHLO reply.
type Capabilities struct {
	Pipelining          bool  // RFC 2920
	EightBitMIME        bool  // RFC 6152
	BinaryMIME          bool  // RFC 3030, needs Chunking
	SMTPUTF8            bool  // RFC 6531
	EnhancedStatusCodes bool  // RFC 2034
	Chunking            bool  // RFC 3030 BDAT
	StartTLS            bool  // RFC 3207; only before TLS is up
	MaxSize             int64 // RFC 1870: "SIZE n" when > 0
}

// LHLOReply is the multi-line 250 reply to LHLO: the server's host name,
// then one extension keyword per line. RFC 2034 exempts it from enhanced
// status codes.
func LHLOReply(host string, caps Capabilities) Reply {
	lines := []string{host}
	if caps.Pipelining {
		lines = append(lines, "PIPELINING")
	}
	if caps.EightBitMIME {
		lines = append(lines, "8BITMIME")
	}
	if caps.BinaryMIME && caps.Chunking {
		lines = append(lines, "BINARYMIME")
	}
	if caps.SMTPUTF8 {
		lines = append(lines, "SMTPUTF8")
	}
	if caps.EnhancedStatusCodes {
		lines = append(lines, "ENHANCEDSTATUSCODES")
	}
	if caps.MaxSize > 0 {
		lines = append(lines, "SIZE "+strconv.FormatInt(caps.MaxSize, 10))
	}
	if caps.Chunking {
		lines = append(lines, "CHUNKING")
	}
	if caps.StartTLS {
		lines = append(lines, "STARTTLS")
	}
	return Reply{Code: 250, Lines: lines}
}

func reply(code int, enhanced, text string) Reply {
	return Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}
}

// The standard replies of an LMTP server. Each returns a fresh Reply, so
// the caller may change its text.

// Greeting is the 220 banner sent on connect.
func Greeting(host string) Reply { return Reply{Code: 220, Lines: []string{host + " LMTP ready"}} }

// Closing is the 221 answer to QUIT.
func Closing(host string) Reply { return reply(221, "2.0.0", host+" closing connection") }

// OK is a plain 250 2.0.0 (RSET, NOOP, and a delivered recipient after DATA).
func OK(text string) Reply { return reply(250, "2.0.0", text) }

// SenderOK accepts MAIL.
func SenderOK() Reply { return reply(250, "2.1.0", "Sender OK") }

// RecipientOK accepts RCPT.
func RecipientOK() Reply { return reply(250, "2.1.5", "Recipient OK") }

// StartMailInput is the 354 go-ahead for DATA.
func StartMailInput() Reply {
	return Reply{Code: 354, Lines: []string{"End data with <CR><LF>.<CR><LF>"}}
}

// HelpReply answers HELP.
func HelpReply() Reply { return reply(214, "2.0.0", "See RFC 2033") }

// CannotVerify answers VRFY without disclosing whether a mailbox exists.
func CannotVerify() Reply {
	return reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery")
}

// ShuttingDown is 421 4.3.2, sent before closing the connection.
func ShuttingDown(host string) Reply {
	return reply(421, "4.3.2", host+" Service shutting down, closing transmission channel")
}

// MailboxFull reports a recipient over quota: code 450, 451 or 452 gives the
// temporary 4.2.2 form, 552 the permanent 5.2.2 form. Any other code is
// treated as 452.
func MailboxFull(code int) Reply {
	switch code {
	case 450, 451, 452:
		return reply(code, "4.2.2", "Mailbox full, try again later")
	case 552:
		return reply(552, "5.2.2", "Mailbox full")
	}
	return reply(452, "4.2.2", "Mailbox full, try again later")
}

// LocalError is 451 4.3.0: the store failed, the client should retry.
func LocalError() Reply { return reply(451, "4.3.0", "Local error in processing, try again later") }

// LineTooLong answers a command line over the limit.
func LineTooLong() Reply { return reply(500, "5.5.2", "Line too long") }

// SyntaxError is 500 5.5.2.
func SyntaxError(text string) Reply { return reply(500, "5.5.2", text) }

// UseLHLO answers EHLO or HELO: LMTP greets with LHLO (RFC 2033 4.1).
func UseLHLO() Reply { return reply(500, "5.5.1", "This is an LMTP server, use LHLO") }

// BadArguments is 501 5.5.4.
func BadArguments(text string) Reply { return reply(501, "5.5.4", text) }

// BadSequence is 503 5.5.1, for a command out of order (RCPT before MAIL, ...).
func BadSequence(text string) Reply { return reply(503, "5.5.1", text) }

// NoSuchUser rejects a recipient that has no mailbox here.
func NoSuchUser(address string) Reply {
	return reply(550, "5.1.1", "<"+address+"> User unknown")
}

// MessageTooBig is 552 5.3.4, for a message over the size limit.
func MessageTooBig() Reply { return reply(552, "5.3.4", "Message size exceeds fixed limit") }

// ContentRejected is 554 5.6.0, for a message the store cannot accept as
// sent (for example a DATA transfer ended by a bare LF when that is refused).
func ContentRejected(text string) Reply { return reply(554, "5.6.0", text) }
