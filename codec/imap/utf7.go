package imap

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The modified BASE64 alphabet of RFC 3501 section 5.1.3: "," replaces "/".
const mutf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

func mutf7Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == ',':
		return 63
	}
	return -1
}

// DecodeMailboxUTF7 decodes a mailbox name in modified UTF-7 (RFC 3501
// section 5.1.3) to UTF-8. It rejects what the RFC forbids: raw bytes outside
// printable US-ASCII, unterminated or malformed shifts, unpaired surrogates,
// and printable US-ASCII characters hidden inside a shift.
func DecodeMailboxUTF7(s string) (string, error) {
	return decodeMailboxUTF7(s, false)
}

// decodeMailboxUTF7 decodes modified UTF-7; with raw8 it lets UTF-8 bytes
// through as they are, for clients that mix both forms.
func decodeMailboxUTF7(s string, raw8 bool) (string, error) {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c > 0x7e) && !(raw8 && c >= 0x80) {
			return "", fmt.Errorf("%w: byte 0x%02x in modified UTF-7", ErrMailboxName, c)
		}
		if c == '&' {
			plain = false
		}
	}
	if plain {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", fmt.Errorf("%w: unterminated &-shift", ErrMailboxName)
		}
		enc := s[i+1 : i+1+j]
		i += j + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		if err := decodeShift(&b, enc); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// decodeShift decodes the modified BASE64 of one &...- shift as UTF-16BE.
func decodeShift(b *strings.Builder, enc string) error {
	var (
		acc   uint32
		bits  uint
		units []uint16
		one   [8]uint16
	)
	units = one[:0]
	for k := 0; k < len(enc); k++ {
		v := mutf7Value(enc[k])
		if v < 0 {
			return fmt.Errorf("%w: %q in &-shift", ErrMailboxName, enc[k])
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	// Padding bits left over must be fewer than one BASE64 digit and zero.
	if bits >= 6 || acc != 0 {
		return fmt.Errorf("%w: &-shift does not end on a UTF-16 unit", ErrMailboxName)
	}
	if len(units) == 0 {
		return fmt.Errorf("%w: empty &-shift", ErrMailboxName)
	}
	for k := 0; k < len(units); k++ {
		u := units[k]
		switch {
		case u >= 0x20 && u <= 0x7e:
			return fmt.Errorf("%w: printable ASCII inside &-shift", ErrMailboxName)
		case utf16.IsSurrogate(rune(u)):
			if u >= 0xdc00 || k+1 == len(units) {
				return fmt.Errorf("%w: unpaired surrogate", ErrMailboxName)
			}
			r := utf16.DecodeRune(rune(u), rune(units[k+1]))
			if r == utf8.RuneError {
				return fmt.Errorf("%w: unpaired surrogate", ErrMailboxName)
			}
			b.WriteRune(r)
			k++
		default:
			b.WriteRune(rune(u))
		}
	}
	return nil
}

// EncodeMailboxUTF7 encodes a UTF-8 mailbox name to modified UTF-7. Bytes
// that are not valid UTF-8 are encoded as U+FFFD.
func EncodeMailboxUTF7(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			if c == '&' {
				b.WriteString("&-")
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		// Gather the run of characters that need a shift.
		var units []uint16
		for i < len(s) && (s[i] < 0x20 || s[i] > 0x7e) {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			units = utf16.AppendRune(units, r)
		}
		b.WriteByte('&')
		var acc uint32
		var bits uint
		for _, u := range units {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				b.WriteByte(mutf7Alphabet[acc>>bits&0x3f])
			}
			acc &= 1<<bits - 1
		}
		if bits > 0 {
			b.WriteByte(mutf7Alphabet[acc<<(6-bits)&0x3f])
		}
		b.WriteByte('-')
	}
	return b.String()
}

// IsInbox reports whether name is INBOX, which is case-insensitive.
func IsInbox(name string) bool {
	return len(name) == 5 && strings.EqualFold(name, "INBOX")
}

// NormalizeMailbox spells INBOX in upper case, and also an INBOX prefix
// followed by the hierarchy delimiter delim (0 when the server has none), so
// that "inbox/Sent" and "INBOX/Sent" name the same mailbox.
func NormalizeMailbox(name string, delim rune) string {
	if len(name) < 5 || !strings.EqualFold(name[:5], "INBOX") {
		return name
	}
	if len(name) == 5 {
		return "INBOX"
	}
	if delim != 0 {
		if r, _ := utf8.DecodeRuneInString(name[5:]); r == delim {
			return "INBOX" + name[5:]
		}
	}
	return name
}
