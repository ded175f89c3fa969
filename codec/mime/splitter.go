package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// SegmentKind says what a run of message bytes is.
type SegmentKind uint8

// Segment kinds. Every byte of a message belongs to exactly one segment.
const (
	SegHeader    SegmentKind = iota + 1 // a node's raw header block, including the empty line that ends it, if there is one
	SegBody                             // a leaf node's body: exactly what IMAP BODY[part] returns for that leaf
	SegPreamble                         // bytes of a multipart body before its first delimiter line
	SegDelimiter                        // the line break before "--boundary" (RFC 2046 gives it to the delimiter), "--boundary", transport padding, the line break after it
	SegEpilogue                         // the close delimiter (its preceding line break, "--boundary--", padding, line break) and everything after it up to the parent's next delimiter or EOF
)

func (k SegmentKind) String() string {
	switch k {
	case SegHeader:
		return "header"
	case SegBody:
		return "body"
	case SegPreamble:
		return "preamble"
	case SegDelimiter:
		return "delimiter"
	case SegEpilogue:
		return "epilogue"
	}
	return fmt.Sprintf("SegmentKind(%d)", uint8(k))
}

// Options bound what a Splitter holds in memory. Zero values take the defaults.
type Options struct {
	MaxHeaderBytes int // a header block longer than this ends there and the rest is treated as body (default 8 MiB)
	MaxDepth       int // multipart/message nesting deeper than this is kept as an opaque leaf (default 256)
	ChunkSize      int // largest Data slice handed out for body bytes (default 64 KiB, at least 2)
	// MaxParts caps the nodes of the tree (default 10000). Past it, no part
	// is opened: a delimiter line that would open one is content, close
	// delimiters still end their multipart, and multiparts and messages met
	// later are leaves. It keeps a message made of delimiter lines from
	// costing a node per four bytes.
	MaxParts int
}

const (
	defaultMaxHeaderBytes = 8 << 20
	defaultMaxDepth       = 256
	defaultChunkSize      = 64 << 10
	defaultMaxParts       = 10000
	maxChunkSize          = 64 << 20

	// delimiterWindow is how far a line start is examined to decide whether
	// it is a boundary delimiter: "--", the boundary, "--", transport
	// padding and the line break must fit in it. A longer line is content,
	// whatever it starts with. Fixed so the decision never depends on how
	// the input happened to arrive.
	delimiterWindow = 4096
	// maxBoundaryLen caps the boundary parameter (RFC 2046 allows 70); a
	// multipart with a longer one is kept as a leaf.
	maxBoundaryLen = 1000

	// initialBufferSize holds a typical message whole and a delimiter
	// window; the buffer grows to maxBuf only for larger messages.
	initialBufferSize = 2 * delimiterWindow
)

// Piece is a run of message bytes handed out by Splitter.Next. Concatenating
// the Data of every piece in order gives back the message byte for byte.
type Piece struct {
	Kind   SegmentKind
	Node   int    // index into the splitter's nodes (pre-order, root = 0)
	Start  bool   // first piece of a new segment
	Offset int64  // offset of Data[0] in the message
	Data   []byte // valid until the next call to Next
}

// state is what the splitter is reading for the node on top of its stack.
type state uint8

const (
	stHeader   state = iota // the node's header block
	stBody                  // a leaf's body
	stPreamble              // a multipart's body before its first delimiter
	stEpilogue              // a multipart's body after its close delimiter
)

// frame is a node whose bytes are still being read. Frames below the top are
// multiparts between their parts, or message/rfc822 parts around their
// encapsulated message.
type frame struct {
	node     int
	boundary string // multipart only
	active   bool   // its delimiters are recognized (a multipart before its close delimiter)
}

// Splitter splits a message stream into a MIME tree while the bytes arrive.
// It never holds more than MaxHeaderBytes of header plus a few chunks of
// body, and every input byte comes out in exactly one Piece.
type Splitter struct {
	r   io.Reader
	opt Options

	// Input buffer: buf[rpos:wpos] is read but not yet handed out.
	buf        []byte
	rpos, wpos int
	maxBuf     int
	eof        bool
	readOff    int64 // message offset of buf[rpos]

	nodes  []*Node
	bodyNL []int64 // per node: newlines handed out before its BodyStart
	stack  []frame
	// bounds counts the active frames per boundary, so a line that starts
	// with "--" costs one map look-up however deep the nesting is.
	bounds map[string]int

	state   state
	started bool // the current segment has handed out its first piece
	// At a line start, held is the length of the line break before it
	// (still at buf[rpos:]): it goes to a delimiter if the line is one, to
	// the content otherwise.
	atLineStart bool
	held        int
	hdr         []byte // header block of the top node, while it is read

	// What has been handed out.
	pos  int64
	nl   int64
	last byte

	err error // sticky: io.EOF or the read error
}

