package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAuthGateRemembersVerifiedLogins(t *testing.T) {
	cheap := PasswordParams{Time: 1, MemKiB: 1024, Threads: 1}
	hash, err := HashPassword("pw", cheap)
	if err != nil {
		t.Fatal(err)
	}
	g := newAuthGate(AuthOptions{Concurrency: 1, CacheTTL: time.Hour})
	u := User{ID: 7, PasswordHash: hash}
	ctx := context.Background()
	if ok, err := g.verify(ctx, u, "pw"); !ok || err != nil {
		t.Fatalf("first login: %v, %v", ok, err)
	}
	// Take the only hashing slot: what still succeeds is answered from memory.
	g.slots <- struct{}{}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if ok, err := g.verify(short(), u, "pw"); !ok || err != nil {
		t.Fatalf("remembered login needed a hash: %v, %v", ok, err)
	}
	if _, err := g.verify(short(), u, "wrong"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wrong password must be hashed (and wait for a slot): %v", err)
	}
	// A new stored hash (password changed, here or on another node) makes
	// the remembered login worthless.
	rehash, _ := HashPassword("pw", cheap)
	if _, err := g.verify(short(), User{ID: 7, PasswordHash: rehash}, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login against a changed hash was answered from memory: %v", err)
	}
	<-g.slots
	if ok, _ := g.verify(ctx, u, "wrong"); ok {
		t.Fatal("wrong password accepted")
	}

	// Entries expire, and their number is bounded.
	g = newAuthGate(AuthOptions{Concurrency: 1, CacheTTL: time.Millisecond, CacheSize: 10})
	if ok, _ := g.verify(ctx, u, "pw"); !ok {
		t.Fatal("login failed")
	}
	time.Sleep(5 * time.Millisecond)
	g.slots <- struct{}{}
	if _, err := g.verify(short(), u, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired login answered from memory: %v", err)
	}
	<-g.slots
	for id := range UserID(100) {
		g.remember(id, authEntry{expires: time.Now().Add(time.Hour)})
	}
	if n := len(g.entries); n > 10 {
		t.Fatalf("%d remembered logins, bound is 10", n)
	}
}
