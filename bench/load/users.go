package load

import (
	"context"
	"io"
	"sync"
	"time"
)

// UserRun is a run that works through users once, on a fixed number of
// connections (a full download, a POP3 download).
type UserRun struct {
	Mode       string
	Addr       string    // the target, for the report
	Users      int       // users 0..Users-1
	UserFormat string    // see Name
	Conns      int       // users served at once
	Progress   io.Writer // the progress line; nil: none
}

// EachUser calls work for every user, Conns at a time, and reports what rec
// recorded meanwhile.
func (u UserRun) EachUser(ctx context.Context, rec *Recorder, work func(ctx context.Context, user string)) *Report {
	stopProgress := Progress(ctx, u.Progress, u.Mode, rec)
	start := time.Now()
	users := make(chan int)
	go func() {
		defer close(users)
		for i := range u.Users {
			select {
			case users <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range u.Conns {
		wg.Go(func() {
			for i := range users {
				work(ctx, Name(u.UserFormat, i))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return rec.Report(u.Mode, u.Addr, start, elapsed, u.Conns)
}