var errStuck = errors.New("mime: input buffer full without progress")

// NewSplitter returns a Splitter reading the message from r.
func NewSplitter(r io.Reader, opt Options) *Splitter {
	if opt.MaxHeaderBytes <= 0 {
		opt.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = defaultMaxDepth
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = defaultChunkSize
	}
	if opt.MaxParts <= 0 {
		opt.MaxParts = defaultMaxParts
	}
	// Two bytes guarantee progress: a chunk never ends in a CR that may
	// begin the CRLF of a delimiter, and two bytes always hold a non-CR or a
	// complete line break.
	opt.ChunkSize = min(max(opt.ChunkSize, 2), maxChunkSize)
	s := &Splitter{
		r:           r,
		opt:         opt,
		maxBuf:      2*opt.ChunkSize + delimiterWindow,
		bounds:      make(map[string]int),
		atLineStart: true,
	}
	s.buf = make([]byte, min(initialBufferSize, s.maxBuf))
	s.push(-1)
	return s
}

// Node returns node i as far as it has been seen, or nil. Its header fields
// are parsed once its SegHeader piece has been returned; BodyEnd and
// BodyLines are final once the node has ended (always after io.EOF).
func (s *Splitter) Node(i int) *Node {
	if i < 0 || i >= len(s.nodes) {
		return nil
	}
	return s.nodes[i]
}

// Nodes returns the nodes seen so far in pre-order: the complete tree after io.EOF.
func (s *Splitter) Nodes() []*Node { return s.nodes }

// Size returns how many bytes have been handed out: the message size after io.EOF.
func (s *Splitter) Size() int64 { return s.pos }

// Next returns the next piece of the message. It returns io.EOF after the
// last piece, and a wrapped error if reading the input fails; both are sticky.
func (s *Splitter) Next() (Piece, error) {
	if s.err != nil {
		return Piece{}, s.err
	}
	var p Piece
	var err error
	if s.state == stHeader {
		p, err = s.header()
	} else {
		p, err = s.content()
	}
	if err != nil {
		s.err = err
		return Piece{}, err
	}
	p.Offset = s.pos
	s.pos += int64(len(p.Data))
	s.nl += int64(bytes.Count(p.Data, []byte{'\n'}))
	if len(p.Data) > 0 {
		s.last = p.Data[len(p.Data)-1]
	}
	if p.Kind == SegHeader {
		s.bodyNL[p.Node] = s.nl
	}
	return p, nil
}

// push opens a new node as the last child of parent (-1 for the root) at the
// current read position, and starts reading its header.
func (s *Splitter) push(parent int) {
	n := &Node{Index: len(s.nodes), Parent: parent, HeaderStart: s.readOff}
	if parent >= 0 {
		p := s.nodes[parent]
		n.Depth = p.Depth + 1
		p.Children = append(p.Children, n.Index)
	}
	s.nodes = append(s.nodes, n)
	s.bodyNL = append(s.bodyNL, 0)
	s.stack = append(s.stack, frame{node: n.Index})
	s.state = stHeader
	s.started = false
	s.hdr = nil
}

// pop ends the node on top of the stack at the handed-out position.
func (s *Splitter) pop() {
	f := &s.stack[len(s.stack)-1]
	if f.active {
		s.deactivate(f)
	}
	n := s.nodes[f.node]
	n.BodyEnd = s.pos
	n.BodyLines = s.nl - s.bodyNL[f.node]
	if n.BodyEnd > n.BodyStart && s.last != '\n' {
		n.BodyLines++
	}
	s.stack = s.stack[:len(s.stack)-1]
}

func (s *Splitter) deactivate(f *frame) {
	f.active = false
	if s.bounds[f.boundary]--; s.bounds[f.boundary] <= 0 {
		delete(s.bounds, f.boundary)
	}
}

func (s *Splitter) consume(n int) {
	s.rpos += n
	s.readOff += int64(n)
}

