package pop3

import (
	"errors"
	"fmt"
)

// Kinds of command errors; a *CommandError unwraps to one of them.
var (
	// ErrLineTooLong: the line passed the configured limit. The parser has
	// skipped to the next line end.
	ErrLineTooLong = errors.New("pop3: line too long")
	// ErrUnknownCommand: the keyword is not a POP3 command.
	ErrUnknownCommand = errors.New("pop3: unknown command")
	// ErrSyntax: wrong number or shape of arguments, or an empty line.
	ErrSyntax = errors.New("pop3: syntax error")
	// ErrBadNumber: a message number or line count is not a number in range.
	ErrBadNumber = errors.New("pop3: bad number")
	// ErrBadBase64: an AUTH initial response or SASL response is not base64.
	ErrBadBase64 = errors.New("pop3: bad base64")
	// ErrNoSASLExchange: ExpectSASL was called when the last command was not AUTH.
	ErrNoSASLExchange = errors.New("pop3: no SASL exchange in progress")
)

// CommandError is a line the parser could not accept. The line has been
// consumed; the caller answers with Reply and keeps reading. After an error
// on a SASL response line the exchange is over: answer and forget it.
type CommandError struct {
	// Verb is the command's keyword when it was recognised, "" otherwise.
	Verb Verb
	// Text is the human-readable part of the -ERR reply.
	Text string
	// Err is the kind of error: ErrSyntax, ErrBadNumber, ...
	Err error
}

func (e *CommandError) Error() string {
	if e.Verb != "" {
		return fmt.Sprintf("%v: %s: %s", e.Err, e.Verb, e.Text)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Text)
}

func (e *CommandError) Unwrap() error { return e.Err }

// AppendReply appends the -ERR reply for the error.
func (e *CommandError) AppendReply(dst []byte) []byte { return AppendErr(dst, "", e.Text) }

func cmdErr(verb Verb, kind error, text string) *CommandError {
	return &CommandError{Verb: verb, Err: kind, Text: text}
}
