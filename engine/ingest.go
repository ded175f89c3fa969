package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/codec/transfer"
	"github.com/eidermail/eider/engine/frames"
)

// IngestOptions tune how a message is split between its row and the blob store.
type IngestOptions struct {
	InlineMax      int64 // a body, preamble or epilogue larger than this goes to the blob store (default 64 KiB)
	InlineTotalMax int64 // once a message's inline bytes pass this, every further body goes to the blob store (default 1 MiB)
	FrameSize      int   // input bytes per zstd frame of a blob (default 256 KiB)
	MaxMessageSize int64 // larger messages are refused with ErrTooBig (default 64 MiB; 0 in a literal config means the default)
	MaxTextExtract int64 // bytes of decoded text kept for SEARCH BODY/TEXT per message (default 1 MiB)
	MaxHeaderBytes int   // a header block longer than this is cut there and the rest treated as body (default 8 MiB)
	// DictionarySamples is how many messages the engine samples to train
	// a compression dictionary for inline segments when the metadata store
	// has none (see zcodec.go); default 64, negative never trains.
	DictionarySamples int
	// Observer, if set, is told what each ingest stores (blob writes,
	// dedup hits, bytes before and after compression).
	Observer IngestObserver
}

func (o IngestOptions) withDefaults() IngestOptions {
	if o.InlineMax <= 0 {
		o.InlineMax = 64 << 10
	}
	if o.InlineTotalMax <= 0 {
		o.InlineTotalMax = 1 << 20
	}
	if o.FrameSize <= 0 {
		o.FrameSize = 256 << 10
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 20
	}
	if o.MaxTextExtract <= 0 {
		o.MaxTextExtract = 1 << 20
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 8 << 20
	}
	if o.DictionarySamples == 0 {
		o.DictionarySamples = 64
	}
	return o
}

// ingested is a parsed message whose blobs are committed and whose row is
// ready: committing the row is the one step that makes it visible.
type ingested struct {
	st     *Structure
	inline []byte      // uncompressed inline bytes
	root   mime.Header // the top-level header block, for delivery rules
	msg    NewMessage  // everything but Structure and Inline
	obs    IngestObserver
}

// compressInline compresses a row's inline bytes and reports both sizes.
func (m *ingested) compressInline(z *zcodec, raw []byte) []byte {
	out := z.compress(raw)
	if m.obs != nil {
		m.obs.InlineStored(int64(len(raw)), int64(len(out)))
	}
	return out
}

// message returns the row to commit: prefix (header fields a delivery adds
// per recipient, such as Return-Path and Delivered-To) goes in front of the
// message without touching its blobs; offsets shift by its length.
func (m *ingested) message(z *zcodec, prefix []byte) NewMessage {
	msg := m.msg
	msg.Blobs = append([]BlobID(nil), m.msg.Blobs...)
	if len(prefix) == 0 {
		msg.Structure = m.st.Encode()
		msg.Inline = m.compressInline(z, m.inline)
		return msg
	}
	p := int64(len(prefix))
	st := *m.st
	st.Size += p
	st.Parts = append([]Part(nil), m.st.Parts...)
	for i := range st.Parts {
		part := &st.Parts[i]
		if i > 0 {
			part.HeaderStart += p
		}
		part.BodyStart += p
		part.BodyEnd += p
	}
	st.Segments = make([]Segment, 0, len(m.st.Segments)+1)
	st.Segments = append(st.Segments, Segment{Kind: SegInline, Start: 0, Len: p})
	for _, sg := range m.st.Segments {
		sg.Start += p
		if sg.Kind == SegInline {
			sg.InlineOffset += p
			if last := &st.Segments[len(st.Segments)-1]; last.Kind == SegInline && last.InlineOffset+last.Len == sg.InlineOffset {
				last.Len += sg.Len
				continue
			}
		}
		st.Segments = append(st.Segments, sg)
	}
	inline := make([]byte, 0, len(prefix)+len(m.inline))
	inline = append(append(inline, prefix...), m.inline...)
	msg.Size += p
	msg.Structure = st.Encode()
	msg.Inline = m.compressInline(z, inline)
	msg.HeaderText = headerText(mime.Header{Raw: prefix}) + msg.HeaderText
	return msg
}

