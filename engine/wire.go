package engine

import (
	"encoding/binary"
	"errors"
)

// errCorrupt reports a stored record that does not decode; it is never the
// client's fault, so edges answer it as a server error.
var errCorrupt = errors.New("corrupt stored record")

// wbuf appends the compact binary form of stored records (varints and
// length-prefixed strings): decoding it is several times faster than JSON on
// the FETCH BODYSTRUCTURE/ENVELOPE path, and it is a fraction of the size.
type wbuf []byte

func (b *wbuf) uint(v uint64)  { *b = binary.AppendUvarint(*b, v) }
func (b *wbuf) int(v int64)    { *b = binary.AppendVarint(*b, v) }
func (b *wbuf) bytes(s []byte) { b.uint(uint64(len(s))); *b = append(*b, s...) }
func (b *wbuf) str(s string)   { b.uint(uint64(len(s))); *b = append(*b, s...) }
func (b *wbuf) bool(v bool) {
	if v {
		*b = append(*b, 1)
	} else {
		*b = append(*b, 0)
	}
}
func (b *wbuf) strs(ss []string) {
	b.uint(uint64(len(ss)))
	for _, s := range ss {
		b.str(s)
	}
}

// rbuf reads what wbuf wrote; the first error sticks and every later read
// returns zero values, so decoders check err once at the end.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *rbuf) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length and checks it against what is left, so a corrupt
// record cannot make a decoder allocate gigabytes.
func (r *rbuf) count(min int) int {
	n := r.uint()
	if min < 1 {
		min = 1
	}
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *rbuf) bytes() []byte {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *rbuf) str() string { return string(r.bytes()) }

func (r *rbuf) bool() bool {
	if len(r.b) == 0 {
		r.fail()
		return false
	}
	v := r.b[0] != 0
	r.b = r.b[1:]
	return v
}

func (r *rbuf) strs() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}
