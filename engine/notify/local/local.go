// Package local is the in-process Notifier of the embedded deployment: change
// beacons go from the committing goroutine straight to the subscribers of the
// same user in this process.
package local

import (
	"context"
	"sync"

	"github.com/eidermail/eider/engine"
)

// Notifier delivers beacons to subscribers in this process.
type Notifier struct {
	mu     sync.RWMutex
	next   uint64
	subs   map[engine.UserID]map[uint64]func(engine.ChangeEvent)
	closed bool
}

// New returns an empty notifier.
func New() *Notifier {
	return &Notifier{subs: make(map[engine.UserID]map[uint64]func(engine.ChangeEvent))}
}

// Publish calls every subscriber of ev.User. Subscribers must not block.
func (n *Notifier) Publish(_ context.Context, ev engine.ChangeEvent) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, fn := range n.subs[ev.User] {
		fn(ev)
	}
	return nil
}

// Subscribe registers fn for user's beacons until cancel is called.
func (n *Notifier) Subscribe(user engine.UserID, fn func(engine.ChangeEvent)) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return func() {}
	}
	n.next++
	id := n.next
	m := n.subs[user]
	if m == nil {
		m = make(map[uint64]func(engine.ChangeEvent))
		n.subs[user] = m
	}
	m[id] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			if m := n.subs[user]; m != nil {
				delete(m, id)
				if len(m) == 0 {
					delete(n.subs, user)
				}
			}
		})
	}
}

// Close drops every subscription.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	n.subs = make(map[engine.UserID]map[uint64]func(engine.ChangeEvent))
	return nil
}

var _ engine.Notifier = (*Notifier)(nil)
