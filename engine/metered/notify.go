package metered

import (
	"context"

	"github.com/eidermail/eider/engine"
)

// Notifier times Publish; Subscribe and the delivery of beacons are not
// store calls (the IMAP server measures the lag from commit to session).
type Notifier struct {
	next engine.Notifier
	ops  *ops
}

// Notifier wraps n; backend names it in the backend label ("local", "redis").
func (m *Metrics) Notifier(n engine.Notifier, backend string) *Notifier {
	return &Notifier{next: n, ops: m.ops("notify", backend, "Publish")}
}

// Unwrap returns the notifier Notifier decorates.
func (n *Notifier) Unwrap() engine.Notifier { return n.next }

func (n *Notifier) Publish(ctx context.Context, ev engine.ChangeEvent) error {
	t := n.ops.start("Publish")
	return t.done(n.next.Publish(ctx, ev))
}

func (n *Notifier) Subscribe(user engine.UserID, fn func(engine.ChangeEvent)) (cancel func()) {
	return n.next.Subscribe(user, fn)
}

func (n *Notifier) Close() error { return n.next.Close() }

var _ engine.Notifier = (*Notifier)(nil)
