package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// better says which direction of a figure is good.
type better int

const (
	neither better = iota
	higher
	lower
)

// row is one line of a side-by-side table.
type row struct {
	Label  string
	E, D   float64
	Format func(float64) string
	Better better
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// bytesIEC prints a byte count with a binary unit.
func bytesIEC(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// ratio is Eider/Dovecot as text, or "—" when it has no meaning.
func ratio(e, d float64) string {
	if d == 0 || math.IsNaN(e/d) || math.IsInf(e/d, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2fx", e/d)
}

// verdict turns a ratio into a sentence that cannot be read backwards:
// what is compared, which way is better, and the factor.
func verdict(what string, e, d float64, b better) string {
	if d == 0 || e == 0 {
		return ""
	}
	r := e / d
	switch b {
	case higher:
		if r >= 1 {
			return fmt.Sprintf("Eider is **%.2fx faster** than Dovecot (%s)", r, what)
		}
		return fmt.Sprintf("Eider is **%.2fx slower** than Dovecot: it reaches %.2fx Dovecot's rate (%s)", 1/r, r, what)
	case lower:
		return fmt.Sprintf("Eider needs **%.2fx** what Dovecot needs (%s; below 1 is better for Eider)", r, what)
	}
	return ""
}

func writeTable(b *strings.Builder, rows []row) {
	b.WriteString("| | Eider | Dovecot | Eider/Dovecot | better |\n|---|---:|---:|---:|---|\n")
	for _, r := range rows {
		dir := ""
		switch r.Better {
		case higher:
			dir = "higher"
		case lower:
			dir = "lower"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", r.Label, r.Format(r.E), r.Format(r.D), ratio(r.E, r.D), dir)
	}
}

// scenarioReport renders one scenario's file.
type scenarioReport struct {
	r   *runner
	sc  scenario
	e   *outcome
	d   *outcome
	out strings.Builder
}

func (r *runner) writeReports() ([]string, error) {
	var paths []string
	if err := os.MkdirAll(r.o.rawDir(), 0o755); err != nil {
		return nil, err
	}
	// The configurations every report links to.
	for _, name := range sortedInfo(r.info) {
		info := r.info[name]
		if info.Config == "" {
			continue
		}
		p := filepath.Join(r.o.rawDir(), r.o.Date+"-"+info.ConfigName)
		if err := os.WriteFile(p, []byte(info.Config), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	var summary []string
	for _, sc := range r.scen {
		res := r.results[sc.Key]
		if res == nil {
			continue
		}
		sr := &scenarioReport{r: r, sc: sc, e: res["eider"], d: res["dovecot"]}
		headline := sr.render()
		p := filepath.Join(r.o.outDir(), fmt.Sprintf("%s-%s.md", r.o.Date, sc.Key))
		if err := os.WriteFile(p, []byte(sr.out.String()), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
		summary = append(summary, fmt.Sprintf("| [%s](%s) | %s |", sc.Title, filepath.Base(p), headline))
	}
	if len(summary) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "# %s — Eider and Dovecot side by side: summary\n\n", r.o.Date)
		fmt.Fprintf(&b, "Machine: %s. Each server ran alone; the bench and the server shared the machine.\n\n", r.machine)
		b.WriteString("| scenario | result |\n|---|---|\n")
		b.WriteString(strings.Join(summary, "\n"))
		b.WriteString("\n")
		p := filepath.Join(r.o.outDir(), r.o.Date+"-summary.md")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func rep(o *outcome) *benchReport {
	if o == nil || o.Report == nil {
		return &benchReport{}
	}
	return o.Report
}

// render writes the report and returns its one-line headline.
func (s *scenarioReport) render() string {
	b := &s.out
	fmt.Fprintf(b, "# %s — %s: Eider and Dovecot side by side\n\n", s.r.o.Date, s.sc.Title)
	var rows []row
	var headline string
	switch s.sc.Key {
	case "disk":
		rows, headline = s.diskRows()
	case "idle":
		rows, headline = s.idleRows()
	default:
		rows, headline = s.benchRows()
	}
	if headline == "" {
		headline = "no comparison: " + s.missing()
	}
	fmt.Fprintf(b, "%s.\n\n", headline)
	writeTable(b, rows)
	b.WriteString("\nEider/Dovecot is Eider's figure divided by Dovecot's; \"better\" says which direction is good for that row.\n")
	s.extra()
	s.problems()
	s.whatRan()
	return headline
}

func (s *scenarioReport) missing() string {
	var m []string
	for _, x := range []struct {
		name string
		o    *outcome
	}{{"Eider", s.e}, {"Dovecot", s.d}} {
		switch {
		case x.o == nil:
			m = append(m, x.name+" did not run")
		case x.o.Err != nil:
			m = append(m, x.name+" failed")
		}
	}
	if len(m) == 0 {
		return "a figure is zero"
	}
	return strings.Join(m, ", ")
}

// mainCommands are the commands whose latency stands for each scenario.
var mainCommands = map[string][]string{
	"lmtp-2k":     {"DATA"},
	"lmtp-100k":   {"DATA"},
	"fetch":       {"UID FETCH", "FETCH"},
	"partial":     {"UID FETCH", "FETCH"},
	"imap-stress": {"FETCH", "UID FETCH"},
}

func (s *scenarioReport) benchRows() ([]row, string) {
	e, d := rep(s.e), rep(s.d)
	var rows []row
	var headline string
	unit := "messages/s"
	ev, dv := e.messagesPerS(), d.messagesPerS()
	if s.sc.Key == "imap-stress" || (e.Messages == 0 && d.Messages == 0) {
		unit, ev, dv = "commands/s", e.OpsPerS, d.OpsPerS
	}
	rows = append(rows, row{unit, ev, dv, num, higher})
	headline = verdict(fmt.Sprintf("%s %s vs %s", unit, num(ev), num(dv)), ev, dv, higher)
	if e.MBPerS > 0 || d.MBPerS > 0 {
		rows = append(rows, row{"MB/s (10^6 bytes)", e.MBPerS, d.MBPerS, num, higher})
	}
	if s.sc.Key == "fetch" && e.MBPerS > 0 && d.MBPerS > 0 {
		headline = verdict(fmt.Sprintf("download MB/s %s vs %s", num(e.MBPerS), num(d.MBPerS)), e.MBPerS, d.MBPerS, higher)
	}
	cmdE := e.mainCommand(mainCommands[s.sc.Key]...)
	cmdD := d.mainCommand(mainCommands[s.sc.Key]...)
	cmd := cmdE
	if cmd == "" {
		cmd = cmdD
	}
	if cmd != "" {
		ce, cd := e.Commands[cmd], d.Commands[cmd]
		rows = append(rows,
			row{cmd + " p50 ms", ce.P50, cd.P50, num, lower},
			row{cmd + " p99 ms", ce.P99, cd.P99, num, lower},
			row{cmd + " p99.9 ms", ce.P999, cd.P999, num, lower})
	}
	cpu := s.cpuRows()
	rows = append(rows, cpu...)
	if len(cpu) > 1 && cpu[1].E > 0 && cpu[1].D > 0 && headline != "" {
		headline += fmt.Sprintf("; %s: Eider %s, Dovecot %s (%.2fx)", cpu[1].Label, num(cpu[1].E), num(cpu[1].D), cpu[1].E/cpu[1].D)
	}
	rows = append(rows,
		row{"operations", float64(e.Ops), float64(d.Ops), count, neither},
		row{"errors", float64(e.Errors), float64(d.Errors), count, lower})
	if e.Messages > 0 || d.Messages > 0 {
		rows = append(rows, row{"messages", float64(e.Messages), float64(d.Messages), count, neither})
	}
	if e.Bytes > 0 || d.Bytes > 0 {
		rows = append(rows, row{"bytes moved", float64(e.Bytes), float64(d.Bytes), bytesIEC, neither})
	}
	if s.sc.Key == "imap-stress" {
		rows = append(rows, row{"consistency errors", float64(e.ConsistencyErrors), float64(d.ConsistencyErrors), count, lower})
	}
	rows = append(rows, row{"duration s", e.DurationS, d.DurationS, num, neither})
	return rows, headline
}

func (s *scenarioReport) diskRows() ([]row, string) {
	de, dd := diskOf(s.e), diskOf(s.d)
	rows := []row{
		{"allocated on disk (du)", float64(de.Total.Allocated), float64(dd.Total.Allocated), bytesIEC, lower},
		{"apparent size (du -b)", float64(de.Total.Apparent), float64(dd.Total.Apparent), bytesIEC, lower},
		{"files", float64(de.Total.Files), float64(dd.Total.Files), count, lower},
		{"bytes delivered over LMTP", float64(de.RawBytes), float64(dd.RawBytes), bytesIEC, neither},
		{"messages delivered", float64(de.Messages), float64(dd.Messages), count, neither},
	}
	if de.RawBytes > 0 || dd.RawBytes > 0 {
		rows = append(rows, row{"allocated / delivered", perByte(de), perByte(dd), num, lower})
	}
	headline := verdict(fmt.Sprintf("disk space for the same delivered corpus, %s vs %s",
		bytesIEC(float64(de.Total.Allocated)), bytesIEC(float64(dd.Total.Allocated))),
		float64(de.Total.Allocated), float64(dd.Total.Allocated), lower)
	return rows, headline
}

// perByte is the disk space per delivered byte.
func perByte(d *diskResult) float64 {
	if d.RawBytes == 0 {
		return 0
	}
	return float64(d.Total.Allocated) / float64(d.RawBytes)
}

func diskOf(o *outcome) *diskResult {
	if o == nil || o.Disk == nil {
		return &diskResult{}
	}
	return o.Disk
}

func idleOf(o *outcome) *idleResult {
	if o == nil || o.Idle == nil {
		return &idleResult{}
	}
	return o.Idle
}

func pss(m memSample) int64 { return m.PSSBytes }
func rss(m memSample) int64 { return m.RSSBytes }

func (s *scenarioReport) idleRows() ([]row, string) {
	ie, id := idleOf(s.e), idleOf(s.d)
	e, d := rep(s.e), rep(s.d)
	rows := []row{
		{"PSS per connection (process tree)", ie.perConn(pss), id.perConn(pss), bytesIEC, lower},
		{"RSS per connection (process tree, shared pages counted per process)", ie.perConn(rss), id.perConn(rss), bytesIEC, lower},
		{"connections held", float64(ie.Plateau.Conns), float64(id.Plateau.Conns), count, neither},
		{"PSS before (fresh start)", float64(ie.Baseline.PSSBytes), float64(id.Baseline.PSSBytes), bytesIEC, lower},
		{"PSS with every connection idle", float64(ie.Plateau.PSSBytes), float64(id.Plateau.PSSBytes), bytesIEC, lower},
		{"processes with every connection idle", float64(ie.Plateau.Procs), float64(id.Plateau.Procs), count, neither},
	}
	for _, cmd := range []string{"LOGIN", "SELECT", "IDLE"} {
		ce, okE := e.Commands[cmd]
		cd, okD := d.Commands[cmd]
		if okE || okD {
			rows = append(rows, row{cmd + " p99 ms", ce.P99, cd.P99, num, lower})
		}
	}
	rows = append(rows, row{"errors", float64(e.Errors), float64(d.Errors), count, lower})
	headline := verdict(fmt.Sprintf("memory per idle IMAP connection, PSS %s vs %s",
		bytesIEC(ie.perConn(pss)), bytesIEC(id.perConn(pss))), ie.perConn(pss), id.perConn(pss), lower)
	if headline != "" {
		headline = strings.Replace(headline, "what Dovecot needs", "the memory Dovecot needs", 1)
	}
	return rows, headline
}

// extra writes the per-scenario detail below the main table.
func (s *scenarioReport) extra() {
	b := &s.out
	switch s.sc.Key {
	case "disk":
		for _, x := range []struct {
			name string
			o    *outcome
		}{{"Eider", s.e}, {"Dovecot", s.d}} {
			d := diskOf(x.o)
			if len(d.Parts) == 0 {
				continue
			}
			fmt.Fprintf(b, "\n%s's store by part:\n\n| part | files | allocated | apparent |\n|---|---:|---:|---:|\n", x.name)
			for _, p := range d.Parts {
				fmt.Fprintf(b, "| %s | %d | %s | %s |\n", p.Name, p.Files, bytesIEC(float64(p.Allocated)), bytesIEC(float64(p.Apparent)))
			}
		}
	case "idle":
		b.WriteString("\nMemory is summed over each server's process tree from /proc/PID/smaps_rollup every 2 s while the bench " +
			"runs; the baseline is a freshly started server, the plateau the median of the last three samples that saw at " +
			"least 99% of the connections established (at the end of the hold, after Dovecot's sessions hibernated).\n")
		if e := rep(s.e); e.RSSPerConnBytes > 0 {
			fmt.Fprintf(b, "eider-bench's own VmRSS reading of the Eider process: %s per connection (%s before, %s after).\n",
				bytesIEC(float64(e.RSSPerConnBytes)), bytesIEC(float64(e.RSSBeforeBytes)), bytesIEC(float64(e.RSSAfterBytes)))
		}
		for _, x := range []struct {
			name string
			o    *outcome
		}{{"Eider", s.e}, {"Dovecot", s.d}} {
			t := idleOf(x.o).Trace
			if len(t) == 0 {
				continue
			}
			fmt.Fprintf(b, "\n%s's trace (s: connections, processes, PSS): ", x.name)
			var parts []string
			for _, m := range thin(t, 24) {
				parts = append(parts, fmt.Sprintf("%.0f: %d, %d, %s", m.At.Seconds(), m.Conns, m.Procs, bytesIEC(float64(m.PSSBytes))))
			}
			b.WriteString(strings.Join(parts, "; "))
			b.WriteString("\n")
		}
	default:
		e, d := rep(s.e), rep(s.d)
		names := map[string]bool{}
		for _, n := range e.sortedCommands() {
			names[n] = true
		}
		for _, n := range d.sortedCommands() {
			names[n] = true
		}
		if len(names) == 0 {
			return
		}
		b.WriteString("\nPer command (E = Eider, D = Dovecot; latencies in ms):\n\n")
		b.WriteString("| command | count E | count D | errors E | errors D | p50 E | p50 D | p99 E | p99 D | p99.9 E | p99.9 D |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, n := range sortedKeys(names) {
			ce, cd := e.Commands[n], d.Commands[n]
			fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s |\n", n, ce.Count, cd.Count, ce.Errors, cd.Errors,
				num(ce.P50), num(cd.P50), num(ce.P99), num(cd.P99), num(ce.P999), num(cd.P999))
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// problems lists failures, error and consistency samples, notes and how
// long each server kept working after the scenario.
func (s *scenarioReport) problems() {
	b := &s.out
	var lines []string
	for _, x := range []struct {
		name string
		o    *outcome
	}{{"Eider", s.e}, {"Dovecot", s.d}} {
		if x.o == nil {
			lines = append(lines, x.name+" did not run this scenario.")
			continue
		}
		if x.o.Err != nil {
			lines = append(lines, fmt.Sprintf("%s failed: `%s`", x.name, oneLine(x.o.Err.Error())))
		}
		r := rep(x.o)
		for _, smp := range r.ErrorSamples {
			lines = append(lines, fmt.Sprintf("%s error sample: `%s`", x.name, oneLine(smp)))
		}
		for _, smp := range r.ConsistencySamples {
			lines = append(lines, fmt.Sprintf("%s consistency sample: `%s`", x.name, oneLine(smp)))
		}
		lines = append(lines, x.o.Notes...)
		if x.o.Load != "" {
			lines = append(lines, fmt.Sprintf("Load average when %s's run started: %s.", x.name, x.o.Load))
		}
		if x.o.Settle >= 2*time.Second {
			lines = append(lines, fmt.Sprintf("%s kept using CPU for %.0f s after the scenario ended; the next scenario waited for it, "+
				"and that CPU time is counted in this scenario's server CPU.", x.name, x.o.Settle.Seconds()))
		}
		if x.o.PerfSummary != "" {
			lines = append(lines, fmt.Sprintf("Linux perf profile of the machine while %s ran, with %s's hottest functions: [raw/%s](raw/%s).",
				x.name, x.name, x.o.PerfSummary, x.o.PerfSummary))
		}
		if x.o.Profile != "" {
			lines = append(lines, fmt.Sprintf("CPU profile of %s: [raw/%s](raw/%s) (`go tool pprof -top bin/eider raw/%s`).",
				x.name, x.o.Profile, x.o.Profile, x.o.Profile))
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\n## Notes\n\n")
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", l)
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "`", "'")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

func (s *scenarioReport) whatRan() {
	b := &s.out
	o := s.r.o
	b.WriteString("\n## What ran\n\n")
	fmt.Fprintf(b, "- Machine: %s.\n", s.r.machine)
	fmt.Fprintf(b, "- One server at a time; eider-bench ran on the same machine over loopback. %d users per server; every login "+
		"verifies the same bcrypt hash (cost %d) on both servers.\n", o.Users, o.BcryptCost)
	fmt.Fprintf(b, "- Sizes: %s.\n", s.sizes())
	for _, x := range []struct {
		name string
		o    *outcome
	}{{"eider", s.e}, {"dovecot", s.d}} {
		info, ok := s.r.info[x.name]
		if !ok || x.o == nil {
			continue
		}
		fmt.Fprintf(b, "- **%s** %s: %s Config: [raw/%s-%s](raw/%s-%s).\n", info.Name, info.Version, info.Describe,
			o.Date, info.ConfigName, o.Date, info.ConfigName)
		for _, c := range x.o.Commands {
			fmt.Fprintf(b, "  - `%s`\n", c)
		}
		if x.o.RawJSON != "" {
			fmt.Fprintf(b, "  - raw JSON: [raw/%s](raw/%s)\n", x.o.RawJSON, x.o.RawJSON)
		}
	}
	b.WriteString("- Ports are picked free at start; addresses in the command lines are from this run.\n")
}

func (s *scenarioReport) sizes() string {
	o := s.r.o
	switch s.sc.Key {
	case "lmtp-2k":
		return fmt.Sprintf("%d messages of %d bytes over %d LMTP connections, one recipient each", o.SmallMessages, o.SmallSize, o.LMTPConns)
	case "lmtp-100k":
		return fmt.Sprintf("%d messages of %d bytes over %d LMTP connections, one recipient each", o.LargeMessages, o.LargeSize, o.LMTPConns)
	case "disk":
		return "whatever the LMTP scenarios of this run delivered, measured right after them"
	case "fetch":
		return fmt.Sprintf("every INBOX of the %d users (filled by the LMTP scenarios) over %d connections", o.Users, o.FetchConns)
	case "partial":
		return fmt.Sprintf("%d messages with a %d-byte attachment delivered first (unmeasured), then BODY.PEEK[%s]<%s> of each over %d connections",
			o.AttachMessages, o.AttachSize, o.PartialSection, o.PartialRange, o.FetchConns)
	case "imap-stress":
		return fmt.Sprintf("%d clients for %s, seed %d, over the mailboxes the LMTP scenarios filled", o.StressClients, o.StressDuration, o.StressSeed)
	case "idle":
		return fmt.Sprintf("%d connections from %s, each logged in, INBOX selected, in IDLE, held %s", o.IdleConns, o.IdleSources, o.IdleHold)
	}
	return ""
}

// serverInfo is what the reports say about a server once it has stopped.
type serverInfo struct {
	Name, Version, Describe string
	ConfigName, Config      string
}

func sortedInfo(m map[string]serverInfo) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// thin keeps at most n samples of a trace, evenly spaced, always with the
// last three (the ones the plateau is taken from).
func thin(t []memSample, n int) []memSample {
	if len(t) <= n {
		return t
	}
	head, tail := t[:len(t)-3], t[len(t)-3:]
	keep := n - 3
	out := make([]memSample, 0, n)
	for i := range keep {
		out = append(out, head[i*len(head)/keep])
	}
	return append(out, tail...)
}

func cpuOf(o *outcome) serverCPU {
	if o == nil {
		return serverCPU{}
	}
	return o.CPU
}

// cpuRows compare CPU time per unit of work: per message for deliveries and
// downloads, per command for the stress, per MB where bytes dominate.
func (s *scenarioReport) cpuRows() []row {
	ce, cd := cpuOf(s.e), cpuOf(s.d)
	if ce.Seconds == 0 && cd.Seconds == 0 {
		return nil
	}
	per := func(c serverCPU, n float64) float64 {
		if n == 0 {
			return 0
		}
		return c.Seconds * 1000 / n
	}
	rows := []row{{"server CPU s (process tree)", ce.Seconds, cd.Seconds, num, lower}}
	switch {
	case s.sc.Key == "imap-stress" || (ce.Messages == 0 && cd.Messages == 0):
		rows = append(rows, row{"server CPU ms per command", per(ce, float64(ce.Ops)), per(cd, float64(cd.Ops)), num, lower})
	default:
		rows = append(rows, row{"server CPU ms per message", per(ce, float64(ce.Messages)), per(cd, float64(cd.Messages)), num, lower})
	}
	if ce.Bytes > 0 && cd.Bytes > 0 && s.sc.Key != "imap-stress" {
		rows = append(rows, row{"server CPU ms per MB", per(ce, float64(ce.Bytes)/1e6), per(cd, float64(cd.Bytes)/1e6), num, lower})
	}
	return rows
}
