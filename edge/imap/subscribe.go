package imap

import (
	"context"
)

// cmdSubscribe adds or removes a subscription; the name need not exist
// (RFC 9051 6.3.7).
func (s *session) cmdSubscribe(ctx context.Context, name string, on bool) status {
	if err := s.e.Subscribe(ctx, s.user.ID, name, on); err != nil {
		return s.storeError(ctx, "subscribe", err)
	}
	if on {
		return ok("SUBSCRIBE completed")
	}
	return ok("UNSUBSCRIBE completed")
}
