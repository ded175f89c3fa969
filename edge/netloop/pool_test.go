package netloop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolRunsAndBounds(t *testing.T) {
	var waits atomic.Int64
	p := NewPool(PoolConfig{Workers: 2, QueueLimit: 3, IdleTimeout: 20 * time.Millisecond,
		ObserveWait: func(time.Duration) { waits.Add(1) }})
	release := make(chan struct{})
	var ran atomic.Int64
	var started sync.WaitGroup
	started.Add(2)
	for range 2 {
		if err := p.Submit(context.Background(), func() {
			started.Done()
			<-release
			ran.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	started.Wait() // both workers busy
	for range 3 {
		if err := p.Submit(context.Background(), func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Submit(context.Background(), func() {}); !errors.Is(err, ErrPoolFull) {
		t.Fatalf("Submit over the queue limit: %v", err)
	}
	st := p.Stats()
	if st.Busy != 2 || st.Queued != 3 || st.Workers != 2 || st.Rejected != 1 || st.Submitted != 5 {
		t.Fatalf("stats %+v", st)
	}
	close(release)
	waitFor(t, "jobs done", 2*time.Second, func() bool { return ran.Load() == 5 })
	waitFor(t, "workers idle out", 2*time.Second, func() bool { return p.Stats().Workers == 0 })
	st = p.Stats()
	if st.Completed != 5 || st.Queued != 0 || waits.Load() != 5 || st.WaitMax <= 0 || st.WaitTotal < st.WaitMax {
		t.Fatalf("stats after %+v (observed %d waits)", st, waits.Load())
	}
	// A worker starts again after idling out.
	done := make(chan struct{})
	if err := p.Submit(context.Background(), func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(context.Background(), func() {}); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
}

func TestPoolSkipsCancelledJobsAndSurvivesPanics(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, IdleTimeout: time.Second, Logger: testLogger()})
	block := make(chan struct{})
	if err := p.Submit(context.Background(), func() { <-block }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	if err := p.Submit(ctx, func() { ran.Store(true) }); err != nil {
		t.Fatal(err)
	}
	cancel() // the connection went away while its job waited
	if err := p.Submit(ctx, func() {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit with a done context: %v", err)
	}
	if err := p.Submit(context.Background(), func() { panic("job bug") }); err != nil {
		t.Fatal(err)
	}
	after := make(chan struct{})
	if err := p.Submit(context.Background(), func() { close(after) }); err != nil {
		t.Fatal(err)
	}
	close(block)
	select {
	case <-after:
	case <-time.After(2 * time.Second):
		t.Fatal("pool stopped after a panicking job")
	}
	if ran.Load() {
		t.Fatal("a job whose context was cancelled ran")
	}
	waitFor(t, "three jobs completed", 2*time.Second, func() bool { return p.Stats().Completed == 3 })
	if st := p.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Close waits for the running job.
	slow := make(chan struct{})
	_ = p.Submit(context.Background(), func() { time.Sleep(100 * time.Millisecond); close(slow) })
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-slow:
	default:
		t.Fatal("Close returned before the running job finished")
	}
}

func TestPoolCloseDeadline(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1})
	stop := make(chan struct{})
	defer close(stop)
	_ = p.Submit(context.Background(), func() { <-stop })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
}
