// Package idlescale measures what idle IMAP connections cost a server: it
// opens many authenticated connections that SELECT a mailbox and IDLE,
// spread over several loopback source addresses so that their number is
// not bounded by one address's ephemeral ports, and reads the server's
// resident memory from /proc before and after.
package idlescale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eidermail/eider/bench/imapload"
	"github.com/eidermail/eider/bench/load"
)

// Config is a connection-scale run.
type Config struct {
	Target     load.Target
	Conns      int
	Sources    []netip.Addr // local addresses, used round robin; none: the system's choice
	Users      int
	UserFormat string
	Password   string
	Mailbox    string        // default INBOX
	Hold       time.Duration // how long every connection stays idle once all are
	PID        int           // the server's process id; 0: no memory figures
	// Rate bounds new connections per second (default 500) and
	// Concurrency the logins in flight (default 32), so the run measures
	// the idle cost, not a connection storm.
	Rate        int
	Concurrency int
	// Warmup is how many sessions are opened before the first RSS reading
	// (default: one per user, at most Conns/10; negative: none), so that
	// what the server builds once (code paged in, a user's caches) is not
	// counted as the cost of each connection.
	Warmup   int
	Progress io.Writer
}

func (cfg *Config) setDefaults() error {
	if err := cfg.Target.Validate(); err != nil {
		return err
	}
	if cfg.Conns <= 0 || cfg.Users <= 0 {
		return fmt.Errorf("--conns and --users must be positive")
	}
	if err := load.CheckNameFormat("--user-format", cfg.UserFormat); err != nil {
		return err
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 500
	}
	if cfg.Rate > 100000 {
		return fmt.Errorf("--rate %d: at most 100000 connections a second", cfg.Rate)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	switch {
	case cfg.Warmup == 0:
		cfg.Warmup = min(cfg.Users, cfg.Conns/10)
	case cfg.Warmup < 0:
		cfg.Warmup = 0
	case cfg.Warmup >= cfg.Conns:
		return fmt.Errorf("--warmup %d: must be below --conns %d", cfg.Warmup, cfg.Conns)
	}
	if cfg.PID > 0 {
		if _, err := ReadRSS(cfg.PID); err != nil {
			return err
		}
	}
	return nil
}

// ParseSources reads source addresses: a list separated by commas, each
// an address or a range of IPv4 addresses "127.0.0.1-127.0.0.8".
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return nil, fmt.Errorf("--sources %q: %w", part, err)
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, err := netip.ParseAddr(hi)
		if err != nil {
			return nil, fmt.Errorf("--sources %q: %w", part, err)
		}
		if !a.Is4() || !b.Is4() || b.Less(a) {
			return nil, fmt.Errorf("--sources %q: want an ascending IPv4 range", part)
		}
		for x := a; ; x = x.Next() {
			out = append(out, x)
			if len(out) > 1024 {
				return nil, fmt.Errorf("--sources: more than 1024 addresses")
			}
			if x == b {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--sources %q: no address", s)
	}
	return out, nil
}

// ReadRSS returns the resident set size of process pid from
// /proc/<pid>/status (VmRSS).
func ReadRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("server memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("server memory: VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("server memory: VmRSS line %q", sc.Text())
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("server memory: %w", err)
	}
	return 0, fmt.Errorf("server memory: no VmRSS in /proc/%d/status", pid)
}

// Run opens the connections, holds them idle for cfg.Hold, closes them and
// reports per-command latency and, with a PID, the server's RSS after the
// warm-up sessions and at the end of the hold, with all connections idle:
// the RSS per connection is what each connection after the warm-up added.
// "IDLE" is the time to the continuation request.
func Run(ctx context.Context, cfg Config) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := raiseFileLimit(cfg.Conns + 256); err != nil {
		return nil, err
	}
	rec := load.NewRecorder()
	stopProgress := load.Progress(ctx, cfg.Progress, "idle", rec)
	start := time.Now()

	var (
		mu    sync.Mutex
		conns []*imapload.Conn
	)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range cfg.Warmup {
		if c := openIdle(ctx, cfg, rec, i); c != nil {
			conns = append(conns, c)
		}
	}
	warm := len(conns)
	var rssBefore int64
	if cfg.PID > 0 {
		time.Sleep(time.Second) // let the warm-up's work settle
		var err error
		if rssBefore, err = ReadRSS(cfg.PID); err != nil {
			return nil, err
		}
	}
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		tick := time.NewTicker(time.Second / time.Duration(cfg.Rate))
		defer tick.Stop()
		for i := cfg.Warmup; i < cfg.Conns; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case <-ctx.Done():
				return
			case jobs <- i:
			}
		}
	}()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				if c := openIdle(ctx, cfg, rec, i); c != nil {
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	idle := len(conns)
	if cfg.Hold > 0 {
		t := time.NewTimer(cfg.Hold)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	var rssAfter int64
	if cfg.PID > 0 {
		var err error
		if rssAfter, err = ReadRSS(cfg.PID); err != nil {
			return nil, err
		}
	}
	elapsed := time.Since(start)
	stopProgress()
	rep := rec.Report("idle", cfg.Target.Addr, start, elapsed, cfg.Conns)
	rep.Conns = idle
	rep.RSSBeforeBytes, rep.RSSAfterBytes, rep.WarmConns = rssBefore, rssAfter, warm
	if idle > warm && cfg.PID > 0 {
		rep.RSSPerConnBytes = (rssAfter - rssBefore) / int64(idle-warm)
	}
	return rep, nil
}

// openIdle opens connection i and leaves it idling, or records why not.
func openIdle(ctx context.Context, cfg Config, rec *load.Recorder, i int) *imapload.Conn {
	var local net.Addr
	if len(cfg.Sources) > 0 {
		local = &net.TCPAddr{IP: cfg.Sources[i%len(cfg.Sources)].AsSlice()}
	}
	fail := func(cmd string, start time.Time, why string) {
		if ctx.Err() == nil {
			rec.Failed(cmd, time.Since(start), why)
		}
	}
	start := time.Now()
	c, err := imapload.DialBuffered(ctx, cfg.Target, local, 1024)
	if err != nil {
		fail("CONNECT", start, err.Error())
		return nil
	}
	rec.Done("CONNECT", time.Since(start))
	step := func(cmd, line string) bool {
		start := time.Now()
		resp, err := c.Do(ctx, line)
		switch {
		case err != nil:
			fail(cmd, start, err.Error())
		case resp.Status != "OK":
			fail(cmd, start, resp.Status+" "+resp.Text)
		default:
			rec.Done(cmd, time.Since(start))
			return true
		}
		return false
	}
	user := load.Name(cfg.UserFormat, i%cfg.Users)
	if !step("LOGIN", "LOGIN "+quote(user)+" "+quote(cfg.Password)) || !step("SELECT", "SELECT "+quote(cfg.Mailbox)) {
		c.Close()
		return nil
	}
	start = time.Now()
	if err := c.EnterIdle(ctx); err != nil {
		fail("IDLE", start, err.Error())
		c.Close()
		return nil
	}
	rec.Done("IDLE", time.Since(start))
	c.Park()
	return c
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
