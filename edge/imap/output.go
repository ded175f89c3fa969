package imap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/eidermail/eider/edge/netloop"
)

// flushAt is how many response bytes are gathered before they go to the
// connection mid-command; a 10,000-line FETCH so costs a few hundred
// writes, not ten thousand.
const flushAt = 64 << 10

// output gathers a session's responses and hands them to the connection:
// with Conn.Write from the event loop (never blocks) and through
// Conn.Writer from a worker (blocks while the client is slow to read).
// After COMPRESS it deflates them, with a sync flush at the end of each
// batch so that the client can decode every response at once.
type output struct {
	mu       sync.Mutex
	conn     *netloop.Conn
	ctx      context.Context
	buf      []byte
	blocking bool // a worker owns the session: writes may wait for the client

	zw        *flate.Writer
	zbuf      bytes.Buffer // compressed bytes not yet sent
	unflushed bool         // zw holds input not yet ended by a sync flush
	err       error
}

// Write gathers p; it implements io.Writer for imap.Writer.
func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) >= flushAt {
		if err := o.send(false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush sends everything gathered; with compression it ends a deflate
// block with a sync flush.
func (o *output) flush() error { return o.send(true) }

// take returns what a final flush would send, for the caller to hand to
// the connection itself (Conn.ResumeWith). The bytes are valid until the
// next write.
func (o *output) take() ([]byte, error) {
	data, err := o.pending(true)
	if err != nil {
		return nil, err
	}
	if o.zw != nil {
		o.zbuf.Reset() // Reset keeps the bytes; the next write overwrites them
	} else {
		o.buf = o.buf[:0]
	}
	return data, nil
}

// pending returns the bytes ready to go (deflated with compression, with a
// sync flush when final). They stay in o.buf or o.zbuf; the caller empties it.
func (o *output) pending(final bool) ([]byte, error) {
	if o.err != nil {
		o.buf = o.buf[:0]
		return nil, o.err
	}
	if o.zw == nil {
		return o.buf, nil
	}
	if len(o.buf) > 0 {
		if _, err := o.zw.Write(o.buf); err != nil {
			return nil, o.fail(fmt.Errorf("deflate: %w", err))
		}
		o.buf = o.buf[:0]
		o.unflushed = true
	}
	if final && o.unflushed {
		if err := o.zw.Flush(); err != nil {
			return nil, o.fail(fmt.Errorf("deflate: %w", err))
		}
		o.unflushed = false
	}
	return o.zbuf.Bytes(), nil
}

func (o *output) send(final bool) error {
	data, err := o.pending(final)
	if err != nil {
		return err
	}
	if o.zw != nil {
		defer o.zbuf.Reset()
	} else {
		defer func() { o.buf = o.buf[:0] }()
	}
	if len(data) == 0 {
		return nil
	}
	if o.blocking {
		_, err = o.conn.Writer(o.ctx).Write(data)
	} else {
		err = o.conn.Write(data)
	}
	if err != nil {
		return o.fail(err)
	}
	if cap(o.buf) > 4*flushAt {
		o.buf = nil // give back the space of a burst
	}
	return nil
}

func (o *output) fail(err error) error {
	o.err = err
	o.buf = o.buf[:0]
	return err
}

// startDeflate compresses everything sent from now on (RFC 4978).
func (o *output) startDeflate() error {
	zw, err := flate.NewWriter(&o.zbuf, flate.BestSpeed)
	if err != nil {
		return err
	}
	o.zw = zw
	return nil
}

// release frees buffers of an idle session.
func (o *output) release() {
	if len(o.buf) == 0 {
		o.buf = nil
	}
}

var _ io.Writer = (*output)(nil)
