package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/eidermail/eider/engine"
)

// Defaults of Options.
const (
	DefaultPrefix         = "eider:"
	DefaultPollInterval   = 2 * time.Second
	DefaultPublishTimeout = time.Second
)

const (
	// buckets is the number of hash tags user channels are spread over. In a
	// cluster every bucket is one hash slot, so a node needs at most this
	// many subscriber connections whatever the number of users. Every node
	// of a deployment must use the same value: it is part of the channel
	// name.
	buckets = 16
	// subscribeBatch bounds the channels named in one (S)SUBSCRIBE.
	subscribeBatch = 256
	// commandTimeout bounds a subscription command or a health PING.
	commandTimeout = 5 * time.Second
	// sentinelRefresh is how often the client asks the sentinels who the
	// master is, besides listening for +switch-master.
	sentinelRefresh = 5 * time.Second
)

// Options configure a Notifier.
type Options struct {
	// URL locates Redis; see the package comment for the accepted forms.
	URL string
	// Prefix starts every channel name (default "eider:"), so several
	// deployments can share one Redis. It must not contain '{' or '}'.
	Prefix string
	// PollInterval is how often, while Redis is unreachable, every local
	// subscriber is told to read its journal (AnyMailbox), and how often
	// the notifier tries to reconnect. Default 2 s.
	PollInterval time.Duration
	// PublishTimeout bounds one PUBLISH on the commit path (default 1 s).
	PublishTimeout time.Duration
	// NodeID names this node in its beacons so it can drop its own when
	// Redis echoes them back. Default: random. At most 64 bytes.
	NodeID string
	// Logger receives outage and recovery messages (default slog.Default()).
	Logger *slog.Logger
}

// Notifier carries change beacons between the nodes that serve a user.
type Notifier struct {
	opt  Options
	log  *slog.Logger
	ropt rueidis.ClientOption

	mu     sync.RWMutex
	users  map[engine.UserID][]subscriber // copy-on-write: readers call outside the lock
	dirty  map[engine.UserID]struct{}     // users whose first subscriber came or last left
	next   uint64
	closed bool

	wake   chan struct{} // the supervisor has dirty users to apply
	down   atomic.Bool   // Redis unreachable: subscribers are polled
	client atomic.Pointer[clientRef]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type subscriber struct {
	id uint64
	fn func(engine.ChangeEvent)
}

// clientRef is the connected client as Publish sees it.
type clientRef struct {
	c       rueidis.Client
	cluster bool // sharded pub/sub: SPUBLISH / SSUBSCRIBE
}

var _ engine.Notifier = (*Notifier)(nil)

// New starts a notifier. It fails on a malformed URL and on a Redis that
// refuses this client (bad credentials, a missing permission); an
// unreachable Redis is an outage, not an error: the node starts in polling
// mode and connects when Redis answers.
func New(ctx context.Context, opt Options) (*Notifier, error) {
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opt.Prefix, "{}") {
		return nil, errors.New("redis notifier: prefix must not contain '{' or '}' (they select a cluster hash slot)")
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	if opt.PublishTimeout <= 0 {
		opt.PublishTimeout = DefaultPublishTimeout
	}
	if opt.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		opt.NodeID = hex.EncodeToString(b[:])
	}
	if len(opt.NodeID) > maxNodeID {
		return nil, fmt.Errorf("redis notifier: node id longer than %d bytes", maxNodeID)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	ropt, err := clientOption(opt.URL)
	if err != nil {
		return nil, err
	}
	n := &Notifier{
		opt:   opt,
		log:   opt.Logger.With("component", "notify/redis", "node", opt.NodeID),
		ropt:  ropt,
		users: make(map[engine.UserID][]subscriber),
		dirty: make(map[engine.UserID]struct{}),
		wake:  make(chan struct{}, 1),
	}
	sup := &supervisor{n: n, lost: make(chan lostConn, buckets)}
	if err := sup.connect(ctx); err != nil {
		if isRefusal(err) {
			return nil, fmt.Errorf("redis notifier: %w", err)
		}
		n.markDown(err)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(2)
	go func() { defer n.wg.Done(); sup.run() }()
	go func() { defer n.wg.Done(); n.poll() }()
	return n, nil
}

// isRefusal tells a Redis that answered "no" (auth, ACL, wrong database)
// from one that could not be reached.
func isRefusal(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}

// NodeID is the id this node puts in its beacons.
func (n *Notifier) NodeID() string { return n.opt.NodeID }

// Connected reports whether Redis is reachable as far as the notifier
// knows (for health checks): false means sessions are being polled.
func (n *Notifier) Connected() bool { return !n.down.Load() && n.client.Load() != nil }

// channel is the pub/sub channel of user: <prefix>{<bucket>}:user:<id>.
// The braces are a cluster hash tag; on a single server they are just
// part of the name.
func (n *Notifier) channel(user engine.UserID) string {
	return n.opt.Prefix + "{" + strconv.Itoa(bucketOf(user)) + "}:user:" + strconv.FormatInt(int64(user), 10)
}

func bucketOf(user engine.UserID) int { return int(uint64(user) % buckets) }

// Publish hands ev to this node's subscribers of ev.User at once and sends
// it to the other nodes through Redis. A Redis that cannot be reached does
// not fail the commit that called Publish: the outage is logged once and
// every node polls meanwhile. Only a refusal by Redis (such as a missing
// ACL permission) is returned, for the caller to log.
func (n *Notifier) Publish(ctx context.Context, ev engine.ChangeEvent) error {
	if ev.Committed.IsZero() {
		ev.Committed = time.Now()
	}
	n.deliver(ev)
	ref := n.client.Load()
	if ref == nil || n.down.Load() {
		return nil // polling covers the other nodes; the supervisor reconnects
	}
	// The change is committed: announce it even if the client that made it
	// has gone away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.opt.PublishTimeout)
	defer cancel()
	msg := rueidis.BinaryString(appendBeacon(make([]byte, 0, 32), ev, n.opt.NodeID))
	var cmd rueidis.Completed
	if ref.cluster {
		cmd = ref.c.B().Spublish().Channel(n.channel(ev.User)).Message(msg).Build()
	} else {
		cmd = ref.c.B().Publish().Channel(n.channel(ev.User)).Message(msg).Build()
	}
	if err := ref.c.Do(ctx, cmd).Error(); err != nil {
		if isRefusal(err) {
			return fmt.Errorf("redis notifier: publish: %w", err)
		}
		n.markDown(err)
	}
	return nil
}

// Subscribe registers fn for user's beacons. It never waits for Redis: the
// first subscriber of a user makes the supervisor subscribe the user's
// channel in the background.
func (n *Notifier) Subscribe(user engine.UserID, fn func(engine.ChangeEvent)) (cancel func()) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return func() {}
	}
	n.next++
	id := n.next
	old := n.users[user]
	subs := make([]subscriber, len(old), len(old)+1)
	copy(subs, old)
	n.users[user] = append(subs, subscriber{id: id, fn: fn})
	first := len(old) == 0
	if first {
		n.dirty[user] = struct{}{}
	}
	n.mu.Unlock()
	if first {
		n.signal()
	}
	var once sync.Once
	return func() { once.Do(func() { n.unsubscribe(user, id) }) }
}

