package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// errCorruptText reports a stored text that does not decode.
var errCorruptText = errors.New("corrupt stored text")

// maxTextSize bounds what the decoder allocates for one frame, against
// damaged data. Real texts stay far below it: the engine cuts header blocks
// at 8 MiB and body text at 1 MiB by default, and folding (NFKC) grows
// text by a small factor at worst.
const maxTextSize = 1 << 30

// textCodec packs a message's folded header and body text into one value
// (see the formats below), and reads the message's inline bytes its texts
// are coded against. Apart, a header search (the common kind: FROM,
// SUBJECT) decodes only the header. One encoder and one decoder serve
// every goroutine of a Store: EncodeAll and DecodeAll are safe for
// concurrent use.
type textCodec struct {
	enc *zstd.Encoder
	// dec knows textDict and the engine's inline dictionaries; it is
	// replaced when a dictionary is added.
	dec atomic.Pointer[zstd.Decoder]
	// reload, if set, loads dictionaries added by another process; called
	// when inline bytes name a dictionary dec does not know.
	reload func() error
}

func newTextCodec() (*textCodec, error) {
	// The fastest level with the dictionary packs TextHeavy 6% smaller than
	// the default level without it, in half the time; the default level
	// with it gains another 1.4% for more than twice the time.
	// A window of 256 KiB: a text may be a megabyte (MaxTextExtract), and
	// the encoder's history grows to its window for such a text, per
	// encoder, while references further back than this gain little.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(256<<10),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderDictRaw(textDictID, []byte(textDict)))
	if err != nil {
		return nil, err
	}
	c := &textCodec{enc: enc}
	if err := c.setInlineDictionaries(nil); err != nil {
		enc.Close()
		return nil, err
	}
	return c, nil
}

// setInlineDictionaries makes the decoder know dicts (zstd dictionaries,
// engine.Dictionary.Data) besides textDict.
func (c *textCodec) setInlineDictionaries(dicts [][]byte) error {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxTextSize),
		zstd.WithDecoderDictRaw(textDictID, []byte(textDict)),
		zstd.WithDecoderDicts(dicts...))
	if err != nil {
		return err
	}
	// The old decoder is not closed: searches may still be using it, and
	// with DecodeAll alone it holds no goroutine.
	c.dec.Store(dec)
	return nil
}

func (c *textCodec) close() {
	c.enc.Close()
	c.dec.Load().Close()
}

// inlineBytes decompresses a message's stored inline bytes into buf.
func (c *textCodec) inlineBytes(inline, buf []byte) ([]byte, error) {
	out, err := c.dec.Load().DecodeAll(inline, buf[:0])
	if errors.Is(err, zstd.ErrUnknownDictionary) && c.reload != nil {
		if rerr := c.reload(); rerr != nil {
			return out, rerr
		}
		out, err = c.dec.Load().DecodeAll(inline, buf[:0])
	}
	return out, err
}

// Stored text formats (texts.format).
const (
	// textPlain: uvarint(len(h)) | h | b, where h and b are zstd frames of
	// the header and the body text. Written before the word index.
	textPlain = 0
	// textDelta: kind | uvarint(len(h)) | h | b, where h and b are zstd
	// frames of the deltas (textdelta.go) of header and body against the
	// reference kind names.
	textDelta = 1
)

// Reference kinds of textDelta.
const (
	refNone   = 0 // an empty reference
	refInline = 1 // foldReference of the message's decompressed inline bytes
)

// pack returns the stored form (textDelta) of header and body, coded
// against the message's stored inline bytes.
func (c *textCodec) pack(header, body string, inline []byte) []byte {
	kind, ref := c.reference(inline, nil)
	d := newDeltaCoder(ref)
	defer d.release()
	var h, scratch []byte
	if header != "" {
		scratch = d.appendDelta(scratch[:0], header)
		h = c.enc.EncodeAll(scratch, make([]byte, 0, len(scratch)/2+64))
	}
	out := make([]byte, 0, 1+binary.MaxVarintLen64+len(h)+len(body)/8+64)
	out = append(out, kind)
	out = binary.AppendUvarint(out, uint64(len(h)))
	out = append(out, h...)
	if body != "" {
		scratch = d.appendDelta(scratch[:0], body)
		out = c.enc.EncodeAll(scratch, out)
	}
	return out
}

