package imap

import "strconv"

// FetchItemKind is a FETCH data item.
type FetchItemKind uint8

const (
	FetchEnvelope      FetchItemKind = iota + 1
	FetchFlags                       // FLAGS
	FetchInternalDate                // INTERNALDATE
	FetchRFC822                      // RFC822, i.e. BODY[]
	FetchRFC822Header                // RFC822.HEADER, i.e. BODY.PEEK[HEADER]
	FetchRFC822Size                  // RFC822.SIZE
	FetchRFC822Text                  // RFC822.TEXT, i.e. BODY[TEXT]
	FetchUID                         // UID
	FetchModSeq                      // MODSEQ (CONDSTORE)
	FetchBody                        // BODY: BODYSTRUCTURE without extension data
	FetchBodyStructure               // BODYSTRUCTURE
	FetchBodySection                 // BODY[section]<partial>, BODY.PEEK[...]
	FetchBinary                      // BINARY[part]<partial>, BINARY.PEEK[...]
	FetchBinarySize                  // BINARY.SIZE[part]
	FetchEmailID                     // EMAILID (OBJECTID)
	FetchThreadID                    // THREADID (OBJECTID)
	FetchSaveDate                    // SAVEDATE (RFC 8514)
)

var fetchItemNames = [...]string{
	FetchEnvelope:      "ENVELOPE",
	FetchFlags:         "FLAGS",
	FetchInternalDate:  "INTERNALDATE",
	FetchRFC822:        "RFC822",
	FetchRFC822Header:  "RFC822.HEADER",
	FetchRFC822Size:    "RFC822.SIZE",
	FetchRFC822Text:    "RFC822.TEXT",
	FetchUID:           "UID",
	FetchModSeq:        "MODSEQ",
	FetchBody:          "BODY",
	FetchBodyStructure: "BODYSTRUCTURE",
	FetchBodySection:   "BODY",
	FetchBinary:        "BINARY",
	FetchBinarySize:    "BINARY.SIZE",
	FetchEmailID:       "EMAILID",
	FetchThreadID:      "THREADID",
	FetchSaveDate:      "SAVEDATE",
}

func (k FetchItemKind) String() string {
	if int(k) < len(fetchItemNames) && fetchItemNames[k] != "" {
		return fetchItemNames[k]
	}
	return "UNKNOWN"
}

// SectionSpec is the text part of a body section specifier.
type SectionSpec uint8

const (
	SpecNone            SectionSpec = iota // BODY[] or BODY[1.2]
	SpecHeader                             // HEADER
	SpecHeaderFields                       // HEADER.FIELDS (...)
	SpecHeaderFieldsNot                    // HEADER.FIELDS.NOT (...)
	SpecText                               // TEXT
	SpecMIME                               // MIME (only after a part number)
)

var sectionSpecNames = [...]string{
	SpecHeader:          "HEADER",
	SpecHeaderFields:    "HEADER.FIELDS",
	SpecHeaderFieldsNot: "HEADER.FIELDS.NOT",
	SpecText:            "TEXT",
	SpecMIME:            "MIME",
}

// Section is a body section such as "1.2.HEADER.FIELDS (From To)".
type Section struct {
	Part   []uint32 // part path; empty for the whole message
	Spec   SectionSpec
	Fields []string // header field names for HEADER.FIELDS[.NOT]
}

// AppendTo appends the section specifier without brackets.
func (s Section) AppendTo(dst []byte) []byte {
	for i, p := range s.Part {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(p), 10)
	}
	if s.Spec == SpecNone {
		return dst
	}
	if len(s.Part) > 0 {
		dst = append(dst, '.')
	}
	dst = append(dst, sectionSpecNames[s.Spec]...)
	if s.Spec == SpecHeaderFields || s.Spec == SpecHeaderFieldsNot {
		dst = append(dst, " ("...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendAStringASCII(dst, f)
		}
		dst = append(dst, ')')
	}
	return dst
}

func (s Section) String() string { return string(s.AppendTo(nil)) }

// Partial is the <offset.count> byte range of a body section; Count 0 means
// the whole section.
type Partial struct {
	Offset, Count uint64
}

// FetchItem is one FETCH data item as requested.
type FetchItem struct {
	Kind    FetchItemKind
	Peek    bool    // BODY.PEEK / BINARY.PEEK: do not set \Seen
	Section Section // FetchBodySection, FetchBinary, FetchBinarySize
	Partial Partial // FetchBodySection, FetchBinary
}

// SetsSeen reports whether fetching the item sets \Seen on the message (in
// a mailbox opened read-write).
func (it FetchItem) SetsSeen() bool {
	switch it.Kind {
	case FetchRFC822, FetchRFC822Text:
		return true
	case FetchBodySection, FetchBinary:
		return !it.Peek
	}
	return false
}

// AppendTo appends the item as a client writes it, e.g.
// "BODY.PEEK[1.MIME]<0.100>".
func (it FetchItem) AppendTo(dst []byte) []byte {
	switch it.Kind {
	case FetchBodySection, FetchBinary:
		dst = append(dst, it.Kind.String()...)
		if it.Peek {
			dst = append(dst, ".PEEK"...)
		}
		dst = append(dst, '[')
		dst = it.Section.AppendTo(dst)
		dst = append(dst, ']')
		if it.Partial.Count > 0 {
			dst = append(dst, '<')
			dst = strconv.AppendUint(dst, it.Partial.Offset, 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, it.Partial.Count, 10)
			dst = append(dst, '>')
		}
		return dst
	case FetchBinarySize:
		dst = append(dst, "BINARY.SIZE["...)
		dst = it.Section.AppendTo(dst)
		return append(dst, ']')
	}
	return append(dst, it.Kind.String()...)
}

func (it FetchItem) String() string { return string(it.AppendTo(nil)) }

// AppendResponseName appends the name under which the item's value is
// returned in a FETCH response: PEEK dropped, a partial reduced to its
// origin ("BODY[TEXT]<0>").
func (it FetchItem) AppendResponseName(dst []byte) []byte {
	switch it.Kind {
	case FetchBodySection, FetchBinary:
		dst = append(dst, it.Kind.String()...)
		dst = append(dst, '[')
		dst = it.Section.AppendTo(dst)
		dst = append(dst, ']')
		if it.Partial.Count > 0 {
			dst = append(dst, '<')
			dst = strconv.AppendUint(dst, it.Partial.Offset, 10)
			dst = append(dst, '>')
		}
		return dst
	}
	return it.AppendTo(dst)
}

// Fetch macros of RFC 3501 section 6.4.5.
func fetchMacro(name string) []FetchItem {
	switch name {
	case "ALL":
		return []FetchItem{{Kind: FetchFlags}, {Kind: FetchInternalDate}, {Kind: FetchRFC822Size}, {Kind: FetchEnvelope}}
	case "FAST":
		return []FetchItem{{Kind: FetchFlags}, {Kind: FetchInternalDate}, {Kind: FetchRFC822Size}}
	case "FULL":
		return []FetchItem{{Kind: FetchFlags}, {Kind: FetchInternalDate}, {Kind: FetchRFC822Size}, {Kind: FetchEnvelope}, {Kind: FetchBody}}
	}
	return nil
}
