package imap

import (
	"fmt"
	"iter"
	"slices"
	"strconv"
)

// SeqRange is one element of a sequence set: a single number when Start ==
// Stop, a range otherwise. The value 0 stands for "*", the largest number in
// use. Ranges keep the direction the client wrote ("5:3" stays 5:3).
type SeqRange struct {
	Start, Stop uint32
}

// SeqSet is a set of message sequence numbers or UIDs as written on the wire
// (RFC 3501 sequence-set). It stays compact: "1:*" is one range, never a
// slice of numbers. Saved marks the SEARCHRES reference "$" (RFC 5182): the
// caller substitutes the result saved by the last SEARCH RETURN (SAVE).
type SeqSet struct {
	Ranges []SeqRange
	Saved  bool
}

// ParseSeqSet parses a sequence-set such as "1:3,5,7:*" or "$".
func ParseSeqSet(s string) (SeqSet, error) {
	return parseSeqSet([]byte(s))
}

func parseSeqSet(b []byte) (SeqSet, error) {
	if len(b) == 1 && b[0] == '$' {
		return SeqSet{Saved: true}, nil
	}
	if len(b) == 0 {
		return SeqSet{}, fmt.Errorf("%w: empty", ErrBadSeqSet)
	}
	n := 1
	for _, c := range b {
		if c == ',' {
			n++
		}
	}
	set := SeqSet{Ranges: make([]SeqRange, 0, n)}
	i := 0
	for {
		start, j, err := parseSeqNumber(b, i)
		if err != nil {
			return SeqSet{}, err
		}
		stop := start
		if j < len(b) && b[j] == ':' {
			stop, j, err = parseSeqNumber(b, j+1)
			if err != nil {
				return SeqSet{}, err
			}
		}
		set.Ranges = append(set.Ranges, SeqRange{Start: start, Stop: stop})
		if j == len(b) {
			return set, nil
		}
		if b[j] != ',' {
			return SeqSet{}, fmt.Errorf("%w: unexpected %q", ErrBadSeqSet, b[j])
		}
		i = j + 1
	}
}

// parseSeqNumber reads a seq-number (nz-number or "*") at b[i:].
func parseSeqNumber(b []byte, i int) (uint32, int, error) {
	if i >= len(b) {
		return 0, i, fmt.Errorf("%w: missing number", ErrBadSeqSet)
	}
	if b[i] == '*' {
		return 0, i + 1, nil
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, i, fmt.Errorf("%w: expected number at %q", ErrBadSeqSet, b[i])
	}
	var v uint64
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + uint64(b[j]-'0')
		if v > 0xffffffff {
			return 0, j, fmt.Errorf("%w: number out of range", ErrBadSeqSet)
		}
		j++
	}
	return uint32(v), j, nil
}

// String formats the set back to its wire form, e.g. "1:3,5,7:*".
func (s SeqSet) String() string {
	return string(s.AppendTo(nil))
}

// AppendTo appends the wire form of the set to dst.
func (s SeqSet) AppendTo(dst []byte) []byte {
	if s.Saved {
		return append(dst, '$')
	}
	for i, r := range s.Ranges {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSeqNumber(dst, r.Start)
		if r.Stop != r.Start {
			dst = append(dst, ':')
			dst = appendSeqNumber(dst, r.Stop)
		}
	}
	return dst
}

func appendSeqNumber(dst []byte, n uint32) []byte {
	if n == 0 {
		return append(dst, '*')
	}
	return strconv.AppendUint(dst, uint64(n), 10)
}

// IsEmpty reports whether the set holds no range and is not "$".
func (s SeqSet) IsEmpty() bool { return !s.Saved && len(s.Ranges) == 0 }

// Dynamic reports whether the set refers to "*", whose value depends on the
// mailbox.
func (s SeqSet) Dynamic() bool {
	for _, r := range s.Ranges {
		if r.Start == 0 || r.Stop == 0 {
			return true
		}
	}
	return false
}

// resolve turns a range into ascending bounds with "*" replaced by max.
func (r SeqRange) resolve(max uint32) (lo, hi uint32) {
	lo, hi = r.Start, r.Stop
	if lo == 0 {
		lo = max
	}
	if hi == 0 {
		hi = max
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Contains reports whether n is in the set, where max is the largest number
// in use (the message count for sequence numbers, the highest UID for UIDs)
// and stands for "*". As RFC 3501 prescribes, "5:*" with max 3 is 3:5. A
// saved "$" set contains nothing: resolve it first.
func (s SeqSet) Contains(n, max uint32) bool {
	if n == 0 {
		return false
	}
	for _, r := range s.Ranges {
		lo, hi := r.resolve(max)
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// All yields the numbers of the set that are at most max, range by range in
// the order written, each range ascending. Overlapping ranges yield a number
// more than once; iterate Normalize(max) for each number once, ascending.
func (s SeqSet) All(max uint32) iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for _, r := range s.Ranges {
			lo, hi := r.resolve(max)
			if hi > max {
				hi = max
			}
			if lo == 0 {
				lo = 1
			}
			if lo > hi {
				continue
			}
			for n := lo; ; n++ {
				if !yield(n) {
					return
				}
				if n == hi {
					break
				}
			}
		}
	}
}

// Normalize returns the set with "*" replaced by max, numbers above max
// dropped, and ranges sorted ascending and merged: the canonical form of the
// numbers it selects.
func (s SeqSet) Normalize(max uint32) SeqSet {
	rs := make([]SeqRange, 0, len(s.Ranges))
	for _, r := range s.Ranges {
		lo, hi := r.resolve(max)
		if hi > max {
			hi = max
		}
		if lo == 0 {
			lo = 1
		}
		if lo > hi {
			continue
		}
		rs = append(rs, SeqRange{Start: lo, Stop: hi})
	}
	slices.SortFunc(rs, func(a, b SeqRange) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if k := len(out); k > 0 && uint64(r.Start) <= uint64(out[k-1].Stop)+1 {
			if r.Stop > out[k-1].Stop {
				out[k-1].Stop = r.Stop
			}
			continue
		}
		out = append(out, r)
	}
	return SeqSet{Ranges: out}
}

// Count returns how many distinct numbers Normalize(max) selects.
func (s SeqSet) Count(max uint32) uint64 {
	var n uint64
	for _, r := range s.Normalize(max).Ranges {
		n += uint64(r.Stop-r.Start) + 1
	}
	return n
}

// AddNum adds n to the set, extending the last range when n follows it, so
// that adding ascending numbers builds the most compact set (as COPYUID,
// VANISHED and ESEARCH ALL want). n must not be 0.
func (s *SeqSet) AddNum(n uint32) {
	s.AddRange(n, n)
}

// AddRange adds start:stop (start <= stop, neither 0), merging it into the
// last range when they touch in ascending order.
func (s *SeqSet) AddRange(start, stop uint32) {
	if k := len(s.Ranges); k > 0 {
		last := &s.Ranges[k-1]
		if last.Start != 0 && last.Stop != 0 && last.Start <= last.Stop &&
			start >= last.Start && uint64(start) <= uint64(last.Stop)+1 {
			if stop > last.Stop {
				last.Stop = stop
			}
			return
		}
	}
	s.Ranges = append(s.Ranges, SeqRange{Start: start, Stop: stop})
}
