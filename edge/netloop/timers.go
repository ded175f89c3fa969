package netloop

import "time"

// Timeouts. One sweep per Server replaces a runtime timer per connection,
// so an idle connection holds no timer: every tick it looks for connections
// past their phase deadline (PROXY header, TLS handshake) or their idle
// deadline and hands them to their loop, which checks again and acts. The
// tick is an eighth of the shortest timeout in use, between 10 ms and 1 s:
// a 30-minute IMAP autologout fires within a second of its time, a test's
// half-second timeout within 62 ms.

const (
	minTick = 10 * time.Millisecond
	maxTick = time.Second
)

// noteTimeout shortens the sweep's tick for a timeout of d.
func (s *Server) noteTimeout(d time.Duration) {
	if d <= 0 {
		return
	}
	t := int64(min(max(d/8, minTick), maxTick))
	for {
		cur := s.tick.Load()
		if cur <= t || s.tick.CompareAndSwap(cur, t) {
			return
		}
	}
}

// sweepTimeouts runs until the server stops.
func (s *Server) sweepTimeouts() {
	t := time.NewTimer(time.Duration(s.tick.Load()))
	defer t.Stop()
	var due []*Conn
	for {
		select {
		case <-s.stopped:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		s.mu.Lock()
		for _, c := range s.conns {
			if d, ok := c.nextTimeout(now); ok && d <= 0 && !c.closed.Load() {
				due = append(due, c)
			}
		}
		s.mu.Unlock()
		for _, c := range due {
			c.runOnLoop(c.timedOut)
		}
		clear(due)
		due = due[:0]
		t.Reset(time.Duration(s.tick.Load()))
	}
}
