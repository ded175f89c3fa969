package pop3

import (
	"bytes"
	"errors"
	"io"
)

// ErrTopDone is returned by TopWriter.Write once the header and the
// requested body lines have passed: stop copying the message and Close.
var ErrTopDone = errors.New("pop3: TOP line count reached")

// errClosed is returned by writes after Close.
var errClosed = errors.New("pop3: write after Close")

// DotWriter dot-stuffs a message for a multi-line reply (RETR) as it
// streams through: a line that starts with '.' gets one more. Octets are
// otherwise passed as stored, bare LF line endings included. Close writes
// the terminating ".CRLF", first adding a line ending if the message did
// not end with one. State carries across Write calls, so any split of the
// message gives the same output. Nothing is buffered: each Write turns into
// one underlying Write per stuffed line plus one for the rest, so put a
// buffer underneath when the sink is costly per call.
type DotWriter struct {
	w         io.Writer
	lineStart bool // the next octet starts a line
	lastCR    bool // the last octet was CR
	closed    bool
	err       error   // sticky
	scratch   [5]byte // the extra dot and the terminator, without allocating
}

// NewDotWriter returns a DotWriter that writes to w.
func NewDotWriter(w io.Writer) *DotWriter { return &DotWriter{w: w, lineStart: true} }

// Write stuffs p and writes it. It returns len(p) unless the underlying
// writer fails.
func (d *DotWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.closed {
		return 0, errClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	done := 0
	if d.lineStart && p[0] == '.' {
		d.scratch[0] = '.'
		if err := d.write(d.scratch[:1]); err != nil {
			return 0, err
		}
	}
	for {
		// Each "\n." is written with its dot, and the next segment starts
		// at that same dot: the dot goes out twice, which is the stuffing.
		i := bytes.Index(p[done:], []byte("\n."))
		if i < 0 {
			break
		}
		end := done + i + 2
		if err := d.write(p[done:end]); err != nil {
			return done, err
		}
		done = end - 1
	}
	if err := d.write(p[done:]); err != nil {
		return done, err
	}
	last := p[len(p)-1]
	d.lineStart = last == '\n'
	d.lastCR = last == '\r'
	return len(p), nil
}

func (d *DotWriter) write(b []byte) error {
	if _, err := d.w.Write(b); err != nil {
		d.err = err
		return err
	}
	return nil
}

// Close ends the multi-line reply: it adds CRLF when the message did not
// end with a line ending (only LF after a trailing CR), then ".CRLF". It
// does not close the underlying writer.
func (d *DotWriter) Close() error {
	if d.err != nil {
		return d.err
	}
	if d.closed {
		return nil
	}
	d.closed = true
	end := d.scratch[:copy(d.scratch[:], "\r\n.\r\n")]
	switch {
	case d.lineStart:
		end = end[2:]
	case d.lastCR:
		end = end[1:]
	}
	return d.write(end)
}

// TopWriter streams the reply to TOP: the header, the blank line that ends
// it, then at most n body lines, dot-stuffed through a DotWriter. A
// message without a blank line is all header and passes whole.
type TopWriter struct {
	d     *DotWriter
	state topState
	left  int // body lines still to pass
}

type topState uint8

const (
	topHeaderLineStart topState = iota // at the start of a header line
	topHeaderCR                        // the header line so far is "\r"
	topHeaderText                      // inside a non-empty header line
	topBody                            // counting body lines
	topDone                            // limit reached; the rest is dropped
)

// NewTopWriter returns a TopWriter passing the header and bodyLines body
// lines to w (bodyLines < 0 is taken as 0).
func NewTopWriter(w io.Writer, bodyLines int) *TopWriter {
	return &TopWriter{d: NewDotWriter(w), left: max(bodyLines, 0)}
}

// Write passes the part of p that belongs to the reply. Once the limit is
// reached it returns len(p) with ErrTopDone, and keeps doing so: the caller
// stops reading the message and calls Close.
func (t *TopWriter) Write(p []byte) (int, error) {
	if t.state == topDone {
		return len(p), ErrTopDone
	}
	keep := t.scan(p)
	if n, err := t.d.Write(p[:keep]); err != nil {
		return n, err
	}
	if t.state == topDone {
		return len(p), ErrTopDone
	}
	return len(p), nil
}

// scan advances the header/body state over p and returns how many octets
// of p are part of the reply.
func (t *TopWriter) scan(p []byte) int {
	i := 0
	for i < len(p) {
		switch t.state {
		case topHeaderLineStart, topHeaderCR:
			c := p[i]
			i++
			switch {
			case c == '\n':
				// A blank line: the header ends here.
				t.state = topBody
				if t.left == 0 {
					t.state = topDone
					return i
				}
			case c == '\r' && t.state == topHeaderLineStart:
				t.state = topHeaderCR
			default:
				t.state = topHeaderText
			}
		case topHeaderText:
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				return len(p)
			}
			i += j + 1
			t.state = topHeaderLineStart
		case topBody:
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				return len(p)
			}
			i += j + 1
			t.left--
			if t.left == 0 {
				t.state = topDone
				return i
			}
		case topDone:
			return i
		}
	}
	return i
}

// Done reports whether the header and requested lines have all passed.
func (t *TopWriter) Done() bool { return t.state == topDone }

// Close ends the multi-line reply, like DotWriter.Close.
func (t *TopWriter) Close() error { return t.d.Close() }
