package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// splitResult is everything a Splitter handed out, with piece data copied.
type splitResult struct {
	pieces []Piece
	nodes  []*Node
	size   int64
}

func splitAll(r io.Reader, opt Options) (*splitResult, error) {
	sp := NewSplitter(r, opt)
	res := &splitResult{}
	for {
		p, err := sp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if p.Kind == SegHeader {
			n := sp.Node(p.Node)
			if n == nil || n.Header.Raw == nil && len(p.Data) > 0 {
				return nil, fmt.Errorf("node %d header not parsed when its SegHeader came out", p.Node)
			}
		}
		p.Data = bytes.Clone(p.Data)
		res.pieces = append(res.pieces, p)
	}
	if _, err := sp.Next(); err != io.EOF {
		return nil, fmt.Errorf("Next after EOF = %v, want io.EOF", err)
	}
	res.nodes = sp.Nodes()
	res.size = sp.Size()
	return res, nil
}

// segment is a run of pieces of one segment, joined.
type segment struct {
	Kind SegmentKind
	Node int
	Data string
}

func (s segment) String() string { return fmt.Sprintf("%v@%d %q", s.Kind, s.Node, s.Data) }

func segments(pieces []Piece) []segment {
	var out []segment
	var data [][]byte
	for _, p := range pieces {
		if p.Start || len(out) == 0 {
			out = append(out, segment{Kind: p.Kind, Node: p.Node})
			data = append(data, nil)
		}
		data[len(data)-1] = append(data[len(data)-1], p.Data...)
	}
	for i := range out {
		out[i].Data = string(data[i])
	}
	return out
}

