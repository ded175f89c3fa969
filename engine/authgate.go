package engine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"runtime"
	"sync"
	"time"

	"github.com/zeebo/blake3"
)

// AuthOptions tune password checking.
type AuthOptions struct {
	// Concurrency bounds the password hashes computed at once (default: the
	// number of CPUs). An argon2id check costs tens of milliseconds and
	// MemKiB of memory on purpose; a burst of logins must not take every
	// CPU and gigabytes from the sessions already serving mail.
	Concurrency int
	// CacheTTL is how long a verified login is remembered (default 10
	// minutes; negative: never). Mail clients log in again and again,
	// often with several connections at once; a remembered login costs a
	// keyed BLAKE3 hash instead of an argon2id one.
	CacheTTL time.Duration
	// CacheSize bounds the remembered logins (default 100,000).
	CacheSize int
}

func (o AuthOptions) withDefaults() AuthOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 10 * time.Minute
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	return o
}

// authGate bounds password hashing and remembers verified logins. A
// remembered login is a digest keyed with a per-process random key, tied
// to the stored hash it was checked against: a password change, or an
// imported hash replaced, makes it useless at once.
type authGate struct {
	opt   AuthOptions
	slots chan struct{}
	key   [32]byte

	mu      sync.Mutex
	entries map[UserID]authEntry
}

type authEntry struct {
	storedHash string
	digest     [32]byte
	expires    time.Time
}

func newAuthGate(opt AuthOptions) *authGate {
	g := &authGate{opt: opt.withDefaults(), entries: make(map[UserID]authEntry)}
	g.slots = make(chan struct{}, g.opt.Concurrency)
	_, _ = rand.Read(g.key[:])
	return g
}

// verify checks password against u's stored hash.
func (g *authGate) verify(ctx context.Context, u User, password string) (bool, error) {
	var digest [32]byte
	caching := g.opt.CacheTTL > 0
	if caching {
		digest = g.digest(u.PasswordHash, password)
		g.mu.Lock()
		ent, ok := g.entries[u.ID]
		g.mu.Unlock()
		if ok && time.Now().Before(ent.expires) && ent.storedHash == u.PasswordHash &&
			subtle.ConstantTimeCompare(ent.digest[:], digest[:]) == 1 {
			return true, nil
		}
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	ok := VerifyPassword(u.PasswordHash, password)
	<-g.slots
	if ok && caching {
		g.remember(u.ID, authEntry{storedHash: u.PasswordHash, digest: digest, expires: time.Now().Add(g.opt.CacheTTL)})
	}
	return ok, nil
}

func (g *authGate) digest(storedHash, password string) [32]byte {
	h, _ := blake3.NewKeyed(g.key[:])
	_, _ = h.WriteString(storedHash)
	_, _ = h.Write([]byte{0})
	_, _ = h.WriteString(password)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func (g *authGate) remember(id UserID, ent authEntry) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.entries) >= g.opt.CacheSize {
		now := time.Now()
		for k, e := range g.entries {
			if now.After(e.expires) {
				delete(g.entries, k)
			}
		}
		// Still full: forget an arbitrary tenth; they only cost a slow login.
		for k := range g.entries {
			if len(g.entries) < g.opt.CacheSize*9/10 {
				break
			}
			delete(g.entries, k)
		}
	}
	g.entries[id] = ent
}

// forget drops what is remembered of a user (password set, user deleted).
func (g *authGate) forget(id UserID) {
	g.mu.Lock()
	delete(g.entries, id)
	g.mu.Unlock()
}
