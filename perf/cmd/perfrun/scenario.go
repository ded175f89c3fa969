package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// scenario is one measurement made on every server.
type scenario struct {
	Key   string
	Title string
}

// allScenarios in the order they run on each server: the deliveries first,
// the disk size of what they stored before anything else changes it, then
// the reads, the stress that mutates the mailboxes, and the connection
// scale on a freshly started server.
var allScenarios = []scenario{
	{"lmtp-2k", "LMTP ingest, 2 KB messages"},
	{"lmtp-100k", "LMTP ingest, 100 KB messages"},
	{"disk", "on-disk size of the delivered corpus"},
	{"fetch", "full mailbox download (UID FETCH 1:* BODY.PEEK[])"},
	{"partial", "partial fetch of one section of messages with large attachments"},
	{"imap-stress", "mixed IMAP stress"},
	{"idle", "idle IMAP connections in IDLE (memory)"},
}

func scenarioKeys() []string {
	keys := make([]string, len(allScenarios))
	for i, s := range allScenarios {
		keys[i] = s.Key
	}
	return keys
}

func scenarioByKey(k string) (scenario, bool) {
	for _, s := range allScenarios {
		if s.Key == k {
			return s, true
		}
	}
	return scenario{}, false
}

// parseScenarios returns the named scenarios in run order.
func parseScenarios(list string) ([]scenario, error) {
	want := map[string]bool{}
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if _, ok := scenarioByKey(k); !ok {
			return nil, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", k, strings.Join(scenarioKeys(), ", "))
		}
		want[k] = true
	}
	var out []scenario
	for _, s := range allScenarios {
		if want[s.Key] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--scenarios: none given")
	}
	return out, nil
}

// outcome is what one scenario produced on one server.
type outcome struct {
	Commands []string // exact command lines, preparation first
	Report   *benchReport
	RawJSON  string // file name in the raw folder
	Disk     *diskResult
	Idle     *idleResult
	Settle   time.Duration // how long the server kept using CPU after the scenario
	Profile  string        // file name in the raw folder
	Load     string        // load average when the scenario started
	// PerfSummary is the text summary of a perf profile in the raw folder.
	PerfSummary string
	CPU         serverCPU // what the server's process tree used during the measured runs

	Notes []string
	Err   error
}

type diskResult struct {
	Total    diskUsage
	Parts    []diskPart
	RawBytes int64 // bytes the bench delivered
	Messages int64
}

type diskPart struct {
	Name string
	diskUsage
}

type idleResult struct {
	Baseline memSample
	Plateau  memSample
	Trace    []memSample
}

func (r *idleResult) perConn(pick func(memSample) int64) float64 {
	if r.Plateau.Conns == 0 {
		return 0
	}
	return float64(pick(r.Plateau)-pick(r.Baseline)) / float64(r.Plateau.Conns)
}

// runner holds one run: the binaries, the temporary directory, the servers
// and what each scenario produced on each.
type runner struct {
	o        options
	scen     []scenario
	servers  []string
	tmp      string
	eiderBin string
	benchBin string
	hash     string
	users    []string // every user: bench users and attachment users
	machine  machine
	stderr   io.Writer
	started  time.Time

	srv     map[string]mailServer
	results map[string]map[string]*outcome // scenario → server → outcome
	restore []func()
	info    map[string]serverInfo
}