// ingester runs the single pass over a message stream (design: the data path,
// steps 1–3): split, route each run of bytes inline or to a blob, extract
// envelope, structure, searchable text.
type ingester struct {
	ctx   context.Context
	blobs BlobStore
	z     *zcodec
	opt   IngestOptions

	sp       *mime.Splitter
	inline   bytes.Buffer // delivered bytes of inline segments, in message order
	segments []Segment
	blobIDs  []BlobID
	blobIdx  map[BlobID]int

	// The segment being written.
	cur      mime.Piece // Kind/Node/Offset of its first piece
	curOpen  bool
	pending  []byte                    // body bytes held until the inline/blob decision
	blob     *blobSink                 // non-nil once the segment goes to the blob store
	counters map[int]*transfer.Counter // decoded sizes of base64 and QP bodies (BINARY.SIZE)

	text     textExtract
	textPart int // node whose body the extractor is collecting, -1 if none
}

// ingest reads a whole message from r and stores its blobs. Nothing is visible
// until the caller commits the returned row.
func ingest(ctx context.Context, blobs BlobStore, z *zcodec, opt IngestOptions, r io.Reader) (_ *ingested, err error) {
	opt = opt.withDefaults()
	in := &ingester{
		ctx:      ctx,
		blobs:    blobs,
		z:        z,
		opt:      opt,
		blobIdx:  make(map[BlobID]int),
		counters: make(map[int]*transfer.Counter),
		textPart: -1,
	}
	in.text.max = opt.MaxTextExtract
	limited := &sizeLimiter{r: r, max: opt.MaxMessageSize}
	in.sp = mime.NewSplitter(limited, mime.Options{MaxHeaderBytes: opt.MaxHeaderBytes})
	defer func() {
		if err != nil && in.blob != nil {
			in.blob.abort()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := in.sp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if limited.over {
				return nil, ErrTooBig
			}
			return nil, fmt.Errorf("reading message: %w", err)
		}
		if err := in.piece(p); err != nil {
			return nil, err
		}
	}
	if limited.over {
		return nil, ErrTooBig
	}
	if err := in.endSegment(); err != nil {
		return nil, err
	}
	return in.finish()
}

// sizeLimiter stops reading past max so an oversized message costs at most
// max bytes of work.
type sizeLimiter struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
}

func (l *sizeLimiter) Read(p []byte) (int, error) {
	if l.n > l.max {
		l.over = true
		return 0, ErrTooBig
	}
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.over = true
		return n, ErrTooBig
	}
	return n, err
}

func (in *ingester) piece(p mime.Piece) error {
	if p.Start {
		if err := in.endSegment(); err != nil {
			return err
		}
		in.cur = p
		in.curOpen = true
		in.startSegment(p)
	}
	node := in.sp.Node(p.Node)
	if p.Kind == mime.SegBody {
		if c := in.counters[p.Node]; c != nil {
			c.Write(p.Data)
		}
		if in.textPart == p.Node {
			in.text.collect(p.Data)
		}
	}
	switch {
	case p.Kind == mime.SegHeader || p.Kind == mime.SegDelimiter:
		in.inline.Write(p.Data)
		return nil
	case in.blob != nil:
		return in.blob.write(in, p.Data)
	}
	in.pending = append(in.pending, p.Data...)
	if int64(len(in.pending)) > in.opt.InlineMax || in.inlineFull() || (p.Kind == mime.SegBody && isAttachment(node)) {
		return in.toBlob()
	}
	return nil
}

// inlineFull reports that the message's inline buffer reached its cap, so
// further bodies go to the blob store whatever their size.
func (in *ingester) inlineFull() bool {
	return int64(in.inline.Len()+len(in.pending)) > in.opt.InlineTotalMax
}

func isAttachment(n *mime.Node) bool { return n.Disposition == "attachment" }

func (in *ingester) startSegment(p mime.Piece) {
	if p.Kind != mime.SegBody {
		return
	}
	n := in.sp.Node(p.Node)
	switch n.Encoding {
	case "base64":
		in.counters[p.Node] = transfer.NewBase64Counter()
	case "quoted-printable":
		in.counters[p.Node] = transfer.NewQPCounter()
	}
	if n.Type == "text" && (n.Subtype == "plain" || n.Subtype == "html") && !isAttachment(n) {
		in.textPart = p.Node
		in.text.begin(n.Encoding)
	}
}

