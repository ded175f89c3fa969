package pop3

import (
	"encoding/base64"
	"strconv"
)

// RespCode is an extended response code in brackets after -ERR (RFC 2449
// 8, RFC 3206, RFC 6856).
type RespCode string

// Response codes.
const (
	RespInUse      RespCode = "IN-USE"      // the maildrop is locked by another session
	RespLoginDelay RespCode = "LOGIN-DELAY" // logged in too recently
	RespSysTemp    RespCode = "SYS/TEMP"    // a temporary system failure: retry
	RespSysPerm    RespCode = "SYS/PERM"    // a permanent system failure
	RespAuth       RespCode = "AUTH"        // bad credentials (RFC 3206)
	RespUTF8       RespCode = "UTF8"        // UTF-8 needed but not enabled (RFC 6856)
)

// AppendOK appends "+OK text" (or "+OK" when text is empty).
func AppendOK(dst []byte, text string) []byte {
	dst = append(dst, "+OK"...)
	return appendText(dst, text)
}

// AppendErr appends "-ERR [code] text"; the code part is left out when
// code is empty.
func AppendErr(dst []byte, code RespCode, text string) []byte {
	dst = append(dst, "-ERR"...)
	if code != "" {
		dst = append(dst, " ["...)
		dst = appendSafe(dst, string(code))
		dst = append(dst, ']')
	}
	return appendText(dst, text)
}

// AppendChallenge appends a SASL continuation "+ base64" (RFC 5034 4); an
// empty challenge gives "+ ".
func AppendChallenge(dst []byte, challenge []byte) []byte {
	dst = append(dst, "+ "...)
	dst = base64.StdEncoding.AppendEncode(dst, challenge)
	return append(dst, '\r', '\n')
}

// AppendStat appends the STAT reply "+OK count size".
func AppendStat(dst []byte, count int, size int64) []byte {
	dst = append(dst, "+OK "...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, '\r', '\n')
}

// AppendScanListing appends one line "msg size" of a multi-line LIST reply.
// For "LIST n", prefix it with "+OK ": use AppendOKScanListing.
func AppendScanListing(dst []byte, msg int, size int64) []byte {
	dst = strconv.AppendInt(dst, int64(msg), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, '\r', '\n')
}

// AppendOKScanListing appends the single-line reply "+OK msg size" to "LIST n".
func AppendOKScanListing(dst []byte, msg int, size int64) []byte {
	return AppendScanListing(append(dst, "+OK "...), msg, size)
}

// AppendUIDListing appends one line "msg uid" of a multi-line UIDL reply.
// Octets of uid outside 0x21-0x7E, which RFC 1939 forbids, become '_'.
func AppendUIDListing(dst []byte, msg int, uid string) []byte {
	dst = strconv.AppendInt(dst, int64(msg), 10)
	dst = append(dst, ' ')
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		if c < 0x21 || c > 0x7e {
			c = '_'
		}
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendOKUIDListing appends the single-line reply "+OK msg uid" to "UIDL n".
func AppendOKUIDListing(dst []byte, msg int, uid string) []byte {
	return AppendUIDListing(append(dst, "+OK "...), msg, uid)
}

// AppendEnd appends the ".CRLF" that ends a multi-line reply.
func AppendEnd(dst []byte) []byte { return append(dst, '.', '\r', '\n') }

// AppendMultiline appends "+OK text", then each line dot-stuffed, then the
// terminator. Lines are given without line endings.
func AppendMultiline(dst []byte, text string, lines []string) []byte {
	dst = AppendOK(dst, text)
	for _, line := range lines {
		if len(line) > 0 && line[0] == '.' {
			dst = append(dst, '.')
		}
		dst = appendSafe(dst, line)
		dst = append(dst, '\r', '\n')
	}
	return AppendEnd(dst)
}

// Capabilities selects what CAPA lists (RFC 2449 6, RFC 5034, RFC 2595,
// RFC 6856).
type Capabilities struct {
	Top          bool
	User         bool     // USER/PASS offered (normally only under TLS)
	SASL         []string // mechanisms for "SASL ..."; none: line left out
	RespCodes    bool
	AuthRespCode bool // RFC 3206
	Pipelining   bool
	UIDL         bool
	STLS         bool // only before TLS is up
	UTF8         bool
	UTF8User     bool // "UTF8 USER": UTF-8 in USER and PASS
	Lang         bool
	// LoginDelay is the minimum seconds between logins, advertised when > 0.
	LoginDelay int
	// Expire is the EXPIRE argument ("NEVER", "0", "30"); "" leaves it out.
	Expire string
	// Implementation is free text for IMPLEMENTATION; "" leaves it out.
	Implementation string
}

// AppendCapa appends the whole multi-line CAPA reply.
func AppendCapa(dst []byte, caps Capabilities) []byte {
	dst = AppendOK(dst, "Capability list follows")
	line := func(s string) {
		dst = appendSafe(dst, s)
		dst = append(dst, '\r', '\n')
	}
	if caps.Top {
		line("TOP")
	}
	if caps.User {
		line("USER")
	}
	if len(caps.SASL) > 0 {
		dst = append(dst, "SASL"...)
		for _, m := range caps.SASL {
			dst = append(dst, ' ')
			dst = appendSafe(dst, m)
		}
		dst = append(dst, '\r', '\n')
	}
	if caps.RespCodes {
		line("RESP-CODES")
	}
	if caps.AuthRespCode {
		line("AUTH-RESP-CODE")
	}
	if caps.Pipelining {
		line("PIPELINING")
	}
	if caps.UIDL {
		line("UIDL")
	}
	if caps.STLS {
		line("STLS")
	}
	if caps.UTF8 {
		if caps.UTF8User {
			line("UTF8 USER")
		} else {
			line("UTF8")
		}
	}
	if caps.Lang {
		line("LANG")
	}
	if caps.LoginDelay > 0 {
		line("LOGIN-DELAY " + strconv.Itoa(caps.LoginDelay))
	}
	if caps.Expire != "" {
		line("EXPIRE " + caps.Expire)
	}
	if caps.Implementation != "" {
		line("IMPLEMENTATION " + caps.Implementation)
	}
	return AppendEnd(dst)
}

// appendText appends " text" (nothing when empty) and CRLF.
func appendText(dst []byte, text string) []byte {
	if text != "" {
		dst = append(dst, ' ')
		dst = appendSafe(dst, text)
	}
	return append(dst, '\r', '\n')
}

// appendSafe copies s with control octets turned into spaces, so that text
// from a client or the store can never end the line early or forge another.
func appendSafe(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c == 127 {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}
