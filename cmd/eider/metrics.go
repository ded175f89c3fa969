package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/eidermail/eider/edge/api"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/metered"
	"github.com/eidermail/eider/tools/blobcheck"
)

// newRegistry returns the registry serve measures into: every component
// registers its own metrics on it (no global registry), beside the Go
// runtime's and the process's.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "eider_build_info",
			Help:        "Always 1; the version label says which build runs.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return reg
}

// registerer is cfg's registry as a Registerer, nil when serve measures
// nothing (a nil *Registry in the interface would not be nil).
func (c Config) registerer() prometheus.Registerer {
	if c.metrics == nil {
		return nil
	}
	return c.metrics
}

// metered returns ec with its backends timed and its ingest counted on
// cfg's registry; without one, ec unchanged.
func (c Config) metered(ec engine.Config) engine.Config {
	if c.metrics == nil {
		return ec
	}
	m := metered.New(c.metrics)
	ec.Meta = m.Meta(ec.Meta, backendName(ec.Meta))
	ec.Blobs = m.Blobs(ec.Blobs, backendName(ec.Blobs))
	ec.Notifier = m.Notifier(ec.Notifier, backendName(ec.Notifier))
	ec.Ingest.Observer = m.IngestObserver()
	return ec
}

// backendName is the backend label of a store: the name of its package
// (engine/meta/sqlite → "sqlite", engine/blob/gridfs → "gridfs").
func backendName(store any) string {
	t := reflect.TypeOf(store)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.PkgPath()
	name = name[strings.LastIndex(name, "/")+1:]
	if name == "mongo" {
		return "mongodb"
	}
	return name
}

// startAPI binds the HTTP side (nil when api.listen is empty).
func startAPI(cfg Config, log *slog.Logger) (*api.Server, error) {
	if cfg.API.Listen == "" {
		if cfg.Metrics.Listen != "" {
			log.Warn("metrics.listen is set but api.listen is empty: /metrics is not served")
		}
		return nil, nil
	}
	ac := api.Config{
		Listen:        cfg.API.Listen,
		MetricsListen: cfg.Metrics.Listen,
		Logger:        log.With("proto", "api"),
	}
	if cfg.metrics != nil {
		ac.Gatherer, ac.Registerer = cfg.metrics, cfg.metrics
	}
	srv, err := api.New(ac)
	if err != nil || !cfg.API.Pprof {
		return srv, err
	}
	// Go's profiler, for perf runs and incidents: CPU, heap, goroutines,
	// blocking and mutex contention of a live node.
	srv.Handle("/debug/pprof/", http.HandlerFunc(pprof.Index))
	srv.Handle("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	srv.Handle("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	srv.Handle("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	srv.Handle("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	runtime.SetMutexProfileFraction(100)
	return srv, nil
}

// gcMetrics record the periodic blob GC of serve.
type gcMetrics struct {
	runs     *prometheus.CounterVec
	deleted  prometheus.Counter
	freed    prometheus.Counter
	duration prometheus.Observer
}

func newGCMetrics(reg prometheus.Registerer) *gcMetrics {
	if reg == nil {
		return nil
	}
	return &gcMetrics{
		runs: netloop.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_gc_runs_total",
			Help: "Blob GC runs of serve, by result (ok, error).",
		}, []string{"result"})),
		deleted: netloop.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eider_gc_deleted_blobs_total",
			Help: "Unreferenced blobs the GC deleted.",
		})),
		freed: netloop.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eider_gc_reclaimed_bytes_total",
			Help: "Stored bytes the GC reclaimed.",
		})),
		duration: netloop.Register(reg, prometheus.NewHistogram(netloop.HistogramOpts(
			"eider_gc_duration_seconds", "How long a blob GC run took.", 0.01, 7200, 16))),
	}
}

// collect runs one GC and records it. A failed run may still have deleted
// blobs; what it did is counted.
func (g *gcMetrics) collect(ctx context.Context, e *engine.Engine, grace time.Duration) (blobcheck.GCResult, error) {
	start := time.Now()
	res, err := blobcheck.CollectBlobs(ctx, e, blobcheck.GCOptions{Grace: grace})
	if g == nil {
		return res, err
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	g.runs.WithLabelValues(result).Inc()
	g.deleted.Add(float64(res.Deleted))
	g.freed.Add(float64(res.BytesFreed))
	g.duration.Observe(time.Since(start).Seconds())
	return res, err
}
