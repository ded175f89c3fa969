package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine describes where a run happened, for the reports.
type machine struct {
	CPUs     int
	CPUModel string
	MemTotal string
	Kernel   string
	Load     string // load average when the run started
	Go       string
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), CPUModel: "unknown", MemTotal: "unknown", Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(data)
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if b := rollupField(data, "MemTotal:"); b > 0 {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(data))
	}
	m.Load = loadAverage()
	return m
}

// loadAverage is the 1, 5 and 15 minute load average: other work on the
// machine shows here and makes throughput figures noisier.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return "unknown"
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (`nproc`), %s, %s RAM, %s, %s; load average at start %s",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.Go, m.Load)
}
