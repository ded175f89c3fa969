package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/codec/transfer"
)

// Section names part of a message the way IMAP FETCH does (RFC 9051 6.4.5):
// BODY[Path.Specifier (Fields)]<Offset.Count> and BINARY[Path]<Offset.Count>.
type Section struct {
	Path      []int    // part numbers; empty = the whole message
	Specifier string   // "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"
	Fields    []string // for HEADER.FIELDS and HEADER.FIELDS.NOT
	Binary    bool     // BINARY: the part's content with its transfer encoding removed
	Partial   bool
	Offset    int64
	Count     int64
}

// Errors of section reads that edges answer specifically.
var (
	ErrNoSuchPart = errors.New("no such message part")
	// ErrUnknownCTE: BINARY of a part whose transfer encoding is unknown (RFC 3516 [UNKNOWN-CTE]).
	ErrUnknownCTE = errors.New("unknown content-transfer-encoding")
)

// SectionData is a section ready to stream: Length is known before the first byte.
type SectionData struct {
	Size   int64 // the whole section's size, before any partial range
	Length int64 // bytes Body yields
	Origin int64 // the partial range's offset (what FETCH echoes as <origin>)
	Body   io.Reader
}

// Message is an opened stored message: its skeleton is decoded, its inline
// bytes and blobs are loaded only when a section needs them.
type Message struct {
	e       *Engine
	ctx     context.Context
	user    UserID
	mailbox MailboxID
	meta    *MessageMeta
	St      *Structure
	c       *content
}

// OpenMessage prepares section reads of a message row.
func (e *Engine) OpenMessage(ctx context.Context, user UserID, mailbox MailboxID, meta *MessageMeta) (*Message, error) {
	st, err := DecodeStructure(meta.Structure)
	if err != nil {
		return nil, fmt.Errorf("message uid %d: %w", meta.UID, err)
	}
	m := &Message{e: e, ctx: ctx, user: user, mailbox: mailbox, meta: meta, St: st}
	m.c = &content{ctx: ctx, st: st, blobs: e.blobs}
	return m, nil
}

// Close releases the blobs the reads opened and returns what they touched.
func (m *Message) Close() ReadStats {
	m.c.close()
	return m.c.stats
}

func (m *Message) loadInline() error {
	if m.c.inline != nil {
		return nil
	}
	for _, s := range m.St.Segments {
		if s.Kind != SegInline {
			continue
		}
		raw, err := m.e.meta.Inline(m.ctx, m.user, m.mailbox, m.meta.UID)
		if err != nil {
			return err
		}
		m.c.inline, err = m.e.z.decompress(raw)
		if err != nil {
			return err
		}
		if m.c.inline == nil {
			m.c.inline = []byte{}
		}
		return nil
	}
	return nil
}

// bytesAt reads [start, end) of the message into memory (headers only: they are bounded).
func (m *Message) bytesAt(start, end int64) ([]byte, error) {
	if err := m.loadInline(); err != nil {
		return nil, err
	}
	p := make([]byte, end-start)
	if err := m.c.readAt(p, start); err != nil {
		return nil, err
	}
	return p, nil
}

// resolve finds the part a section path names. In a message (the top level
// or an encapsulated message/rfc822) part numbers index a multipart body's
// parts, and "1" of a single-part message is its body.
func (st *Structure) resolve(path []int) (int, error) {
	cur := 0
	for _, k := range path {
		p := &st.Parts[cur]
		if p.Message && len(p.Children) == 1 {
			cur = p.Children[0]
			p = &st.Parts[cur]
		}
		isMessage := cur == 0 || st.Parts[p.Parent].Message
		switch {
		case p.Multipart:
			if k < 1 || k > len(p.Children) {
				return 0, ErrNoSuchPart
			}
			cur = p.Children[k-1]
		case k == 1 && isMessage:
			// the body of a single-part message is its part 1
		default:
			return 0, ErrNoSuchPart
		}
	}
	return cur, nil
}

