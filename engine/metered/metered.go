// Package metered measures the engine's storage: decorators of MetaStore,
// BlobStore and Notifier that time every call into a Prometheus histogram
// labelled by store, backend and operation, and an engine.IngestObserver
// that counts blob writes, dedup hits and bytes before and after
// compression. The engine itself imports no Prometheus code.
//
// A decorated store hides the optional interfaces of the store it wraps
// (engine.Dumper, engine.Loader, …): tools that need them call Unwrap.
package metered

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/engine"
)

// Metrics are the storage metrics registered on one registry; wrappers for
// several backends may share them.
type Metrics struct {
	duration *prometheus.HistogramVec
	errs     *prometheus.CounterVec

	blobs      *prometheus.CounterVec
	bytes      *prometheus.CounterVec
	dedupBytes prometheus.Counter
}

// New registers the storage metrics on reg. A collector already
// registered there under the same name is reused.
func New(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                            "eider_store_operation_duration_seconds",
			Help:                            "Latency of storage calls, by store (meta, blob, notify), backend and operation. Time spent in the caller's per-item callbacks is not counted.",
			Buckets:                         prometheus.ExponentialBucketsRange(0.00001, 60, 26),
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  160,
			NativeHistogramMinResetDuration: time.Hour,
		}, []string{"store", "backend", "operation"})),
		errs: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_store_operation_errors_total",
			Help: "Storage calls that failed, by store, backend and operation. Answers such as not found, already exists and over quota are not failures.",
		}, []string{"store", "backend", "operation"})),
		blobs: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_ingest_blobs_total",
			Help: "Blobs written by ingest, by outcome: new (stored), dedup (an equal blob existed; the copy was discarded).",
		}, []string{"outcome"})),
		bytes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_ingest_bytes_total",
			Help: "Bytes ingest stored, by kind (blob, inline) and form (raw: before compression, stored: after). Dedup hits are not counted.",
		}, []string{"kind", "form"})),
		dedupBytes: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eider_ingest_dedup_bytes_total",
			Help: "Raw bytes of blobs that ingest did not store because an equal blob existed.",
		})),
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}

// IngestObserver returns the observer to set in engine.IngestOptions.
func (m *Metrics) IngestObserver() engine.IngestObserver { return ingestObserver{m} }

type ingestObserver struct{ m *Metrics }

func (o ingestObserver) BlobStored(decoded, stored int64, existed bool) {
	if existed {
		o.m.blobs.WithLabelValues("dedup").Inc()
		o.m.dedupBytes.Add(float64(decoded))
		return
	}
	o.m.blobs.WithLabelValues("new").Inc()
	o.m.bytes.WithLabelValues("blob", "raw").Add(float64(decoded))
	o.m.bytes.WithLabelValues("blob", "stored").Add(float64(stored))
}

func (o ingestObserver) InlineStored(raw, compressed int64) {
	o.m.bytes.WithLabelValues("inline", "raw").Add(float64(raw))
	o.m.bytes.WithLabelValues("inline", "stored").Add(float64(compressed))
}

// ops holds the children of one store and backend, resolved once.
type ops struct {
	m       *Metrics
	store   string
	backend string
	byName  map[string]*op
}

type op struct {
	duration prometheus.Observer
	errs     prometheus.Counter
}

func (m *Metrics) ops(store, backend string, names ...string) *ops {
	o := &ops{m: m, store: store, backend: backend, byName: make(map[string]*op, len(names))}
	for _, n := range names {
		o.byName[n] = &op{
			duration: m.duration.WithLabelValues(store, backend, n),
			errs:     m.errs.WithLabelValues(store, backend, n),
		}
	}
	return o
}

// timer measures one call; pause and resume take the caller's callbacks out.
type timer struct {
	op     *op
	start  time.Time
	paused time.Duration
}

func (o *ops) start(name string) *timer {
	return &timer{op: o.byName[name], start: time.Now()}
}

// callback wraps a per-item callback so that its time is not counted.
func callback[T any](t *timer, fn func(T) error) func(T) error {
	return func(v T) error {
		s := time.Now()
		err := fn(v)
		t.paused += time.Since(s)
		return err
	}
}

// done records the call and passes err through.
func (t *timer) done(err error) error {
	t.op.duration.Observe((time.Since(t.start) - t.paused).Seconds())
	if err != nil && !isAnswer(err) {
		t.op.errs.Inc()
	}
	return err
}

// isAnswer tells the errors that are answers about the data, not failures
// of the store.
func isAnswer(err error) bool {
	for _, a := range []error{engine.ErrNotFound, engine.ErrExists, engine.ErrOverQuota,
		engine.ErrJournalExpired, engine.ErrAuthFailed, engine.ErrInvalidName, engine.ErrPermission, context.Canceled} {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}
