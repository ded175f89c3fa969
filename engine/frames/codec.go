package frames

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The zstd encoders and the decoder are shared by every Writer and Reader of
// the process: EncodeAll and DecodeAll are safe for concurrent use and keep
// no state between calls beyond scratch memory, and building one costs far
// more than a frame. They are created on first use so a process that only
// reads never builds an encoder.

// encoders holds one lazily built encoder per zstd level (index = level).
var encoders = [...]func() (*zstd.Encoder, error){
	zstd.SpeedFastest:           newEncoder(zstd.SpeedFastest),
	zstd.SpeedDefault:           newEncoder(zstd.SpeedDefault),
	zstd.SpeedBetterCompression: newEncoder(zstd.SpeedBetterCompression),
	zstd.SpeedBestCompression:   newEncoder(zstd.SpeedBestCompression),
}

func newEncoder(level zstd.EncoderLevel) func() (*zstd.Encoder, error) {
	return sync.OnceValues(func() (*zstd.Encoder, error) {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(level),
			// A frame never refers outside itself, so a window beyond the
			// default frame only costs memory: zstd's 4-8 MiB default keeps
			// a history buffer that size in each of GOMAXPROCS encoders.
			zstd.WithWindowSize(DefaultFrameSize),
			// The index carries a CRC-32C of every stored frame, which also
			// covers raw frames; zstd's own checksum would be redundant.
			zstd.WithEncoderCRC(false),
			// Up to GOMAXPROCS frames compress at once, each on its
			// caller's goroutine.
			zstd.WithEncoderConcurrency(0),
		)
		if err != nil {
			return nil, fmt.Errorf("frames: zstd encoder: %w", err)
		}
		return enc, nil
	})
}

// encoderFor returns the shared encoder of a level (already validated).
func encoderFor(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	return encoders[level]()
}

// decoder decodes frames with DecodeAll into caller-sized buffers. The cap
// limit makes a hostile frame that claims more than its recorded size fail
// instead of allocating; the window and memory limits refuse frames no
// writer of this package produces.
var decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(MaxFrameSize),
		zstd.WithDecoderMaxWindow(MaxFrameSize),
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		return nil, fmt.Errorf("frames: zstd decoder: %w", err)
	}
	return dec, nil
})

// bufPool recycles frame-sized buffers between writers and readers: ingest
// runs many writers at once and each needs two frame buffers only while it
// is open.
var bufPool sync.Pool

// maxPooled keeps oversized buffers out of the pool.
const maxPooled = MaxFrameSize + MaxFrameSize/64 + 1024

// getBuf returns a buffer of length 0 and capacity at least n.
func getBuf(n int) *[]byte {
	if p, ok := bufPool.Get().(*[]byte); ok {
		if cap(*p) >= n {
			*p = (*p)[:0]
			return p
		}
	}
	b := make([]byte, 0, n)
	return &b
}

func putBuf(p *[]byte) {
	if p == nil || cap(*p) > maxPooled {
		return
	}
	*p = (*p)[:0]
	bufPool.Put(p)
}

// compressBound is the capacity that holds any zstd encoding of n bytes
// without growing (incompressible input costs a few bytes per block).
func compressBound(n int) int {
	return n + n/64 + 64
}
