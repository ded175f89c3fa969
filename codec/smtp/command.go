package smtp

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Verb is an SMTP/LMTP command verb, upper case.
type Verb string

// The verbs the parser returns as commands.
const (
	VerbLHLO     Verb = "LHLO"
	VerbEHLO     Verb = "EHLO" // SMTP only: an LMTP server answers with UseLHLO
	VerbHELO     Verb = "HELO" // SMTP only: an LMTP server answers with UseLHLO
	VerbMAIL     Verb = "MAIL"
	VerbRCPT     Verb = "RCPT"
	VerbDATA     Verb = "DATA"
	VerbBDAT     Verb = "BDAT"
	VerbRSET     Verb = "RSET"
	VerbNOOP     Verb = "NOOP"
	VerbQUIT     Verb = "QUIT"
	VerbVRFY     Verb = "VRFY"
	VerbHELP     Verb = "HELP"
	VerbSTARTTLS Verb = "STARTTLS"
)

// BodyType is the BODY= parameter of MAIL (RFC 6152, RFC 3030).
type BodyType uint8

// Body types; BodyUnspecified when MAIL carried no BODY parameter.
const (
	BodyUnspecified BodyType = iota
	Body7Bit
	Body8BitMIME
	BodyBinaryMIME
)

func (b BodyType) String() string {
	switch b {
	case Body7Bit:
		return "7BIT"
	case Body8BitMIME:
		return "8BITMIME"
	case BodyBinaryMIME:
		return "BINARYMIME"
	}
	return ""
}

// Param is one ESMTP parameter of MAIL or RCPT.
type Param struct {
	Keyword  string // upper case
	Value    string // as sent (xtext is not decoded)
	HasValue bool   // "KEY=VALUE" rather than "KEY"
}

// Command is one parsed command line.
type Command struct {
	Verb Verb
	// Domain is the argument of LHLO, EHLO and HELO as sent: a host name or
	// an address literal.
	Domain string
	// Path is the reverse-path of MAIL or the forward-path of RCPT.
	Path Path
	// Params are the ESMTP parameters of MAIL or RCPT, in the order sent.
	Params []Param
	// Size is MAIL's SIZE= value, -1 when absent. A value too large for
	// int64 is reported as math.MaxInt64: it is too big in any case.
	Size int64
	// Body is MAIL's BODY= value.
	Body BodyType
	// SMTPUTF8 is set when MAIL carried the SMTPUTF8 parameter (RFC 6531).
	SMTPUTF8 bool
	// ChunkSize is the octet count of BDAT.
	ChunkSize int64
	// Last is set on "BDAT n LAST".
	Last bool
	// Arg is the argument of VRFY, HELP and NOOP as sent.
	Arg string
}

// Param returns the parameter with the given keyword (case-insensitive).
func (c *Command) Param(keyword string) (Param, bool) {
	for _, p := range c.Params {
		if strings.EqualFold(p.Keyword, keyword) {
			return p, true
		}
	}
	return Param{}, false
}

// ParseCommand parses one command line, given without its line ending.
// Errors are *CommandError values carrying the reply to send.
func ParseCommand(line []byte) (Command, error) {
	cmd, err := parseCommand(line)
	if err != nil {
		return Command{}, err
	}
	return cmd, nil
}

