package frames

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"
)

// Reader serves decoded bytes of a container from an io.ReaderAt, reading
// and decompressing only the frames a request covers. It keeps the last
// frame it decoded for ReadAt, so a sequential reader with small buffers
// decodes each frame once. A Reader is safe for concurrent use.
type Reader struct {
	r         io.ReaderAt
	size      int64 // decoded
	stored    int64 // container bytes
	frameSize int64
	hash      [32]byte

	offsets []int64 // offsets[i] is where frame i starts; offsets[n] is the index
	crcs    []uint32
	kinds   []byte

	mu       sync.Mutex
	cacheIdx int     // frame held in cache, -1 when none
	cache    *[]byte // decoded bytes of frame cacheIdx
	closed   bool

	framesRead      atomic.Int64
	storedBytesRead atomic.Int64
}

// tailRead is how many bytes Open reads from the end of a container.
const tailRead = 4 << 10

// Open reads and checks a container's footer and index. It reads nothing
// else: frames are read when a range needs them. size is the container's
// stored size.
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	if size < footerSize {
		return nil, corruptf("%d bytes is shorter than a footer", size)
	}
	// One read fetches the footer and, for blobs up to ~100 MB in default
	// frames, the index with it: a read is a round trip on a remote store.
	tail := make([]byte, min(size, tailRead))
	tailOff := size - int64(len(tail))
	if err := readFull(r, tail, tailOff); err != nil {
		return nil, fmt.Errorf("frames: read footer: %w", err)
	}
	f, err := parseFooter(tail[len(tail)-footerSize:], size)
	if err != nil {
		return nil, err
	}
	var index []byte
	if int64(f.indexOffset) >= tailOff {
		index = tail[int64(f.indexOffset)-tailOff : len(tail)-footerSize]
	} else {
		index = make([]byte, f.indexLen)
		if err := readFull(r, index, int64(f.indexOffset)); err != nil {
			return nil, fmt.Errorf("frames: read index: %w", err)
		}
	}
	if got := crc32.Checksum(index, castagnoli); got != f.indexCRC {
		return nil, corruptf("index checksum %08x, want %08x", got, f.indexCRC)
	}

	n := int(f.frames)
	fr := &Reader{
		r:         r,
		size:      int64(f.decodedSize),
		stored:    size,
		frameSize: int64(f.frameSize),
		hash:      f.hash,
		offsets:   make([]int64, n+1),
		crcs:      make([]uint32, n),
		kinds:     make([]byte, n),
		cacheIdx:  -1,
	}
	var off int64
	for i := range n {
		e := index[i*entrySize:]
		stored := int64(binary.LittleEndian.Uint32(e))
		kind := e[8]
		decoded := fr.frameLen(i)
		switch kind {
		case kindRaw:
			if stored != decoded {
				return nil, corruptf("raw frame %d stores %d bytes for %d", i, stored, decoded)
			}
		case kindZstd:
			// The writer keeps a frame compressed only when it shrank, so a
			// larger one is damage, and refusing it bounds the read buffer.
			if stored == 0 || stored >= decoded {
				return nil, corruptf("zstd frame %d stores %d bytes for %d", i, stored, decoded)
			}
		default:
			return nil, corruptf("frame %d has unknown kind %d", i, kind)
		}
		fr.offsets[i] = off
		fr.crcs[i] = binary.LittleEndian.Uint32(e[4:])
		fr.kinds[i] = kind
		off += stored
	}
	fr.offsets[n] = off
	if uint64(off) != f.indexOffset {
		return nil, corruptf("frames end at %d, index starts at %d", off, f.indexOffset)
	}
	return fr, nil
}

// readFull reads len(p) bytes at off; a short container is corrupt.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil // io.ReaderAt may report io.EOF with the last byte
	}
	if err == nil || errors.Is(err, io.EOF) {
		return corruptf("short read: %d of %d bytes at %d", n, len(p), off)
	}
	return err
}

// Size is the number of decoded bytes.
func (r *Reader) Size() int64 { return r.size }

// StoredSize is the size of the container.
func (r *Reader) StoredSize() int64 { return r.stored }

// Frames is the number of frames.
func (r *Reader) Frames() int { return len(r.kinds) }

// Hash is the BLAKE3-256 of the decoded content as recorded at write time
// (Verify checks it).
func (r *Reader) Hash() [32]byte { return r.hash }

// Stats reports how many frames and stored bytes this Reader has read from
// its io.ReaderAt; frames served from the cache do not count.
func (r *Reader) Stats() (framesRead int, storedBytesRead int64) {
	return int(r.framesRead.Load()), r.storedBytesRead.Load()
}

// frameLen is the decoded length of frame i.
func (r *Reader) frameLen(i int) int64 {
	start := int64(i) * r.frameSize
	return min(r.frameSize, r.size-start)
}

