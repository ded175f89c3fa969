package mime

import "strings"

// Node is one entity of the MIME tree: the message, a body part, or an
// encapsulated message.
type Node struct {
	Index    int
	Parent   int   // -1 for the root
	Children []int // multipart: its parts in order; message/rfc822 (descended): exactly one child, the encapsulated message
	Depth    int
	Header   Header

	// Parsed from the header with RFC 2045/2046 defaults applied: no or an
	// unparsable Content-Type gives text/plain; charset=us-ascii, or
	// message/rfc822 for a part of a multipart/digest. Type and Subtype are
	// lowercased.
	Type, Subtype string
	Params        []Param // Content-Type parameters in order, names lowercased, RFC 2231 sections joined and decoded to UTF-8
	ContentID     string
	Description   string
	Encoding      string // Content-Transfer-Encoding, lowercased, "" when absent
	MD5           string
	Location      string
	Disposition   string // lowercased, "" when absent
	DispParams    []Param
	Language      []string
	Boundary      string // multiparts only
	Multipart     bool   // a multipart whose parts were split (false when it is kept as a leaf)
	Message       bool   // message/rfc822 or message/global that was descended: its one child is the encapsulated message

	// Offsets in the whole message: [HeaderStart, BodyStart) is the header
	// block, [BodyStart, BodyEnd) the body as IMAP counts it (a multipart's
	// preamble, parts, delimiters and epilogue; a leaf's SegBody).
	HeaderStart, BodyStart, BodyEnd int64
	BodyLines                       int64 // newlines in the body, plus one if it is non-empty and does not end with one
}

// Param is a MIME parameter.
type Param struct{ Name, Value string }

// Param returns the value of the parameter name (lowercase) of the
// Content-Type, or "".
func (n *Node) Param(name string) string { return paramValue(n.Params, name) }

// IsLeaf reports whether the node's body is kept whole (SegBody) rather than
// split into parts or an encapsulated message.
func (n *Node) IsLeaf() bool { return !n.Multipart && !n.Message }

func paramValue(ps []Param, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// describe fills the MIME fields of n from its header. inDigest says the
// node is a part of a multipart/digest, whose parts default to message/rfc822.
func (n *Node) describe(inDigest bool) {
	n.Type, n.Subtype, n.Params = "text", "plain", []Param{{Name: "charset", Value: "us-ascii"}}
	if inDigest {
		n.Type, n.Subtype, n.Params = "message", "rfc822", nil
	}
	var seen [8]bool // first occurrence of each field wins
	for rest := n.Header.Raw; ; {
		f, l := nextField(rest)
		if l == 0 {
			break
		}
		rest = rest[l:]
		if len(f.name) < 8 || !equalFold(f.name[:8], "content-") {
			continue
		}
		k := contentField(f.name[8:])
		if k < 0 || seen[k] {
			continue
		}
		seen[k] = true
		v := unfold(f.value)
		switch k {
		case fType:
			if t, st, ps, ok := parseContentType(v); ok {
				n.Type, n.Subtype, n.Params = t, st, ps
			}
		case fEncoding:
			n.Encoding = lowerASCII(firstToken(v))
		case fID:
			n.ContentID = v
		case fDescription:
			n.Description = v
		case fMD5:
			n.MD5 = v
		case fLocation:
			n.Location = v
		case fDisposition:
			n.Disposition, n.DispParams = parseDisposition(v)
		case fLanguage:
			n.Language = parseLanguage(v)
		}
	}
	if n.Type == "multipart" {
		// RFC 2046 forbids trailing spaces in a boundary; trimming them makes
		// "--b " and "--b" the same delimiter, as transport padding allows.
		n.Boundary = strings.TrimRight(n.Param("boundary"), " \t")
	}
}

const (
	fType = iota
	fEncoding
	fID
	fDescription
	fMD5
	fLocation
	fDisposition
	fLanguage
)

func contentField(suffix []byte) int {
	for i, s := range [...]string{"type", "transfer-encoding", "id", "description", "md5", "location", "disposition", "language"} {
		if equalFold(suffix, s) {
			return i
		}
	}
	return -1
}