// parseCommand is ParseCommand, except that a BDAT whose size was readable
// but whose other arguments were not comes back with ChunkSize set beside
// the error, so that the parser can skip the chunk.
func parseCommand(line []byte) (Command, error) {
	line = bytes.TrimRight(line, " \t") // trailing blanks are a common client slip
	if len(line) == 0 {
		return Command{}, cmdErr("", ErrSyntax, 500, "5.5.2", "Syntax error: empty command")
	}
	word, rest, _ := bytes.Cut(line, []byte{' '})
	verb, known := lookupVerb(word)
	if !known {
		if verb != "" {
			return Command{}, cmdErr(verb, ErrNotImplemented, 502, "5.5.1", "Command not implemented")
		}
		return Command{}, cmdErr("", ErrUnknownCommand, 500, "5.5.1", "Unknown command")
	}
	cmd := Command{Verb: verb, Size: -1}
	arg := string(bytes.TrimLeft(rest, " "))

	switch verb {
	case VerbLHLO, VerbEHLO, VerbHELO:
		domain, _, _ := strings.Cut(arg, " ")
		if domain == "" {
			return Command{}, cmdErr(verb, ErrSyntax, 501, "5.5.4", "Syntax: "+string(verb)+" hostname")
		}
		cmd.Domain = domain
	case VerbMAIL:
		if err := parseMailRcpt(&cmd, arg, "FROM:"); err != nil {
			return Command{}, err
		}
	case VerbRCPT:
		if err := parseMailRcpt(&cmd, arg, "TO:"); err != nil {
			return Command{}, err
		}
	case VerbBDAT:
		if err := parseBDAT(&cmd, arg); err != nil {
			return cmd, err
		}
	case VerbDATA, VerbRSET, VerbQUIT, VerbSTARTTLS:
		if arg != "" {
			return Command{}, cmdErr(verb, ErrSyntax, 501, "5.5.4", "Syntax: "+string(verb)+" takes no arguments")
		}
	case VerbVRFY:
		if arg == "" {
			return Command{}, cmdErr(verb, ErrSyntax, 501, "5.5.4", "Syntax: VRFY address")
		}
		cmd.Arg = arg
	case VerbNOOP, VerbHELP:
		cmd.Arg = arg
	}
	return cmd, nil
}

// lookupVerb maps a verb case-insensitively. known is false for verbs that
// exist in SMTP but are not offered here (verb is then set) and for
// unknown words (verb is then "").
func lookupVerb(word []byte) (verb Verb, known bool) {
	if len(word) < 4 || len(word) > 8 {
		return "", false
	}
	var up [8]byte
	for i, c := range word {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	switch v := Verb(up[:len(word)]); v {
	case VerbLHLO, VerbEHLO, VerbHELO, VerbMAIL, VerbRCPT, VerbDATA, VerbBDAT,
		VerbRSET, VerbNOOP, VerbQUIT, VerbVRFY, VerbHELP, VerbSTARTTLS:
		return v, true
	case "EXPN", "TURN", "ETRN", "ATRN", "AUTH", "SEND", "SOML", "SAML", "BURL", "XCLIENT", "XFORWARD":
		return v, false
	}
	return "", false
}

// parseMailRcpt parses "FROM:<path> params" or "TO:<path> params".
func parseMailRcpt(cmd *Command, arg, prefix string) error {
	verb := cmd.Verb
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return cmdErr(verb, ErrSyntax, 501, "5.5.4", "Syntax: "+string(verb)+" "+prefix+"<address>")
	}
	// RFC 5321 has no space after the colon; many clients send one anyway.
	pathText := strings.TrimLeft(arg[len(prefix):], " ")
	reverse := verb == VerbMAIL
	path, rest, err := parsePath(pathText, reverse)
	if err != nil {
		if reverse {
			return &CommandError{Verb: verb, Err: err, Reply: Reply{Code: 501, Enhanced: "5.1.7", Lines: []string{"Bad sender address syntax"}}}
		}
		return &CommandError{Verb: verb, Err: err, Reply: Reply{Code: 501, Enhanced: "5.1.3", Lines: []string{"Bad recipient address syntax"}}}
	}
	cmd.Path = path
	params, perr := parseParams(verb, rest)
	if perr != nil {
		return perr
	}
	cmd.Params = params
	for _, p := range params {
		if err := applyParam(cmd, p); err != nil {
			return err
		}
	}
	return nil
}

// parseParams splits the esmtp parameters that follow a path.
func parseParams(verb Verb, s string) ([]Param, error) {
	var params []Param
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue // runs of spaces
		}
		key, value, hasValue := strings.Cut(tok, "=")
		if !validKeyword(key) || hasValue && !validParamValue(value) {
			return nil, cmdErr(verb, ErrBadParam, 501, "5.5.4", "Malformed parameter")
		}
		key = strings.ToUpper(key)
		for _, p := range params {
			if p.Keyword == key {
				return nil, cmdErr(verb, ErrBadParam, 501, "5.5.4", "Duplicate parameter "+key)
			}
		}
		params = append(params, Param{Keyword: key, Value: value, HasValue: hasValue})
	}
	return params, nil
}

