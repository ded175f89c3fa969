package redis

import (
	"context"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
	redistest "github.com/eidermail/eider/internal/testkit/redis"
)

// BenchmarkCrossNode measures a beacon from Publish on one node to the
// subscriber callback on another, through a local redis-server.
func BenchmarkCrossNode(b *testing.B) {
	srv := redistest.Start(b)
	na, err := New(context.Background(), Options{URL: srv.URL(), NodeID: "a"})
	if err != nil {
		b.Fatal(err)
	}
	defer na.Close()
	nb, err := New(context.Background(), Options{URL: srv.URL(), NodeID: "b"})
	if err != nil {
		b.Fatal(err)
	}
	defer nb.Close()
	got := make(chan struct{}, 1)
	defer na.Subscribe(1, func(engine.ChangeEvent) { got <- struct{}{} })()
	// Wait for the subscription: beacons before it are lost.
	for {
		_ = nb.Publish(context.Background(), engine.ChangeEvent{User: 1, Mailbox: 1})
		select {
		case <-got:
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	b.ResetTimer()
	for i := range b.N {
		if err := nb.Publish(context.Background(), engine.ChangeEvent{User: 1, Mailbox: 1, ModSeq: engine.ModSeq(i)}); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// BenchmarkPublishLocal measures Publish for a user with a subscriber on
// the same node: local delivery plus one PUBLISH.
func BenchmarkPublishLocal(b *testing.B) {
	srv := redistest.Start(b)
	n, err := New(context.Background(), Options{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	defer n.Subscribe(1, func(engine.ChangeEvent) {})()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := n.Publish(context.Background(), engine.ChangeEvent{User: 1, Mailbox: 1, ModSeq: engine.ModSeq(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBeaconEncodeDecode(b *testing.B) {
	ev := engine.ChangeEvent{User: 123456, Mailbox: 98765, ModSeq: 1_000_000, Committed: time.Now()}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBeacon(buf[:0], ev, "0123456789abcdef")
		if _, err := parseBeacon(buf); err != nil {
			b.Fatal(err)
		}
	}
}