// checkSplit verifies every invariant the splitter promises for input.
func checkSplit(input []byte, opt Options, res *splitResult) error {
	chunk := opt.ChunkSize
	if chunk <= 0 {
		chunk = defaultChunkSize
	}
	chunk = max(chunk, 2)

	// Rebuild and contiguous offsets.
	var rebuilt []byte
	for i, p := range res.pieces {
		if p.Offset != int64(len(rebuilt)) {
			return fmt.Errorf("piece %d (%v) at offset %d, want %d", i, p.Kind, p.Offset, len(rebuilt))
		}
		rebuilt = append(rebuilt, p.Data...)
		if (p.Kind == SegBody || p.Kind == SegPreamble || (p.Kind == SegEpilogue && !p.Start)) && len(p.Data) > chunk {
			return fmt.Errorf("piece %d (%v) has %d bytes, chunk size %d", i, p.Kind, len(p.Data), chunk)
		}
		if p.Node < 0 || p.Node >= len(res.nodes) {
			return fmt.Errorf("piece %d names node %d of %d", i, p.Node, len(res.nodes))
		}
	}
	if !bytes.Equal(rebuilt, input) {
		return fmt.Errorf("rebuild differs: got %d bytes, want %d (first difference at %d)", len(rebuilt), len(input), firstDiff(rebuilt, input))
	}
	if res.size != int64(len(input)) {
		return fmt.Errorf("Size() = %d, want %d", res.size, len(input))
	}

	// Segment boundaries and Start flags.
	for i, p := range res.pieces {
		continues := i > 0 && res.pieces[i-1].Kind == p.Kind && res.pieces[i-1].Node == p.Node
		switch {
		case p.Kind == SegHeader || p.Kind == SegDelimiter:
			if !p.Start {
				return fmt.Errorf("piece %d (%v) without Start", i, p.Kind)
			}
		case !continues && !p.Start:
			return fmt.Errorf("piece %d (%v node %d) begins a segment without Start", i, p.Kind, p.Node)
		case continues && p.Start && p.Kind != SegEpilogue:
			return fmt.Errorf("piece %d (%v node %d) has Start in the middle of a segment", i, p.Kind, p.Node)
		}
	}

	nodes := res.nodes
	if len(nodes) == 0 {
		return errors.New("no root node")
	}
	headers := make([]int, len(nodes))
	bodies := make([][]byte, len(nodes))
	bodyStarts := make([]int, len(nodes))
	lastHeader := -1
	for _, p := range res.pieces {
		n := nodes[p.Node]
		switch p.Kind {
		case SegHeader:
			headers[p.Node]++
			if p.Node != lastHeader+1 {
				return fmt.Errorf("header of node %d after node %d: not pre-order", p.Node, lastHeader)
			}
			lastHeader = p.Node
		case SegBody:
			if !n.IsLeaf() {
				return fmt.Errorf("SegBody for non-leaf node %d", p.Node)
			}
			if p.Start {
				bodyStarts[p.Node]++
			}
			bodies[p.Node] = append(bodies[p.Node], p.Data...)
		case SegPreamble, SegDelimiter, SegEpilogue:
			if !n.Multipart {
				return fmt.Errorf("%v for node %d, which is not a split multipart", p.Kind, p.Node)
			}
			if p.Kind == SegDelimiter || p.Kind == SegEpilogue && p.Start {
				d := bytes.TrimLeft(p.Data, "\r\n")
				if !bytes.HasPrefix(d, []byte("--"+n.Boundary)) {
					return fmt.Errorf("%v %q of node %d does not carry boundary %q", p.Kind, p.Data, p.Node, n.Boundary)
				}
			}
		default:
			return fmt.Errorf("unknown segment kind %v", p.Kind)
		}
	}
	size := int64(len(input))
	for i, n := range nodes {
		if n.Index != i {
			return fmt.Errorf("node %d has Index %d", i, n.Index)
		}
		if headers[i] != 1 {
			return fmt.Errorf("node %d has %d SegHeader pieces", i, headers[i])
		}
		if !(0 <= n.HeaderStart && n.HeaderStart <= n.BodyStart && n.BodyStart <= n.BodyEnd && n.BodyEnd <= size) {
			return fmt.Errorf("node %d offsets %d %d %d out of order (size %d)", i, n.HeaderStart, n.BodyStart, n.BodyEnd, size)
		}
		if !bytes.Equal(n.Header.Raw, input[n.HeaderStart:n.BodyStart]) {
			return fmt.Errorf("node %d header %q differs from input[%d:%d]", i, n.Header.Raw, n.HeaderStart, n.BodyStart)
		}
		if n.IsLeaf() {
			if bodyStarts[i] != 1 {
				return fmt.Errorf("leaf %d has %d SegBody starts", i, bodyStarts[i])
			}
			if !bytes.Equal(bodies[i], input[n.BodyStart:n.BodyEnd]) {
				return fmt.Errorf("leaf %d body %q differs from input[%d:%d] %q", i, bodies[i], n.BodyStart, n.BodyEnd, input[n.BodyStart:n.BodyEnd])
			}
			if len(n.Children) != 0 {
				return fmt.Errorf("leaf %d has children", i)
			}
		}
		if want := countLines(input[n.BodyStart:n.BodyEnd]); n.BodyLines != want {
			return fmt.Errorf("node %d BodyLines %d, want %d", i, n.BodyLines, want)
		}
		if i == 0 {
			if n.Parent != -1 || n.HeaderStart != 0 || n.BodyEnd != size || n.Depth != 0 {
				return fmt.Errorf("root: parent %d, header start %d, body end %d, depth %d", n.Parent, n.HeaderStart, n.BodyEnd, n.Depth)
			}
		} else {
			if n.Parent < 0 || n.Parent >= i {
				return fmt.Errorf("node %d has parent %d", i, n.Parent)
			}
			p := nodes[n.Parent]
			if n.Depth != p.Depth+1 {
				return fmt.Errorf("node %d depth %d, parent depth %d", i, n.Depth, p.Depth)
			}
			if n.HeaderStart < p.BodyStart || n.BodyEnd > p.BodyEnd {
				return fmt.Errorf("node %d [%d,%d) outside parent body [%d,%d)", i, n.HeaderStart, n.BodyEnd, p.BodyStart, p.BodyEnd)
			}
		}
		if n.Message {
			if len(n.Children) != 1 {
				return fmt.Errorf("message node %d has %d children", i, len(n.Children))
			}
			c := nodes[n.Children[0]]
			if c.HeaderStart != n.BodyStart || c.BodyEnd != n.BodyEnd {
				return fmt.Errorf("message node %d body [%d,%d), child [%d,%d)", i, n.BodyStart, n.BodyEnd, c.HeaderStart, c.BodyEnd)
			}
		}
		if n.Multipart && n.Message {
			return fmt.Errorf("node %d both multipart and message", i)
		}
		if !n.Multipart && !n.Message && len(n.Children) > 0 {
			return fmt.Errorf("node %d has children but is a leaf", i)
		}
		prevEnd := n.BodyStart
		for _, ci := range n.Children {
			if ci <= i || ci >= len(nodes) || nodes[ci].Parent != i {
				return fmt.Errorf("node %d lists child %d", i, ci)
			}
			c := nodes[ci]
			if c.HeaderStart < prevEnd {
				return fmt.Errorf("node %d child %d starts at %d before %d", i, ci, c.HeaderStart, prevEnd)
			}
			prevEnd = c.BodyEnd
		}
	}
	// Children lists name only nodes that point back, in increasing order;
	// if they add up to every non-root node, each node is listed once.
	listed := 0
	for i, n := range nodes {
		prev := i
		for _, ci := range n.Children {
			if ci <= prev {
				return fmt.Errorf("node %d children %v not increasing", i, n.Children)
			}
			prev = ci
		}
		listed += len(n.Children)
	}
	if listed != len(nodes)-1 {
		return fmt.Errorf("%d nodes listed as children, want %d", listed, len(nodes)-1)
	}
	return nil
}

