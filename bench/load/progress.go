package load

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Progress prints a line to w once a second until the returned stop is
// called: elapsed time, operations and their rate over the last second,
// errors and consistency errors, and the data rate when bytes move. A nil
// w prints nothing.
func Progress(ctx context.Context, w io.Writer, mode string, rec *Recorder) (stop func()) {
	if w == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastAt := rec.Totals(), start
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				t := rec.Totals()
				secs := now.Sub(lastAt).Seconds()
				line := fmt.Sprintf("%s %5.0fs  ops %d (%.0f/s)  errors %d  consistency %d",
					mode, now.Sub(start).Seconds(), t.Ops, float64(t.Ops-last.Ops)/secs, t.Errors, t.Consistency)
				if t.Bytes > 0 {
					line += fmt.Sprintf("  %.2f MB/s", float64(t.Bytes-last.Bytes)/secs/1e6)
				}
				if t.Messages > 0 {
					line += fmt.Sprintf("  msgs %d (%.0f/s)", t.Messages, float64(t.Messages-last.Messages)/secs)
				}
				fmt.Fprintln(w, line)
				last, lastAt = t, now
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
