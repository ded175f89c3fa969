package mongo

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestLeases: one holder at a time; the holder renews; a lease that ran out
// changes hands; release frees it only for its holder.
func TestLeases(t *testing.T) {
	var offset atomic.Int64
	s := openTest(t, Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	ctx := t.Context()
	acquire := func(holder string, want bool) {
		t.Helper()
		got, err := s.AcquireLease(ctx, "pop3:7", holder, time.Minute)
		if err != nil || got != want {
			t.Fatalf("%s acquires: %v, %v; want %v", holder, got, err, want)
		}
	}
	acquire("node-a/1", true)
	acquire("node-b/9", false)
	acquire("node-a/1", true) // renewal
	if err := s.ReleaseLease(ctx, "pop3:7", "node-b/9"); err != nil {
		t.Fatal(err)
	}
	acquire("node-b/9", false) // another holder's release changed nothing
	offset.Store(int64(2 * time.Minute))
	acquire("node-b/9", true) // node-a's lease ran out (its node died)
	acquire("node-a/1", false)
	if err := s.ReleaseLease(ctx, "pop3:7", "node-b/9"); err != nil {
		t.Fatal(err)
	}
	acquire("node-a/1", true)
}
