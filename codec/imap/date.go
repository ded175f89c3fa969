package imap

import (
	"fmt"
	"time"
)

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func parseMonth(b []byte) (time.Month, bool) {
	if len(b) != 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if b[0]|0x20 == m[0]|0x20 && b[1]|0x20 == m[1] && b[2]|0x20 == m[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseDate parses a SEARCH date such as "1-Feb-1994" (RFC 3501 date-text).
// SEARCH compares dates without time or zone, so the result is midnight UTC
// of that calendar day; the server applies its own zone.
func ParseDate(s string) (time.Time, error) {
	return parseDate([]byte(s))
}

func parseDate(b []byte) (time.Time, error) {
	// date-day "-" date-month "-" date-year, the day one or two digits.
	d1 := indexByte(b, '-')
	if d1 < 1 || d1 > 2 || len(b) != d1+9 || b[d1+4] != '-' {
		return time.Time{}, fmt.Errorf("%w: bad date %q", ErrSyntax, safeText(string(b)))
	}
	day, ok1 := digits(b[:d1])
	mon, ok2 := parseMonth(b[d1+1 : d1+4])
	year, ok3 := digits(b[d1+5:])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, fmt.Errorf("%w: bad date %q", ErrSyntax, safeText(string(b)))
	}
	t := time.Date(year, mon, day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("%w: no such day %q", ErrSyntax, safeText(string(b)))
	}
	return t, nil
}

// ParseDateTime parses an APPEND date-time without its quotes, such as
// "17-Jul-1996 02:44:25 -0700". The day may be space-padded, zero-padded or a
// single digit.
func ParseDateTime(s string) (time.Time, error) {
	return parseDateTime([]byte(s))
}

func parseDateTime(b []byte) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: bad date-time %q", ErrSyntax, safeText(string(b)))
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	d1 := indexByte(b, '-')
	if d1 < 1 || d1 > 2 || len(b) != d1+24 {
		return bad()
	}
	rest := b[d1:]
	// rest: "-Jul-1996 02:44:25 -0700"
	if rest[0] != '-' || rest[4] != '-' || rest[9] != ' ' || rest[12] != ':' || rest[15] != ':' || rest[18] != ' ' {
		return bad()
	}
	day, ok1 := digits(b[:d1])
	mon, ok2 := parseMonth(rest[1:4])
	year, ok3 := digits(rest[5:9])
	hh, ok4 := digits(rest[10:12])
	mm, ok5 := digits(rest[13:15])
	ss, ok6 := digits(rest[16:18])
	zh, ok7 := digits(rest[20:22])
	zm, ok8 := digits(rest[22:24])
	sign := rest[19]
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || (sign != '+' && sign != '-') ||
		hh > 23 || mm > 59 || ss > 60 || zm > 59 {
		return bad()
	}
	offset := (zh*60 + zm) * 60
	if sign == '-' {
		offset = -offset
	}
	zone := time.UTC
	if offset != 0 {
		zone = time.FixedZone("", offset)
	}
	if ss == 60 { // a leap second folds into the next minute
		ss = 59
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, zone)
	if t.Day() != day {
		return bad()
	}
	return t, nil
}

// AppendDateTime appends t in the INTERNALDATE form "17-Jul-1996 02:44:25
// -0700" (day space-padded, no quotes), in t's own zone.
func AppendDateTime(dst []byte, t time.Time) []byte {
	year, mon, day := t.Date()
	hh, mm, ss := t.Clock()
	_, off := t.Zone()
	if day < 10 {
		dst = append(dst, ' ', byte('0'+day))
	} else {
		dst = append(dst, byte('0'+day/10), byte('0'+day%10))
	}
	dst = append(dst, '-')
	dst = append(dst, monthNames[mon-1]...)
	dst = append(dst, '-')
	if year < 0 || year > 9999 {
		year = 0
	}
	dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), ' ')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	dst = append(dst, ' ')
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	off /= 60
	dst = append2(dst, off/60%100)
	return append2(dst, off%60)
}

// FormatDateTime formats t like AppendDateTime.
func FormatDateTime(t time.Time) string {
	return string(AppendDateTime(make([]byte, 0, 26), t))
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// AppendDate appends t as a SEARCH date "1-Feb-1994".
func AppendDate(dst []byte, t time.Time) []byte {
	year, mon, day := t.Date()
	if day >= 10 {
		dst = append(dst, byte('0'+day/10))
	}
	dst = append(dst, byte('0'+day%10), '-')
	dst = append(dst, monthNames[mon-1]...)
	dst = append(dst, '-')
	if year < 0 || year > 9999 {
		year = 0
	}
	return append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10))
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
