package engine

import (
	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/codec/transfer"
)

// Structure is a message's skeleton, stored in its row: the MIME tree with
// byte offsets (for BODYSTRUCTURE and section reads) and the segment table
// that says where each run of the message's bytes lives (for rebuilding any
// byte range without touching the rest).
type Structure struct {
	Size     int64
	Parts    []Part    // pre-order; Parts[0] is the message itself
	Segments []Segment // in message order, contiguous, covering [0, Size)
	Blobs    []BlobID  // blobs that segments point into
}

// Part is a node of the MIME tree.
type Part struct {
	Parent      int // -1 for the message itself
	Children    []int
	Type        string // lowercase
	Subtype     string // lowercase
	Params      []mime.Param
	ContentID   string
	Description string
	Encoding    string // lowercase Content-Transfer-Encoding, "" when absent
	MD5         string
	Disposition string
	DispParams  []mime.Param
	Language    []string
	Location    string
	Multipart   bool      // its children are its parts
	Message     bool      // message/rfc822 whose single child is the encapsulated message
	Envelope    *Envelope // of the encapsulated message when Message

	HeaderStart, BodyStart, BodyEnd int64
	Lines                           int64
	DecodedSize                     int64 // body size after transfer decoding (BINARY.SIZE); -1 if the encoding is unknown
}

// SegmentKind says where a segment's bytes are stored.
type SegmentKind uint8

const (
	SegInline     SegmentKind = iota + 1 // in the message's inline buffer at InlineOffset
	SegBlobRaw                           // in Blobs[Blob] as delivered
	SegBlobBase64                        // in Blobs[Blob] decoded; the delivered bytes are its base64 encoding laid out per Layout
)

// Segment is a run of the message's bytes [Start, Start+Len).
type Segment struct {
	Kind         SegmentKind
	Start, Len   int64
	InlineOffset int64
	Blob         int
	Layout       transfer.Layout
	DecodedSize  int64 // SegBlobBase64: the blob's size
}

const structureVersion = 1

// Encode returns the stored form (MessageMeta.Structure).
func (s *Structure) Encode() []byte {
	b := make(wbuf, 0, 64+len(s.Parts)*64+len(s.Segments)*16)
	b.uint(structureVersion)
	b.int(s.Size)
	b.uint(uint64(len(s.Blobs)))
	for _, id := range s.Blobs {
		b = append(b, id[:]...)
	}
	b.uint(uint64(len(s.Parts)))
	for i := range s.Parts {
		p := &s.Parts[i]
		b.int(int64(p.Parent))
		b.str(p.Type)
		b.str(p.Subtype)
		encodeParams(&b, p.Params)
		b.str(p.ContentID)
		b.str(p.Description)
		b.str(p.Encoding)
		b.str(p.MD5)
		b.str(p.Disposition)
		encodeParams(&b, p.DispParams)
		b.strs(p.Language)
		b.str(p.Location)
		b.bool(p.Multipart)
		b.bool(p.Message)
		b.bool(p.Envelope != nil)
		if p.Envelope != nil {
			p.Envelope.encode(&b)
		}
		b.int(p.HeaderStart)
		b.int(p.BodyStart - p.HeaderStart)
		b.int(p.BodyEnd - p.BodyStart)
		b.int(p.Lines)
		b.int(p.DecodedSize)
	}
	b.uint(uint64(len(s.Segments)))
	for _, sg := range s.Segments {
		b.uint(uint64(sg.Kind))
		b.int(sg.Len)
		switch sg.Kind {
		case SegInline:
			b.int(sg.InlineOffset)
		case SegBlobRaw:
			b.uint(uint64(sg.Blob))
		case SegBlobBase64:
			b.uint(uint64(sg.Blob))
			b.uint(uint64(sg.Layout.LineLen))
			b.bool(sg.Layout.CRLF)
			b.bool(sg.Layout.FinalEOL)
			b.int(sg.DecodedSize)
		}
	}
	return b
}

