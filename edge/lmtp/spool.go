package lmtp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// errAbandoned ends a delivery whose transaction was reset or whose
// connection went away before the message was complete.
var errAbandoned = errors.New("lmtp: message transfer abandoned")

// spool carries one message from the event loop, which must never block,
// to the goroutine running Engine.Deliver, which reads at the store's pace.
//
// gnet keeps reading a socket whatever the session does, so a message
// cannot be slowed down at the TCP level: bytes the store has not taken yet
// must be kept somewhere. Up to window bytes wait in memory; beyond that
// they go to an unlinked temporary file, so a fast sender and a slow store
// cost a bounded amount of heap per transaction and the connection is never
// cut for it. The file exists only while the store lags behind the network.
type spool struct {
	mu   sync.Mutex
	cond sync.Cond

	window int
	dir    string

	ring []byte // memory window, grown on demand up to window
	r, n int    // read position and bytes held in ring

	file     *os.File
	fileW    int64 // bytes written to file
	fileR    int64 // bytes of file handed to the reader
	spilling bool  // new bytes go to file until the reader has drained it

	written  int64 // message bytes accepted from the loop
	closed   bool  // the writer is done: the reader gets io.EOF after the data
	err      error // abort reason; the reader gets it instead of the rest
	released bool  // the reader is gone; writes are dropped
}

func newSpool(window int, dir string) *spool {
	s := &spool{window: window, dir: dir}
	s.cond.L = &s.mu
	return s
}

// Write takes message bytes on the event loop without blocking on the
// reader. p is copied. A failure to spill aborts the spool; the delivery
// then answers with a temporary error.
func (s *spool) Write(p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.released || s.closed {
		return
	}
	s.written += int64(len(p))
	if !s.spilling && s.n+len(p) <= s.window {
		s.toRing(p)
		s.cond.Signal()
		return
	}
	s.spilling = true
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "eider-lmtp-*")
		if err != nil {
			s.err = fmt.Errorf("lmtp: spool file: %w", err)
			s.cond.Signal()
			return
		}
		// Unlinked at once: the data dies with the transaction, even on a crash.
		_ = os.Remove(f.Name())
		s.file = f
	}
	// The reader reads only below fileW, so this region is the writer's alone.
	if _, err := s.file.WriteAt(p, s.fileW); err != nil {
		s.err = fmt.Errorf("lmtp: spool write: %w", err)
		s.cond.Signal()
		return
	}
	s.fileW += int64(len(p))
	s.cond.Signal()
}

// toRing appends p to the memory window; the caller checked that it fits.
func (s *spool) toRing(p []byte) {
	if s.n+len(p) > len(s.ring) {
		size := max(len(s.ring), 16<<10)
		for size < s.n+len(p) {
			size *= 2
		}
		ring := make([]byte, min(size, max(s.window, s.n+len(p))))
		s.copyOut(ring[:s.n])
		s.ring, s.r = ring, 0
	}
	w := (s.r + s.n) % len(s.ring)
	k := copy(s.ring[w:], p)
	copy(s.ring, p[k:])
	s.n += len(p)
}

// copyOut copies the first len(dst) held bytes of the ring into dst
// without consuming them.
func (s *spool) copyOut(dst []byte) {
	k := copy(dst, s.ring[s.r:min(s.r+len(dst), len(s.ring))])
	copy(dst[k:], s.ring[:len(dst)-k])
}

// Read is called by the delivery goroutine: it blocks until bytes, the end
// of the message or an abort arrive.
func (s *spool) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.err != nil:
			return 0, s.err
		case s.n > 0:
			k := min(len(p), s.n)
			s.copyOut(p[:k])
			s.r = (s.r + k) % len(s.ring)
			s.n -= k
			if s.n == 0 {
				s.r = 0
			}
			return k, nil
		case s.fileR < s.fileW:
			off := s.fileR
			k := int(min(int64(len(p)), s.fileW-off))
			f := s.file
			// The region below fileW is complete and never rewritten, so it
			// is read without holding the lock that the event loop needs.
			s.mu.Unlock()
			got, err := f.ReadAt(p[:k], off)
			s.mu.Lock()
			if got < k {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				if s.err == nil {
					s.err = fmt.Errorf("lmtp: spool read: %w", err)
				}
				return 0, s.err
			}
			s.fileR += int64(k)
			return k, nil
		case s.spilling:
			// Memory and file are drained: the writer may use memory again.
			s.spilling = false
		case s.closed:
			return 0, io.EOF
		default:
			s.cond.Wait()
		}
	}
}

// CloseWrite marks the end of the message.
func (s *spool) CloseWrite() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Abort makes the reader fail with err, so that nothing is stored.
func (s *spool) Abort(err error) {
	s.mu.Lock()
	if s.err == nil && !s.released {
		s.err = err
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Written is the number of message bytes the loop handed over.
func (s *spool) Written() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// Release is called by the reader when it is done: memory and file are
// given back and later writes are dropped.
func (s *spool) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = true
	s.ring, s.n, s.r = nil, 0, 0
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	s.fileR, s.fileW = 0, 0
	s.spilling = false
}