func newRunner(ctx context.Context, o options, scen []scenario, servers []string, stderr io.Writer) (*runner, error) {
	r := &runner{o: o, scen: scen, servers: servers, stderr: stderr, started: time.Now(),
		srv: map[string]mailServer{}, results: map[string]map[string]*outcome{}, info: map[string]serverInfo{}}
	r.machine = describeMachine()
	var err error
	if r.tmp, err = os.MkdirTemp("", "eider-perf-"); err != nil {
		return nil, err
	}
	// Dovecot's mail processes run as another uid and must reach the
	// maildirs inside.
	if err := os.Chmod(r.tmp, 0o755); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			r.cleanup()
		}
	}()
	if err := os.MkdirAll(o.rawDir(), 0o755); err != nil {
		return nil, err
	}
	for i := range o.Users {
		r.users = append(r.users, fmt.Sprintf(o.UserFormat, i))
	}
	if r.has("partial") {
		for i := range o.Users {
			r.users = append(r.users, fmt.Sprintf(o.AttachUsers, i))
		}
	}
	// One cheap hash for both servers: every login of the idle scenario
	// verifies it, and the comparison is of the mail servers, not of their
	// password hashing defaults (Eider's argon2id costs ~100 ms per login).
	h, err := bcrypt.GenerateFromPassword([]byte(o.Password), o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("--bcrypt-cost: %w", err)
	}
	r.hash = string(h)

	r.logf("building eider and eider-bench")
	if err := os.MkdirAll(filepath.Join(r.tmp, "bin"), 0o755); err != nil {
		return nil, err
	}
	r.eiderBin = filepath.Join(r.tmp, "bin", "eider")
	version := "perf"
	if out, err := exec.Command("git", "-C", o.Repo, "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	if err := r.goBuild(ctx, r.eiderBin, "./cmd/eider", "-ldflags", "-X main.version="+version); err != nil {
		return nil, err
	}
	r.benchBin = o.Bench
	if r.benchBin == "" {
		r.benchBin = filepath.Join(r.tmp, "bin", "eider-bench")
		if err := r.goBuild(ctx, r.benchBin, "./bench/cmd/eider-bench"); err != nil {
			return nil, fmt.Errorf("eider-bench: %w", err)
		}
	}
	for _, name := range servers {
		if name == "dovecot" {
			if err := ensureDovecot(ctx, r.logf); err != nil {
				return nil, err
			}
		}
	}
	ok = true
	return r, nil
}

func (r *runner) perfRecorded(key string) bool {
	for _, k := range strings.Split(r.o.PerfRecord, ",") {
		if strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}

func (r *runner) has(key string) bool {
	return slices.ContainsFunc(r.scen, func(s scenario) bool { return s.Key == key })
}

func (r *runner) goBuild(ctx context.Context, out, pkg string, extra ...string) error {
	args := append([]string{"build", "-trimpath", "-o", out}, extra...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = r.o.Repo
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, tail(b, 3000))
	}
	return nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "perf [%5.0fs] %s\n", time.Since(r.started).Seconds(), fmt.Sprintf(format, args...))
}