// fill reads more input into the buffer, once. At EOF it does nothing.
func (s *Splitter) fill() error {
	if s.eof {
		return nil
	}
	if s.wpos == len(s.buf) {
		// Grow up to maxBuf first (small messages never need the full
		// buffer), then slide the unread bytes to the front.
		switch {
		case len(s.buf) < s.maxBuf:
			nb := make([]byte, min(2*len(s.buf), s.maxBuf))
			s.wpos = copy(nb, s.buf[s.rpos:s.wpos])
			s.rpos = 0
			s.buf = nb
		case s.rpos > 0:
			s.wpos = copy(s.buf, s.buf[s.rpos:s.wpos])
			s.rpos = 0
		default:
			return errStuck
		}
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.wpos:])
		if n < 0 || n > len(s.buf)-s.wpos {
			return fmt.Errorf("mime: reading message: invalid read count %d", n)
		}
		s.wpos += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("mime: reading message: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
	return fmt.Errorf("mime: reading message: %w", io.ErrNoProgress)
}

// header reads the header block of the node on top of the stack and returns
// it as one SegHeader piece.
func (s *Splitter) header() (Piece, error) {
	limit := s.opt.MaxHeaderBytes
	for {
		data := s.buf[s.rpos:s.wpos]
		if s.atLineStart {
			need := s.held + 2 // enough to tell an empty line
			if len(s.bounds) > 0 {
				need = s.held + delimiterWindow
			}
			if !s.eof && len(data) < need {
				if err := s.fill(); err != nil {
					return Piece{}, err
				}
				continue
			}
			if len(s.bounds) > 0 {
				if _, r := s.matchDelimiter(data[s.held:]); r == isDelimiter {
					// A part without a blank line before the next delimiter:
					// the header is what came before; the held line break
					// belongs to the delimiter.
					return s.endHeader(), nil
				}
			}
			if s.held > 0 {
				if len(s.hdr)+s.held > limit {
					return s.endHeader(), nil
				}
				s.hdr = append(s.hdr, data[:s.held]...)
				s.consume(s.held)
				data = data[s.held:]
				s.held = 0
			}
			if len(data) == 0 { // EOF
				return s.endHeader(), nil
			}
			if b := emptyLine(data); b > 0 {
				if len(s.hdr)+b <= limit {
					s.hdr = append(s.hdr, data[:b]...)
					s.consume(b)
				}
				return s.endHeader(), nil
			}
			s.atLineStart = false
			continue
		}
		if len(data) == 0 {
			if s.eof {
				return s.endHeader(), nil
			}
			if err := s.fill(); err != nil {
				return Piece{}, err
			}
			continue
		}
		if k := bytes.IndexByte(data, '\n'); k >= 0 {
			j := k
			if k > 0 && data[k-1] == '\r' {
				j--
			}
			if !s.appendHeader(data[:j]) {
				return s.endHeader(), nil
			}
			s.atLineStart, s.held = true, k+1-j
			continue
		}
		n := len(data)
		if data[n-1] == '\r' && !s.eof {
			n-- // may be the CR of a CRLF
		}
		if n == 0 {
			if err := s.fill(); err != nil {
				return Piece{}, err
			}
			continue
		}
		if !s.appendHeader(data[:n]) {
			return s.endHeader(), nil
		}
	}
}

// appendHeader adds part of a header line; it reports false when the header
// reached MaxHeaderBytes, which ends it in the middle of the line.
func (s *Splitter) appendHeader(b []byte) bool {
	room := s.opt.MaxHeaderBytes - len(s.hdr)
	if len(b) > room {
		s.hdr = append(s.hdr, b[:room]...)
		s.consume(room)
		return false
	}
	s.hdr = append(s.hdr, b...)
	s.consume(len(b))
	return true
}

func emptyLine(b []byte) int {
	switch {
	case len(b) >= 1 && b[0] == '\n':
		return 1
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		return 2
	}
	return 0
}

