package netloop

import (
	"errors"
	"net/netip"
	"testing"

	"pgregory.net/rapid"
)

func TestLimitsUsers(t *testing.T) {
	l := NewLimits(LimitConfig{MaxSessionsPerUser: 2})
	for range 2 {
		if err := l.AcquireUser("alice@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AcquireUser("alice@example.org"); !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("third session: %v", err)
	}
	if err := l.AcquireUser("bob@example.org"); err != nil {
		t.Fatalf("another user: %v", err)
	}
	l.ReleaseUser("alice@example.org")
	if err := l.AcquireUser("alice@example.org"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if n := l.Sessions("alice@example.org"); n != 2 {
		t.Fatalf("Sessions = %d", n)
	}
	var none *Limits
	if err := none.AcquireUser("x"); err != nil || none.Conns() != 0 {
		t.Fatal("a nil Limits must not limit")
	}
	none.ReleaseUser("x")
}

func TestLimitsIPv6Prefix(t *testing.T) {
	l := NewLimits(LimitConfig{MaxConnsPerIP: 2})
	a := netip.MustParseAddr("2001:db8:1:2::10")
	b := netip.MustParseAddr("2001:db8:1:2:ffff::99") // same /64
	c := netip.MustParseAddr("2001:db8:1:3::10")      // another /64
	for _, ip := range []netip.Addr{a, b} {
		if _, _, err := l.acquireIP(ip); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.acquireIP(a); !errors.Is(err, ErrTooManyFromIP) {
		t.Fatalf("third from the /64: %v", err)
	}
	if _, _, err := l.acquireIP(c); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	// IPv4-mapped addresses count as IPv4.
	l4 := NewLimits(LimitConfig{MaxConnsPerIP: 1})
	if _, _, err := l4.acquireIP(netip.MustParseAddr("::ffff:192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l4.acquireIP(netip.MustParseAddr("192.0.2.1")); !errors.Is(err, ErrTooManyFromIP) {
		t.Fatalf("mapped and plain IPv4 counted apart: %v", err)
	}
}

// Property: under any sequence of acquires and releases, counts match the
// slots held and never exceed the limits.
func TestLimitsAccounting(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxConns := rapid.IntRange(1, 6).Draw(t, "maxConns")
		perIP := rapid.IntRange(1, 3).Draw(t, "perIP")
		l := NewLimits(LimitConfig{MaxConns: maxConns, MaxConnsPerIP: perIP})
		ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::1")}
		type slot struct {
			key     netip.Addr
			counted bool
		}
		var held []slot
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			if len(held) > 0 && rapid.Bool().Draw(t, "release") {
				i := rapid.IntRange(0, len(held)-1).Draw(t, "which")
				if held[i].counted {
					l.releaseIP(held[i].key)
				}
				l.releaseConn()
				held = append(held[:i], held[i+1:]...)
				continue
			}
			ip := ips[rapid.IntRange(0, len(ips)-1).Draw(t, "ip")]
			if err := l.acquireConn(); err != nil {
				if len(held) < maxConns {
					t.Fatalf("refused at %d of %d", len(held), maxConns)
				}
				continue
			}
			key, counted, err := l.acquireIP(ip)
			if err != nil {
				l.releaseConn()
				if l.ConnsFrom(ip) < perIP {
					t.Fatalf("per-IP refusal below the limit")
				}
				continue
			}
			held = append(held, slot{key, counted})
		}
		if l.Conns() != len(held) || l.Conns() > maxConns {
			t.Fatalf("Conns = %d, held %d, max %d", l.Conns(), len(held), maxConns)
		}
		for _, ip := range ips {
			key, _ := l.ipKey(ip)
			n := 0
			for _, s := range held {
				if s.key == key {
					n++
				}
			}
			if l.ConnsFrom(ip) != n || n > perIP {
				t.Fatalf("ConnsFrom(%s) = %d, held %d", ip, l.ConnsFrom(ip), n)
			}
		}
	})
}