func (r *runner) cleanup() {
	for _, s := range r.srv {
		if err := s.Stop(); err != nil {
			r.logf("stopping %s: %v", s.Name(), err)
		}
	}
	for i := len(r.restore) - 1; i >= 0; i-- {
		r.restore[i]()
	}
	r.restore = nil
	if r.o.Keep {
		r.logf("kept %s", r.tmp)
	} else if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

func (r *runner) runAll(ctx context.Context) error {
	var errs []error
	for _, name := range r.servers {
		if err := r.runServer(ctx, name); err != nil {
			r.logf("%s: %v", name, err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func (r *runner) newServer(name string) (mailServer, error) {
	p, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(r.tmp, name)
	ps := ports{IMAP: p[0], POP3: p[1], LMTP: p[2]}
	switch name {
	case "eider":
		e := newEider(r.eiderBin, dir, ps)
		e.extra = r.o.EiderExtra
		return e, nil
	case "dovecot":
		return newDovecot(dir, ps, dovecotOptions{Hibernate: r.o.Hibernate, MaxIMAP: r.o.IdleConns + r.o.StressClients + 100}), nil
	}
	return nil, fmt.Errorf("unknown server %q", name)
}

func (r *runner) record(key, server string, o *outcome) {
	if r.results[key] == nil {
		r.results[key] = map[string]*outcome{}
	}
	r.results[key][server] = o
}

// runServer runs every scenario on one server, then stops it.
func (r *runner) runServer(ctx context.Context, name string) error {
	s, err := r.newServer(name)
	if err != nil {
		return err
	}
	r.srv[name] = s
	defer func() {
		s.Stop()
		delete(r.srv, name)
	}()
	if name == "dovecot" && r.has("idle") {
		r.raiseInotifyInstances(r.o.IdleConns + r.o.StressClients + 1024)
	}
	r.logf("%s: setting up %d users", s.Name(), len(r.users))
	if err := s.Setup(ctx, r.users, r.hash); err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	r.info[name] = serverInfo{Name: s.Name(), Version: s.Version(), Describe: s.Describe(),
		ConfigName: filepath.Base(s.ConfigFile()), Config: readOr(s.ConfigFile())}
	r.logf("%s %s: serving IMAP %d, POP3 %d, LMTP %d (pid %d)", s.Name(), s.Version(), s.Ports().IMAP, s.Ports().POP3, s.Ports().LMTP, s.PID())

	// Reads and the stress need mail; deliver the small corpus unmeasured
	// when no ingest scenario was asked for.
	if !r.has("lmtp-2k") && !r.has("lmtp-100k") && (r.has("fetch") || r.has("imap-stress") || r.has("disk")) {
		o := &outcome{}
		if err := r.bench(ctx, s, "prep-corpus", o, r.lmtpArgs(s, r.o.UserFormat, r.o.SmallSize, 0, r.o.SmallMessages)); err != nil {
			return err
		}
	}
	var errs []error
	for _, sc := range r.scen {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logf("%s: %s", s.Name(), sc.Title)
		logMark := fileSize(s.WarningLog())
		load := loadAverage()
		o := r.runScenario(ctx, s, sc)
		o.Load = load
		if o.Err != nil {
			r.logf("%s %s: %v", s.Name(), sc.Key, o.Err)
			errs = append(errs, fmt.Errorf("%s: %w", sc.Key, o.Err))
		}
		if s.PID() != 0 {
			before := cpuTicks(s.PID())
			o.Settle = quiesce(ctx, s.PID(), 90*time.Second)
			// Work deferred past the scenario is part of its cost.
			if o.CPU.Seconds > 0 {
				o.CPU.Seconds += float64(cpuTicks(s.PID())-before) / clockTicks
			}
		}
		if n, samples := serverWarnings(s.WarningLog(), logMark, 3); n > 0 {
			o.Notes = append(o.Notes, fmt.Sprintf("%s logged %d warning or error lines during the scenario; the first: %s",
				s.Name(), n, strings.Join(samples, " / ")))
		}
		r.record(sc.Key, name, o)
	}
	return errors.Join(errs...)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// serverWarnings counts the lines a server's warning log gained after
// offset, leaving out the notice of the stop perfrun itself sent, and
// returns up to max of them.
func serverWarnings(path string, offset int64, max int) (int, []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	var samples []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.Contains(line, "Killed with signal 15") {
			continue
		}
		n++
		if len(samples) < max {
			samples = append(samples, "`"+oneLine(line)+"`")
		}
	}
	return n, samples
}

func readOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// raiseInotifyInstances makes room for one inotify instance per IDLE
// session: Dovecot watches the mailbox of every idle session with its own
// instance, and all of them run as one uid. The old value comes back at
// the end of the run.
func (r *runner) raiseInotifyInstances(want int) {
	const path = "/proc/sys/fs/inotify/max_user_instances"
	old, err := os.ReadFile(path)
	if err != nil {
		return
	}
	cur, err := strconv.Atoi(strings.TrimSpace(string(old)))
	if err != nil || cur >= want {
		return
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(want)), 0o644); err != nil {
		r.logf("cannot raise %s from %d to %d (%v): Dovecot falls back to polling for IDLE sessions beyond it and cannot hibernate them", path, cur, want, err)
		return
	}
	r.logf("raised %s from %d to %d for the run", path, cur, want)
	r.restore = append(r.restore, func() { os.WriteFile(path, old, 0o644) })
}

func (r *runner) common(userFormat string) []string {
	return []string{"--users", strconv.Itoa(r.o.Users), "--user-format", userFormat, "--password", r.o.Password}
}

func (r *runner) lmtpArgs(s mailServer, userFormat string, size, attach, messages int) []string {
	args := []string{"lmtp", "--addr", s.Ports().lmtp(), "--users", strconv.Itoa(r.o.Users), "--rcpt-format", userFormat,
		"--size", strconv.Itoa(size), "--messages", strconv.Itoa(messages), "--conns", strconv.Itoa(r.o.LMTPConns)}
	if attach > 0 {
		args = append(args, "--attach-size", strconv.Itoa(attach))
	}
	return args
}

// bench runs eider-bench with args plus --json, records the command line
// and, for a measured run (key not starting with "prep"), the report.
func (r *runner) bench(ctx context.Context, s mailServer, key string, o *outcome, args []string) error {
	return r.benchPasses(ctx, s, key, o, args, 1, nil)
}

// benchPasses runs the same bench passes times and keeps the median pass
// by metric (each pass's JSON stays in the raw folder). Short read
// scenarios are repeated so one scheduling hiccup on a loaded machine
// does not decide the ratio.
func (r *runner) benchPasses(ctx context.Context, s mailServer, key string, o *outcome, args []string, passes int,
	metric func(*benchReport) float64) error {
	server := strings.ToLower(s.Name())
	prep := strings.HasPrefix(key, "prep")
	dir := r.o.rawDir()
	if prep {
		dir = r.tmp
	}
	main := fmt.Sprintf("%s-%s-%s.json", r.o.Date, key, server)
	type pass struct {
		rep  *benchReport
		name string
	}
	var done []pass
	for i := 1; i <= max(passes, 1); i++ {
		name := main
		if passes > 1 {
			name = fmt.Sprintf("%s-%s-%s-pass%d.json", r.o.Date, key, server, i)
		}
		path := filepath.Join(dir, name)
		b := benchRun{bin: r.benchBin, args: append(slices.Clone(args), "--json", path),
			log: filepath.Join(r.tmp, fmt.Sprintf("%s-%s-%d.log", key, server, i))}
		if i == 1 {
			line := strings.ReplaceAll(b.commandLine(), r.o.Repo+string(os.PathSeparator), "")
			if passes > 1 {
				line += fmt.Sprintf("   (run %d times, --json …-pass1.json to …-pass%d.json)", passes, passes)
			}
			o.Commands = append(o.Commands, line)
		}
		os.Remove(path)
		cpu0 := cpuTicks(s.PID())
		sawErrors, err := b.run(ctx)
		if err != nil {
			return err
		}
		if !prep {
			o.CPU.Seconds += float64(cpuTicks(s.PID())-cpu0) / clockTicks
		}
		rep, err := readBenchReport(path)
		if err != nil {
			return err
		}
		if prep && (sawErrors || rep.Errors > 0) {
			return fmt.Errorf("preparation %s: %d errors (log %s)", key, rep.Errors, b.log)
		}
		done = append(done, pass{rep, name})
		if !prep {
			o.CPU.add(rep)
		}
	}
	if prep {
		return nil
	}
	chosen := done[0]
	if len(done) > 1 {
		sorted := slices.Clone(done)
		slices.SortStableFunc(sorted, func(a, b pass) int { return cmp.Compare(metric(a.rep), metric(b.rep)) })
		chosen = sorted[len(sorted)/2]
		var vals []string
		for _, p := range done {
			vals = append(vals, num(metric(p.rep)))
		}
		o.Notes = append(o.Notes, fmt.Sprintf("%s: %d passes (%s); the table shows the median pass, %s, also saved as raw/%s.",
			s.Name(), len(done), strings.Join(vals, ", "), chosen.name, main))
		data, err := os.ReadFile(filepath.Join(dir, chosen.name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, main), data, 0o644); err != nil {
			return err
		}
	}
	o.Report, o.RawJSON = chosen.rep, main
	return nil
}

func (r *runner) runScenario(ctx context.Context, s mailServer, sc scenario) *outcome {
	o := &outcome{}
	var stopProfile func()
	if r.o.Profile == sc.Key && s.Name() == "Eider" {
		stopProfile = r.startProfile(ctx, sc.Key, o)
	}
	var rec *perfRecording
	if r.perfRecorded(sc.Key) {
		name := fmt.Sprintf("%s-%s-%s", r.o.Date, sc.Key, strings.ToLower(s.Name()))
		var err error
		if rec, err = startPerf(filepath.Join(r.tmp, name+".perf.data")); err != nil {
			o.Notes = append(o.Notes, "perf record did not start: "+err.Error())
		}
	}
	o.Err = r.measure(ctx, s, sc, o)
	if stopProfile != nil {
		stopProfile()
	}
	if rec != nil {
		name := fmt.Sprintf("%s-%s-%s-perf.txt", r.o.Date, sc.Key, strings.ToLower(s.Name()))
		if err := rec.stop(serverComms[s.Name()], filepath.Join(r.o.rawDir(), name)); err != nil {
			o.Notes = append(o.Notes, "perf profile failed: "+err.Error())
		} else {
			o.PerfSummary = name
		}
	}
	return o
}

func (r *runner) measure(ctx context.Context, s mailServer, sc scenario, o *outcome) error {
	imap := s.Ports().imap()
	switch sc.Key {
	case "lmtp-2k":
		return r.bench(ctx, s, sc.Key, o, r.lmtpArgs(s, r.o.UserFormat, r.o.SmallSize, 0, r.o.SmallMessages))
	case "lmtp-100k":
		return r.bench(ctx, s, sc.Key, o, r.lmtpArgs(s, r.o.UserFormat, r.o.LargeSize, 0, r.o.LargeMessages))
	case "disk":
		return r.measureDisk(ctx, s, o)
	case "fetch":
		return r.benchPasses(ctx, s, sc.Key, o, append([]string{"fetch", "--addr", imap, "--conns", strconv.Itoa(r.o.FetchConns)},
			r.common(r.o.UserFormat)...), r.o.ReadPasses, func(b *benchReport) float64 { return b.MBPerS })
	case "partial":
		prep := r.lmtpArgs(s, r.o.AttachUsers, 4096, r.o.AttachSize, r.o.AttachMessages)
		if err := r.bench(ctx, s, "prep-partial", o, prep); err != nil {
			return err
		}
		quiesce(ctx, s.PID(), 60*time.Second)
		return r.benchPasses(ctx, s, sc.Key, o, append([]string{"partial", "--addr", imap, "--conns", strconv.Itoa(r.o.FetchConns),
			"--section", r.o.PartialSection, "--partial", r.o.PartialRange}, r.common(r.o.AttachUsers)...),
			r.o.ReadPasses, (*benchReport).messagesPerS)
	case "imap-stress":
		return r.bench(ctx, s, sc.Key, o, append([]string{"imap", "--addr", imap, "--clients", strconv.Itoa(r.o.StressClients),
			"--duration", r.o.StressDuration.String(), "--seed", strconv.Itoa(r.o.StressSeed)}, r.common(r.o.UserFormat)...))
	case "idle":
		return r.measureIdle(ctx, s, o)
	}
	return fmt.Errorf("scenario %q has no measurement", sc.Key)
}

// measureDisk waits for the server to finish deferred work on the corpus,
// then sizes its mail store.
func (r *runner) measureDisk(ctx context.Context, s mailServer, o *outcome) error {
	waited := quiesce(ctx, s.PID(), 90*time.Second)
	if waited > 2*time.Second {
		o.Notes = append(o.Notes, fmt.Sprintf("%s used CPU for %.0f s after the deliveries before it was measured.", s.Name(), waited.Seconds()))
	}
	d := &diskResult{}
	for _, k := range []string{"lmtp-2k", "lmtp-100k"} {
		if res := r.results[k][strings.ToLower(s.Name())]; res != nil && res.Report != nil {
			d.RawBytes += res.Report.Bytes
			d.Messages += res.Report.Messages
		}
	}
	classify := eiderPart
	if s.Name() == "Dovecot" {
		classify = dovecotPart
	}
	total, parts, err := measureDiskParts(s.MailStore(), classify)
	if err != nil {
		return err
	}
	d.Total = total
	for name, u := range parts {
		d.Parts = append(d.Parts, diskPart{name, u})
	}
	slices.SortFunc(d.Parts, func(a, b diskPart) int { return cmp.Compare(b.Allocated, a.Allocated) })
	o.Disk = d
	o.Commands = append(o.Commands, fmt.Sprintf("du of %s (each inode once; allocated blocks and apparent sizes)", s.MailStore()))
	return nil
}

// measureIdle restarts the server so its baseline is a fresh process tree,
// then traces the tree's memory while the bench holds the IDLE sessions.
func (r *runner) measureIdle(ctx context.Context, s mailServer, o *outcome) error {
	if err := s.Stop(); err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	var base []memSample
	for range 3 {
		m, err := sampleTree(s.PID())
		if err != nil {
			return err
		}
		base = append(base, memSample{treeMemory: m})
		time.Sleep(500 * time.Millisecond)
	}
	slices.SortFunc(base, func(a, b memSample) int { return cmp.Compare(a.PSSBytes, b.PSSBytes) })
	res := &idleResult{Baseline: base[1]}

	tctx, stopTrace := context.WithCancel(ctx)
	traced := make(chan []memSample, 1)
	go func() { traced <- traceMemory(tctx, s.PID(), s.Ports().IMAP, 2*time.Second) }()
	args := []string{"idle", "--addr", s.Ports().imap(), "--conns", strconv.Itoa(r.o.IdleConns), "--sources", r.o.IdleSources,
		"--hold", r.o.IdleHold.String()}
	args = append(args, r.common(r.o.UserFormat)...)
	if s.Name() == "Eider" {
		// One process: the bench's own VmRSS reading is comparable to ours.
		args = append(args, "--pid", strconv.Itoa(s.PID()))
	}
	err := r.bench(ctx, s, "idle", o, args)
	stopTrace()
	res.Trace = <-traced
	if err != nil {
		return err
	}
	p, ok := plateau(res.Trace, r.o.IdleConns)
	if !ok {
		o.Idle = res
		return fmt.Errorf("the server never held 99%% of %d connections at once (most seen: %d)", r.o.IdleConns, maxConns(res.Trace))
	}
	res.Plateau = p
	o.Idle = res
	if lo, hi := holdSpread(res.Trace, r.o.IdleConns); hi > lo+lo/5 {
		o.Notes = append(o.Notes, fmt.Sprintf("%s's memory still moved during the last samples of the hold (PSS %s to %s): "+
			"a longer --idle-hold would show its settled state.", s.Name(), bytesIEC(float64(lo)), bytesIEC(float64(hi))))
	}
	return nil
}

func maxConns(t []memSample) int {
	n := 0
	for _, s := range t {
		n = max(n, s.Conns)
	}
	return n
}

// startProfile fetches a CPU profile from Eider's pprof endpoint while the
// scenario runs; the returned func waits for it.
func (r *runner) startProfile(ctx context.Context, key string, o *outcome) func() {
	if r.o.PprofAddr == "" {
		o.Notes = append(o.Notes, "No CPU profile: `eider serve` has no pprof endpoint yet. Once it serves "+
			"net/http/pprof (e.g. on the API port), run with `--profile "+key+" --pprof-addr 127.0.0.1:PORT` "+
			"(and `--eider-config-extra` to turn that listener on in the generated eider.toml); perfrun then "+
			"fetches `http://127.0.0.1:PORT/debug/pprof/profile?seconds=N` while the scenario runs.")
		return nil
	}
	name := fmt.Sprintf("%s-%s-eider.pprof", r.o.Date, key)
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(ctx, r.o.PprofAddr, r.o.ProfileSec, filepath.Join(r.o.rawDir(), name))
	}()
	return func() {
		if err := <-done; err != nil {
			o.Notes = append(o.Notes, "CPU profile failed: "+err.Error())
			return
		}
		o.Profile = name
	}
}

// serverCPU is the CPU time the server's process tree used while the bench
// ran, and what the bench did in that time, summed over passes. CPU per unit
// of work is the comparison that other load on the machine disturbs least:
// a server that waits for the CPU does not use it.
type serverCPU struct {
	Seconds  float64
	Ops      int64
	Messages int64
	Bytes    int64
}

func (c *serverCPU) add(r *benchReport) {
	c.Ops += r.Ops
	c.Messages += r.Messages
	c.Bytes += r.Bytes
}
