package transfer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrClosed reports a write to an encoder after Close.
var ErrClosed = errors.New("transfer: write after close")

// flushAt is how much encoded output an encoder gathers before writing it on.
const flushAt = 32 << 10

type base64Encoder struct {
	w       io.Writer
	l       Layout
	per     int    // decoded bytes per full line
	pending []byte // 0..per decoded bytes: the last line is held until Close
	out     []byte
	err     error
}

// NewBase64Encoder writes the base64 encoding of what is written to it, laid
// out per l. Close writes the final line (and its line ending if l.FinalEOL);
// it does not close w. With an invalid layout every call fails with
// ErrInvalidLayout.
func NewBase64Encoder(w io.Writer, l Layout) io.WriteCloser {
	e := &base64Encoder{w: w, l: l, err: l.Validate()}
	if e.err == nil {
		e.per = l.lineBytes()
		e.pending = make([]byte, 0, e.per)
	}
	return e
}

func (e *base64Encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n := len(p)
	// A full line is written only once more data follows it, because the last
	// line's line ending depends on FinalEOL.
	if len(e.pending) > 0 {
		k := min(e.per-len(e.pending), len(p))
		e.pending = append(e.pending, p[:k]...)
		p = p[k:]
		if len(p) == 0 {
			return n, nil
		}
		e.out = e.appendLine(e.out, e.pending, true)
		e.pending = e.pending[:0]
	}
	for len(p) > e.per {
		e.out = e.appendLine(e.out, p[:e.per], true)
		p = p[e.per:]
		if len(e.out) >= flushAt {
			if err := e.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	e.pending = append(e.pending, p...)
	if len(e.out) >= flushAt {
		if err := e.flush(); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (e *base64Encoder) appendLine(dst, line []byte, eol bool) []byte {
	at, k := len(dst), base64.StdEncoding.EncodedLen(len(line))
	dst = slices.Grow(dst, k+2)[:at+k]
	base64.StdEncoding.Encode(dst[at:], line)
	if eol {
		dst = e.l.appendEOL(dst)
	}
	return dst
}

func (e *base64Encoder) flush() error {
	if len(e.out) == 0 {
		return nil
	}
	if _, err := e.w.Write(e.out); err != nil {
		e.err = fmt.Errorf("transfer: writing base64: %w", err)
		return e.err
	}
	e.out = e.out[:0]
	return nil
}

func (e *base64Encoder) Close() error {
	if e.err != nil {
		if errors.Is(e.err, ErrClosed) {
			return nil
		}
		return e.err
	}
	if len(e.pending) > 0 {
		e.out = e.appendLine(e.out, e.pending, e.l.FinalEOL)
	} else if e.l.FinalEOL {
		// Nothing was written: the empty content's encoding is a bare line ending.
		e.out = e.l.appendEOL(e.out)
	}
	if err := e.flush(); err != nil {
		return err
	}
	e.err = ErrClosed
	return nil
}
