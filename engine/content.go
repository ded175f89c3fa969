package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/eidermail/eider/codec/transfer"
	"github.com/eidermail/eider/engine/frames"
)

// content gives byte-range access to one stored message: the delivered bytes
// rebuilt from its inline buffer and its blobs, reading only the segments,
// and within blobs only the frames, that a range covers.
type content struct {
	ctx    context.Context
	st     *Structure
	inline []byte
	blobs  BlobStore
	open   map[int]*openBlob
	stats  ReadStats
	// Scratch buffers for regenerating base64 ranges, reused across the
	// chunks of one read so a large FETCH allocates them once.
	dec, enc []byte
}

type openBlob struct {
	r  BlobReader
	fr *frames.Reader
}

// ReadStats counts what a read touched (for benchmarks and metrics).
type ReadStats struct {
	FramesRead      int
	StoredBytesRead int64
}

func (c *content) close() {
	for _, b := range c.open {
		n, bytes := b.fr.Stats()
		c.stats.FramesRead += n
		c.stats.StoredBytesRead += bytes
		b.r.Close()
	}
	c.open = nil
}

func (c *content) blob(i int) (*frames.Reader, error) {
	if b := c.open[i]; b != nil {
		return b.fr, nil
	}
	r, err := c.blobs.Open(c.ctx, c.st.Blobs[i])
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", c.st.Blobs[i], err)
	}
	fr, err := frames.Open(r, r.Size())
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: blob %s: %v", errCorrupt, c.st.Blobs[i], err)
	}
	if c.open == nil {
		c.open = make(map[int]*openBlob)
	}
	c.open[i] = &openBlob{r: r, fr: fr}
	return fr, nil
}

// readAt fills p with the message's bytes at off (p must lie within the message).
func (c *content) readAt(p []byte, off int64) error {
	segs := c.st.Segments
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Start+segs[i].Len > off })
	for len(p) > 0 {
		if i >= len(segs) {
			return fmt.Errorf("%w: read past the end of the message", errCorrupt)
		}
		s := &segs[i]
		rel := off - s.Start
		n := min(int64(len(p)), s.Len-rel)
		if err := c.readSegment(s, p[:n], rel); err != nil {
			return err
		}
		p = p[n:]
		off += n
		i++
	}
	return nil
}

func (c *content) readSegment(s *Segment, p []byte, rel int64) error {
	switch s.Kind {
	case SegInline:
		start := s.InlineOffset + rel
		if start+int64(len(p)) > int64(len(c.inline)) {
			return fmt.Errorf("%w: inline segment out of range", errCorrupt)
		}
		copy(p, c.inline[start:])
		return nil
	case SegBlobRaw:
		fr, err := c.blob(s.Blob)
		if err != nil {
			return err
		}
		if _, err := fr.ReadAt(p, rel); err != nil && err != io.EOF {
			return fmt.Errorf("read blob: %w", err)
		}
		return nil
	case SegBlobBase64:
		fr, err := c.blob(s.Blob)
		if err != nil {
			return err
		}
		decOff, decLen, skip := transfer.Base64Range(s.Layout, s.DecodedSize, rel, int64(len(p)))
		c.dec = slices.Grow(c.dec[:0], int(decLen))[:decLen]
		if _, err := fr.ReadAt(c.dec, decOff); err != nil && err != io.EOF {
			return fmt.Errorf("read blob: %w", err)
		}
		c.enc = transfer.EncodeRange(c.enc[:0], s.Layout, s.DecodedSize, decOff, c.dec)
		if int64(len(c.enc)) < skip+int64(len(p)) {
			return fmt.Errorf("%w: base64 segment shorter than recorded", errCorrupt)
		}
		copy(p, c.enc[skip:])
		return nil
	}
	return errCorrupt
}

// rangeReader streams [off, off+n) of the message in chunks, so a 50 MB
// FETCH never holds more than one chunk.
type rangeReader struct {
	c        *content
	off, end int64
}

const readChunk = 64 << 10

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if int64(len(p)) > r.end-r.off {
		p = p[:r.end-r.off]
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	if err := r.c.readAt(p, r.off); err != nil {
		return 0, err
	}
	r.off += int64(len(p))
	return len(p), nil
}
