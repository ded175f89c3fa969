package mongo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/klauspost/compress/zstd"
)

// Trigrams. A text document lists the distinct byte trigrams of its folded
// header and body (three bytes as one int32), under a multikey index with
// the user: a needle's trigrams ANDed with $all find every text that may
// hold it, and each candidate is decompressed and checked. Byte trigrams
// serve needles of three bytes or more, so one CJK character is enough.
// A text with more distinct trigrams than maxDocTrigrams (a huge body) is
// marked big instead and is a candidate of every search.
const (
	maxDocTrigrams    = 20000
	maxNeedleTrigrams = 12
)

func trigram(b []byte) int32 { return int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2]) }

// textTrigrams returns the distinct trigrams of the parts, or big.
func textTrigrams(parts ...string) (tri []int32, big bool) {
	seen := map[int32]struct{}{}
	for _, p := range parts {
		for i := 0; i+3 <= len(p); i++ {
			seen[trigram([]byte(p[i:i+3]))] = struct{}{}
			if len(seen) > maxDocTrigrams {
				return nil, true
			}
		}
	}
	tri = make([]int32, 0, len(seen))
	for t := range seen {
		tri = append(tri, t)
	}
	slices.Sort(tri)
	return tri, false
}

// needleTrigrams returns up to maxNeedleTrigrams trigrams of a folded
// needle, spread over it; ok is false below three bytes.
func needleTrigrams(needle string) (tri []int32, ok bool) {
	n := len(needle) - 2
	if n < 1 {
		return nil, false
	}
	picks := min(n, maxNeedleTrigrams)
	for i := 0; i < picks; i++ {
		at := i
		if picks < n {
			at = i * (n - 1) / (picks - 1)
		}
		t := trigram([]byte(needle[at : at+3]))
		if !slices.Contains(tri, t) {
			tri = append(tri, t)
		}
	}
	return tri, true
}

// textCodec packs folded header and body as uvarint(len(h)) | h | b, each
// a zstd frame (empty when its text is), so a header search decodes only
// the header.
type textCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

const maxTextSize = 1 << 30

func newTextCodec() (*textCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxTextSize))
	if err != nil {
		enc.Close()
		return nil, err
	}
	return &textCodec{enc: enc, dec: dec}, nil
}

func (c *textCodec) close() {
	c.enc.Close()
	c.dec.Close()
}

func (c *textCodec) pack(header, body string) []byte {
	var h []byte
	if header != "" {
		h = c.enc.EncodeAll([]byte(header), nil)
	}
	out := binary.AppendUvarint(nil, uint64(len(h)))
	out = append(out, h...)
	if body != "" {
		out = c.enc.EncodeAll([]byte(body), out)
	}
	return out
}

var errCorruptText = errors.New("corrupt stored text")

// unpack decodes the stored text's parts.
func (c *textCodec) unpack(data []byte, wantHeader, wantBody bool) (header, body []byte, err error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || uint64(len(data)-k) < n {
		return nil, nil, errCorruptText
	}
	h, b := data[k:k+int(n)], data[k+int(n):]
	if wantHeader && len(h) > 0 {
		if header, err = c.dec.DecodeAll(h, nil); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errCorruptText, err)
		}
	}
	if wantBody && len(b) > 0 {
		if body, err = c.dec.DecodeAll(b, nil); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errCorruptText, err)
		}
	}
	return header, body, nil
}
