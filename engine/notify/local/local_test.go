package local

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/eidermail/eider/engine"
)

func TestPublishReachesOnlyThatUser(t *testing.T) {
	n := New()
	var a, b atomic.Int64
	cancelA := n.Subscribe(1, func(ev engine.ChangeEvent) { a.Add(int64(ev.ModSeq)) })
	n.Subscribe(2, func(ev engine.ChangeEvent) { b.Add(int64(ev.ModSeq)) })
	ctx := context.Background()
	n.Publish(ctx, engine.ChangeEvent{User: 1, ModSeq: 5})
	n.Publish(ctx, engine.ChangeEvent{User: 2, ModSeq: 7})
	if a.Load() != 5 || b.Load() != 7 {
		t.Fatalf("a=%d b=%d, want 5 and 7", a.Load(), b.Load())
	}
	cancelA()
	cancelA() // idempotent
	n.Publish(ctx, engine.ChangeEvent{User: 1, ModSeq: 100})
	if a.Load() != 5 {
		t.Fatalf("cancelled subscriber still called: %d", a.Load())
	}
	if len(n.subs) != 1 {
		t.Fatalf("empty user entry kept: %v", n.subs)
	}
	n.Close()
	n.Publish(ctx, engine.ChangeEvent{User: 2, ModSeq: 1})
	if b.Load() != 7 {
		t.Fatal("closed notifier still delivers")
	}
}