func countLines(b []byte) int64 {
	n := int64(bytes.Count(b, []byte{'\n'}))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// shape is the chunking-independent outcome of a split: the segments and
// the nodes without their header pointers.
func shape(res *splitResult) string {
	var b strings.Builder
	for _, s := range segments(res.pieces) {
		fmt.Fprintf(&b, "%v@%d %q\n", s.Kind, s.Node, s.Data)
	}
	for _, n := range res.nodes {
		c := *n
		c.Header = Header{}
		fmt.Fprintf(&b, "%+v raw=%q\n", c, n.Header.Raw)
	}
	return b.String()
}

// chunkReader hands out the input in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = max(r.sizes[r.i%len(r.sizes)], 0)
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// checkAllReaders splits input through several readers and chunk sizes,
// checks each result, and checks that the tree does not depend on them.
func checkAllReaders(input []byte, opt Options) (*splitResult, error) {
	base, err := splitAll(bytes.NewReader(input), opt)
	if err != nil {
		return nil, err
	}
	if err := checkSplit(input, opt, base); err != nil {
		return nil, fmt.Errorf("whole reader: %w", err)
	}
	want := shape(base)
	readers := map[string]func() io.Reader{
		"one byte":  func() io.Reader { return &chunkReader{data: input, sizes: []int{1}} },
		"ragged":    func() io.Reader { return &chunkReader{data: input, sizes: []int{3, 0, 7, 1, 4096, 2, 13}} },
		"half page": func() io.Reader { return &chunkReader{data: input, sizes: []int{2049}} },
	}
	for name, mk := range readers {
		res, err := splitAll(mk(), opt)
		if err != nil {
			return nil, fmt.Errorf("%s reader: %w", name, err)
		}
		if err := checkSplit(input, opt, res); err != nil {
			return nil, fmt.Errorf("%s reader: %w", name, err)
		}
		if got := shape(res); got != want {
			return nil, fmt.Errorf("%s reader: tree differs from whole reader:\n%s\nwant\n%s", name, got, want)
		}
	}
	return base, nil
}