// toBlob moves the current segment to the blob store: what was pending is
// written first, the rest streams.
func (in *ingester) toBlob() error {
	node := in.sp.Node(in.cur.Node)
	b, err := newBlobSink(in, in.cur.Kind == mime.SegBody && node.Encoding == "base64")
	if err != nil {
		return err
	}
	in.blob = b
	pending := in.pending
	in.pending = in.pending[:0]
	return b.write(in, pending)
}

// endSegment closes the segment being written: its bytes become an inline
// segment or its blob is committed.
func (in *ingester) endSegment() error {
	if !in.curOpen {
		return nil
	}
	in.curOpen = false
	if in.textPart == in.cur.Node && in.cur.Kind == mime.SegBody {
		in.text.end(in.sp.Node(in.cur.Node))
		in.textPart = -1
	}
	if in.blob != nil {
		b := in.blob
		in.blob = nil
		return b.close(in)
	}
	if len(in.pending) > 0 {
		in.inline.Write(in.pending)
		in.pending = in.pending[:0]
	}
	return nil
}

// addInline records n delivered bytes just appended to the inline buffer.
func (in *ingester) addInline(n int64) {
	if n == 0 {
		return
	}
	off := int64(in.inline.Len()) - n
	if k := len(in.segments); k > 0 && in.segments[k-1].Kind == SegInline &&
		in.segments[k-1].InlineOffset+in.segments[k-1].Len == off {
		in.segments[k-1].Len += n
		return
	}
	in.segments = append(in.segments, Segment{Kind: SegInline, Start: in.end(), Len: n, InlineOffset: off})
}

// end is the message offset where the segment table ends so far.
func (in *ingester) end() int64 {
	if k := len(in.segments); k > 0 {
		return in.segments[k-1].Start + in.segments[k-1].Len
	}
	return 0
}

func (in *ingester) blobIndex(id BlobID) int {
	if i, ok := in.blobIdx[id]; ok {
		return i
	}
	in.blobIdx[id] = len(in.blobIDs)
	in.blobIDs = append(in.blobIDs, id)
	return len(in.blobIDs) - 1
}

// blobSink streams one segment into a framed blob, decoding base64 while the
// body stays the exact encoding of what it decodes to.
type blobSink struct {
	w       BlobWriter
	fw      *frames.Writer
	dec     *transfer.Base64Decoder // nil: the blob holds delivered bytes
	out     []byte
	encoded int64 // delivered bytes consumed by this sink
}

func newBlobSink(in *ingester, base64 bool) (*blobSink, error) {
	// Inline bytes that precede the blob become their own segment first.
	in.flushInlineSegment()
	w, err := in.blobs.Create(in.ctx)
	if err != nil {
		return nil, fmt.Errorf("blob create: %w", err)
	}
	b := &blobSink{w: w, fw: frames.NewWriter(w, frames.Options{FrameSize: in.opt.FrameSize})}
	if base64 {
		b.dec = transfer.NewBase64Decoder()
	}
	return b, nil
}

// flushInlineSegment turns inline bytes not yet in the segment table into a segment.
func (in *ingester) flushInlineSegment() {
	covered := int64(0)
	for _, s := range in.segments {
		if s.Kind == SegInline {
			covered = s.InlineOffset + s.Len
		}
	}
	in.addInline(int64(in.inline.Len()) - covered)
}

func (b *blobSink) write(in *ingester, p []byte) error {
	if b.dec == nil {
		b.encoded += int64(len(p))
		if _, err := b.fw.Write(p); err != nil {
			return fmt.Errorf("blob write: %w", err)
		}
		return nil
	}
	var n int
	var ok bool
	b.out, n, ok = b.dec.Write(b.out[:0], p)
	b.encoded += int64(n)
	if _, err := b.fw.Write(b.out); err != nil {
		return fmt.Errorf("blob write: %w", err)
	}
	if ok {
		return nil
	}
	// The body stopped being the canonical encoding of its content: what was
	// verified stays a decoded blob segment, the rest continues raw.
	rest := append(append([]byte(nil), b.dec.Tail()...), p[n:]...)
	return b.split(in, rest)
}

// split ends the decoded part of a base64 body that turned out not to be
// exactly re-encodable and continues with its remaining delivered bytes.
func (b *blobSink) split(in *ingester, rest []byte) error {
	layout := b.dec.Layout()
	in.blob = nil
	if b.dec.Decoded() > 0 {
		if err := b.commit(in, &layout); err != nil {
			return err
		}
	} else {
		b.abort()
	}
	raw, err := newBlobSink(in, false)
	if err != nil {
		return err
	}
	in.blob = raw
	return raw.write(in, rest)
}

