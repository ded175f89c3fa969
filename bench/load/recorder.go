package load

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples is how many consistency and error descriptions a report keeps:
// enough to see a pattern, few enough to read.
const maxSamples = 20

// Recorder collects the outcome of every command a run sends: latency per
// command name, errors, bytes moved and consistency violations. All its
// methods are safe for concurrent use by the run's clients.
type Recorder struct {
	mu          sync.Mutex
	cmds        map[string]*commandStats
	consSamples []string
	errSamples  []string

	ops         atomic.Int64
	errors      atomic.Int64
	consistency atomic.Int64
	bytes       atomic.Int64
	messages    atomic.Int64
}

type commandStats struct {
	hist   Histogram
	errors int64
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{cmds: make(map[string]*commandStats)}
}

func (r *Recorder) stats(cmd string) *commandStats {
	s := r.cmds[cmd]
	if s == nil {
		s = &commandStats{}
		r.cmds[cmd] = s
	}
	return s
}

// Done records a command that completed successfully after d.
func (r *Recorder) Done(cmd string, d time.Duration) {
	r.ops.Add(1)
	r.mu.Lock()
	r.stats(cmd).hist.Record(d)
	r.mu.Unlock()
}

// Failed records a command that got NO, BAD or lost its connection after
// d; why is kept as a sample. Its latency still counts, so a server that
// fails fast does not look slow or fast by omission.
func (r *Recorder) Failed(cmd string, d time.Duration, why string) {
	r.ops.Add(1)
	r.errors.Add(1)
	r.mu.Lock()
	s := r.stats(cmd)
	s.hist.Record(d)
	s.errors++
	if len(r.errSamples) < maxSamples {
		r.errSamples = append(r.errSamples, cmd+": "+why)
	}
	r.mu.Unlock()
}

// Inconsistent records a response that contradicts what the client knows
// of the mailbox.
func (r *Recorder) Inconsistent(format string, args ...any) {
	r.consistency.Add(1)
	r.mu.Lock()
	if len(r.consSamples) < maxSamples {
		r.consSamples = append(r.consSamples, fmt.Sprintf(format, args...))
	}
	r.mu.Unlock()
}

// AddBytes counts message bytes moved (sent or received, by mode).
func (r *Recorder) AddBytes(n int64) { r.bytes.Add(n) }

// AddMessages counts whole messages delivered or downloaded.
func (r *Recorder) AddMessages(n int64) { r.messages.Add(n) }

// Totals is a running summary for the progress line.
type Totals struct {
	Ops, Errors, Consistency, Bytes, Messages int64
}

// Totals returns the counters so far.
func (r *Recorder) Totals() Totals {
	return Totals{
		Ops: r.ops.Load(), Errors: r.errors.Load(), Consistency: r.consistency.Load(),
		Bytes: r.bytes.Load(), Messages: r.messages.Load(),
	}
}

// Report summarises the run. elapsed is the measured wall time the rates
// are computed over.
func (r *Recorder) Report(mode, target string, started time.Time, elapsed time.Duration, clients int) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := elapsed.Seconds()
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	t := r.Totals()
	rep := &Report{
		Mode:               mode,
		Target:             target,
		Started:            started.UTC().Format(time.RFC3339),
		DurationS:          secs,
		Clients:            clients,
		Conns:              clients,
		Ops:                t.Ops,
		Errors:             t.Errors,
		ConsistencyErrors:  t.Consistency,
		ConsistencySamples: append([]string{}, r.consSamples...),
		ErrorSamples:       append([]string{}, r.errSamples...),
		Bytes:              t.Bytes,
		OpsPerS:            rate(t.Ops),
		MBPerS:             rate(t.Bytes) / 1e6,
		Messages:           t.Messages,
		MsgsPerS:           rate(t.Messages),
		Commands:           make(map[string]CommandStats, len(r.cmds)),
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for name, s := range r.cmds {
		h := &s.hist
		rep.Commands[name] = CommandStats{
			Count:  int64(h.Count()),
			Errors: s.errors,
			PerS:   rate(int64(h.Count())),
			P50:    ms(h.Quantile(0.50)),
			P90:    ms(h.Quantile(0.90)),
			P99:    ms(h.Quantile(0.99)),
			P999:   ms(h.Quantile(0.999)),
			Max:    ms(h.Max()),
		}
	}
	return rep
}