// ReadAt reads decoded bytes at off. Like os.File it returns io.EOF when
// fewer than len(p) bytes remain.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("frames: negative offset %d", off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.isClosed() {
		return 0, ErrClosed
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := r.size - off; int64(want) > rest {
		want = int(rest)
	}
	n := 0
	for n < want {
		i := int((off + int64(n)) / r.frameSize)
		within := int(off + int64(n) - int64(i)*r.frameSize)
		flen := int(r.frameLen(i))
		if within == 0 && want-n >= flen && !r.cached(i) {
			// The request covers the whole frame: decode straight into p.
			if err := r.decodeFrame(i, p[n:n+flen]); err != nil {
				return n, err
			}
			n += flen
			continue
		}
		k, err := r.copyFromFrame(i, within, p[n:want])
		n += k
		if err != nil {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *Reader) cached(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cacheIdx == i
}

// copyFromFrame copies frame i from byte within into p through the cache.
func (r *Reader) copyFromFrame(i, within int, p []byte) (int, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	if r.cacheIdx == i {
		k := copy(p, (*r.cache)[within:])
		r.mu.Unlock()
		return k, nil
	}
	r.mu.Unlock()

	// Decode outside the lock so concurrent readers of other frames do not
	// wait for each other.
	buf := getBuf(int(r.frameSize))
	frame := (*buf)[:r.frameLen(i)]
	if err := r.decodeFrame(i, frame); err != nil {
		putBuf(buf)
		return 0, err
	}
	*buf = frame
	k := copy(p, frame[within:])

	r.mu.Lock()
	if r.closed {
		putBuf(buf)
	} else {
		putBuf(r.cache)
		r.cache, r.cacheIdx = buf, i
	}
	r.mu.Unlock()
	return k, nil
}

// decodeFrame reads frame i and decodes it into dst, whose length is the
// frame's decoded length.
func (r *Reader) decodeFrame(i int, dst []byte) error {
	start, end := r.offsets[i], r.offsets[i+1]
	storedLen := int(end - start)
	r.framesRead.Add(1)
	r.storedBytesRead.Add(int64(storedLen))

	if r.kinds[i] == kindRaw {
		if err := readFull(r.r, dst, start); err != nil {
			return fmt.Errorf("frames: read frame %d: %w", i, err)
		}
		if crc32.Checksum(dst, castagnoli) != r.crcs[i] {
			return corruptf("frame %d checksum mismatch", i)
		}
		return nil
	}

	sbuf := getBuf(storedLen)
	defer putBuf(sbuf)
	stored := (*sbuf)[:storedLen]
	if err := readFull(r.r, stored, start); err != nil {
		return fmt.Errorf("frames: read frame %d: %w", i, err)
	}
	if crc32.Checksum(stored, castagnoli) != r.crcs[i] {
		return corruptf("frame %d checksum mismatch", i)
	}
	dec, err := decoder()
	if err != nil {
		return err
	}
	out, err := dec.DecodeAll(stored, dst[:0:len(dst)])
	if err != nil {
		return corruptf("frame %d: %v", i, err)
	}
	if len(out) != len(dst) {
		return corruptf("frame %d decodes to %d bytes, want %d", i, len(out), len(dst))
	}
	if len(out) > 0 && &out[0] != &dst[0] {
		copy(dst, out) // the decoder had to allocate: cannot happen with the cap limit
	}
	return nil
}

// Verify decodes the whole container and checks the decoded content
// against the hash recorded at write time (for fsck).
func (r *Reader) Verify() error {
	h := blake3.New()
	if _, err := r.NewSectionReader(0, r.size).(io.WriterTo).WriteTo(h); err != nil {
		return err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if sum != r.hash {
		return corruptf("content hash %x, recorded %x", sum, r.hash)
	}
	return nil
}

// Close releases the frame cache. It does not close the io.ReaderAt.
// Reads after Close fail with ErrClosed.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	putBuf(r.cache)
	r.cache, r.cacheIdx = nil, -1
	return nil
}

// NewSectionReader streams the decoded bytes [off, off+n), clipped to the
// content. Its WriteTo (used by io.Copy) decodes each frame once into a
// private buffer and writes it out, bypassing the shared cache.
func (r *Reader) NewSectionReader(off, n int64) io.Reader {
	off = max(0, min(off, r.size))
	n = max(0, min(n, r.size-off))
	return &sectionReader{r: r, off: off, end: off + n}
}

type sectionReader struct {
	r        *Reader
	off, end int64
}

func (s *sectionReader) Read(p []byte) (int, error) {
	if s.off >= s.end {
		return 0, io.EOF
	}
	if int64(len(p)) > s.end-s.off {
		p = p[:s.end-s.off]
	}
	n, err := s.r.ReadAt(p, s.off)
	s.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (s *sectionReader) WriteTo(w io.Writer) (int64, error) {
	if s.off >= s.end {
		return 0, nil
	}
	if s.r.isClosed() {
		return 0, ErrClosed
	}
	buf := getBuf(int(s.r.frameSize))
	defer putBuf(buf)
	var written int64
	for s.off < s.end {
		i := int(s.off / s.r.frameSize)
		frameStart := int64(i) * s.r.frameSize
		frame := (*buf)[:s.r.frameLen(i)]
		if err := s.r.decodeFrame(i, frame); err != nil {
			return written, err
		}
		part := frame[s.off-frameStart : min(int64(len(frame)), s.end-frameStart)]
		k, err := w.Write(part)
		written += int64(k)
		s.off += int64(k)
		if err != nil {
			return written, err
		}
		if k != len(part) {
			return written, io.ErrShortWrite
		}
	}
	return written, nil
}

func (r *Reader) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}
