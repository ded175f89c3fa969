// Package feed keeps the unconsumed input of a sans-I/O protocol parser:
// the caller's buffer itself while it lasts, a copy only when the caller
// needs its buffer back or feeds more before the parser drained it. An
// idle connection so holds no input buffer at all.
package feed

// Input is a parser's unconsumed input.
type Input struct {
	// Pending is what has not been consumed yet; the parser reads and
	// reslices it as it consumes.
	Pending []byte
	own     []byte // holds input when the caller's buffer must be released
}

// Feed adds b. Input keeps a reference to b, without copying, until it is
// consumed or Detach is called: the caller must not modify b before that.
// Feeding again before the input is drained copies what is still pending.
func (in *Input) Feed(b []byte) {
	if len(b) == 0 {
		return
	}
	if len(in.Pending) == 0 {
		in.Pending = b
		return
	}
	in.own = append(append(in.own[:0], in.Pending...), b...)
	in.Pending = in.own
}

// Len is the number of octets not yet consumed.
func (in *Input) Len() int { return len(in.Pending) }

// Detach copies the pending input into memory of its own, so that the
// caller may reuse the buffer it fed.
func (in *Input) Detach() {
	if len(in.Pending) == 0 {
		in.Pending = nil
		return
	}
	in.own = append(in.own[:0], in.Pending...)
	in.Pending = in.own
}

// Drop discards the pending input and returns how many octets it held.
func (in *Input) Drop() int {
	n := len(in.Pending)
	in.Pending = nil
	return n
}

// Retained is the capacity of the memory Input holds of its own (for
// tests that check an idle parser gave it back).
func (in *Input) Retained() int { return cap(in.own) }