// endHeader records the header block of the top node, decides how its body
// is read, and returns the SegHeader piece.
func (s *Splitter) endHeader() Piece {
	top := len(s.stack) - 1
	n := s.nodes[s.stack[top].node]
	if slack := cap(s.hdr) - len(s.hdr); slack > 4096 && slack > len(s.hdr)/4 {
		s.hdr = bytes.Clone(s.hdr) // the node keeps its header: not the append slack
	}
	// Capped, so a caller appending to Raw or to the piece cannot write
	// into memory the splitter still uses.
	n.Header = Header{Raw: s.hdr[:len(s.hdr):len(s.hdr)]}
	n.BodyStart = n.HeaderStart + int64(len(s.hdr))
	s.hdr = nil
	inDigest := false
	if n.Parent >= 0 {
		p := s.nodes[n.Parent]
		inDigest = p.Multipart && p.Subtype == "digest"
	}
	n.describe(inDigest)
	p := Piece{Kind: SegHeader, Node: n.Index, Start: true, Data: n.Header.Raw}

	// A node that descends needs room for at least one more node.
	descend := n.Depth < s.opt.MaxDepth && len(s.nodes) < s.opt.MaxParts
	switch {
	case descend && n.Type == "multipart" && n.Boundary != "" && len(n.Boundary) <= maxBoundaryLen:
		n.Multipart = true
		f := &s.stack[top]
		f.boundary, f.active = n.Boundary, true
		s.bounds[n.Boundary]++
		s.state = stPreamble
		s.started = false
	case descend && n.Type == "message" && (n.Subtype == "rfc822" || n.Subtype == "global") && identityEncoding(n.Encoding):
		n.Message = true
		s.push(n.Index) // the encapsulated message starts right here
	default:
		s.state = stBody
		s.started = false
	}
	return p
}

