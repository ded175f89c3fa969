package redis

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/eidermail/eider/engine"
)

// supervisor owns the Redis client and the subscriber connections. One
// goroutine runs it, so its fields need no lock; Subscribe and Publish talk
// to it only through the Notifier's dirty set, wake channel and down flag.
type supervisor struct {
	n       *Notifier
	client  rueidis.Client
	cluster bool
	conns   [buckets]*subConn // without a cluster only conns[0] is used
	lost    chan lostConn
}

// subConn is a dedicated connection carrying the subscriptions of one
// bucket (all buckets without a cluster).
type subConn struct {
	slot  int
	dc    rueidis.DedicatedClient
	users map[engine.UserID]struct{} // channels subscribed on it

	mu      sync.Mutex
	leaving map[string]struct{} // channels unsubscribed by us, awaiting Redis' confirmation
}

// lostConn reports a subscriber connection that broke or whose channels
// Redis dropped (a cluster slot moved).
type lostConn struct {
	sc  *subConn
	err error
}

// connect creates the client. rueidis dials at creation, so this fails
// while Redis is unreachable.
func (s *supervisor) connect(context.Context) error {
	c, err := rueidis.NewClient(s.n.ropt)
	if err != nil {
		return err
	}
	s.client = c
	s.cluster = c.Mode() == rueidis.ClientModeCluster
	s.n.client.Store(&clientRef{c: c, cluster: s.cluster})
	return nil
}

func (s *supervisor) run() {
	defer s.shutdown()
	var lastTry time.Time
	for {
		if s.client == nil || s.n.down.Load() {
			// While down, try once per PollInterval, not at every login.
			if time.Since(lastTry) >= s.n.opt.PollInterval {
				lastTry = time.Now()
				s.recover()
			}
		} else {
			s.apply(s.n.takeDirty())
		}
		var retry <-chan time.Time
		if s.client == nil || s.n.down.Load() {
			retry = time.After(s.n.opt.PollInterval - time.Since(lastTry))
		}
		select {
		case <-s.n.ctx.Done():
			return
		case <-s.n.wake:
		case l := <-s.lost:
			s.drop(l)
		case <-retry:
		}
	}
}

// recover tries to end an outage: connect (or PING), then subscribe every
// user with local subscribers on fresh connections.
func (s *supervisor) recover() {
	ctx, cancel := context.WithTimeout(s.n.ctx, commandTimeout)
	defer cancel()
	if s.client == nil {
		if err := s.connect(ctx); err != nil {
			s.n.markDown(err)
			return
		}
	} else if err := s.client.Do(ctx, s.client.B().Ping().Build()).Error(); err != nil {
		return
	}
	for _, sc := range s.conns {
		if sc != nil {
			s.close(sc)
		}
	}
	s.n.takeDirty() // a full resubscription covers them
	if err := s.subscribe(s.n.subscribedUsers()); err != nil {
		s.n.markDown(err)
		return
	}
	s.n.markUp()
}

// apply brings the subscriptions of users in line with their local
// subscribers.
func (s *supervisor) apply(users []engine.UserID) {
	var add, remove []engine.UserID
	for _, u := range users {
		want := s.n.hasSubscribers(u)
		have := s.conns[s.slot(u)].has(u)
		switch {
		case want && !have:
			add = append(add, u)
		case !want && have:
			remove = append(remove, u)
		}
	}
	if err := s.unsubscribe(remove); err != nil {
		s.n.markDown(err)
		return
	}
	if err := s.subscribe(add); err != nil {
		s.n.markDown(err)
	}
}

// slot is the index of the connection that carries user's channel.
func (s *supervisor) slot(user engine.UserID) int {
	if s.cluster {
		return bucketOf(user)
	}
	return 0
}

// has reports whether sc (possibly nil) carries user's channel.
func (sc *subConn) has(user engine.UserID) bool {
	if sc == nil {
		return false
	}
	_, ok := sc.users[user]
	return ok
}

// subscribe subscribes the channels of users, opening connections as needed.
func (s *supervisor) subscribe(users []engine.UserID) error {
	for slot, group := range s.group(users) {
		sc, err := s.conn(slot)
		if err != nil {
			return err
		}
		for chunk := range chunks(group) {
			channels := s.channels(chunk)
			var cmd rueidis.Completed
			if s.cluster {
				cmd = sc.dc.B().Ssubscribe().Channel(channels...).Build()
			} else {
				cmd = sc.dc.B().Subscribe().Channel(channels...).Build()
			}
			if err := s.do(sc, cmd); err != nil {
				return err
			}
			for _, u := range chunk {
				sc.users[u] = struct{}{}
			}
		}
	}
	return nil
}

