package netloop

import (
	"net/netip"
	"sync"
)

// LimitConfig sets connection and session limits. Zero means unlimited.
type LimitConfig struct {
	// MaxConns caps open connections over every server sharing the Limits.
	MaxConns int
	// MaxConnsPerIP caps connections from one client address (the address
	// from a trusted PROXY header, not the proxy's).
	MaxConnsPerIP int
	// MaxSessionsPerUser caps concurrent authenticated sessions of one user,
	// counted by AcquireUser.
	MaxSessionsPerUser int
	// IPv6Prefix groups IPv6 clients by network for MaxConnsPerIP, since one
	// host can hold a whole /64. Default 64; 128 counts single addresses.
	IPv6Prefix int
}

// Limits counts connections per server(s), per client address and sessions per
// user. One Limits may be shared by the IMAP, POP3 and LMTP servers so that
// their connections count together. A nil *Limits imposes no limit. It is
// safe for concurrent use.
type Limits struct {
	cfg LimitConfig

	mu    sync.Mutex
	conns int
	perIP map[netip.Addr]int
	users map[string]int
}

// NewLimits returns Limits with the given configuration.
func NewLimits(cfg LimitConfig) *Limits {
	if cfg.IPv6Prefix <= 0 || cfg.IPv6Prefix > 128 {
		cfg.IPv6Prefix = 64
	}
	return &Limits{cfg: cfg, perIP: make(map[netip.Addr]int), users: make(map[string]int)}
}

// AcquireUser takes one session slot for an authenticated user and returns
// ErrTooManySessions when the user is at MaxSessionsPerUser; the protocol then
// answers with its own error and keeps the connection unauthenticated. Each
// successful AcquireUser must be paired with one ReleaseUser, typically from
// Session.OnClose. user is the canonical account name.
func (l *Limits) AcquireUser(user string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxSessionsPerUser > 0 && l.users[user] >= l.cfg.MaxSessionsPerUser {
		return ErrTooManySessions
	}
	l.users[user]++
	return nil
}

// ReleaseUser gives back a slot taken by AcquireUser.
func (l *Limits) ReleaseUser(user string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.users[user]; n > 1 {
		l.users[user] = n - 1
	} else {
		delete(l.users, user)
	}
}

// Sessions reports how many sessions of user hold a slot.
func (l *Limits) Sessions(user string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users[user]
}

// Conns reports the number of counted connections.
func (l *Limits) Conns() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns
}

// ConnsFrom reports how many connections are counted against addr's group
// (its IPv6 prefix); addresses are counted only when MaxConnsPerIP is set.
func (l *Limits) ConnsFrom(addr netip.Addr) int {
	if l == nil {
		return 0
	}
	key, ok := l.ipKey(addr)
	if !ok {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perIP[key]
}

// ipKey maps a client address to the key it is counted under.
func (l *Limits) ipKey(addr netip.Addr) (netip.Addr, bool) {
	if !addr.IsValid() {
		return netip.Addr{}, false
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() && l.cfg.IPv6Prefix < 128 {
		p, err := addr.Prefix(l.cfg.IPv6Prefix)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = p.Addr()
	}
	return addr, true
}

func (l *Limits) acquireConn() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxConns > 0 && l.conns >= l.cfg.MaxConns {
		return ErrTooManyConns
	}
	l.conns++
	return nil
}

func (l *Limits) releaseConn() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.conns--
	l.mu.Unlock()
}

// acquireIP counts a connection against addr. It returns the key to release
// and false when addr is not counted (no per-IP limit or not an IP).
func (l *Limits) acquireIP(addr netip.Addr) (netip.Addr, bool, error) {
	if l == nil || l.cfg.MaxConnsPerIP <= 0 {
		return netip.Addr{}, false, nil
	}
	key, ok := l.ipKey(addr)
	if !ok {
		return netip.Addr{}, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[key] >= l.cfg.MaxConnsPerIP {
		return netip.Addr{}, false, ErrTooManyFromIP
	}
	l.perIP[key]++
	return key, true, nil
}

func (l *Limits) releaseIP(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.perIP[key]; n > 1 {
		l.perIP[key] = n - 1
	} else {
		delete(l.perIP, key)
	}
}
