// Command perfrun runs the same eider-bench scenarios against Eider and
// Dovecot on this machine, one server at a time, and writes a dated report
// per scenario with both results and their ratio into perf/results.
//
// It is started by perf/run (or `make perf`); see perf/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are the run's flags. Every flag can also be set from the
// environment as PERF_<NAME>, e.g. PERF_IDLE_CONNS=2000; a flag on the
// command line wins.
type options struct {
	Repo      string
	Out       string
	Date      string
	Scenarios string
	Servers   string
	Bench     string
	Keep      bool

	Users       int
	Password    string
	BcryptCost  int
	UserFormat  string
	AttachUsers string

	LMTPConns     int
	SmallMessages int
	SmallSize     int
	LargeMessages int
	LargeSize     int

	FetchConns int
	ReadPasses int

	AttachMessages int
	AttachSize     int
	PartialSection string
	PartialRange   string

	StressClients  int
	StressDuration time.Duration
	StressSeed     int

	IdleConns   int
	IdleSources string
	IdleHold    time.Duration

	Hibernate  bool
	EiderExtra string
	Profile    string
	PerfRecord string
	PprofAddr  string
	ProfileSec int
}

func (o *options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.Repo, "repo", ".", "root of the Eider repository")
	fs.StringVar(&o.Out, "out", "perf/results", "where reports go (relative to --repo); raw JSON in its raw/ folder")
	fs.StringVar(&o.Date, "date", time.Now().UTC().Format("2006-01-02"), "date in report names")
	fs.StringVar(&o.Scenarios, "scenarios", strings.Join(scenarioKeys(), ","), "scenarios to run, comma-separated")
	fs.StringVar(&o.Servers, "servers", "eider,dovecot", "servers to measure, in order")
	fs.StringVar(&o.Bench, "bench", "", "eider-bench binary (default: built from ./bench/cmd/eider-bench)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (server logs, maildirs, data dir)")

	fs.IntVar(&o.Users, "users", 20, "users on each server")
	fs.StringVar(&o.UserFormat, "user-format", "bench%d@example.test", "user names (and LMTP recipients)")
	fs.StringVar(&o.AttachUsers, "attach-user-format", "attach%d@example.test", "users that receive the messages with attachments")
	fs.StringVar(&o.Password, "password", "benchpass", "password of every user")
	fs.IntVar(&o.BcryptCost, "bcrypt-cost", 4, "cost of the one bcrypt hash both servers verify at every login")

	fs.IntVar(&o.LMTPConns, "lmtp-conns", 4, "LMTP connections of the ingest scenarios")
	fs.IntVar(&o.SmallMessages, "small-messages", 4000, "lmtp-2k: messages")
	fs.IntVar(&o.SmallSize, "small-size", 2048, "lmtp-2k: message size in bytes")
	fs.IntVar(&o.LargeMessages, "large-messages", 400, "lmtp-100k: messages")
	fs.IntVar(&o.LargeSize, "large-size", 102400, "lmtp-100k: message size in bytes")

	fs.IntVar(&o.FetchConns, "fetch-conns", 4, "fetch and partial: IMAP connections")
	fs.IntVar(&o.ReadPasses, "read-passes", 5, "fetch and partial: passes over the mailboxes; the median is reported")

	fs.IntVar(&o.AttachMessages, "attach-messages", 200, "partial: messages with an attachment delivered first")
	fs.IntVar(&o.AttachSize, "attach-size", 1<<20, "partial: attachment size in bytes")
	fs.StringVar(&o.PartialSection, "partial-section", "2", "partial: the section fetched")
	fs.StringVar(&o.PartialRange, "partial-range", "0.1024", "partial: <offset.length> of the section")

	fs.IntVar(&o.StressClients, "stress-clients", 50, "imap-stress: concurrent clients")
	fs.DurationVar(&o.StressDuration, "stress-duration", 60*time.Second, "imap-stress: duration per server")
	fs.IntVar(&o.StressSeed, "stress-seed", 1, "imap-stress: seed of the command mix")

	fs.IntVar(&o.IdleConns, "idle-conns", 10000, "idle: IDLE connections")
	fs.StringVar(&o.IdleSources, "idle-sources", "127.0.0.1-127.0.0.8", "idle: source addresses")
	fs.DurationVar(&o.IdleHold, "idle-hold", 20*time.Second, "idle: how long all connections stay idle")

	fs.BoolVar(&o.Hibernate, "dovecot-hibernate", true, "run Dovecot with imap-hibernate (imap_hibernate_timeout = 5s)")
	fs.StringVar(&o.EiderExtra, "eider-config-extra", "", "TOML appended to the generated eider.toml (e.g. a listener for pprof)")
	fs.StringVar(&o.PerfRecord, "perf-record", "", "scenarios (comma-separated) to profile on both servers with Linux perf (root, perf installed)")
	fs.StringVar(&o.Profile, "profile", "", "capture a CPU profile of Eider during this scenario")
	fs.StringVar(&o.PprofAddr, "pprof-addr", "", "host:port where Eider serves net/http/pprof (for --profile)")
	fs.IntVar(&o.ProfileSec, "profile-seconds", 20, "length of the CPU profile")
}

// envDefaults applies PERF_<NAME> variables to flags not given on the
// command line.
func envDefaults(fs *flag.FlagSet, set map[string]bool) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "PERF_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "perfrun:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("perfrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: perf/run [flags]   (every flag also as PERF_<NAME> in the environment)\n\nScenarios:\n")
		for _, s := range allScenarios {
			fmt.Fprintf(stderr, "  %-12s %s\n", s.Key, s.Title)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := envDefaults(fs, set); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	scen, err := parseScenarios(o.Scenarios)
	if err != nil {
		return err
	}
	servers, err := parseServers(o.Servers)
	if err != nil {
		return err
	}
	for _, k := range strings.Split(o.PerfRecord, ",") {
		if _, ok := scenarioByKey(strings.TrimSpace(k)); !ok && strings.TrimSpace(k) != "" {
			return fmt.Errorf("--perf-record %q: no such scenario", k)
		}
	}
	if o.Profile != "" {
		if _, ok := scenarioByKey(o.Profile); !ok {
			return fmt.Errorf("--profile %q: no such scenario", o.Profile)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	r, err := newRunner(ctx, o, scen, servers, stderr)
	if err != nil {
		return err
	}
	defer r.cleanup()
	runErr := r.runAll(ctx)
	paths, werr := r.writeReports()
	for _, p := range paths {
		r.logf("wrote %s", p)
	}
	return errors.Join(runErr, werr)
}

func parseServers(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "eider", "dovecot":
			out = append(out, name)
		case "":
		default:
			return nil, fmt.Errorf("--servers: unknown server %q (eider, dovecot)", name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--servers: none given")
	}
	return out, nil
}

// rawDir is where the JSON of every run is kept beside the reports.
func (o options) rawDir() string { return filepath.Join(o.outDir(), "raw") }

func (o options) outDir() string {
	if filepath.IsAbs(o.Out) {
		return o.Out
	}
	return filepath.Join(o.Repo, o.Out)
}