// applyParam checks a parameter against the extensions this server
// advertises and fills the typed fields.
func applyParam(cmd *Command, p Param) error {
	verb := cmd.Verb
	bad := func(text string) error { return cmdErr(verb, ErrBadParam, 501, "5.5.4", text) }
	if verb == VerbMAIL {
		switch p.Keyword {
		case "SIZE":
			if !p.HasValue || !allDigits(p.Value) {
				return bad("SIZE requires a decimal value")
			}
			cmd.Size = parseDecimal(p.Value)
			return nil
		case "BODY":
			switch strings.ToUpper(p.Value) {
			case "7BIT":
				cmd.Body = Body7Bit
			case "8BITMIME":
				cmd.Body = Body8BitMIME
			case "BINARYMIME":
				cmd.Body = BodyBinaryMIME
			default:
				return bad("BODY must be 7BIT, 8BITMIME or BINARYMIME")
			}
			return nil
		case "SMTPUTF8":
			if p.HasValue {
				return bad("SMTPUTF8 takes no value")
			}
			cmd.SMTPUTF8 = true
			return nil
		case "RET", "ENVID", "AUTH":
			// DSN (RFC 3461) and AUTH (RFC 4954) parameters are tolerated
			// because relaying MTAs add them; LMTP delivery has no use for them.
			if !p.HasValue {
				return bad(p.Keyword + " requires a value")
			}
			return nil
		}
	} else {
		switch p.Keyword {
		case "NOTIFY", "ORCPT":
			if !p.HasValue {
				return bad(p.Keyword + " requires a value")
			}
			return nil
		}
	}
	return cmdErr(verb, ErrUnsupportedParam, 555, "5.5.4", "Unsupported parameter "+p.Keyword)
}

// parseBDAT parses "n [LAST]" (RFC 3030).
func parseBDAT(cmd *Command, arg string) error {
	size, rest, _ := strings.Cut(arg, " ")
	rest = strings.Trim(rest, " ")
	if !allDigits(size) || len(size) > 18 {
		e := cmdErr(VerbBDAT, ErrSyntax, 501, "5.5.4", "Syntax: BDAT size [LAST]")
		e.Fatal = true // the chunk that follows cannot be skipped
		return e
	}
	cmd.ChunkSize = parseDecimal(size)
	switch {
	case rest == "":
	case strings.EqualFold(rest, "LAST"):
		cmd.Last = true
	default:
		// The size was readable, so the chunk can still be consumed: the
		// parser skips it and the caller answers this error.
		return &CommandError{Verb: VerbBDAT, Err: ErrSyntax,
			Reply: Reply{Code: 501, Enhanced: "5.5.4", Lines: []string{"Syntax: BDAT size [LAST]"}}}
	}
	return nil
}

func validKeyword(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '-') {
			return false
		}
	}
	return true
}

// validParamValue is RFC 5321's esmtp-value with RFC 6531's UTF-8.
func validParamValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < utf8.RuneSelf && (c < 33 || c > 126 || c == '=') {
			return false
		}
	}
	return isASCII(v) || utf8.ValidString(v)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDecimal parses digits, saturating at math.MaxInt64.
func parseDecimal(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return math.MaxInt64
		}
		n = n*10 + d
	}
	return n
}

// String renders the command in a canonical wire form, without line
// ending. Parsing the result gives back the same verb, arguments, address
// and parameters; a source route and needless quoting are dropped.
func (c *Command) String() string {
	var b strings.Builder
	b.WriteString(string(c.Verb))
	switch c.Verb {
	case VerbLHLO, VerbEHLO, VerbHELO:
		b.WriteString(" " + c.Domain)
	case VerbMAIL:
		b.WriteString(" FROM:" + c.Path.String())
	case VerbRCPT:
		b.WriteString(" TO:" + c.Path.String())
	case VerbBDAT:
		fmt.Fprintf(&b, " %d", c.ChunkSize)
		if c.Last {
			b.WriteString(" LAST")
		}
	case VerbVRFY, VerbHELP, VerbNOOP:
		if c.Arg != "" {
			b.WriteString(" " + c.Arg)
		}
	}
	for _, p := range c.Params {
		b.WriteString(" " + p.Keyword)
		if p.HasValue {
			b.WriteString("=" + p.Value)
		}
	}
	return b.String()
}
