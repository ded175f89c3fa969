package imap

import (
	"errors"
	"strings"
)

// Sentinel errors carried by *ParseError; match them with errors.Is.
var (
	ErrSyntax          = errors.New("syntax error")
	ErrBadChar         = errors.New("invalid character")
	ErrParens          = errors.New("unbalanced parentheses")
	ErrBadSeqSet       = errors.New("invalid sequence set")
	ErrUnknownCommand  = errors.New("unknown command")
	ErrLineTooLong     = errors.New("line too long")
	ErrCommandTooLarge = errors.New("command too large")
	ErrLiteralTooLarge = errors.New("literal too large")
	ErrNonSyncLiteral  = errors.New("non-synchronizing literal not allowed")
	ErrTooDeep         = errors.New("nesting too deep")
	ErrMailboxName     = errors.New("invalid mailbox name")
	ErrBase64          = errors.New("invalid base64")
	ErrExpectedDone    = errors.New("expected DONE")
)

// ParseError describes a command the parser could not accept. The parser has
// already arranged to skip the rest of that command, so the connection can go
// on after the caller answers: "Tag BAD [Code] Msg", or "* BAD" when Tag is
// empty because no tag could be read. When Fatal is set the caller answers
// and then closes the connection, since the parser cannot tell where the
// next command starts (RFC 7888 section 4 for LITERAL-).
type ParseError struct {
	Tag     string // command tag, "" when none could be parsed
	Command string // command name when it was recognised, e.g. "UID FETCH"
	Code    Code   // suggested response code, e.g. TOOBIG; "" when none
	Fatal   bool   // close the connection after answering
	Err     error  // one of the Err* sentinels
	Msg     string // detail, ASCII without CR/LF: safe to send as response text
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Command != "" {
		b.WriteString(e.Command)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ResponseText is the text to put after "BAD": the detail when there is one.
func (e *ParseError) ResponseText() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Err.Error()
}

// errIncomplete reports that a command prefix parsed cleanly up to the point
// where the data ends; it never leaves the package.
var errIncomplete = errors.New("incomplete command")

// safeText makes s fit for response text: printable ASCII only, bounded.
func safeText(s string) string {
	const max = 64
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(c)
	}
	if len(s) > max {
		b.WriteString("...")
	}
	return b.String()
}
