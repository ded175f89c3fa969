package imap

import "context"

// cmdNoop answers NOOP and CHECK: both poll the selected mailbox, even
// without a change beacon, since a beacon from another node can be lost.
func (s *session) cmdNoop(ctx context.Context) status {
	if s.sel != nil {
		s.dirty.Store(true)
	}
	return ok("completed")
}