// identityEncoding reports whether a Content-Transfer-Encoding leaves the
// bytes as they are, so an encapsulated message can be split in place.
func identityEncoding(enc string) bool {
	switch enc {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

func (s *Splitter) contentKind() SegmentKind {
	switch s.state {
	case stPreamble:
		return SegPreamble
	case stEpilogue:
		return SegEpilogue
	}
	return SegBody
}

// content hands out the next piece of a leaf body, a preamble or an epilogue,
// or the delimiter that ends it.
func (s *Splitter) content() (Piece, error) {
	node := s.stack[len(s.stack)-1].node
	for {
		data := s.buf[s.rpos:s.wpos]
		from := 0 // data[:from] is already known to be content
		if s.atLineStart {
			if len(s.bounds) > 0 {
				if !s.eof && len(data) < s.held+delimiterWindow {
					if err := s.fill(); err != nil {
						return Piece{}, err
					}
					continue
				}
				if m, r := s.matchDelimiter(data[s.held:]); r == isDelimiter {
					return s.delimiter(m), nil
				}
			}
			from = s.held
			s.atLineStart, s.held = false, 0
		} else if !s.eof && len(data) < s.opt.ChunkSize+delimiterWindow && s.wpos < len(s.buf) {
			// Read ahead while there is room, so pieces come out large.
			if err := s.fill(); err != nil {
				return Piece{}, err
			}
			data = s.buf[s.rpos:s.wpos]
		}

		var n, brk int
		if len(s.bounds) == 0 {
			n = min(len(data), s.opt.ChunkSize)
		} else {
			n, brk = s.scanContent(data, from)
		}
		if n > 0 {
			p := Piece{Kind: s.contentKind(), Node: node, Start: !s.started, Data: data[:n]}
			s.started = true
			s.consume(n)
			if brk > 0 {
				s.atLineStart, s.held = true, brk
			}
			return p, nil
		}
		if brk > 0 {
			s.atLineStart, s.held = true, brk
			continue
		}
		if len(data) == 0 && s.eof {
			return s.finish()
		}
		if err := s.fill(); err != nil {
			return Piece{}, err
		}
	}
}

// scanContent returns how much of data is content that can be handed out
// now. data[:from] is a line break already known not to precede a delimiter.
// When the run stops at a line break that must be held back (the next line
// is a delimiter, or is not known yet), brk is that break's length.
func (s *Splitter) scanContent(data []byte, from int) (n, brk int) {
	limit := max(min(len(data), s.opt.ChunkSize), from)
	i := from
	for {
		k := bytes.IndexByte(data[i:limit], '\n')
		if k < 0 {
			break
		}
		e := i + k
		if _, r := s.matchDelimiter(data[e+1:]); r == notDelimiter {
			i = e + 1
			continue
		}
		b := e
		if b > 0 && data[b-1] == '\r' {
			b--
		}
		return b, e + 1 - b
	}
	end := limit
	// A CR at the end may start the CRLF before a delimiter: keep it until
	// the next byte is known.
	if end > from && data[end-1] == '\r' && !(s.eof && end == len(data)) {
		end--
	}
	return end, 0
}

// delimiter hands out the delimiter line m, which starts at the held line
// break: it ends every node inside its multipart and opens the next part, or
// starts the epilogue.
func (s *Splitter) delimiter(m delimMatch) Piece {
	if s.state == stBody && !s.started {
		// An empty leaf body still gets its one (empty) piece; the
		// delimiter is found again on the next call.
		s.started = true
		return Piece{Kind: SegBody, Node: s.stack[len(s.stack)-1].node, Start: true, Data: s.buf[s.rpos:s.rpos]}
	}
	for len(s.stack)-1 > m.frame {
		s.pop()
	}
	f := &s.stack[m.frame]
	if m.close {
		// RFC 2046: close-delimiter transport-padding [CRLF epilogue]. The
		// line break after the close delimiter is held back like content:
		// it starts the epilogue, or is the line break of the parent's next
		// delimiter.
		data := s.buf[s.rpos : s.rpos+s.held+m.n-m.brk]
		s.consume(len(data))
		s.atLineStart, s.held = true, m.brk
		s.deactivate(f)
		s.state = stEpilogue
		s.started = true
		return Piece{Kind: SegEpilogue, Node: f.node, Start: true, Data: data}
	}
	data := s.buf[s.rpos : s.rpos+s.held+m.n]
	s.consume(len(data))
	s.atLineStart, s.held = true, 0
	owner := f.node
	s.push(owner)
	return Piece{Kind: SegDelimiter, Node: owner, Start: true, Data: data}
}

// finish ends every open node at EOF.
func (s *Splitter) finish() (Piece, error) {
	if s.state == stBody && !s.started {
		s.started = true
		return Piece{Kind: SegBody, Node: s.stack[len(s.stack)-1].node, Start: true, Data: s.buf[s.rpos:s.rpos]}, nil
	}
	for len(s.stack) > 0 {
		s.pop()
	}
	return Piece{}, io.EOF
}

type delimMatch struct {
	frame int // stack index of the multipart the delimiter belongs to
	close bool
	n     int // length of the delimiter line, line break included
	brk   int // length of its line break: 2, 1, or 0 at EOF
}

const (
	notDelimiter = iota
	isDelimiter
	needMore
)

// matchDelimiter decides whether line (which starts at a line start and runs
// to the end of the buffered input) is a delimiter of an open multipart:
// "--" boundary ["--"] *(SP / HTAB) followed by CRLF, LF or EOF. The innermost
// multipart whose boundary matches wins, so an outer delimiter closes inner
// parts that never closed.
func (s *Splitter) matchDelimiter(line []byte) (delimMatch, int) {
	if len(line) < 2 {
		if !s.eof && (len(line) == 0 || line[0] == '-') {
			return delimMatch{}, needMore
		}
		return delimMatch{}, notDelimiter
	}
	if line[0] != '-' || line[1] != '-' || len(s.bounds) == 0 {
		return delimMatch{}, notDelimiter
	}
	w := line
	limited := false
	if len(w) > delimiterWindow {
		w, limited = w[:delimiterWindow], true
	}
	var text []byte
	var n, brk int
	if e := bytes.IndexByte(w, '\n'); e >= 0 {
		n, brk = e+1, 1
		text = w[:e]
		if len(text) > 0 && text[len(text)-1] == '\r' {
			text = text[:len(text)-1]
			brk = 2
		}
	} else {
		switch {
		case limited:
			return delimMatch{}, notDelimiter
		case !s.eof:
			return delimMatch{}, needMore
		}
		n, text = len(w), w // the line ends at EOF
	}
	c := bytes.TrimRight(text[2:], " \t")
	best, closing := -1, false
	if s.bounds[string(c)] > 0 && len(s.nodes) < s.opt.MaxParts {
		best = s.innermost(c)
	}
	if l := len(c); l >= 2 && c[l-2] == '-' && c[l-1] == '-' && s.bounds[string(c[:l-2])] > 0 {
		if j := s.innermost(c[:l-2]); j > best {
			best, closing = j, true
		}
	}
	if best < 0 {
		return delimMatch{}, notDelimiter
	}
	return delimMatch{frame: best, close: closing, n: n, brk: brk}, isDelimiter
}

// innermost returns the stack index of the innermost active multipart with
// boundary b.
func (s *Splitter) innermost(b []byte) int {
	for i := len(s.stack) - 1; i >= 0; i-- {
		if f := &s.stack[i]; f.active && f.boundary == string(b) {
			return i
		}
	}
	return -1
}
