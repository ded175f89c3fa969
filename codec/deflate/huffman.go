package deflate

import "math/bits"

// A decoding table maps the next bits of input (least significant bit
// first, as DEFLATE packs them) to a uint32 entry. The first level is
// indexed by root bits; codes longer than root continue in a sub-table
// that the first-level entry links to, so a symbol takes at most two
// lookups and the tables stay small enough to rebuild for every block.
//
// Entry layout:
//
//	bits 0-3   code length in bits, counted from the first bit
//	bits 4-7   extra bits that follow the code (sub-table index width in a link)
//	bits 8-9   kind
//	bit  10    link to a sub-table
//	bits 16-31 value: literal byte, base length or distance, code-length
//	           symbol, or sub-table offset in a link
const (
	lenMask    = 0xf
	extraShift = 4
	kindLit    = 0 << 8 // a literal byte; in the code-length table, any symbol
	kindCopy   = 1 << 8 // a match length (literal/length table) or distance
	kindEOB    = 2 << 8
	kindBad    = 3 << 8 // no such code, or a code for a symbol DEFLATE reserves
	kindMask   = 3 << 8
	linkBit    = 1 << 10
	valShift   = 16

	maxCodeLen = 15
	numLitLen  = 288 // symbols in the fixed code; a dynamic block may use 286
	numDist    = 32  // likewise 30
	numCodeLen = 19

	litRoot  = 10
	distRoot = 8
	clenRoot = 7 // code-length codes are at most 7 bits: one level suffices
	litMask  = 1<<litRoot - 1
	distMask = 1<<distRoot - 1
	clenMask = 1<<clenRoot - 1
)

// Entry templates (all but the length) for each symbol of the three
// alphabets, from RFC 1951 section 3.2.5.
var litTempl, distTempl, clenTempl = templates()

// The fixed-code tables never change, so they are built once.
var fixedLit, fixedDist = fixedTables()

func templates() (lit [numLitLen]uint32, dist [numDist]uint32, clen [numCodeLen]uint32) {
	for i := range 256 {
		lit[i] = kindLit | uint32(i)<<valShift
	}
	lit[256] = kindEOB
	// Lengths 3..258 in 29 codes: 8 codes without extra bits, then groups
	// of four with one more extra bit each, then 258 on its own.
	base := uint32(3)
	for i := range 28 {
		extra := uint32(0)
		if i >= 8 {
			extra = uint32(i/4 - 1)
		}
		lit[257+i] = kindCopy | extra<<extraShift | base<<valShift
		base += 1 << extra
	}
	lit[285] = kindCopy | 258<<valShift
	lit[286], lit[287] = kindBad, kindBad

	// Distances 1..32768 in 30 codes: 4 without extra bits, then pairs
	// with one more extra bit each.
	base = 1
	for i := range 30 {
		extra := uint32(0)
		if i >= 4 {
			extra = uint32(i/2 - 1)
		}
		dist[i] = kindCopy | extra<<extraShift | base<<valShift
		base += 1 << extra
	}
	dist[30], dist[31] = kindBad, kindBad

	for i := range clen {
		clen[i] = kindLit | uint32(i)<<valShift
	}
	return
}

func fixedTables() (lit, dist []uint32) {
	var lens [numLitLen]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	lit, ok1 := buildTable(nil, lens[:], litTempl[:], litRoot)
	var dlens [numDist]uint8
	for i := range dlens {
		dlens[i] = 5
	}
	dist, ok2 := buildTable(nil, dlens[:], distTempl[:], distRoot)
	if !ok1 || !ok2 {
		panic("deflate: fixed Huffman tables do not build")
	}
	return lit, dist
}

// buildTable builds the decoding table of the canonical prefix code whose
// code lengths are lens, reusing tab's storage. templ[sym] is the entry of
// each symbol without its length. It reports false for a code that is
// over-subscribed, or incomplete other than the single one-bit code zlib
// writes when a block uses one distance. A code with no symbols at all
// builds a table that rejects every input; using it is the error.
func buildTable(tab []uint32, lens []uint8, templ []uint32, root uint) ([]uint32, bool) {
	var count [maxCodeLen + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	maxLen, left := 0, 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return tab, false
		}
		if count[l] != 0 {
			maxLen = l
		}
	}
	if left > 0 && maxLen != 0 && !(maxLen == 1 && count[1] == 1) {
		return tab, false
	}

	// A missing code is known to be missing once maxLen bits are seen;
	// with fewer, the caller waits for more input.
	bad := uint32(kindBad | max(maxLen, 1))
	size := uint32(1) << root
	tab = tab[:0]
	for range size {
		tab = append(tab, bad)
	}
	if maxLen == 0 {
		return tab, true
	}

	var next [maxCodeLen + 1]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}

	// Short codes go straight into the first level, repeated for every
	// value of the bits after them. Long codes are placed below, once the
	// longest code under each first-level slot sizes its sub-table.
	var rev [numLitLen]uint16
	var subMax [1 << litRoot]uint8
	long := false
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		r := uint32(bits.Reverse16(uint16(next[l]))) >> (16 - l)
		next[l]++
		if uint(l) <= root {
			e := templ[sym] | uint32(l)
			for i := r; i < size; i += 1 << l {
				tab[i] = e
			}
			continue
		}
		rev[sym] = uint16(r)
		p := r & (size - 1)
		subMax[p] = max(subMax[p], l)
		long = true
	}
	if !long {
		return tab, true
	}
	for p := range size {
		if subMax[p] == 0 {
			continue
		}
		width := uint32(subMax[p]) - uint32(root)
		off := uint32(len(tab))
		for range 1 << width {
			tab = append(tab, bad)
		}
		tab[p] = linkBit | width<<extraShift | off<<valShift
	}
	for sym, l := range lens {
		if uint(l) <= root {
			continue
		}
		r := uint32(rev[sym])
		link := tab[r&(size-1)]
		off, width := link>>valShift, link>>extraShift&lenMask
		e := templ[sym] | uint32(l)
		for i := r >> root; i < 1<<width; i += 1 << (uint(l) - root) {
			tab[off+i] = e
		}
	}
	return tab, true
}
