package redis

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/internal/testkit"
	redistest "github.com/eidermail/eider/internal/testkit/redis"
)

// beaconWait bounds how long a test waits for a beacon that must come. The
// cross-node deadline the design promises (100 ms) is checked separately.
const beaconWait = 5 * time.Second

// inbox collects the events one subscriber receives.
type inbox struct {
	mu  sync.Mutex
	evs []engine.ChangeEvent
	got chan struct{}
}

func newInbox() *inbox { return &inbox{got: make(chan struct{}, 1024)} }

func (b *inbox) fn(ev engine.ChangeEvent) {
	b.mu.Lock()
	b.evs = append(b.evs, ev)
	b.mu.Unlock()
	select {
	case b.got <- struct{}{}:
	default:
	}
}

func (b *inbox) events() []engine.ChangeEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]engine.ChangeEvent(nil), b.evs...)
}

// waitFor waits until an event matching ok arrives and returns it.
func (b *inbox) waitFor(t *testing.T, within time.Duration, what string, ok func(engine.ChangeEvent) bool) engine.ChangeEvent {
	t.Helper()
	deadline := time.After(within)
	seen := 0
	for {
		evs := b.events()
		for _, ev := range evs[seen:] {
			if ok(ev) {
				return ev
			}
		}
		seen = len(evs)
		select {
		case <-b.got:
		case <-deadline:
			t.Fatalf("no %s within %v; got %+v", what, within, evs)
		}
	}
}

func isMailbox(mb engine.MailboxID) func(engine.ChangeEvent) bool {
	return func(ev engine.ChangeEvent) bool { return ev.Mailbox == mb }
}

func newNode(t *testing.T, url, id string, poll time.Duration, log io.Writer) *Notifier {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	n, err := New(context.Background(), Options{
		URL: url, NodeID: id, PollInterval: poll,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatalf("node %s: %v", id, err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// spy is a plain client the test uses to look at Redis' pub/sub state.
func spy(t *testing.T, url string) rueidis.Client {
	t.Helper()
	opt, err := clientOption(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// subscribers returns how many connections subscribe ch (PUBSUB NUMSUB or
// SHARDNUMSUB).
func subscribers(t *testing.T, c rueidis.Client, ch string, sharded bool) int64 {
	t.Helper()
	cmd := c.B().PubsubNumsub().Channel(ch).Build()
	if sharded {
		cmd = c.B().PubsubShardnumsub().Channel(ch).Build()
	}
	m, err := c.Do(context.Background(), cmd).AsIntMap()
	if err != nil {
		t.Fatalf("numsub: %v", err)
	}
	return m[ch]
}

// waitSubscribers waits until ch has want subscribers on Redis.
func waitSubscribers(t *testing.T, c rueidis.Client, ch string, sharded bool, want int64) {
	t.Helper()
	deadline := time.Now().Add(beaconWait)
	for {
		got := subscribers(t, c, ch, sharded)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s has %d subscribers, want %d", ch, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitConnected(t *testing.T, n *Notifier) {
	t.Helper()
	deadline := time.Now().Add(beaconWait)
	for !n.Connected() {
		if time.Now().After(deadline) {
			t.Fatalf("node %s did not reconnect", n.NodeID())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTwoNodes(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv.URL(), "node-a", time.Second, nil)
	b := newNode(t, srv.URL(), "node-b", time.Second, nil)
	c := spy(t, srv.URL())
	const alice, bob = engine.UserID(7), engine.UserID(8)

	got := newInbox()
	cancel := a.Subscribe(alice, got.fn)
	defer cancel()
	waitSubscribers(t, c, a.channel(alice), false, 1)

	committed := time.Now().Add(-time.Millisecond).Truncate(time.Microsecond)
	start := time.Now()
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: alice, Mailbox: 3, ModSeq: 41, Committed: committed}); err != nil {
		t.Fatal(err)
	}
	ev := got.waitFor(t, beaconWait, "beacon from node B", isMailbox(3))
	if lag := time.Since(start); lag > 100*time.Millisecond {
		t.Errorf("beacon took %v from node B to node A, want under 100 ms", lag)
	}
	want := engine.ChangeEvent{User: alice, Mailbox: 3, ModSeq: 41, Committed: committed}
	if ev.User != want.User || ev.Mailbox != want.Mailbox || ev.ModSeq != want.ModSeq || !ev.Committed.Equal(want.Committed) {
		t.Fatalf("received %+v, want %+v", ev, want)
	}

	// Node B serves neither user, node A only alice: Redis knows of
	// alice's channel only, with one subscriber.
	if n := subscribers(t, c, a.channel(bob), false); n != 0 {
		t.Fatalf("bob's channel has %d subscribers with no session of bob anywhere", n)
	}
	chans, err := c.Do(context.Background(), c.B().PubsubChannels().Pattern("eider:*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	if len(chans) != 1 || chans[0] != a.channel(alice) {
		t.Fatalf("PUBSUB CHANNELS: %v, want only %s", chans, a.channel(alice))
	}

	// A beacon for bob reaches nobody on node A.
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: bob, Mailbox: 9, ModSeq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: alice, Mailbox: 4, ModSeq: 2}); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "second beacon", isMailbox(4))
	for _, ev := range got.events() {
		if ev.User != alice {
			t.Fatalf("alice's subscriber received %+v", ev)
		}
	}
}

// TestLocalDelivery: a node's own sessions get its beacons from Publish,
// once, although Redis echoes them back to the node.
func TestLocalDelivery(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv.URL(), "node-a", time.Second, nil)
	b := newNode(t, srv.URL(), "node-b", time.Second, nil)
	c := spy(t, srv.URL())
	const user = engine.UserID(21)
	onA, onB := newInbox(), newInbox()
	defer a.Subscribe(user, onA.fn)()
	defer b.Subscribe(user, onB.fn)()
	waitSubscribers(t, c, a.channel(user), false, 2)

	if err := a.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 5, ModSeq: 10}); err != nil {
		t.Fatal(err)
	}
	if evs := onA.events(); len(evs) != 1 || evs[0].ModSeq != 10 {
		t.Fatalf("local subscriber did not get the beacon synchronously: %+v", evs)
	}
	onB.waitFor(t, beaconWait, "beacon on the other node", isMailbox(5))
	// A later beacon from B proves A's echo, sent earlier on the same
	// channel, has been processed (Redis keeps order per connection).
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 6, ModSeq: 11}); err != nil {
		t.Fatal(err)
	}
	onA.waitFor(t, beaconWait, "beacon from node B", isMailbox(6))
	if evs := onA.events(); len(evs) != 2 {
		t.Fatalf("node A's subscriber got %d events, want 2 (its own echo must be dropped): %+v", len(evs), evs)
	}
}

