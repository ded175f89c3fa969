package smtp

import (
	"errors"
	"fmt"
)

// Kinds of command errors; a *CommandError unwraps to one of them.
var (
	// ErrLineTooLong: the command line passed Config.MaxLineLength. The
	// parser has skipped to the next line end.
	ErrLineTooLong = errors.New("smtp: command line too long")
	// ErrUnknownCommand: the verb is not an SMTP or LMTP command.
	ErrUnknownCommand = errors.New("smtp: unknown command")
	// ErrNotImplemented: a known SMTP verb this server does not offer (EXPN, AUTH, ...).
	ErrNotImplemented = errors.New("smtp: command not implemented")
	// ErrSyntax: the command's arguments do not follow the grammar.
	ErrSyntax = errors.New("smtp: syntax error")
	// ErrBadPath: the reverse-path or forward-path is malformed.
	ErrBadPath = errors.New("smtp: bad address syntax")
	// ErrBadParam: an ESMTP parameter is malformed, repeated or has a bad value.
	ErrBadParam = errors.New("smtp: bad parameter")
	// ErrUnsupportedParam: an ESMTP parameter this server does not advertise.
	ErrUnsupportedParam = errors.New("smtp: unsupported parameter")
	// ErrNotAfterData: BeginData was called when the last event was not a DATA command.
	ErrNotAfterData = errors.New("smtp: BeginData without a preceding DATA command")
)

// CommandError is a command line the parser could not accept. It carries the
// reply the server should send; the line has been consumed, so the caller
// answers and keeps reading.
type CommandError struct {
	// Verb is the command's verb when it was recognised, "" otherwise.
	Verb Verb
	// Reply is what the server should answer.
	Reply Reply
	// Fatal is set when the input cannot be resynchronised (a BDAT whose
	// chunk size could not be read, so its chunk cannot be skipped): answer,
	// then close the connection.
	Fatal bool
	// Err is the kind of error: ErrLineTooLong, ErrSyntax, ...
	Err error
}

func (e *CommandError) Error() string {
	text := ""
	if len(e.Reply.Lines) > 0 {
		text = e.Reply.Lines[0]
	}
	if e.Verb != "" {
		return fmt.Sprintf("%v: %s: %s", e.Err, e.Verb, text)
	}
	return fmt.Sprintf("%v: %s", e.Err, text)
}

func (e *CommandError) Unwrap() error { return e.Err }

func cmdErr(verb Verb, kind error, code int, enhanced, text string) *CommandError {
	return &CommandError{Verb: verb, Err: kind, Reply: Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}}
}
