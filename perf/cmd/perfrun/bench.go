package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/eidermail/eider/bench/load"
)

// benchReport is the JSON that `eider-bench --json FILE` writes, in the
// bench's own type. perfrun reads the file the binary wrote rather than
// calling bench/ in-process, so what it compares is exactly what a person
// running eider-bench by hand would see.
type benchReport struct{ load.Report }

func readBenchReport(path string) (*benchReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseBenchReport(data)
}

func parseBenchReport(data []byte) (*benchReport, error) {
	var r benchReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("eider-bench JSON: %w", err)
	}
	if r.Mode == "" {
		return nil, errors.New(`eider-bench JSON: no "mode"`)
	}
	if r.DurationS < 0 || r.Ops < 0 || r.Errors < 0 || r.Bytes < 0 {
		return nil, errors.New("eider-bench JSON: negative totals")
	}
	return &r, nil
}

// mainCommand names the command whose latency stands for the scenario: the
// first of prefer that the report has, else the most frequent one.
func (r *benchReport) mainCommand(prefer ...string) string {
	for _, p := range prefer {
		if c, ok := r.Commands[p]; ok && c.Count > 0 {
			return p
		}
	}
	var best string
	var n int64 = -1
	for _, name := range r.sortedCommands() {
		if c := r.Commands[name]; c.Count > n {
			best, n = name, c.Count
		}
	}
	return best
}

func (r *benchReport) sortedCommands() []string {
	names := make([]string, 0, len(r.Commands))
	for n := range r.Commands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// messagesPerS is the message rate of a delivery or download run; older
// reports without "msgs_per_s" fall back to the operation rate.
func (r *benchReport) messagesPerS() float64 {
	if r.MsgsPerS > 0 {
		return r.MsgsPerS
	}
	return r.OpsPerS
}

// benchRun is one invocation of eider-bench.
type benchRun struct {
	bin  string
	args []string
	log  string // stdout and stderr (progress lines, the table) go here
}

func (b benchRun) commandLine() string {
	return shellJoin(append([]string{"eider-bench"}, b.args...))
}

// exitSawErrors is eider-bench's exit status for a complete run that saw
// errors or consistency errors: its report is whole and says what they were.
const exitSawErrors = 3

// run executes the bench. sawErrors is true when it finished but counted
// errors (exit status 3); err is for a run that did not complete.
func (b benchRun) run(ctx context.Context) (sawErrors bool, err error) {
	f, err := os.Create(b.log)
	if err != nil {
		return false, err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, b.bin, b.args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == exitSawErrors {
			return true, nil
		}
		return false, fmt.Errorf("%s: %w (output in %s)", b.commandLine(), err, b.log)
	}
	return false, nil
}

// shellJoin quotes args so the command line in a report can be pasted into
// a shell.
func shellJoin(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!%") {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}