// unsubscribe drops the channels of users.
func (s *supervisor) unsubscribe(users []engine.UserID) error {
	for slot, group := range s.group(users) {
		sc := s.conns[slot]
		if sc == nil {
			continue
		}
		for chunk := range chunks(group) {
			channels := s.channels(chunk)
			sc.mu.Lock()
			for _, ch := range channels {
				sc.leaving[ch] = struct{}{}
			}
			sc.mu.Unlock()
			var cmd rueidis.Completed
			if s.cluster {
				cmd = sc.dc.B().Sunsubscribe().Channel(channels...).Build()
			} else {
				cmd = sc.dc.B().Unsubscribe().Channel(channels...).Build()
			}
			if err := s.do(sc, cmd); err != nil {
				return err
			}
			for _, u := range chunk {
				delete(sc.users, u)
			}
		}
	}
	return nil
}

func (s *supervisor) do(sc *subConn, cmd rueidis.Completed) error {
	ctx, cancel := context.WithTimeout(s.n.ctx, commandTimeout)
	defer cancel()
	return sc.dc.Do(ctx, cmd).Error()
}

// group sorts users by the connection that carries their channel.
func (s *supervisor) group(users []engine.UserID) map[int][]engine.UserID {
	g := make(map[int][]engine.UserID)
	for _, u := range users {
		g[s.slot(u)] = append(g[s.slot(u)], u)
	}
	return g
}

func (s *supervisor) channels(users []engine.UserID) []string {
	chs := make([]string, len(users))
	for i, u := range users {
		chs[i] = s.n.channel(u)
	}
	return chs
}

// chunks yields users in slices of at most subscribeBatch.
func chunks(users []engine.UserID) func(func([]engine.UserID) bool) {
	return func(yield func([]engine.UserID) bool) {
		for len(users) > 0 {
			k := min(len(users), subscribeBatch)
			if !yield(users[:k]) {
				return
			}
			users = users[k:]
		}
	}
}

// conn returns the subscriber connection of slot, opening it if needed.
func (s *supervisor) conn(slot int) (*subConn, error) {
	if sc := s.conns[slot]; sc != nil {
		return sc, nil
	}
	dc, release := s.client.Dedicate()
	sc := &subConn{slot: slot, dc: dc,
		users: make(map[engine.UserID]struct{}), leaving: make(map[string]struct{})}
	errc := dc.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage: s.n.onMessage,
		OnSubscription: func(ev rueidis.PubSubSubscription) {
			if ev.Kind == "sunsubscribe" && !sc.confirmLeave(ev.Channel) {
				// Redis dropped a shard channel we still want: its slot
				// moved to another node. Reconnect the bucket there. This
				// runs on the connection's reading goroutine, which must
				// not wait for the supervisor.
				go s.report(lostConn{sc: sc, err: errors.New("shard channel dropped by redis (slot migrated)")})
			}
			if ev.Kind == "unsubscribe" {
				sc.confirmLeave(ev.Channel)
			}
		},
	})
	if errc == nil {
		release()
		return nil, errors.New("redis notifier: subscriber connection refused hooks")
	}
	go func() {
		if err, ok := <-errc; ok && err != nil {
			s.report(lostConn{sc: sc, err: err})
		}
	}()
	s.conns[slot] = sc
	return sc, nil
}

// report hands a lost connection to the supervisor goroutine.
func (s *supervisor) report(l lostConn) {
	select {
	case s.lost <- l:
	case <-s.n.ctx.Done():
	}
}

// confirmLeave reports whether ch was being unsubscribed by us, and
// forgets it.
func (sc *subConn) confirmLeave(ch string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	_, ok := sc.leaving[ch]
	delete(sc.leaving, ch)
	return ok
}

// drop replaces a broken subscriber connection: its users are subscribed
// again on a fresh one and told to read their journals, since beacons may
// have been lost in between. If Redis is gone, that fails and the outage
// begins.
func (s *supervisor) drop(l lostConn) {
	if s.conns[l.sc.slot] != l.sc {
		return // already replaced
	}
	users := make([]engine.UserID, 0, len(l.sc.users))
	for u := range l.sc.users {
		users = append(users, u)
	}
	s.close(l.sc)
	if s.n.down.Load() {
		return // recover resubscribes everything
	}
	s.n.log.Info("redis subscriber connection lost; resubscribing", "users", len(users), "err", l.err)
	var want []engine.UserID
	for _, u := range users {
		if s.n.hasSubscribers(u) {
			want = append(want, u)
		}
	}
	if err := s.subscribe(want); err != nil {
		s.n.markDown(err)
		return
	}
	s.n.pollUsers(want)
}

// close ends a subscriber connection; the pool does not get it back, as
// its subscriptions would go with it.
func (s *supervisor) close(sc *subConn) {
	if s.conns[sc.slot] == sc {
		s.conns[sc.slot] = nil
	}
	sc.dc.Close()
}

func (s *supervisor) shutdown() {
	for _, sc := range s.conns {
		if sc != nil {
			s.close(sc)
		}
	}
	if s.client != nil {
		s.n.client.Store(nil)
		s.client.Close()
	}
}
