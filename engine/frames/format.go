// Package frames is the container Eider stores large message parts in: the
// part's decoded bytes cut into independently compressed zstd frames,
// followed by a frame index and a fixed-size footer. A byte range of a 20 MB
// attachment is served by reading and decompressing only the frames that
// cover it, so a partial FETCH never inflates the whole blob.
//
// Layout of a container:
//
//	frame 0 | frame 1 | ... | frame n-1 | index | footer
//
// Every frame but the last holds exactly FrameSize decoded bytes; the last
// holds the rest. A frame that zstd does not shrink by at least 3% is stored
// raw. The index has one fixed-size entry per frame (stored length, CRC-32C
// of the stored bytes, kind); the footer locates the index and carries the
// decoded size, the frame size, the BLAKE3-256 of the decoded content, and
// checksums of the index and of itself. All integers are little-endian.
//
// The package knows nothing of messages or blob stores: it turns an
// io.Writer into a container and an io.ReaderAt back into decoded bytes.
package frames

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

const (
	// DefaultFrameSize is the decoded size of a frame when Options.FrameSize
	// is zero: large enough for zstd to reach most of its ratio on mail text,
	// small enough that a short range read decodes little.
	DefaultFrameSize = 256 << 10
	// MaxFrameSize bounds the frame size a writer uses and a reader accepts,
	// and with it the memory one frame decode may take.
	MaxFrameSize = 8 << 20

	version    = 1
	footerSize = 80
	entrySize  = 9 // stored length u32, CRC-32C u32, kind u8

	// A compressed frame must save at least rawThresholdPercent of its input
	// to be kept compressed; otherwise decoding it would cost time for
	// almost no space.
	rawThresholdPercent = 3
)

// footerMagic ends every container, so a reader can tell a container from
// other bytes before trusting any length in the footer.
var footerMagic = [8]byte{'E', 'I', 'D', 'R', 'F', 'R', 'M', 'S'}

// Frame kinds in the index.
const (
	kindZstd byte = 0
	kindRaw  byte = 1
)

// ErrCorrupt is wrapped by every error that reports a container whose bytes
// are inconsistent: bad magic, checksum mismatch, impossible lengths, a frame
// that does not decode to its recorded size.
var ErrCorrupt = errors.New("frames: corrupt container")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// footer is the decoded form of the trailing footerSize bytes.
//
//	off  0  version      u8
//	off  1  reserved     [3]byte, zero
//	off  4  frameSize    u32
//	off  8  frames       u32
//	off 12  indexLen     u32
//	off 16  indexOffset  u64
//	off 24  decodedSize  u64
//	off 32  hash         [32]byte BLAKE3-256 of the decoded content
//	off 64  indexCRC     u32 CRC-32C of the index bytes
//	off 68  footerCRC    u32 CRC-32C of footer bytes 0..67
//	off 72  magic        [8]byte
type footer struct {
	frameSize   uint32
	frames      uint32
	indexLen    uint32
	indexOffset uint64
	decodedSize uint64
	hash        [32]byte
	indexCRC    uint32
}

func (f *footer) marshal() [footerSize]byte {
	var b [footerSize]byte
	b[0] = version
	binary.LittleEndian.PutUint32(b[4:], f.frameSize)
	binary.LittleEndian.PutUint32(b[8:], f.frames)
	binary.LittleEndian.PutUint32(b[12:], f.indexLen)
	binary.LittleEndian.PutUint64(b[16:], f.indexOffset)
	binary.LittleEndian.PutUint64(b[24:], f.decodedSize)
	copy(b[32:64], f.hash[:])
	binary.LittleEndian.PutUint32(b[64:], f.indexCRC)
	binary.LittleEndian.PutUint32(b[68:], crc32.Checksum(b[:68], castagnoli))
	copy(b[72:], footerMagic[:])
	return b
}

// parseFooter checks the footer on its own and against the container size;
// the index is checked separately once read.
func parseFooter(b []byte, size int64) (footer, error) {
	var f footer
	if len(b) != footerSize {
		return f, corruptf("footer is %d bytes", len(b))
	}
	if [8]byte(b[72:80]) != footerMagic {
		return f, corruptf("bad magic")
	}
	if got, want := crc32.Checksum(b[:68], castagnoli), binary.LittleEndian.Uint32(b[68:]); got != want {
		return f, corruptf("footer checksum %08x, want %08x", got, want)
	}
	if b[0] != version {
		return f, corruptf("unknown version %d", b[0])
	}
	if b[1]|b[2]|b[3] != 0 {
		return f, corruptf("reserved footer bytes set")
	}
	f.frameSize = binary.LittleEndian.Uint32(b[4:])
	f.frames = binary.LittleEndian.Uint32(b[8:])
	f.indexLen = binary.LittleEndian.Uint32(b[12:])
	f.indexOffset = binary.LittleEndian.Uint64(b[16:])
	f.decodedSize = binary.LittleEndian.Uint64(b[24:])
	copy(f.hash[:], b[32:64])
	f.indexCRC = binary.LittleEndian.Uint32(b[64:])

	if f.frameSize == 0 || f.frameSize > MaxFrameSize {
		return f, corruptf("frame size %d out of range", f.frameSize)
	}
	if uint64(f.indexLen) != uint64(f.frames)*entrySize {
		return f, corruptf("index of %d bytes for %d frames", f.indexLen, f.frames)
	}
	// The index sits right before the footer: nothing may hide between
	// frames, index and footer, and the frames start at offset 0.
	if f.indexOffset > uint64(size) || uint64(size)-f.indexOffset != uint64(f.indexLen)+footerSize {
		return f, corruptf("index at %d+%d does not end at the footer of a %d-byte container", f.indexOffset, f.indexLen, size)
	}
	if want := framesFor(f.decodedSize, f.frameSize); want != uint64(f.frames) {
		return f, corruptf("%d frames for %d decoded bytes in frames of %d", f.frames, f.decodedSize, f.frameSize)
	}
	if f.decodedSize > 1<<62 {
		return f, corruptf("decoded size %d out of range", f.decodedSize)
	}
	return f, nil
}

// framesFor is the number of frames that hold size decoded bytes.
func framesFor(size uint64, frameSize uint32) uint64 {
	fs := uint64(frameSize)
	return size/fs + min(size%fs, 1)
}

func appendEntry(index []byte, stored int, crc uint32, kind byte) []byte {
	index = binary.LittleEndian.AppendUint32(index, uint32(stored))
	index = binary.LittleEndian.AppendUint32(index, crc)
	return append(index, kind)
}