func TestUnsubscribe(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv.URL(), "node-a", time.Second, nil)
	b := newNode(t, srv.URL(), "node-b", time.Second, nil)
	c := spy(t, srv.URL())
	const user = engine.UserID(33)
	first, second := newInbox(), newInbox()
	cancel1 := a.Subscribe(user, first.fn)
	cancel2 := a.Subscribe(user, second.fn)
	ch := a.channel(user)
	waitSubscribers(t, c, ch, false, 1) // one channel subscription per node, not per session

	cancel1()
	cancel1() // twice is fine
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 1, ModSeq: 1}); err != nil {
		t.Fatal(err)
	}
	second.waitFor(t, beaconWait, "beacon for the remaining session", isMailbox(1))
	if n := subscribers(t, c, ch, false); n != 1 {
		t.Fatalf("channel has %d subscribers while one session remains", n)
	}

	cancel2()
	waitSubscribers(t, c, ch, false, 0)
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 2, ModSeq: 2}); err != nil {
		t.Fatal(err)
	}
	// Resubscribing takes the channel again and sees only new beacons.
	third := newInbox()
	defer a.Subscribe(user, third.fn)()
	waitSubscribers(t, c, ch, false, 1)
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 3, ModSeq: 3}); err != nil {
		t.Fatal(err)
	}
	third.waitFor(t, beaconWait, "beacon after resubscribing", isMailbox(3))
	for _, in := range []*inbox{first, second, third} {
		for _, ev := range in.events() {
			if ev.Mailbox == 2 {
				t.Fatalf("a cancelled subscriber received %+v", ev)
			}
		}
	}
	if n := len(first.events()); n != 0 {
		t.Fatalf("the first cancelled subscriber received %d events", n)
	}
}

