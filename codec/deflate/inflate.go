package deflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt is what every error from Inflate matches with errors.Is: the
// input is not a valid DEFLATE stream. The concrete type is *CorruptError.
var ErrCorrupt = errors.New("deflate: corrupt input")

// CorruptError says what is wrong with the input and where.
type CorruptError struct {
	// Offset is the position, counted in input bytes from the start of the
	// stream (or the last Reset), of the byte where the fault was found.
	Offset int64
	// Reason names the fault, e.g. "invalid block type".
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("deflate: corrupt input at byte %d: %s", e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Options tune an Inflater.
type Options struct {
	// MaxOutput caps the bytes a single Inflate call appends; 0 (or less)
	// means no cap. A call that reaches the cap returns with a nil error,
	// usually with consumed short of len(in). Whenever a call appended
	// exactly MaxOutput bytes, the caller deals with them and calls again
	// with in[consumed:], even if that is empty: more output may be
	// pending. So the memory a call needs is bounded whatever the
	// compression ratio; limiting a whole stream is the caller's business,
	// since an IMAP session has no natural total.
	MaxOutput int64
}

type state uint8

const (
	stHeader    state = iota // next: BFINAL and BTYPE
	stStoredLen              // next: LEN and NLEN of a stored block, byte-aligned
	stStored                 // copying a stored block's bytes
	stCounts                 // next: HLIT, HDIST, HCLEN of a dynamic block
	stCodeLens               // reading the 3-bit code-length code lengths
	stLens                   // reading the literal/length and distance code lengths
	stHuffman                // decoding symbols of a Huffman block
	stDone                   // the final block ended
)

const (
	histSize = 1 << 15 // the farthest a match may reach back
	winSize  = 1 << 16
	winSlack = 8 // copyMatch may write one word past the end of a match
	maxMatch = 258
	// Before each symbol there must be room for the longest match; when
	// there is not, the window slides and keeps the last histSize bytes.
	winMax = winSize - maxMatch
)

// Order in which a dynamic block lists the code-length code lengths.
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// Inflater decodes one raw DEFLATE stream fed in arbitrary pieces. The zero
// value is ready to use, with no output cap. Once used it holds 70 to 130
// KiB (the window and the decoding tables, whose size depends on the
// codes) and allocates nothing per call beyond growing dst.
type Inflater struct {
	opt   Options
	state state
	final bool // the current block is the last one
	err   error

	// Bit accumulator: nbits unread input bits, least significant first.
	// Outside decode calls the bits above nbits are zero.
	bits  uint64
	nbits uint

	// win holds the history and the output not yet appended to dst:
	// win[:flushed] was handed out, win[flushed:wpos] is pending.
	win     []byte
	wpos    int
	flushed int

	copyLen, copyDist int // a match cut short by MaxOutput
	stored            int // bytes left in the current stored block

	// Dynamic block header in progress.
	nlit, ndist, nclen, idx int
	clens                   [numCodeLen]uint8
	lens                    [286 + 30]uint8

	lit, dist                []uint32 // tables of the current block
	litDyn, distDyn, clenTab []uint32 // storage reused across blocks

	inTotal int64 // input bytes consumed before this call, for error offsets

	// Per call.
	in    []byte
	pos   int
	dst   []byte
	avail int // output the call may still produce
}

// NewInflater returns an Inflater with the given options.
func NewInflater(opt Options) *Inflater {
	return &Inflater{opt: opt}
}

// Reset makes f ready for a new stream, keeping its options and storage.
func (f *Inflater) Reset() {
	*f = Inflater{
		opt: f.opt, win: f.win,
		litDyn: f.litDyn, distDyn: f.distDyn, clenTab: f.clenTab,
	}
}

// Finished reports whether the final block has ended. Inflate consumes
// nothing after that.
func (f *Inflater) Finished() bool { return f.state == stDone }

// Inflate consumes input from in and appends to dst every byte that the
// input seen so far determines, including the output of a block that has
// not ended: it stops only where in runs out in the middle of a symbol or
// header, and keeps those bits for the next call. So whatever a peer's
// flush (sync, full or partial) completed is returned at once.
//
// consumed is len(in) except when the final block ends (the bytes after
// it are left), when MaxOutput is reached (call again with in[consumed:]),
// or on error. An error is a *CorruptError and is returned again by every
// later call until Reset; out then holds the bytes decoded before the
// fault.
func (f *Inflater) Inflate(dst, in []byte) (out []byte, consumed int, err error) {
	if f.err != nil {
		return dst, 0, f.err
	}
	if f.state == stDone {
		return dst, 0, nil
	}
	if f.win == nil {
		f.win = make([]byte, winSize+winSlack)
	}
	f.in, f.pos, f.dst = in, 0, dst
	f.avail = math.MaxInt
	if f.opt.MaxOutput > 0 && f.opt.MaxOutput < math.MaxInt {
		f.avail = int(f.opt.MaxOutput)
	}
	err = f.run()
	if err == nil && f.avail == 0 && f.state != stDone {
		f.unread() // the caller passes in[consumed:] again
	}
	f.dst = append(f.dst, f.win[f.flushed:f.wpos]...)
	f.flushed = f.wpos
	out, consumed = f.dst, f.pos
	f.in, f.dst = nil, nil
	f.inTotal += int64(consumed)
	f.err = err
	return out, consumed, err
}

// run advances the state machine until the input runs out, the output cap
// is reached, the stream ends, or the input is found corrupt.
func (f *Inflater) run() error {
	for {
		switch f.state {
		case stHeader:
			if !f.fill(3) {
				return nil
			}
			f.final = f.bits&1 != 0
			typ := f.bits >> 1 & 3
			f.drop(3)
			switch typ {
			case 0:
				f.state = stStoredLen
			case 1:
				f.lit, f.dist = fixedLit, fixedDist
				f.state = stHuffman
			case 2:
				f.state = stCounts
			default:
				return f.corrupt("invalid block type")
			}

		case stStoredLen:
			f.drop(f.nbits % 8) // LEN starts at the next byte boundary
			if !f.fill(32) {
				return nil
			}
			n, nn := f.bits&0xffff, f.bits>>16&0xffff
			if n != nn^0xffff {
				return f.corrupt("stored block length does not match its complement")
			}
			f.drop(32)
			f.stored = int(n)
			f.state = stStored

		case stStored:
			if !f.copyStored() {
				return nil
			}
			f.endBlock()

		case stCounts:
			if !f.fill(14) {
				return nil
			}
			f.nlit = int(f.bits&0x1f) + 257
			f.ndist = int(f.bits>>5&0x1f) + 1
			f.nclen = int(f.bits>>10&0xf) + 4
			if f.nlit > 286 || f.ndist > 30 {
				return f.corrupt("too many literal/length or distance codes")
			}
			f.drop(14)
			f.clens = [numCodeLen]uint8{}
			f.idx = 0
			f.state = stCodeLens

		case stCodeLens:
			for ; f.idx < f.nclen; f.idx++ {
				if !f.fill(3) {
					return nil
				}
				f.clens[codeLenOrder[f.idx]] = uint8(f.bits & 7)
				f.drop(3)
			}
			var ok bool
			if f.clenTab, ok = buildTable(f.clenTab, f.clens[:], clenTempl[:], clenRoot); !ok {
				return f.corrupt("invalid code-length code")
			}
			f.idx = 0
			f.state = stLens

		case stLens:
			if done, err := f.readLens(); err != nil || !done {
				return err
			}
			lens := f.lens[:f.nlit+f.ndist]
			if lens[256] == 0 {
				return f.corrupt("no end-of-block code")
			}
			var ok1, ok2 bool
			f.litDyn, ok1 = buildTable(f.litDyn, lens[:f.nlit], litTempl[:], litRoot)
			f.distDyn, ok2 = buildTable(f.distDyn, lens[f.nlit:], distTempl[:], distRoot)
			if !ok1 || !ok2 {
				return f.corrupt("invalid literal/length or distance code")
			}
			f.lit, f.dist = f.litDyn, f.distDyn
			f.state = stHuffman

		case stHuffman:
			if err := f.huffman(); err != nil || f.state == stHuffman {
				return err
			}

		case stDone:
			return nil
		}
	}
}

// fill loads input bytes until n bits are available, reporting whether
// they are. It loads no more than needed, so the bytes of a stored block
// mostly stay in the input and are copied from there.
func (f *Inflater) fill(n uint) bool {
	for f.nbits < n {
		if f.pos >= len(f.in) {
			return false
		}
		f.bits |= uint64(f.in[f.pos]) << f.nbits
		f.pos++
		f.nbits += 8
	}
	return true
}

func (f *Inflater) drop(n uint) {
	f.bits >>= n
	f.nbits -= n
}

func (f *Inflater) corrupt(reason string) error {
	// The first unread bit lies in this byte of the stream.
	off := ((f.inTotal+int64(f.pos))*8 - int64(f.nbits)) / 8
	return &CorruptError{Offset: off, Reason: reason}
}

func (f *Inflater) endBlock() {
	if !f.final {
		f.state = stHeader
		return
	}
	f.state = stDone
	// Whole bytes still in the accumulator follow the stream.
	f.unread()
	f.bits, f.nbits = 0, 0
}

// unread hands the whole bytes in the accumulator back to the caller as
// unconsumed input. Only those of this call's input can go back; when
// the output cap stops a call, the rest are few or none.
func (f *Inflater) unread() {
	back := min(f.nbits/8, uint(f.pos))
	f.pos -= int(back)
	f.nbits -= back * 8
	f.bits &= 1<<f.nbits - 1
}

// slide appends the pending output to dst and moves the last histSize
// bytes of the window to its start.
func (f *Inflater) slide() {
	f.dst = append(f.dst, f.win[f.flushed:f.wpos]...)
	n := copy(f.win, f.win[f.wpos-histSize:f.wpos])
	f.wpos, f.flushed = n, n
}

// copyStored copies the rest of a stored block as far as input and the
// output cap allow, reporting whether the block is complete.
func (f *Inflater) copyStored() bool {
	for f.stored > 0 {
		if f.avail == 0 {
			return false
		}
		if f.wpos > winMax {
			f.slide()
		}
		if f.nbits >= 8 { // bytes loaded with LEN/NLEN come first
			f.win[f.wpos] = byte(f.bits)
			f.drop(8)
			f.wpos++
			f.stored--
			f.avail--
			continue
		}
		n := min(f.stored, f.avail, winSize-f.wpos)
		k := copy(f.win[f.wpos:f.wpos+n], f.in[f.pos:])
		if k == 0 {
			return false
		}
		f.pos += k
		f.wpos += k
		f.stored -= k
		f.avail -= k
	}
	return true
}

// readLens reads the code lengths of a dynamic block, one whole symbol
// (code plus repeat count) at a time, reporting whether all are read.
func (f *Inflater) readLens() (bool, error) {
	total := f.nlit + f.ndist
	for f.idx < total {
		f.fill(7 + 7) // the longest symbol; fewer bits may do
		e := f.clenTab[f.bits&clenMask]
		n := uint(e & lenMask)
		if n > f.nbits {
			return false, nil
		}
		if e&kindMask == kindBad {
			return false, f.corrupt("invalid code-length symbol")
		}
		sym := e >> valShift
		if sym < 16 {
			f.lens[f.idx] = uint8(sym)
			f.idx++
			f.drop(n)
			continue
		}
		var extra uint
		var rep int
		var val uint8
		switch sym {
		case 16:
			if f.idx == 0 {
				return false, f.corrupt("repeated code length with no previous length")
			}
			extra, rep, val = 2, 3, f.lens[f.idx-1]
		case 17:
			extra, rep = 3, 3
		default:
			extra, rep = 7, 11
		}
		if n+extra > f.nbits {
			return false, nil
		}
		rep += int(f.bits >> n & (1<<extra - 1))
		if f.idx+rep > total {
			return false, f.corrupt("code lengths overrun the alphabet")
		}
		f.drop(n + extra)
		for range rep {
			f.lens[f.idx] = val
			f.idx++
		}
	}
	return true, nil
}

// huffman decodes symbols of the current Huffman block until the block
// ends, the input runs out inside a symbol, or the output cap is reached.
// A symbol (a literal, or a length with its distance, extra bits included)
// is taken only once all its bits are there, so stopping needs no state
// beyond the bit accumulator.
func (f *Inflater) huffman() error {
	if f.copyLen > 0 {
		if f.wpos > winMax {
			f.slide()
		}
		n := min(f.copyLen, f.avail)
		f.wpos = copyMatch(f.win, f.wpos, f.copyDist, n)
		f.copyLen -= n
		f.avail -= n
		if f.copyLen > 0 {
			return nil
		}
	}

	// The loop works on locals, written back when it stops.
	in, pos := f.in, f.pos
	b, nb := f.bits, f.nbits
	win, wpos := f.win, f.wpos
	lit, dist := f.lit, f.dist
	avail := f.avail
	fault := ""
	eob := false

loop:
	for {
		if wpos > winMax {
			f.wpos = wpos
			f.slide()
			wpos = f.wpos
		}
		if avail == 0 {
			break
		}
		// 48 bits hold any symbol: 15-bit length code, 5 extra bits,
		// 15-bit distance code, 13 extra bits.
		if nb < 48 {
			if len(in)-pos >= 8 {
				b |= binary.LittleEndian.Uint64(in[pos:]) << nb
				k := (63 - nb) >> 3
				pos += int(k)
				nb += k << 3
			} else {
				for nb <= 56 && pos < len(in) {
					b |= uint64(in[pos]) << nb
					pos++
					nb += 8
				}
			}
		}

		e := lit[b&litMask]
		if e&linkBit != 0 {
			e = lit[e>>valShift+uint32(b>>litRoot)&(1<<(e>>extraShift&lenMask)-1)]
		}
		n := uint(e & lenMask)
		if n > nb {
			break // the input ends inside this symbol
		}
		switch e & kindMask {
		case kindLit:
			win[wpos] = byte(e >> valShift)
			wpos++
			avail--
			b >>= n
			nb -= n
			continue
		case kindEOB:
			b >>= n
			nb -= n
			eob = true
			break loop
		case kindBad:
			fault = "invalid literal/length code"
			break loop
		}

		x := e >> extraShift & lenMask
		length := int(e>>valShift) + int(b>>n&(1<<x-1))
		m := n + uint(x)
		d := dist[b>>m&distMask]
		if d&linkBit != 0 {
			d = dist[d>>valShift+uint32(b>>(m+distRoot))&(1<<(d>>extraShift&lenMask)-1)]
		}
		dn := uint(d & lenMask)
		dx := uint(d >> extraShift & lenMask)
		if m+dn+dx > nb {
			break
		}
		if d&kindMask != kindCopy {
			fault = "invalid distance code"
			break
		}
		distance := int(d>>valShift) + int(b>>(m+dn)&(1<<dx-1))
		if distance > wpos {
			fault = "distance reaches before the start of the stream"
			break
		}
		b >>= m + dn + dx
		nb -= m + dn + dx
		if length > avail {
			f.copyLen, f.copyDist = length-avail, distance
			length = avail
		}
		wpos = copyMatch(win, wpos, distance, length)
		avail -= length
	}

	f.pos, f.wpos, f.avail = pos, wpos, avail
	// Clear the bits above nb that a wide load brought in early: they will
	// be loaded again from the input, which a stored block copies without
	// going through the accumulator.
	f.bits, f.nbits = b&(1<<nb-1), nb
	if fault != "" {
		return f.corrupt(fault)
	}
	if eob {
		f.endBlock()
	}
	return nil
}

// copyMatch appends n bytes copied from distance back, returning the new
// write position. The caller guarantees room and a valid distance.
func copyMatch(win []byte, wpos, distance, n int) int {
	src := wpos - distance
	end := wpos + n
	if distance >= 8 && n <= 64 {
		// Whole words, even where source and destination overlap: each
		// word read lies before the word written. The last word may spill
		// past end into bytes not yet in use.
		for wpos < end {
			binary.LittleEndian.PutUint64(win[wpos:], binary.LittleEndian.Uint64(win[src:]))
			wpos += 8
			src += 8
		}
		return end
	}
	if distance >= n {
		copy(win[wpos:end], win[src:src+n])
		return end
	}
	if n <= 16 {
		for i := wpos; i < end; i++ {
			win[i] = win[i-distance]
		}
		return end
	}
	// The bytes from src on repeat with period distance, so copying what
	// is already there doubles the run each time.
	for wpos < end {
		wpos += copy(win[wpos:end], win[src:wpos])
	}
	return end
}
