package imap

import "context"

// cmdIdle waits for DONE and meanwhile reports every change at once (RFC
// 2177): change beacons queue update jobs while idling is set.
func (s *session) cmdIdle(ctx context.Context, tag string) status {
	s.idleTag = tag
	s.idling.Store(true)
	if s.sel != nil {
		s.update(ctx, true)
	}
	s.w.Continue("idling")
	s.p.ExpectDone()
	return deferred
}

// idleDone ends IDLE when the client sends DONE.
func (s *session) idleDone(ctx context.Context, tag string) {
	if s.idleTag == "" {
		return
	}
	s.endIdle(ctx)
	s.finish(ctx, tag, "IDLE", ok("IDLE terminated"))
}

func (s *session) endIdle(context.Context) {
	s.idling.Store(false)
	s.idleTag = ""
}
