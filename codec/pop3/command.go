package pop3

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
)

// Verb is a POP3 command keyword, upper case.
type Verb string

// The commands the parser knows.
const (
	VerbUSER Verb = "USER"
	VerbPASS Verb = "PASS"
	VerbAPOP Verb = "APOP"
	VerbAUTH Verb = "AUTH"
	VerbSTLS Verb = "STLS"
	VerbCAPA Verb = "CAPA"
	VerbSTAT Verb = "STAT"
	VerbLIST Verb = "LIST"
	VerbUIDL Verb = "UIDL"
	VerbRETR Verb = "RETR"
	VerbTOP  Verb = "TOP"
	VerbDELE Verb = "DELE"
	VerbRSET Verb = "RSET"
	VerbNOOP Verb = "NOOP"
	VerbQUIT Verb = "QUIT"
	VerbUTF8 Verb = "UTF8"
	VerbLANG Verb = "LANG"
)

// MaxNumber is the largest message number or TOP line count accepted.
const MaxNumber = 1<<31 - 1

// Command is one parsed command line.
type Command struct {
	Verb Verb
	// User is the name of USER and APOP, as sent.
	User string
	// Password is PASS's argument: the rest of the line after "PASS ",
	// spaces included (RFC 1939 allows spaces in a password).
	Password string
	// Digest is APOP's MD5 digest, lower-case hex.
	Digest string
	// Mechanism is AUTH's SASL mechanism, upper case; "" for a bare AUTH,
	// which asks for the list of mechanisms.
	Mechanism string
	// InitialResponse is AUTH's decoded initial response, when
	// HasInitialResponse is set ("=" sends an empty one, RFC 5034 4).
	InitialResponse    []byte
	HasInitialResponse bool
	// Msg is the message number of LIST, UIDL, RETR, TOP and DELE; 0 when
	// LIST or UIDL came without one. The codec checks only that it is a
	// number from 1 to MaxNumber; the session checks it against the maildrop.
	Msg int
	// Lines is TOP's count of body lines.
	Lines int
	// Lang is LANG's argument (a language tag or "*"), "" to list languages.
	Lang string
}

// ParseCommand parses one command line, given without its line ending.
// Errors are *CommandError values.
func ParseCommand(line []byte) (Command, error) {
	word, rest, _ := bytes.Cut(line, []byte{' '})
	verb, ok := lookupVerb(word)
	if !ok {
		if len(bytes.TrimSpace(line)) == 0 {
			return Command{}, cmdErr("", ErrSyntax, "Empty command")
		}
		return Command{}, cmdErr("", ErrUnknownCommand, "Unknown command")
	}
	cmd := Command{Verb: verb}
	if verb == VerbPASS {
		// RFC 1939 7: the password may contain spaces, so it is the whole
		// rest of the line, kept exactly.
		if !bytes.HasPrefix(line[len(word):], []byte{' '}) {
			return Command{}, cmdErr(verb, ErrSyntax, "Syntax: PASS password")
		}
		cmd.Password = string(rest)
		return cmd, nil
	}
	args := fields(rest)
	argc := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return cmdErr(verb, ErrSyntax, "Wrong number of arguments to "+string(verb))
		}
		return nil
	}
	var err error
	switch verb {
	case VerbUSER:
		if err = argc(1, 1); err == nil {
			cmd.User = args[0]
		}
	case VerbAPOP:
		if err = argc(2, 2); err == nil {
			cmd.User = args[0]
			if len(args[1]) != 32 || !isHex(args[1]) {
				err = cmdErr(verb, ErrSyntax, "APOP digest must be 32 hex digits")
			}
			cmd.Digest = strings.ToLower(args[1])
		}
	case VerbAUTH:
		if err = argc(0, 2); err == nil && len(args) > 0 {
			err = parseAUTH(&cmd, args)
		}
	case VerbSTLS, VerbCAPA, VerbSTAT, VerbRSET, VerbNOOP, VerbQUIT, VerbUTF8:
		err = argc(0, 0)
	case VerbLIST, VerbUIDL:
		if err = argc(0, 1); err == nil && len(args) == 1 {
			cmd.Msg, err = parseNumber(verb, args[0], false)
		}
	case VerbRETR, VerbDELE:
		if err = argc(1, 1); err == nil {
			cmd.Msg, err = parseNumber(verb, args[0], false)
		}
	case VerbTOP:
		if err = argc(2, 2); err == nil {
			if cmd.Msg, err = parseNumber(verb, args[0], false); err == nil {
				cmd.Lines, err = parseNumber(verb, args[1], true)
			}
		}
	case VerbLANG:
		if err = argc(0, 1); err == nil && len(args) == 1 {
			cmd.Lang = args[0]
		}
	}
	if err != nil {
		return Command{}, err
	}
	return cmd, nil
}

