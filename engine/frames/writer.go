package frames

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/zeebo/blake3"
)

// DefaultLevel is the zstd level used when Options.Level is zero.
//
// SpeedFastest: on English-like mail text in 256 KiB frames it encodes
// ~1.5-1.7x faster than SpeedDefault (about 96-115 vs 56-79 MB/s on one
// core here) while storing only ~6% more (ratio 2.59 vs 2.76; see
// BenchmarkWrite). Ingest CPU is what a delivery burst waits on, decoding
// costs the same for both, and attachments, most of them already
// compressed, are stored raw whatever the level.
const DefaultLevel = zstd.SpeedFastest

// Options tune a Writer. The zero value is what Eider stores blobs with.
type Options struct {
	// FrameSize is the number of input bytes per frame: the unit a range
	// read decompresses. 0 means DefaultFrameSize; values above
	// MaxFrameSize are lowered to it.
	FrameSize int
	// Level is the zstd level; 0 means DefaultLevel.
	Level zstd.EncoderLevel
}

// Summary describes a finished container.
type Summary struct {
	Hash        [32]byte // BLAKE3-256 of the decoded content: the BlobID
	DecodedSize int64    // bytes written to the Writer
	StoredSize  int64    // bytes written to the underlying io.Writer
	Frames      int
}

// ErrClosed is returned by a Writer used after Close and by a Reader used
// after Close.
var ErrClosed = errors.New("frames: closed")

// Writer cuts its input into frames and writes the container to an
// io.Writer. It holds at most one frame of input and one compressed frame in
// memory, both borrowed from a pool until Close. A Writer is not safe for
// concurrent use.
type Writer struct {
	w         io.Writer
	enc       *zstd.Encoder
	frameSize int

	pending *[]byte // input not yet framed, < frameSize bytes
	scratch *[]byte // compressed output of the frame being written

	hasher  *blake3.Hasher
	index   []byte
	decoded int64
	stored  int64
	frames  int

	err    error // sticky: the first write or encoder error
	closed bool
}

// NewWriter returns a Writer that writes a container to w. Nothing is
// written until the first frame fills or Close is called.
func NewWriter(w io.Writer, opt Options) *Writer {
	fw := &Writer{w: w, hasher: blake3.New(), frameSize: opt.FrameSize}
	switch {
	case fw.frameSize <= 0:
		fw.frameSize = DefaultFrameSize
	case fw.frameSize > MaxFrameSize:
		fw.frameSize = MaxFrameSize
	}
	level := opt.Level
	if level == 0 {
		level = DefaultLevel
	}
	if level < zstd.SpeedFastest || level > zstd.SpeedBestCompression {
		fw.err = fmt.Errorf("frames: unknown zstd level %d", level)
		return fw
	}
	fw.enc, fw.err = encoderFor(level)
	return fw
}

// Write buffers p and writes every frame it completes.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if w.pending == nil {
			w.pending = getBuf(w.frameSize)
		}
		buf := *w.pending
		if len(buf) == 0 && len(p) >= w.frameSize {
			// A whole frame is at hand: frame it without copying.
			if err := w.writeFrame(p[:w.frameSize]); err != nil {
				return n, err
			}
			n += w.frameSize
			p = p[w.frameSize:]
			continue
		}
		k := min(w.frameSize-len(buf), len(p))
		buf = append(buf, p[:k]...)
		*w.pending = buf
		n += k
		p = p[k:]
		if len(buf) == w.frameSize {
			if err := w.writeFrame(buf); err != nil {
				return n, err
			}
			*w.pending = buf[:0]
		}
	}
	return n, nil
}

// writeFrame compresses one frame of input and writes it.
func (w *Writer) writeFrame(in []byte) error {
	if w.frames == maxFrames {
		w.err = fmt.Errorf("frames: more than %d frames", maxFrames)
		return w.err
	}
	_, _ = w.hasher.Write(in) // never fails
	if w.scratch == nil {
		w.scratch = getBuf(compressBound(w.frameSize))
	}
	out := w.enc.EncodeAll(in, (*w.scratch)[:0])
	*w.scratch = out // keep the buffer if zstd had to grow it

	kind := kindZstd
	stored := out
	if len(out)*100 > len(in)*(100-rawThresholdPercent) {
		kind, stored = kindRaw, in
	}
	if _, err := w.w.Write(stored); err != nil {
		w.err = fmt.Errorf("frames: write frame %d: %w", w.frames, err)
		return w.err
	}
	w.index = appendEntry(w.index, len(stored), crc32.Checksum(stored, castagnoli), kind)
	w.decoded += int64(len(in))
	w.stored += int64(len(stored))
	w.frames++
	return nil
}

// maxFrames keeps the frame count and index length within their u32 fields.
const maxFrames = (1<<32 - 1) / entrySize

// Close writes the last partial frame, the index and the footer, and
// returns the container's summary. It does not close the underlying writer.
// The Writer's buffers go back to the pool whether or not Close succeeds.
func (w *Writer) Close() (Summary, error) {
	if w.closed {
		return Summary{}, ErrClosed
	}
	w.closed = true
	defer w.release()
	if w.err != nil {
		return Summary{}, w.err
	}
	if w.pending != nil && len(*w.pending) > 0 {
		if err := w.writeFrame(*w.pending); err != nil {
			return Summary{}, err
		}
	}
	f := footer{
		frameSize:   uint32(w.frameSize),
		frames:      uint32(w.frames),
		indexLen:    uint32(len(w.index)),
		indexOffset: uint64(w.stored),
		decodedSize: uint64(w.decoded),
		indexCRC:    crc32.Checksum(w.index, castagnoli),
	}
	w.hasher.Sum(f.hash[:0])
	tail := f.marshal()
	// Index and footer go out in one Write.
	trailer := append(w.index, tail[:]...)
	if _, err := w.w.Write(trailer); err != nil {
		w.err = fmt.Errorf("frames: write index: %w", err)
		return Summary{}, w.err
	}
	return Summary{
		Hash:        f.hash,
		DecodedSize: w.decoded,
		StoredSize:  w.stored + int64(len(trailer)),
		Frames:      w.frames,
	}, nil
}

func (w *Writer) release() {
	putBuf(w.pending)
	putBuf(w.scratch)
	w.pending, w.scratch, w.index = nil, nil, nil
}