func encodeParams(b *wbuf, ps []mime.Param) {
	b.uint(uint64(len(ps)))
	for _, p := range ps {
		b.str(p.Name)
		b.str(p.Value)
	}
}

func decodeParams(r *rbuf) []mime.Param {
	n := r.count(2)
	if n == 0 {
		return nil
	}
	ps := make([]mime.Param, n)
	for i := range ps {
		ps[i] = mime.Param{Name: r.str(), Value: r.str()}
	}
	return ps
}

// DecodeStructure reads MessageMeta.Structure and checks that it is
// self-consistent, so later reads can index it without bounds surprises.
func DecodeStructure(p []byte) (*Structure, error) {
	r := rbuf{b: p}
	if r.uint() != structureVersion {
		return nil, errCorrupt
	}
	s := &Structure{Size: r.int()}
	nb := r.count(32)
	s.Blobs = make([]BlobID, nb)
	for i := range s.Blobs {
		if len(r.b) < 32 {
			return nil, errCorrupt
		}
		copy(s.Blobs[i][:], r.b)
		r.b = r.b[32:]
	}
	np := r.count(16)
	s.Parts = make([]Part, np)
	for i := range s.Parts {
		p := &s.Parts[i]
		p.Parent = int(r.int())
		p.Type = r.str()
		p.Subtype = r.str()
		p.Params = decodeParams(&r)
		p.ContentID = r.str()
		p.Description = r.str()
		p.Encoding = r.str()
		p.MD5 = r.str()
		p.Disposition = r.str()
		p.DispParams = decodeParams(&r)
		p.Language = r.strs()
		p.Location = r.str()
		p.Multipart = r.bool()
		p.Message = r.bool()
		if r.bool() {
			p.Envelope = decodeEnvelope(&r)
		}
		p.HeaderStart = r.int()
		p.BodyStart = p.HeaderStart + r.int()
		p.BodyEnd = p.BodyStart + r.int()
		p.Lines = r.int()
		p.DecodedSize = r.int()
		if r.err != nil {
			return nil, r.err
		}
		if p.Parent >= i || (i == 0) != (p.Parent == -1) || p.Parent < -1 {
			return nil, errCorrupt
		}
		if p.Parent >= 0 {
			s.Parts[p.Parent].Children = append(s.Parts[p.Parent].Children, i)
		}
		if p.HeaderStart < 0 || p.BodyStart < p.HeaderStart || p.BodyEnd < p.BodyStart || p.BodyEnd > s.Size {
			return nil, errCorrupt
		}
	}
	ns := r.count(2)
	s.Segments = make([]Segment, ns)
	var at int64
	for i := range s.Segments {
		sg := &s.Segments[i]
		sg.Kind = SegmentKind(r.uint())
		sg.Start = at
		sg.Len = r.int()
		switch sg.Kind {
		case SegInline:
			sg.InlineOffset = r.int()
		case SegBlobRaw:
			sg.Blob = int(r.uint())
		case SegBlobBase64:
			sg.Blob = int(r.uint())
			sg.Layout.LineLen = int(r.uint())
			sg.Layout.CRLF = r.bool()
			sg.Layout.FinalEOL = r.bool()
			sg.DecodedSize = r.int()
		default:
			return nil, errCorrupt
		}
		if r.err != nil || sg.Len < 0 || sg.InlineOffset < 0 || (sg.Kind != SegInline && sg.Blob >= len(s.Blobs)) {
			return nil, errCorrupt
		}
		if sg.Kind == SegBlobBase64 && (sg.Layout.LineLen <= 0 || sg.Layout.LineLen%4 != 0 || sg.Layout.EncodedSize(sg.DecodedSize) != sg.Len) {
			return nil, errCorrupt
		}
		at += sg.Len
	}
	if r.err != nil || at != s.Size || len(s.Parts) == 0 {
		return nil, errCorrupt
	}
	return s, nil
}