// Section returns a section of the message.
func (m *Message) Section(s Section) (*SectionData, error) {
	st := m.St
	idx := 0
	if len(s.Path) > 0 {
		var err error
		if idx, err = st.resolve(s.Path); err != nil {
			return nil, err
		}
	}
	p := &st.Parts[idx]
	if s.Binary {
		return m.binary(idx, s)
	}
	var start, end int64
	switch s.Specifier {
	case "":
		start, end = p.BodyStart, p.BodyEnd
		if len(s.Path) == 0 {
			start, end = 0, st.Size
		}
	case "MIME":
		if len(s.Path) == 0 {
			return nil, ErrNoSuchPart
		}
		start, end = p.HeaderStart, p.BodyStart
	case "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		msg := idx // the message whose header/text is meant
		if len(s.Path) > 0 {
			if !p.Message || len(p.Children) != 1 {
				return nil, ErrNoSuchPart
			}
			msg = p.Children[0]
		}
		mp := &st.Parts[msg]
		if s.Specifier == "TEXT" {
			start, end = mp.BodyStart, mp.BodyEnd
			break
		}
		start, end = mp.HeaderStart, mp.BodyStart
		if s.Specifier != "HEADER" {
			raw, err := m.bytesAt(start, end)
			if err != nil {
				return nil, err
			}
			sub := filterHeader(raw, s.Fields, s.Specifier == "HEADER.FIELDS.NOT")
			return partial(int64(len(sub)), s, func(off int64) io.Reader { return bytes.NewReader(sub[off:]) })
		}
	default:
		return nil, fmt.Errorf("%w: section specifier %q", ErrNoSuchPart, s.Specifier)
	}
	if err := m.loadInline(); err != nil {
		return nil, err
	}
	return partial(end-start, s, func(off int64) io.Reader {
		return &rangeReader{c: m.c, off: start + off, end: end}
	})
}

// partial applies <offset.count> to a section of size bytes.
func partial(size int64, s Section, from func(off int64) io.Reader) (*SectionData, error) {
	d := &SectionData{Size: size, Length: size}
	off := int64(0)
	if s.Partial {
		off = min(s.Offset, size)
		d.Origin = s.Offset
		d.Length = min(s.Count, size-off)
	}
	d.Body = io.LimitReader(from(off), d.Length)
	return d, nil
}

// filterHeader keeps (or, with not, drops) the named fields of a header block
// and ends the result with an empty line, as RFC 9051 HEADER.FIELDS does.
func filterHeader(raw []byte, names []string, not bool) []byte {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[strings.ToLower(n)] = true
	}
	var out []byte
	for _, f := range (mime.Header{Raw: raw}).Fields() {
		if want[strings.ToLower(f.Name)] != not {
			out = append(out, f.Raw...)
			if len(f.Raw) > 0 && f.Raw[len(f.Raw)-1] != '\n' {
				out = append(out, '\r', '\n')
			}
		}
	}
	return append(out, '\r', '\n')
}

// binary serves BINARY[part]: the content with its transfer encoding removed.
// A base64 body stored decoded is served straight from its blob.
func (m *Message) binary(idx int, s Section) (*SectionData, error) {
	st := m.St
	p := &st.Parts[idx]
	if len(s.Path) == 0 {
		return m.Section(Section{Partial: s.Partial, Offset: s.Offset, Count: s.Count})
	}
	if p.Multipart || p.Message || knownIdentityEncoding(p.Encoding) {
		return m.Section(Section{Path: s.Path, Partial: s.Partial, Offset: s.Offset, Count: s.Count})
	}
	if p.DecodedSize < 0 || (p.Encoding != "base64" && p.Encoding != "quoted-printable") {
		return nil, ErrUnknownCTE
	}
	if seg := st.singleSegment(p.BodyStart, p.BodyEnd); seg != nil && seg.Kind == SegBlobBase64 && seg.DecodedSize == p.DecodedSize {
		return partial(p.DecodedSize, s, func(off int64) io.Reader {
			fr, err := m.c.blob(seg.Blob)
			if err != nil {
				return errReader{err}
			}
			return io.NewSectionReader(fr, off, p.DecodedSize-off)
		})
	}
	if err := m.loadInline(); err != nil {
		return nil, err
	}
	return partial(p.DecodedSize, s, func(off int64) io.Reader {
		var r io.Reader = &rangeReader{c: m.c, off: p.BodyStart, end: p.BodyEnd}
		if p.Encoding == "base64" {
			r = transfer.NewBase64Reader(r)
		} else {
			r = transfer.NewQPReader(r)
		}
		if off > 0 {
			if _, err := io.CopyN(io.Discard, r, off); err != nil {
				return errReader{err}
			}
		}
		return r
	})
}

// singleSegment returns the segment that exactly covers [start, end), if one does.
func (st *Structure) singleSegment(start, end int64) *Segment {
	for i := range st.Segments {
		s := &st.Segments[i]
		if s.Start == start && s.Start+s.Len == end {
			return s
		}
		if s.Start > start {
			break
		}
	}
	return nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
