package frames

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	"github.com/zeebo/blake3"
)

// containerSeeds are valid containers of every shape: empty, one raw frame,
// compressed frames, mixed kinds, a last frame shorter than the rest.
func containerSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, in := range []struct {
		data []byte
		fs   int
	}{
		{nil, 0},
		{[]byte("x"), 0},
		{englishText(1, 600), 128},
		{attachmentBytes(2, 300), 100},
		{append(englishText(3, 400), attachmentBytes(3, 250)...), 200},
		{bytes.Repeat([]byte("ab"), 1000), 512},
	} {
		c, _ := build(t, in.data, Options{FrameSize: in.fs}, 0)
		seeds = append(seeds, c)
	}
	return seeds
}

// reseal recomputes every checksum a container carries (frame CRCs where
// the index locates frames, the index CRC, the footer CRC), so the fuzzer's
// mutations reach the structural checks and the zstd decoder instead of
// stopping at a checksum.
func reseal(c []byte) []byte {
	c = bytes.Clone(c)
	if len(c) < footerSize {
		return c
	}
	ft := c[len(c)-footerSize:]
	indexLen := uint64(binary.LittleEndian.Uint32(ft[12:]))
	indexOffset := binary.LittleEndian.Uint64(ft[16:])
	if body := uint64(len(c) - footerSize); indexOffset <= body && indexLen <= body-indexOffset {
		index := c[indexOffset : indexOffset+indexLen]
		var off uint64
		for e := index; len(e) >= entrySize; e = e[entrySize:] {
			stored := uint64(binary.LittleEndian.Uint32(e))
			if stored > indexOffset-off {
				break
			}
			binary.LittleEndian.PutUint32(e[4:], crc32.Checksum(c[off:off+stored], castagnoli))
			off += stored
		}
		binary.LittleEndian.PutUint32(ft[64:], crc32.Checksum(index, castagnoli))
	}
	binary.LittleEndian.PutUint32(ft[68:], crc32.Checksum(ft[:68], castagnoli))
	return c
}

// FuzzOpen feeds arbitrary bytes to Open, resealed or not, and reads
// whatever it accepts: every failure is an ErrCorrupt error, never a panic,
// and every success reads exactly Size bytes.
func FuzzOpen(f *testing.F) {
	for _, c := range containerSeeds(f) {
		f.Add(c, false)
		if len(c) > footerSize {
			bad := bytes.Clone(c)
			bad[len(bad)/2] ^= 0x40
			f.Add(bad, false)
			f.Add(bad, true)
			f.Add(c[:len(c)-1], false)
			f.Add(c[len(c)-footerSize:], true)
			f.Add(bytes.Clone(c[10:]), true)
		}
	}
	f.Add([]byte{}, false)
	f.Add(footerMagic[:], true)
	f.Fuzz(func(t *testing.T, c []byte, resealed bool) {
		if resealed {
			c = reseal(c)
		}
		r, err := Open(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open error is not ErrCorrupt: %v", err)
			}
			return
		}
		if r.Size() < 0 || r.Frames() < 0 {
			t.Fatalf("size %d frames %d", r.Size(), r.Frames())
		}
		// The fuzzer can only reach a valid footer and index with a
		// consistent container, whose decoded size is bounded by its frames.
		if r.Size() > int64(r.Frames())*r.frameSize {
			t.Fatalf("size %d beyond %d frames of %d", r.Size(), r.Frames(), r.frameSize)
		}
		if r.Size() > 64<<20 {
			return
		}
		all := make([]byte, r.Size())
		n, err := r.ReadAt(all, 0)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ReadAt error is not ErrCorrupt: %v", err)
		}
		var streamed bytes.Buffer
		_, serr := io.Copy(&streamed, r.NewSectionReader(0, r.Size()))
		if (err == nil) != (serr == nil) {
			t.Fatalf("ReadAt and the section reader disagree: %v vs %v", err, serr)
		}
		if err == nil {
			if n != len(all) || !bytes.Equal(all, streamed.Bytes()) {
				t.Fatalf("ReadAt and the section reader return different bytes")
			}
			if verr := r.Verify(); (verr == nil) != (blake3.Sum256(all) == r.Hash()) {
				t.Fatalf("Verify %v disagrees with the content hash", verr)
			}
		}
	})
}

// FuzzRoundTrip writes arbitrary content with an arbitrary frame size and
// chunking and reads it back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(""), uint16(0), uint16(0), uint16(0))
	f.Add([]byte("Subject: hello\r\n\r\nbody\r\n"), uint16(5), uint16(3), uint16(7))
	f.Add(englishText(4, 3000), uint16(1000), uint16(333), uint16(999))
	f.Add(attachmentBytes(5, 2000), uint16(64), uint16(1), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, frameSize, chunk, off uint16) {
		c, sum := build(t, data, Options{FrameSize: int(frameSize)}, int(chunk))
		if sum.Hash != blake3.Sum256(data) || sum.DecodedSize != int64(len(data)) {
			t.Fatalf("summary %+v", sum)
		}
		r := open(t, c)
		start := min(int(off), len(data))
		got, err := io.ReadAll(r.NewSectionReader(int64(start), int64(len(data))))
		if err != nil || !bytes.Equal(got, data[start:]) {
			t.Fatalf("section from %d: %v", start, err)
		}
		p := make([]byte, len(data)-start)
		if n, err := r.ReadAt(p, int64(start)); n != len(p) || (err != nil && err != io.EOF) || !bytes.Equal(p, data[start:]) {
			t.Fatalf("ReadAt from %d: %d, %v", start, n, err)
		}
	})
}
