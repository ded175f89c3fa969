package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/eidermail/eider/edge/imap"
	"github.com/eidermail/eider/edge/lmtp"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/engine"
)

// edges are the protocol servers of one process: one netloop.Server per
// protocol, sharing a worker pool, connection limits and the certificate.
type edges struct {
	servers []*netloop.Server
	certs   *certStore
	log     *slog.Logger
}

// startEdges binds every configured listener. A port already in use is an
// error here, at start, not later.
func startEdges(cfg Config, e *engine.Engine, log *slog.Logger) (*edges, error) {
	certs, err := newCertStore(cfg.TLS, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	var trusted []netip.Prefix
	for _, p := range cfg.Network.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			trusted = append(trusted, pre)
		} else if a, err := netip.ParseAddr(p); err == nil {
			trusted = append(trusted, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	proxy := netloop.ProxyOff
	if len(trusted) > 0 {
		proxy = netloop.ProxyTrusted
	}
	reg := cfg.registerer()
	pool := netloop.NewPool(netloop.PoolConfig{Workers: cfg.Network.Workers, Logger: log, Registerer: reg})
	limits := netloop.NewLimits(netloop.LimitConfig{
		MaxConns:           cfg.Network.MaxConnections,
		MaxConnsPerIP:      cfg.Network.MaxConnectionsPerIP,
		MaxSessionsPerUser: cfg.Network.MaxSessionsPerUser,
	})
	junk, err := cfg.LMTP.junkRules()
	if err != nil {
		return nil, err
	}
	spool := filepath.Join(cfg.DataDir, "spool")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	listeners := func(name string, plain, implicit []string) []netloop.Listener {
		var ls []netloop.Listener
		for _, a := range plain {
			ls = append(ls, netloop.Listener{Name: name, Addr: a, Mode: netloop.ModeStartTLS, Proxy: proxy})
		}
		for _, a := range implicit {
			ls = append(ls, netloop.Listener{Name: name + "s", Addr: a, Mode: netloop.ModeTLS, Proxy: proxy})
		}
		return ls
	}
	// maxInbound is how much a client may send while its command runs (gnet
	// cannot stop reading a socket): IMAP clients pipeline large bursts
	// (MULTIAPPEND, many FETCH/STORE), so they get more room than the line
	// protocols. 0 = netloop's default.
	protocols := []struct {
		name       string
		listeners  []netloop.Listener
		handler    netloop.Handler
		maxInbound int
	}{
		{"imap", listeners("imap", cfg.IMAP.Listen, cfg.IMAP.ListenTLS), imap.NewServer(e, imap.Config{
			Hostname: cfg.TLS.Hostname, Version: version, AllowPlaintextLogin: cfg.IMAP.AllowPlaintextAuth,
			Pool: pool, Limits: limits, Logger: log, SpoolDir: spool,
			Registerer: reg, AccessLog: cfg.Log.Access, AccessLogFetchBodies: cfg.Log.AccessFetchBodies,
		}), 1 << 20},
		{"pop3", listeners("pop3", cfg.POP3.Listen, cfg.POP3.ListenTLS), pop3.NewServer(e, pop3.Config{
			Hostname: cfg.TLS.Hostname, Pool: pool, Logger: log,
			AllowPlaintextAuth: cfg.POP3.AllowPlaintextAuth, MaxMessages: cfg.POP3.MaxMessages, DeleteToTrash: cfg.POP3.DeleteToTrash,
			MaildropLease: cfg.POP3.MaildropLease.std(),
			Registerer:    reg, AccessLog: cfg.Log.Access, AccessLogRetrievals: cfg.Log.AccessFetchBodies,
		}), 0},
		{"lmtp", listeners("lmtp", cfg.LMTP.Listen, nil), lmtp.NewServer(e, lmtp.Config{
			Hostname: cfg.TLS.Hostname, Pool: pool, Logger: log,
			MaxRecipients: cfg.LMTP.MaxRecipients, QuotaTemporary: cfg.LMTP.QuotaTemporary, SpoolDir: spool,
			JunkRules: junk, Registerer: reg, AccessLog: cfg.Log.Access,
		}), 0},
	}
	ed := &edges{certs: certs, log: log}
	for _, p := range protocols {
		if len(p.listeners) == 0 {
			continue
		}
		srv, err := netloop.NewServer(netloop.Config{
			Listeners:      p.listeners,
			Handler:        p.handler,
			TLSConfig:      certs.config,
			TrustedProxies: trusted,
			Limits:         limits,
			Logger:         log.With("proto", p.name),
			MaxInbound:     p.maxInbound,
			Registerer:     reg,
		})
		if err != nil {
			ed.close()
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		// netloop logs each listener with its bound address.
		ed.servers = append(ed.servers, srv)
	}
	return ed, nil
}

// serve runs every server until ctx ends, reloading the certificate on
// SIGHUP, then shuts them down gracefully (in-flight commands finish, IMAP
// clients get a BYE) within a deadline.
func (ed *edges) serve(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var wg sync.WaitGroup
	errs := make(chan error, len(ed.servers))
	for _, srv := range ed.servers {
		wg.Go(func() {
			if err := srv.Serve(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, netloop.ErrServerClosed) {
				errs <- err
			}
		})
	}
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			if err := ed.certs.reload(); err != nil {
				ed.log.Error("certificate reload failed; keeping the old one", "err", err)
			} else {
				ed.log.Info("certificate reloaded")
			}
		case err = <-errs:
			break loop
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range ed.servers {
		if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, netloop.ErrServerClosed) {
			ed.log.Warn("shutdown", "err", serr)
		}
	}
	wg.Wait()
	return err
}

func (ed *edges) close() {
	for _, srv := range ed.servers {
		srv.Close()
	}
}