func (b *blobSink) close(in *ingester) error {
	if b.dec == nil {
		return b.commit(in, nil)
	}
	var layout transfer.Layout
	var ok bool
	b.out, layout, ok = b.dec.Close(b.out[:0])
	if _, err := b.fw.Write(b.out); err != nil {
		b.abort()
		return fmt.Errorf("blob write: %w", err)
	}
	if ok {
		return b.commit(in, &layout)
	}
	tail := append([]byte(nil), b.dec.Tail()...)
	if err := b.split(in, tail); err != nil {
		return err
	}
	raw := in.blob
	in.blob = nil
	return raw.close(in)
}

// commit finishes the blob and appends its segment. layout is nil for a raw blob.
func (b *blobSink) commit(in *ingester, layout *transfer.Layout) error {
	sum, err := b.fw.Close()
	if err != nil {
		b.w.Abort()
		return fmt.Errorf("blob write: %w", err)
	}
	existed, err := b.w.Commit(in.ctx, BlobID(sum.Hash))
	if err != nil {
		return fmt.Errorf("blob commit: %w", err)
	}
	if o := in.opt.Observer; o != nil {
		o.BlobStored(sum.DecodedSize, sum.StoredSize, existed)
	}
	seg := Segment{Kind: SegBlobRaw, Start: in.end(), Len: sum.DecodedSize, Blob: in.blobIndex(BlobID(sum.Hash))}
	if layout != nil {
		seg.Kind = SegBlobBase64
		seg.Layout = *layout
		seg.DecodedSize = sum.DecodedSize
		seg.Len = layout.EncodedSize(sum.DecodedSize)
	}
	if seg.Len > 0 || seg.DecodedSize > 0 {
		in.segments = append(in.segments, seg)
	}
	return nil
}

func (b *blobSink) abort() {
	b.fw.Close()
	b.w.Abort()
}

// finish builds the row from what the pass collected.
func (in *ingester) finish() (*ingested, error) {
	in.flushInlineSegment()
	nodes := in.sp.Nodes()
	size := in.sp.Size()
	if in.end() != size {
		return nil, fmt.Errorf("ingest: segments cover %d of %d bytes", in.end(), size)
	}
	st := &Structure{Size: size, Segments: in.segments, Blobs: in.blobIDs, Parts: make([]Part, len(nodes))}
	for i, n := range nodes {
		p := &st.Parts[i]
		*p = Part{
			Parent: n.Parent, Type: n.Type, Subtype: n.Subtype, Params: n.Params,
			ContentID: n.ContentID, Description: n.Description, Encoding: n.Encoding, MD5: n.MD5,
			Disposition: n.Disposition, DispParams: n.DispParams, Language: n.Language, Location: n.Location,
			Multipart: n.Multipart, Message: n.Message,
			HeaderStart: n.HeaderStart, BodyStart: n.BodyStart, BodyEnd: n.BodyEnd, Lines: n.BodyLines,
		}
		if n.Message && len(n.Children) == 1 {
			p.Envelope = BuildEnvelope(nodes[n.Children[0]].Header)
		}
		switch {
		case n.Multipart || n.Message:
			p.DecodedSize = n.BodyEnd - n.BodyStart
		case in.counters[i] != nil:
			p.DecodedSize = in.counters[i].Size()
		case knownIdentityEncoding(n.Encoding):
			p.DecodedSize = n.BodyEnd - n.BodyStart
		default:
			p.DecodedSize = -1
		}
	}
	root := nodes[0].Header
	msg := NewMessage{
		Size:       size,
		Envelope:   EncodeEnvelope(BuildEnvelope(root)),
		Blobs:      in.blobIDs,
		HeaderText: headerText(root),
		BodyText:   in.text.String(),
		SentDate:   sentDate(root),
	}
	// One sample per message, not per recipient row: a delivery to a
	// hundred recipients is one message.
	in.z.sample(in.inline.Bytes())
	return &ingested{st: st, inline: in.inline.Bytes(), root: root, msg: msg, obs: in.opt.Observer}, nil
}

func knownIdentityEncoding(enc string) bool {
	switch enc {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

func sentDate(h mime.Header) time.Time {
	t, err := parseDate(h.Get("Date"))
	if err != nil {
		return time.Time{}
	}
	return t
}