// TestOutage: Redis stops; commits go on, sessions are polled; Redis
// returns and beacons flow again.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	const poll = 100 * time.Millisecond
	var logA testkit.SyncBuffer
	a := newNode(t, srv.URL(), "node-a", poll, &logA)
	b := newNode(t, srv.URL(), "node-b", poll, nil)
	c := spy(t, srv.URL())
	const user = engine.UserID(5)
	got := newInbox()
	defer a.Subscribe(user, got.fn)()
	waitSubscribers(t, c, a.channel(user), false, 1)

	srv.Stop()
	start := time.Now()
	for i := range 20 {
		if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 9, ModSeq: engine.ModSeq(100 + i)}); err != nil {
			t.Fatalf("publish during the outage: %v", err)
		}
	}
	if d := time.Since(start); d > 2*DefaultPublishTimeout {
		t.Fatalf("20 publishes during the outage took %v", d)
	}
	// Node A's session is polled: AnyMailbox beacons, repeatedly.
	got.waitFor(t, beaconWait, "first poll", isMailbox(engine.AnyMailbox))
	polls := func() int {
		k := 0
		for _, ev := range got.events() {
			if ev.Mailbox == engine.AnyMailbox && ev.User == user {
				k++
			}
		}
		return k
	}
	deadline := time.Now().Add(beaconWait)
	for polls() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d polls during the outage, want at least 3", polls())
		}
		time.Sleep(poll / 2)
	}
	if a.Connected() {
		t.Fatal("node A reports a connection while Redis is down")
	}

	srv.Restart()
	waitConnected(t, a)
	waitConnected(t, b)
	waitSubscribers(t, spy(t, srv.URL()), a.channel(user), false, 1)
	before := len(got.events())
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 12, ModSeq: 200}); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "beacon after Redis returned", isMailbox(12))
	// Polling stopped: at most a tick that raced the recovery follows.
	time.Sleep(3 * poll)
	late := 0
	for _, ev := range got.events()[before:] {
		if ev.Mailbox == engine.AnyMailbox {
			late++
		}
	}
	if late > 1 {
		t.Fatalf("%d polls after Redis returned", late)
	}
	log := logA.String()
	if k := bytes.Count([]byte(log), []byte("redis unreachable")); k != 1 {
		t.Fatalf("outage logged %d times, want once:\n%s", k, log)
	}
	if !bytes.Contains([]byte(log), []byte("redis reachable again")) {
		t.Fatalf("recovery not logged:\n%s", log)
	}
}

// TestStartWhileDown: a node starts while Redis is down, polls, and joins
// when Redis comes up.
func TestStartWhileDown(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	const poll = 50 * time.Millisecond
	a := newNode(t, srv.URL(), "node-a", poll, nil)
	if a.Connected() {
		t.Fatal("connected to a stopped Redis")
	}
	const user = engine.UserID(77)
	got := newInbox()
	defer a.Subscribe(user, got.fn)()
	got.waitFor(t, beaconWait, "poll while Redis was never reached", isMailbox(engine.AnyMailbox))
	if err := a.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 2, ModSeq: 1}); err != nil {
		t.Fatalf("publish with no Redis yet: %v", err)
	}
	got.waitFor(t, time.Second, "local beacon without Redis", isMailbox(2))

	srv.Restart()
	waitConnected(t, a)
	b := newNode(t, srv.URL(), "node-b", poll, nil)
	waitSubscribers(t, spy(t, srv.URL()), a.channel(user), false, 1)
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: user, Mailbox: 3, ModSeq: 2}); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "beacon from node B", isMailbox(3))
}

// TestRefused: bad credentials are a configuration error at start, not an
// outage.
func TestRefused(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "s3cret")
	_, err := New(context.Background(), Options{URL: "redis://:wrong@" + srv.Addr(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("New with a wrong password succeeded")
	}
	if bytes.Contains([]byte(err.Error()), []byte("wrong@")) {
		t.Fatalf("error quotes the URL: %v", err)
	}
	n := newNode(t, "redis://:s3cret@"+srv.Addr(), "node-a", time.Second, nil)
	if !n.Connected() {
		t.Fatal("not connected with the right password")
	}
}

// TestCluster runs two nodes against a one-node Redis Cluster: sharded
// pub/sub carries the beacons.
func TestCluster(t *testing.T) {
	srv := redistest.StartCluster(t)
	a := newNode(t, srv.URL(), "node-a", time.Second, nil)
	b := newNode(t, srv.URL(), "node-b", time.Second, nil)
	if !a.client.Load().cluster {
		t.Fatal("the notifier did not detect the cluster")
	}
	c := spy(t, srv.URL())
	got := newInbox()
	users := []engine.UserID{1, 2, 17, 40} // 1 and 17 share a bucket
	for _, u := range users {
		defer a.Subscribe(u, got.fn)()
	}
	for _, u := range users {
		waitSubscribers(t, c, a.channel(u), true, 1)
	}
	if n := subscribers(t, c, a.channel(3), true); n != 0 {
		t.Fatalf("user 3's shard channel has %d subscribers", n)
	}
	for i, u := range users {
		if err := b.Publish(context.Background(), engine.ChangeEvent{User: u, Mailbox: engine.MailboxID(100 + i), ModSeq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range users {
		ev := got.waitFor(t, beaconWait, "sharded beacon", isMailbox(engine.MailboxID(100+i)))
		if ev.User != u {
			t.Fatalf("beacon for mailbox %d carried user %d, want %d", 100+i, ev.User, u)
		}
	}
}

// TestSentinel finds the master through a Sentinel.
func TestSentinel(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "eidermaster")
	a := newNode(t, sentinel.URL(), "node-a", time.Second, nil)
	b := newNode(t, sentinel.URL(), "node-b", time.Second, nil)
	c := spy(t, master.URL())
	got := newInbox()
	defer a.Subscribe(4, got.fn)()
	waitSubscribers(t, c, a.channel(4), false, 1)
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: 4, Mailbox: 8, ModSeq: 3}); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "beacon through the sentinel-found master", isMailbox(8))
}

