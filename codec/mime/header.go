package mime

import "bytes"

// Header is a raw header block with a lenient field parser. Raw is kept
// exactly as it arrived (folding, line endings, 8-bit bytes, the empty line
// that ends it).
type Header struct{ Raw []byte }

// Field is one header field as written.
type Field struct {
	Name  string // as written, without trailing whitespace; "" for a line that is not a field (no colon, or a name with spaces or controls)
	Raw   []byte // the whole field, folded lines and line ending included
	Value []byte // everything after the colon, raw; nil when Name is ""
}

// Unfolded returns the value with folding removed (a line break followed by
// whitespace becomes that whitespace) and surrounding whitespace trimmed.
func (f Field) Unfolded() string { return unfold(f.Value) }

// Fields returns the fields in order. The empty line that ends the block is
// not a field.
func (h Header) Fields() []Field {
	var out []Field
	for rest := h.Raw; ; {
		f, n := nextField(rest)
		if n == 0 {
			return out
		}
		out = append(out, Field{Name: string(f.name), Raw: f.raw, Value: f.value})
		rest = rest[n:]
	}
}

// Get returns the first field named name (case-insensitive), unfolded and
// trimmed, or "" if there is none.
func (h Header) Get(name string) string {
	v, _ := h.lookup(name)
	return v
}

// Values returns every field named name (case-insensitive), unfolded and
// trimmed, in order.
func (h Header) Values(name string) []string {
	var out []string
	for rest := h.Raw; ; {
		f, n := nextField(rest)
		if n == 0 {
			return out
		}
		if f.name != nil && equalFold(f.name, name) {
			out = append(out, unfold(f.value))
		}
		rest = rest[n:]
	}
}

func (h Header) lookup(name string) (string, bool) {
	for rest := h.Raw; ; {
		f, n := nextField(rest)
		if n == 0 {
			return "", false
		}
		if f.name != nil && equalFold(f.name, name) {
			return unfold(f.value), true
		}
		rest = rest[n:]
	}
}

// rawField is a field as nextField finds it, without copying.
type rawField struct {
	name  []byte // nil for a line that is not a field
	raw   []byte
	value []byte
}

// nextField parses the field at the start of b and returns it with its
// length; n is 0 at the end of the block (no bytes left or an empty line).
func nextField(b []byte) (f rawField, n int) {
	if len(b) == 0 || emptyLine(b) > 0 {
		return rawField{}, 0
	}
	// The field runs to the end of the last line that is followed by a
	// continuation line (one starting with SP or HTAB).
	for {
		e := bytes.IndexByte(b[n:], '\n')
		if e < 0 {
			n = len(b)
			break
		}
		n += e + 1
		if n >= len(b) || (b[n] != ' ' && b[n] != '\t') {
			break
		}
	}
	f.raw = b[:n:n]
	line := f.raw
	if e := bytes.IndexByte(line, '\n'); e >= 0 {
		line = line[:e]
	}
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return f, n
	}
	name := bytes.TrimRight(line[:c], " \t")
	if len(name) == 0 {
		return f, n
	}
	for _, ch := range name {
		if ch <= ' ' || ch == 0x7f {
			return f, n
		}
	}
	f.name = name
	f.value = f.raw[c+1:]
	return f, n
}

// unfold removes line breaks from a raw field value and trims surrounding
// whitespace. A bare CR stays: it is not a line break.
func unfold(v []byte) string {
	v = bytes.Trim(v, " \t\r\n")
	if bytes.IndexByte(v, '\n') < 0 {
		return string(v)
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\n':
		case c == '\r' && i+1 < len(v) && v[i+1] == '\n':
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// equalFold compares ASCII case-insensitively; header names are ASCII and
// this avoids Unicode folding surprises on 8-bit junk.
func equalFold[A, B []byte | string](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}
