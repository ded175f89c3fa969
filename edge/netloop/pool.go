package netloop

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolConfig configures a Pool. Zero fields take defaults.
type PoolConfig struct {
	// Workers is the most jobs running at once. Default 8 × GOMAXPROCS,
	// since jobs mostly wait on storage.
	Workers int
	// QueueLimit is how many submitted jobs may wait for a worker; beyond it
	// Submit fails with ErrPoolFull. Default 16 × Workers.
	QueueLimit int
	// IdleTimeout is how long a worker waits for a job before it exits, so an
	// idle server keeps no worker goroutines. Default 30 s.
	IdleTimeout time.Duration
	// ObserveWait, if set, is called with each started job's time in the
	// queue (for a latency histogram). It must be fast and safe for concurrent use.
	ObserveWait func(time.Duration)
	// Logger receives job panics. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the pool's metrics: queue depth, busy workers,
	// job counters and the queue wait histogram. Nil records none; one
	// pool per registry.
	Registerer prometheus.Registerer
}

// PoolStats is a snapshot of a Pool's counters.
type PoolStats struct {
	Workers   int           // worker goroutines alive
	Busy      int           // jobs running
	Queued    int           // jobs waiting for a worker
	Submitted uint64        // jobs accepted by Submit
	Rejected  uint64        // Submit calls refused with ErrPoolFull
	Dropped   uint64        // jobs skipped because their context ended while queued
	Completed uint64        // jobs that ran to the end (or panicked)
	WaitTotal time.Duration // summed queue wait of started jobs
	WaitMax   time.Duration // longest queue wait of a started job
}

// Pool runs blocking work (store calls, message streaming) off the event
// loops, with a bounded number of workers and a bounded queue. Workers start
// on demand and exit when idle. It is safe for concurrent use.
type Pool struct {
	cfg  PoolConfig
	jobs chan poolJob
	wg   sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	workers int
	idle    int
	stats   PoolStats
}

type poolJob struct {
	ctx      context.Context
	fn       func()
	enqueued time.Time
}

// NewPool returns a Pool; no goroutine starts until the first Submit.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = 8 * runtime.GOMAXPROCS(0)
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 16 * cfg.Workers
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Pool{cfg: cfg, jobs: make(chan poolJob, cfg.QueueLimit)}
	if cfg.Registerer != nil {
		wait := registerPoolMetrics(cfg.Registerer, p)
		observe := cfg.ObserveWait
		p.cfg.ObserveWait = func(d time.Duration) {
			wait.Observe(d.Seconds())
			if observe != nil {
				observe(d)
			}
		}
	}
	return p
}

// Submit queues fn to run on a worker and returns at once; it never blocks,
// so it may be called from an event loop. It fails with ErrPoolFull when the
// queue is at its limit (the protocol answers "server busy"), ErrPoolClosed
// after Close, or ctx's error when ctx is already done. If ctx ends while the
// job waits in the queue, fn is not run: pass Conn.Context so that work for
// a connection that has gone away is skipped.
//
// A job must not wait for another job of the same pool: a worker that has
// just taken a job may still count as idle for a moment, so the later job can
// queue behind it. Work that pairs with a job (an upload feeding an ingest)
// belongs on a goroutine of its own.
func (p *Pool) Submit(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrPoolClosed
	}
	select {
	case p.jobs <- poolJob{ctx: ctx, fn: fn, enqueued: time.Now()}:
	default:
		p.stats.Rejected++
		return ErrPoolFull
	}
	p.stats.Submitted++
	// Each worker counted idle is parked in its select and takes one queued
	// job; jobs beyond them need new workers (comparing with the queue
	// length, not just idle == 0, covers jobs arriving faster than idle
	// workers wake). An idle worker timing out re-checks the queue under mu
	// before leaving.
	if len(p.jobs) > p.idle && p.workers < p.cfg.Workers {
		p.workers++
		p.wg.Add(1)
		go p.work()
	}
	return nil
}

func (p *Pool) work() {
	defer p.wg.Done()
	idle := time.NewTimer(p.cfg.IdleTimeout)
	defer idle.Stop()
	for {
		p.mu.Lock()
		p.idle++
		p.mu.Unlock()
		select {
		case j, ok := <-p.jobs:
			p.mu.Lock()
			p.idle--
			if !ok {
				p.workers--
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			p.run(j)
			idle.Reset(p.cfg.IdleTimeout)
		case <-idle.C:
			p.mu.Lock()
			p.idle--
			if len(p.jobs) > 0 {
				p.mu.Unlock()
				idle.Reset(p.cfg.IdleTimeout)
				continue
			}
			p.workers--
			p.mu.Unlock()
			return
		}
	}
}

func (p *Pool) run(j poolJob) {
	if j.ctx.Err() != nil {
		p.mu.Lock()
		p.stats.Dropped++
		p.mu.Unlock()
		return
	}
	wait := time.Since(j.enqueued)
	p.mu.Lock()
	p.stats.Busy++
	p.stats.WaitTotal += wait
	p.stats.WaitMax = max(p.stats.WaitMax, wait)
	p.mu.Unlock()
	if p.cfg.ObserveWait != nil {
		p.cfg.ObserveWait(wait)
	}
	defer func() {
		// A bug in one command must not take the whole server down.
		if r := recover(); r != nil {
			p.cfg.Logger.Error("netloop: worker job panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		p.mu.Lock()
		p.stats.Busy--
		p.stats.Completed++
		p.mu.Unlock()
	}()
	j.fn()
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Workers = p.workers
	s.Queued = len(p.jobs)
	return s
}

// Close stops accepting jobs and waits until the queued and running ones
// finish or ctx ends, whichever comes first.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("netloop: pool close: %w", ctx.Err())
	}
}
