// Package api is Eider's HTTP side: the operational endpoints (/metrics,
// /healthz) today, the JSON API beside them later. It is ordinary
// request/response traffic, so it runs on net/http rather than the event
// loops of the mail protocols.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the HTTP server. Zero fields take defaults.
type Config struct {
	// Listen is the API's address ("127.0.0.1:8080"); required.
	Listen string
	// MetricsListen, if set, serves /metrics on an address of its own
	// (a private network, say) instead of the API's.
	MetricsListen string
	// Gatherer is what /metrics exposes; nil serves no /metrics.
	Gatherer prometheus.Gatherer
	// Registerer receives the scrape handler's own metrics
	// (promhttp_metric_handler_*); nil records none.
	Registerer prometheus.Registerer
	// Health reports whether the node can serve; nil means it can whenever
	// it is running. /healthz answers 503 with the error otherwise.
	Health func(context.Context) error
	// Logger receives the server's logs; default slog.Default().
	Logger *slog.Logger
	// ReadHeaderTimeout bounds a request's header; default 10 s.
	ReadHeaderTimeout time.Duration
}

// Server serves the API (and /metrics) on its listeners.
type Server struct {
	cfg      Config
	log      *slog.Logger
	servers  []*http.Server
	lns      []net.Listener
	draining atomic.Bool
	mux      *http.ServeMux
}

// New validates cfg and binds the listeners, so that an address in use is
// reported at start.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		return nil, errors.New("api: Config.Listen is empty")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	metrics := s.mux
	if cfg.MetricsListen != "" {
		metrics = http.NewServeMux()
	}
	if cfg.Gatherer != nil {
		metrics.Handle("GET /metrics", s.metricsHandler())
	}
	if err := s.bind(cfg.Listen, s.mux); err != nil {
		return nil, err
	}
	if cfg.MetricsListen != "" {
		if err := s.bind(cfg.MetricsListen, metrics); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) metricsHandler() http.Handler {
	opts := promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// A failing collector costs its own series, not the whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       30 * time.Second,
	}
	h := promhttp.HandlerFor(s.cfg.Gatherer, opts)
	if s.cfg.Registerer != nil {
		h = promhttp.InstrumentMetricHandler(s.cfg.Registerer, h)
	}
	return h
}

func (s *Server) bind(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", addr, err)
	}
	s.lns = append(s.lns, ln)
	s.servers = append(s.servers, &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	})
	return nil
}

// Handle adds a route to the API's mux (for the JSON API): pattern is a
// net/http ServeMux pattern such as "GET /v1/users/{name}".
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Addrs returns the bound addresses: the API's first, then the metrics
// listener's if configured.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.lns))
	for i, ln := range s.lns {
		out[i] = ln.Addr()
	}
	return out
}

// Serve serves until Shutdown or Close and returns nil then, or the first
// listener's failure.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.servers))
	var wg sync.WaitGroup
	for i, srv := range s.servers {
		s.log.Info("api: listening", "addr", s.lns[i].Addr().String())
		wg.Go(func() {
			if err := srv.Serve(s.lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("api: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Shutdown stops accepting, lets requests in flight finish, and returns
// when they have or ctx ends. /healthz answers 503 from the first moment,
// so load balancers stop sending clients here.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close stops the server at once.
func (s *Server) Close() error {
	s.draining.Store(true)
	var errs []error
	for i, srv := range s.servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
		_ = s.lns[i].Close() // Close before Serve leaves the listener to us
	}
	return errors.Join(errs...)
}

// Drain makes /healthz answer 503 while everything else keeps serving:
// call it when the node starts shutting down its mail listeners.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "draining")
		return
	}
	if s.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Health(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "unhealthy:", err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}
