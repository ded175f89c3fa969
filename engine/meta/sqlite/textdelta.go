package sqlite

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"
)

// A message's search text is mostly a copy of its own bytes: header values
// and plain-text bodies as delivered, lower-cased. So the text is stored as
// a delta against the message's inline bytes (its reference): runs copied
// from the reference and literal bytes in between, which zstd then packs.
// Only what decoding changed (encoded words, quoted-printable, HTML
// entities, non-ASCII case) is left as literals.
//
// The delta of a text t against a reference r:
//
//	uvarint(len(t)) { uvarint(n) n literal bytes uvarint(m) [uvarint(off)] }
//
// where each group appends n literal bytes and then m bytes copied from
// r[off:]; m = 0 (and no offset) ends the delta.

// deltaMinMatch is the shortest run worth a copy: shorter ones cost about
// as much in offsets as their literal bytes do after zstd.
const deltaMinMatch = 8

// foldReference turns a message's inline bytes into its reference, in
// place, by the changes folding makes to most mail: ASCII upper case
// lowered everywhere, and in the top header block (which the inline bytes
// start with) CRs dropped and folded lines unfolded, as the header text
// ("name: value\n" per field) has them. Stored texts depend on it, so it
// never changes.
func foldReference(b []byte) []byte {
	w, header := 0, true
	for r := 0; r < len(b); r++ {
		c := b[r]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if header {
			switch {
			case c == '\r' && r+1 < len(b) && b[r+1] == '\n':
				continue
			case c == '\n' && w > 0 && b[w-1] == '\n':
				header = false // the blank line ending the block
			case c == '\n' && r+1 < len(b) && (b[r+1] == ' ' || b[r+1] == '\t'):
				continue
			}
		}
		b[w] = c
		w++
	}
	return b[:w]
}

// deltaCoder finds copies in one reference: a hash table of the positions
// of its deltaMinMatch-byte windows.
type deltaCoder struct {
	ref   []byte
	shift uint
	table []int32 // position+1 of the last window with this hash, 0 for none
}

var deltaTables sync.Pool // of *[]int32

// deltaTableBits bounds the table (256 KiB): a reference longer than its
// entries has every stride-th window entered, and a copy found anywhere in
// a run is extended back to the run's start, so long runs are still found.
const deltaTableBits = 16

func newDeltaCoder(ref []byte) *deltaCoder {
	b := min(max(bits.Len(uint(len(ref))), 8), deltaTableBits)
	d := &deltaCoder{ref: ref, shift: uint(64 - b)}
	if p, ok := deltaTables.Get().(*[]int32); ok && len(*p) >= 1<<b {
		d.table = (*p)[:1<<b]
		clear(d.table)
	} else {
		d.table = make([]int32, 1<<b)
	}
	stride := max(1, len(ref)>>b)
	for i := 0; i+deltaMinMatch <= len(ref); i += stride {
		d.table[d.hash(ref[i:])] = int32(i + 1)
	}
	return d
}

// release returns the table for the next coder.
func (d *deltaCoder) release() {
	if d.table != nil {
		t := d.table
		deltaTables.Put(&t)
		d.table = nil
	}
}

func (d *deltaCoder) hash(p []byte) uint64 { return d.hashOf(binary.LittleEndian.Uint64(p)) }

// hashString hashes the first deltaMinMatch bytes of s as hash hashes them
// of a byte slice.
func (d *deltaCoder) hashString(s string) uint64 {
	_ = s[7]
	v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return d.hashOf(v)
}

func (d *deltaCoder) hashOf(v uint64) uint64 { return v * 0x9E3779B185EBCA87 >> d.shift }

// appendDelta appends the delta of text against the coder's reference.
func (d *deltaCoder) appendDelta(dst []byte, text string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(text)))
	ref := d.ref
	lit := 0
	for i := 0; i+deltaMinMatch <= len(text); {
		c := int(d.table[d.hashString(text[i:])]) - 1
		if c < 0 || string(ref[c:c+deltaMinMatch]) != string(text[i:i+deltaMinMatch]) {
			// The longer nothing matched, the further the next probe: text
			// the reference does not hold (a body stored as a blob, HTML
			// reduced to text) costs a fraction of a lookup per byte.
			i += 1 + (i-lit)>>5
			continue
		}
		for i > lit && c > 0 && ref[c-1] == text[i-1] {
			i--
			c--
		}
		n := deltaMinMatch
		for i+n < len(text) && c+n < len(ref) && text[i+n] == ref[c+n] {
			n++
		}
		dst = binary.AppendUvarint(dst, uint64(i-lit))
		dst = append(dst, text[lit:i]...)
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = binary.AppendUvarint(dst, uint64(c))
		i += n
		lit = i
	}
	dst = binary.AppendUvarint(dst, uint64(len(text)-lit))
	dst = append(dst, text[lit:]...)
	return binary.AppendUvarint(dst, 0)
}

// applyDelta appends to dst the text that delta codes against ref.
func applyDelta(dst, delta, ref []byte) ([]byte, error) {
	total, w := binary.Uvarint(delta)
	if w <= 0 || total > maxTextSize {
		return dst, fmt.Errorf("%w: bad delta length", errCorruptText)
	}
	delta = delta[w:]
	end := uint64(len(dst)) + total
	for {
		n, w := binary.Uvarint(delta)
		if w <= 0 || n > uint64(len(delta)-w) || uint64(len(dst))+n > end {
			return dst, fmt.Errorf("%w: bad delta literal", errCorruptText)
		}
		dst = append(dst, delta[w:w+int(n)]...)
		delta = delta[w+int(n):]
		m, w := binary.Uvarint(delta)
		if w <= 0 {
			return dst, fmt.Errorf("%w: bad delta copy", errCorruptText)
		}
		delta = delta[w:]
		if m == 0 {
			if uint64(len(dst)) != end || len(delta) != 0 {
				return dst, fmt.Errorf("%w: delta length mismatch", errCorruptText)
			}
			return dst, nil
		}
		off, w := binary.Uvarint(delta)
		if w <= 0 || off > uint64(len(ref)) || m > uint64(len(ref))-off || uint64(len(dst))+m > end {
			return dst, fmt.Errorf("%w: bad delta copy", errCorruptText)
		}
		delta = delta[w:]
		dst = append(dst, ref[off:off+m]...)
	}
}