// reference returns the reference kind and bytes of a message's stored
// inline bytes (a zstd frame): refNone when there are none or they do not
// decompress (rows written without the engine, as in tests).
func (c *textCodec) reference(inline, buf []byte) (byte, []byte) {
	if len(inline) == 0 {
		return refNone, nil
	}
	raw, err := c.inlineBytes(inline, buf)
	if err != nil {
		return refNone, nil
	}
	return refInline, foldReference(raw)
}

// textParts says which parts of a text to decode.
type textParts uint8

const (
	headerPart textParts = 1 << iota
	bodyPart
	bothParts = headerPart | bodyPart
)

// storedText is an unpacked text. The next unpack into the same storedText
// overwrites it.
type storedText struct {
	header, body []byte
	ref, delta   []byte // scratch of unpack
	scratch      []byte // scratch of matchers
}

// unpack decodes the parts of data (stored in format, for a message whose
// stored inline bytes are inline) into t, reusing t's buffers; a part not
// asked for is left empty.
func (c *textCodec) unpack(data []byte, format int, inline []byte, parts textParts, t *storedText) error {
	var ref []byte
	switch format {
	case textPlain:
	case textDelta:
		if len(data) == 0 {
			return fmt.Errorf("%w: empty", errCorruptText)
		}
		switch data[0] {
		case refNone:
		case refInline:
			raw, err := c.inlineBytes(inline, t.ref)
			if err != nil || len(inline) == 0 {
				return fmt.Errorf("%w: the message's inline bytes do not decode", errCorruptText)
			}
			t.ref = foldReference(raw)
			ref = t.ref
		default:
			return fmt.Errorf("%w: reference kind %d", errCorruptText, data[0])
		}
		data = data[1:]
	default:
		return fmt.Errorf("%w: format %d", errCorruptText, format)
	}
	n, w := binary.Uvarint(data)
	if w <= 0 || n > uint64(len(data)-w) {
		return fmt.Errorf("%w: bad header length", errCorruptText)
	}
	h, b := data[w:w+int(n)], data[w+int(n):]
	var err error
	if t.header, err = c.decodePart(h, format, ref, parts&headerPart != 0, t.header, &t.delta); err != nil {
		return err
	}
	t.body, err = c.decodePart(b, format, ref, parts&bodyPart != 0, t.body, &t.delta)
	return err
}

func (c *textCodec) decodePart(frame []byte, format int, ref []byte, want bool, buf []byte, scratch *[]byte) ([]byte, error) {
	if format == textPlain || !want || len(frame) == 0 {
		return c.decode(frame, want, buf)
	}
	d, err := c.decode(frame, want, *scratch)
	*scratch = d
	if err != nil {
		return buf[:0], err
	}
	return applyDelta(buf[:0], d, ref)
}

func (c *textCodec) decode(frame []byte, want bool, buf []byte) ([]byte, error) {
	if !want || len(frame) == 0 {
		return buf[:0], nil
	}
	out, err := c.dec.Load().DecodeAll(frame, buf[:0])
	if err != nil {
		return buf[:0], fmt.Errorf("%w: %v", errCorruptText, err)
	}
	return out, nil
}

// packWords returns the stored form of a queued text's index input (its
// header's and body's words, textWords): one zstd frame of
// uvarint(len(h)) | h | b.
func (c *textCodec) packWords(h, b string) []byte {
	raw := make([]byte, 0, binary.MaxVarintLen64+len(h)+len(b))
	raw = binary.AppendUvarint(raw, uint64(len(h)))
	raw = append(append(raw, h...), b...)
	return c.enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64))
}

// unpackWords reads what packWords stored.
func (c *textCodec) unpackWords(data []byte) (h, b string, err error) {
	raw, err := c.dec.Load().DecodeAll(data, nil)
	if err != nil {
		return "", "", fmt.Errorf("%w: queued words: %v", errCorruptText, err)
	}
	n, w := binary.Uvarint(raw)
	if w <= 0 || n > uint64(len(raw)-w) {
		return "", "", fmt.Errorf("%w: queued words", errCorruptText)
	}
	return string(raw[w : w+int(n)]), string(raw[w+int(n):]), nil
}
