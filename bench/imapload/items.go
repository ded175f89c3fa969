package imapload

import (
	"strconv"
	"strings"
)

// FetchData is what one FETCH response says about a message.
type FetchData struct {
	Seq      uint32
	UID      uint32 // 0: not present
	Flags    []string
	HasFlags bool
	Size     int64 // RFC822.SIZE; -1: not present
	ModSeq   uint64
	Sections []SectionData
}

// SectionData is one body item of a FETCH response: its name as the
// server spelled it (BODY[2]<0>) and the length of its content.
type SectionData struct {
	Name string
	Len  int
	Nil  bool
}

// ParseFetch reads the items of a "* n FETCH (...)" response.
func ParseFetch(r *Response) (FetchData, error) {
	fd := FetchData{Seq: r.Num, Size: -1}
	if r.Name != "FETCH" || !r.HasNum || len(r.Args) != 1 || r.Args[0].Kind != KindList {
		return fd, protoErr("malformed FETCH response %.80q", r.Raw)
	}
	items := r.Args[0].List
	if len(items)%2 != 0 {
		return fd, protoErr("FETCH response with an odd number of items: %.80q", r.Raw)
	}
	for i := 0; i < len(items); i += 2 {
		name, v := items[i], items[i+1]
		if name.Kind != KindAtom {
			return fd, protoErr("FETCH item name is not an atom: %.80q", r.Raw)
		}
		key := upper(name.Atom)
		switch {
		case key == "UID":
			n, ok := v.Uint()
			if !ok || n == 0 || n > 1<<32-1 {
				return fd, protoErr("bad UID in %.80q", r.Raw)
			}
			fd.UID = uint32(n)
		case key == "FLAGS":
			if v.Kind != KindList {
				return fd, protoErr("FLAGS is not a list in %.80q", r.Raw)
			}
			fd.HasFlags = true
			fd.Flags = make([]string, 0, len(v.List))
			for _, f := range v.List {
				if f.Kind != KindAtom {
					return fd, protoErr("flag is not an atom in %.80q", r.Raw)
				}
				fd.Flags = append(fd.Flags, f.Atom)
			}
		case key == "RFC822.SIZE":
			n, ok := v.Uint()
			if !ok || n > 1<<62 {
				return fd, protoErr("bad RFC822.SIZE in %.80q", r.Raw)
			}
			fd.Size = int64(n)
		case key == "MODSEQ":
			if v.Kind != KindList || len(v.List) != 1 {
				return fd, protoErr("bad MODSEQ in %.80q", r.Raw)
			}
			n, ok := v.List[0].Uint()
			if !ok {
				return fd, protoErr("bad MODSEQ in %.80q", r.Raw)
			}
			fd.ModSeq = n
		case strings.HasPrefix(key, "BODY[") || strings.HasPrefix(key, "BINARY[") ||
			key == "RFC822" || key == "RFC822.TEXT" || key == "RFC822.HEADER":
			switch v.Kind {
			case KindString:
				fd.Sections = append(fd.Sections, SectionData{Name: name.Atom, Len: len(v.Bytes)})
			case KindNil:
				fd.Sections = append(fd.Sections, SectionData{Name: name.Atom, Nil: true})
			default:
				return fd, protoErr("body section %s is not a string in %.80q", name.Atom, r.Raw)
			}
		}
	}
	return fd, nil
}

// HasFlag reports whether flags holds f; flags and keywords compare
// without regard to case (RFC 9051 2.3.2).
func HasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// parseUIDSet expands a UID set without "*" ("4,7:9") in the order
// written; ranges are expanded upwards whichever way they are written. It
// refuses sets of more than max UIDs.
func parseUIDSet(s string, max int) ([]uint32, error) {
	if s == "" {
		return nil, protoErr("empty UID set")
	}
	var out []uint32
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := parseUID(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseUID(hi); err != nil {
				return nil, err
			}
		}
		if a > b {
			a, b = b, a
		}
		if len(out)+int(b-a)+1 > max {
			return nil, protoErr("UID set %q has more than %d UIDs", s, max)
		}
		for u := a; ; u++ {
			out = append(out, u)
			if u == b {
				break
			}
		}
	}
	return out, nil
}

func parseUID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, protoErr("bad UID %q", s)
	}
	return uint32(n), nil
}

// AppendUID is the APPENDUID response code (RFC 4315).
type AppendUID struct {
	UIDValidity uint32
	UIDs        []uint32
}

// CopyUID is the COPYUID response code (RFC 4315): Source[i] became Dest[i].
type CopyUID struct {
	UIDValidity uint32
	Source      []uint32
	Dest        []uint32
}

// parseAppendUID reads the argument of APPENDUID.
func parseAppendUID(arg string, max int) (AppendUID, error) {
	v, set, ok := strings.Cut(arg, " ")
	if !ok {
		return AppendUID{}, protoErr("APPENDUID %q", arg)
	}
	uv, err := parseUID(v)
	if err != nil {
		return AppendUID{}, err
	}
	uids, err := parseUIDSet(set, max)
	return AppendUID{UIDValidity: uv, UIDs: uids}, err
}

// parseCopyUID reads the argument of COPYUID.
func parseCopyUID(arg string, max int) (CopyUID, error) {
	f := strings.Fields(arg)
	if len(f) != 3 {
		return CopyUID{}, protoErr("COPYUID %q", arg)
	}
	uv, err := parseUID(f[0])
	if err != nil {
		return CopyUID{}, err
	}
	src, err := parseUIDSet(f[1], max)
	if err != nil {
		return CopyUID{}, err
	}
	dst, err := parseUIDSet(f[2], max)
	if err != nil {
		return CopyUID{}, err
	}
	if len(src) != len(dst) {
		return CopyUID{}, protoErr("COPYUID %q: %d source and %d destination UIDs", arg, len(src), len(dst))
	}
	return CopyUID{UIDValidity: uv, Source: src, Dest: dst}, nil
}

// searchUIDs reads the numbers of a "* SEARCH" response (with CONDSTORE
// a trailing "(MODSEQ n)" is ignored).
func searchUIDs(r *Response) ([]uint32, error) {
	out := make([]uint32, 0, len(r.Args))
	for _, v := range r.Args {
		if v.Kind == KindList {
			continue
		}
		n, ok := v.Uint()
		if !ok || n == 0 || n > 1<<32-1 {
			return nil, protoErr("bad number in %.80q", r.Raw)
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// quote returns s as an IMAP quoted string.
func quote(s string) string {
	if !strings.ContainsAny(s, "\"\\") {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