func TestCloseDropsSubscriptions(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv.URL(), "node-a", time.Second, nil)
	c := spy(t, srv.URL())
	got := newInbox()
	cancel := a.Subscribe(6, got.fn)
	waitSubscribers(t, c, a.channel(6), false, 1)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, c, a.channel(6), false, 0)
	cancel() // after Close: harmless
	if err := a.Publish(context.Background(), engine.ChangeEvent{User: 6, Mailbox: 1}); err != nil {
		t.Fatalf("publish after close: %v", err)
	}
	if n := len(got.events()); n != 0 {
		t.Fatalf("subscriber got %d events after Close", n)
	}
	_ = a.Subscribe(6, got.fn) // after Close: a no-op
}

// TestSubscriberConnectionKilled: Redis drops the subscriber connection
// (CLIENT KILL, a proxy restart) while staying up. The node resubscribes
// at once and its sessions read their journals for what they may have
// missed meanwhile.
func TestSubscriberConnectionKilled(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv.URL(), "node-a", time.Hour, nil) // no poll ticks in this test
	b := newNode(t, srv.URL(), "node-b", time.Hour, nil)
	c := spy(t, srv.URL())
	got := newInbox()
	defer a.Subscribe(11, got.fn)()
	waitSubscribers(t, c, a.channel(11), false, 1)

	if err := c.Do(context.Background(), c.B().ClientKill().TypePubsub().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "resync beacon after the subscriber connection was killed", isMailbox(engine.AnyMailbox))
	waitSubscribers(t, c, a.channel(11), false, 1)
	if !a.Connected() {
		t.Fatal("a killed subscriber connection was taken for an outage")
	}
	if err := b.Publish(context.Background(), engine.ChangeEvent{User: 11, Mailbox: 2, ModSeq: 5}); err != nil {
		t.Fatal(err)
	}
	got.waitFor(t, beaconWait, "beacon on the new subscriber connection", isMailbox(2))
}

// TestSentinelFailover: the master dies, the Sentinel promotes its
// replica, and beacons flow through the new master. Takes a few seconds
// (the Sentinel waits 1 s before it calls the master down).
func TestSentinelFailover(t *testing.T) {
	master := redistest.Start(t, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	sentinel := redistest.StartSentinel(t, master, "eidermaster")
	waitReplicaOnline(t, master)
	const poll = 100 * time.Millisecond
	var logA, logB testkit.SyncBuffer
	a := newNode(t, sentinel.URL(), "node-a", poll, &logA)
	b := newNode(t, sentinel.URL(), "node-b", poll, &logB)
	got := newInbox()
	defer a.Subscribe(4, got.fn)()
	waitSubscribers(t, spy(t, master.URL()), a.channel(4), false, 1)

	master.Stop()
	// Until the failover completes, sessions are polled; afterwards the
	// replica, now master, carries the subscription.
	c := spy(t, replica.URL())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if subscribers(t, c, a.channel(4), false) == 1 && a.Connected() && b.Connected() {
			break
		}
		if time.Now().After(deadline) {
			role, _ := redistest.Command(replica.Addr(), "INFO", "replication")
			t.Fatalf("no failover within 30 s (subscribers on the replica: %d, connected %v %v, replica %q)\nnode A:\n%s\nnode B:\n%s",
				subscribers(t, c, a.channel(4), false), a.Connected(), b.Connected(), role, logA.String(), logB.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 50 {
		if err := b.Publish(context.Background(), engine.ChangeEvent{User: 4, Mailbox: engine.MailboxID(500 + i), ModSeq: 1}); err != nil {
			t.Fatal(err)
		}
		if ev := got.events(); len(ev) > 0 && ev[len(ev)-1].Mailbox >= 500 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no beacon through the promoted master: %+v", got.events())
}

// waitReplicaOnline waits until master reports a replica in sync.
func waitReplicaOnline(t *testing.T, master *redistest.Server) {
	t.Helper()
	deadline := time.Now().Add(beaconWait)
	for {
		info, err := redistest.Command(master.Addr(), "INFO", "replication")
		if err == nil && strings.Contains(info, "state=online") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not online: %q, %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
