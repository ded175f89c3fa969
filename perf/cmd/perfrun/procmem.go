package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Memory of a server is measured over its whole process tree: Eider is one
// process, Dovecot is a master with login, imap, imap-hibernate, auth, log
// and other children. PSS (proportional set size) divides each shared page
// among the processes that map it, so a sum over a tree counts every page
// once; RSS sums count shared pages once per process and overstate a
// forking server. Both are kept, PSS is the figure compared.

// treeMemory is one sample of a process tree.
type treeMemory struct {
	Procs    int
	PSSBytes int64
	RSSBytes int64
}

// processTree lists root and every descendant of it.
func processTree(root int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // the process ended while we looked
		}
		ppid, err := parentPID(stat)
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree, nil
}

// parentPID reads the fourth field of /proc/PID/stat. The second field, the
// command name in parentheses, may itself hold spaces and parentheses, so
// the fields are counted from the last ')'.
func parentPID(stat []byte) (int, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("stat: too few fields")
	}
	return strconv.Atoi(f[1])
}

// sampleTree sums PSS and RSS over root's process tree. Processes that end
// during the walk are skipped.
func sampleTree(root int) (treeMemory, error) {
	pids, err := processTree(root)
	if err != nil {
		return treeMemory{}, err
	}
	var m treeMemory
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		pss, rss := rollupField(data, "Pss:"), rollupField(data, "Rss:")
		if rss == 0 {
			continue // a kernel thread or a zombie
		}
		m.Procs++
		m.PSSBytes += pss
		m.RSSBytes += rss
	}
	if m.Procs == 0 {
		return m, fmt.Errorf("process %d: no readable memory maps", root)
	}
	return m, nil
}

// rollupField returns a "Name:   123 kB" line of smaps_rollup in bytes.
func rollupField(data []byte, name string) int64 {
	for line := range bytes.Lines(data) {
		if !bytes.HasPrefix(line, []byte(name)) {
			continue
		}
		f := strings.Fields(string(line[len(name):]))
		if len(f) < 1 {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		if len(f) > 1 && f[1] == "kB" {
			if n > math.MaxInt64/1024 {
				return 0
			}
			n *= 1024
		}
		return n
	}
	return 0
}

// establishedTo counts established TCP connections whose local port is port
// in a /proc/net/tcp table: the server's side of each client connection.
func establishedTo(table []byte, port int) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Buffer(make([]byte, 0, 512), 64*1024)
	n, first := 0, true
	for sc.Scan() {
		if first { // the column titles
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			return n, fmt.Errorf("/proc/net/tcp: short line %q", sc.Text())
		}
		// f[1] is local "0100007F:1F90", f[3] the state; 01 is ESTABLISHED.
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			return n, fmt.Errorf("/proc/net/tcp: bad local address %q", f[1])
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return n, fmt.Errorf("/proc/net/tcp: bad port %q", hexPort)
		}
		if int(p) == port && f[3] == "01" {
			n++
		}
	}
	return n, sc.Err()
}

// memSample is one point of a memory trace taken while a scenario runs.
type memSample struct {
	At    time.Duration
	Conns int
	treeMemory
}

// traceMemory samples the server's tree and its established IMAP
// connections every interval until ctx ends.
func traceMemory(ctx context.Context, pid, port int, interval time.Duration) []memSample {
	start := time.Now()
	var out []memSample
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var s memSample
		s.At = time.Since(start)
		if m, err := sampleTree(pid); err == nil {
			s.treeMemory = m
		}
		if table, err := os.ReadFile("/proc/net/tcp"); err == nil {
			s.Conns, _ = establishedTo(table, port)
		}
		out = append(out, s)
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

// plateau is the memory while (nearly) every connection is open: the median
// of the last three samples that saw at least 99% of want connections. The
// last samples are taken at the end of the bench's hold time, after any
// hibernation has happened.
func plateau(trace []memSample, want int) (memSample, bool) {
	last := slices.Clone(endOfHold(trace, want))
	if len(last) == 0 {
		return memSample{}, false
	}
	slices.SortFunc(last, func(a, b memSample) int { return cmp.Compare(a.PSSBytes, b.PSSBytes) })
	return last[len(last)/2], true
}

// cpuTicks is the CPU time (user + system, in clock ticks) the tree has
// used: every live process's own time plus the time of the children it has
// reaped. Dovecot's master reaps its login, imap and lmtp processes as they
// exit, so their CPU stays counted after they are gone.
func cpuTicks(root int) int64 {
	pids, err := processTree(root)
	if err != nil {
		return 0
	}
	var total int64
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		total += statCPU(stat)
	}
	return total
}

// statCPU returns utime + stime + cutime + cstime, fields 14 to 17 of
// /proc/PID/stat.
func statCPU(stat []byte) int64 {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 15 {
		return 0
	}
	var total int64
	for _, v := range f[11:15] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		total += n
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times on Linux.
const clockTicks = 100

// quiesce waits until the server's tree uses less than 5% of one CPU over a
// second, or until limit, and returns how long that took: work a server
// defers past the end of a scenario (background indexing, index merges)
// then counts against it, not against the next scenario.
func quiesce(ctx context.Context, pid int, limit time.Duration) time.Duration {
	start := time.Now()
	prev := cpuTicks(pid)
	for time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-time.After(time.Second):
		}
		now := cpuTicks(pid)
		if now-prev <= clockTicks*5/100 {
			return time.Since(start)
		}
		prev = now
	}
	return time.Since(start)
}

// holdSpread is the lowest and highest PSS among the samples plateau
// chooses from, to tell whether memory had settled.
func holdSpread(trace []memSample, want int) (lo, hi int64) {
	for i, s := range endOfHold(trace, want) {
		if i == 0 || s.PSSBytes < lo {
			lo = s.PSSBytes
		}
		hi = max(hi, s.PSSBytes)
	}
	return lo, hi
}

// endOfHold is the last three samples that saw at least 99% of want
// connections established.
func endOfHold(trace []memSample, want int) []memSample {
	var full []memSample
	for _, s := range trace {
		if s.Procs > 0 && s.Conns*100 >= want*99 {
			full = append(full, s)
		}
	}
	return full[max(0, len(full)-3):]
}