func lookupVerb(word []byte) (Verb, bool) {
	if len(word) < 3 || len(word) > 4 {
		return "", false
	}
	var up [4]byte
	for i, c := range word {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	switch v := Verb(up[:len(word)]); v {
	case VerbUSER, VerbPASS, VerbAPOP, VerbAUTH, VerbSTLS, VerbCAPA, VerbSTAT, VerbLIST, VerbUIDL,
		VerbRETR, VerbTOP, VerbDELE, VerbRSET, VerbNOOP, VerbQUIT, VerbUTF8, VerbLANG:
		return v, true
	}
	return "", false
}

// fields splits arguments on runs of spaces; RFC 1939 asks for single
// spaces, clients are not always that tidy.
func fields(b []byte) []string {
	var args []string
	for tok := range bytes.SplitSeq(b, []byte{' '}) {
		if len(tok) > 0 {
			args = append(args, string(tok))
		}
	}
	return args
}

func parseAUTH(cmd *Command, args []string) error {
	mech := args[0]
	if len(mech) > 20 || !isMechName(mech) {
		return cmdErr(VerbAUTH, ErrSyntax, "Invalid SASL mechanism name")
	}
	cmd.Mechanism = strings.ToUpper(mech)
	if len(args) == 2 {
		data, err := decodeSASL(args[1], true)
		if err != nil {
			return cmdErr(VerbAUTH, ErrBadBase64, "Invalid base64 in initial response")
		}
		cmd.InitialResponse, cmd.HasInitialResponse = data, true
	}
	return nil
}

// decodeSASL decodes a base64 SASL response; "=" stands for an empty
// initial response.
func decodeSASL(s string, initial bool) ([]byte, error) {
	if initial && s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// isMechName checks RFC 4422's sasl-mech characters.
func isMechName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func parseNumber(verb Verb, s string, zeroOK bool) (int, error) {
	if len(s) > 10 {
		return 0, cmdErr(verb, ErrBadNumber, "Number out of range")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, cmdErr(verb, ErrBadNumber, "Invalid number")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxNumber || n == 0 && !zeroOK {
		return 0, cmdErr(verb, ErrBadNumber, "Number out of range")
	}
	return int(n), nil
}

// String renders the command for logs, with secrets replaced: the PASS
// password and the AUTH initial response never appear.
func (c *Command) String() string {
	var b strings.Builder
	b.WriteString(string(c.Verb))
	switch c.Verb {
	case VerbUSER:
		b.WriteString(" " + c.User)
	case VerbPASS:
		b.WriteString(" <redacted>")
	case VerbAPOP:
		b.WriteString(" " + c.User + " " + c.Digest)
	case VerbAUTH:
		if c.Mechanism != "" {
			b.WriteString(" " + c.Mechanism)
		}
		if c.HasInitialResponse {
			b.WriteString(" <redacted>")
		}
	case VerbLIST, VerbUIDL:
		if c.Msg > 0 {
			b.WriteString(" " + strconv.Itoa(c.Msg))
		}
	case VerbRETR, VerbDELE:
		b.WriteString(" " + strconv.Itoa(c.Msg))
	case VerbTOP:
		b.WriteString(" " + strconv.Itoa(c.Msg) + " " + strconv.Itoa(c.Lines))
	case VerbLANG:
		if c.Lang != "" {
			b.WriteString(" " + c.Lang)
		}
	}
	return b.String()
}