func (n *Notifier) unsubscribe(user engine.UserID, id uint64) {
	n.mu.Lock()
	old := n.users[user]
	subs := make([]subscriber, 0, len(old))
	for _, s := range old {
		if s.id != id {
			subs = append(subs, s)
		}
	}
	last := len(subs) == 0 && len(old) > 0
	if len(subs) == 0 {
		delete(n.users, user)
	} else {
		n.users[user] = subs
	}
	if last && !n.closed {
		n.dirty[user] = struct{}{}
	}
	n.mu.Unlock()
	if last {
		n.signal()
	}
}

// signal wakes the supervisor without waiting.
func (n *Notifier) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// deliver calls every local subscriber of ev.User.
func (n *Notifier) deliver(ev engine.ChangeEvent) {
	n.mu.RLock()
	subs := n.users[ev.User]
	n.mu.RUnlock()
	for _, s := range subs {
		s.fn(ev)
	}
}

// pollUsers tells every subscriber of users (all users when nil) to read
// its journal.
func (n *Notifier) pollUsers(users []engine.UserID) {
	if users == nil {
		users = n.subscribedUsers()
	}
	now := time.Now()
	for _, u := range users {
		n.deliver(engine.ChangeEvent{User: u, Mailbox: engine.AnyMailbox, Committed: now})
	}
}

// subscribedUsers lists the users with at least one local subscriber.
func (n *Notifier) subscribedUsers() []engine.UserID {
	n.mu.RLock()
	defer n.mu.RUnlock()
	users := make([]engine.UserID, 0, len(n.users))
	for u := range n.users {
		users = append(users, u)
	}
	return users
}

func (n *Notifier) hasSubscribers(user engine.UserID) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.users[user]) > 0
}

// takeDirty returns and clears the users whose channel subscription may
// have to change.
func (n *Notifier) takeDirty() []engine.UserID {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.dirty) == 0 {
		return nil
	}
	users := make([]engine.UserID, 0, len(n.dirty))
	for u := range n.dirty {
		users = append(users, u)
	}
	clear(n.dirty)
	return users
}

// onMessage handles a beacon from Redis. It runs on the client's reading
// goroutine.
func (n *Notifier) onMessage(m rueidis.PubSubMessage) {
	b, err := parseBeacon([]byte(m.Message))
	if err != nil {
		n.log.Debug("dropped a message on a beacon channel", "channel", m.Channel, "err", err)
		return
	}
	if b.node == n.opt.NodeID {
		return // delivered locally by Publish already
	}
	if m.Channel != n.channel(b.ev.User) {
		n.log.Debug("dropped a beacon on another user's channel", "channel", m.Channel, "user", b.ev.User)
		return
	}
	n.deliver(b.ev)
}

// markDown records an outage; the first failure of an outage is logged.
func (n *Notifier) markDown(err error) {
	if n.down.CompareAndSwap(false, true) {
		n.log.Warn("redis unreachable: sessions poll their journals until it returns",
			"poll_interval", n.opt.PollInterval, "err", err)
		n.signal()
	}
}

// markUp ends an outage: subscriptions are back, and every subscriber reads
// its journal once for what it may have missed.
func (n *Notifier) markUp() {
	if n.down.CompareAndSwap(true, false) {
		n.log.Info("redis reachable again: change beacons resumed")
		n.pollUsers(nil)
	}
}

// poll tells every subscriber to read its journal every PollInterval while
// Redis is unreachable. It runs apart from the supervisor, whose reconnect
// attempts may wait for a dial timeout.
func (n *Notifier) poll() {
	t := time.NewTicker(n.opt.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			if n.down.Load() {
				n.pollUsers(nil)
			}
		}
	}
}

// Close drops every subscription and disconnects.
func (n *Notifier) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	clear(n.users)
	clear(n.dirty)
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
	return nil
}
