package main

import (
	"bytes"
	"net"
	"os"
	"testing"
	"time"
)

// TestEstablishedToCountsRealConnections opens real loopback connections
// and counts the server side of them in the kernel's table.
func TestEstablishedToCountsRealConnections(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, s)
	}
	table, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp:", err)
	}
	n, err := establishedTo(table, port)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("established to port %d: got %d, want 3", port, n)
	}
}

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0477 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1065 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0477 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1066 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C350 0100007F:0477 01 00000000:00000000 00:00000000 00000000     0        0 1067 1 0000000000000000 20 4 30 10 -1
   3: 0200007F:0477 0100007F:C351 01 00000000:00000000 00:00000000 00000000     0        0 1068 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:0477 0100007F:C352 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
`

func TestEstablishedToTable(t *testing.T) {
	// Port 0x0477 = 1143: two established server sides (on two local
	// addresses), one listener, one TIME_WAIT, and the client side of one
	// connection (local port 0xC350), which must not count.
	n, err := establishedTo([]byte(tcpTable), 1143)
	if err != nil || n != 2 {
		t.Fatalf("got %d, %v; want 2", n, err)
	}
	if _, err := establishedTo([]byte("title\n 0: 0100007F 00000000:0000 01\n"), 1143); err == nil {
		t.Fatal("a local address without a port was accepted")
	}
}

func FuzzEstablishedTo(f *testing.F) {
	f.Add([]byte(tcpTable), 1143)
	f.Add([]byte("title\n"), 0)
	f.Add([]byte("t\n 0: :FFFFF x 01\n"), 25)
	f.Fuzz(func(t *testing.T, table []byte, port int) {
		n, err := establishedTo(table, port)
		lines := bytes.Count(table, []byte("\n")) + 1
		if n < 0 || n > lines {
			t.Fatalf("count %d out of range for %d lines (err %v)", n, lines, err)
		}
	})
}

func TestParentPID(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want int
	}{
		{"1234 (imap) S 77 1234 1234 0 -1", 77},
		{"99 (a) b (c) R 5 99 99 0", 5},     // a command name with ") (" in it
		{"7 (x y) S 1 7 7 0 -1 4194560", 1}, // a space in the name
	} {
		got, err := parentPID([]byte(tc.stat))
		if err != nil || got != tc.want {
			t.Errorf("parentPID(%q) = %d, %v; want %d", tc.stat, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "12 (x", "12 (x) S", "12 (x) S q"} {
		if _, err := parentPID([]byte(bad)); err == nil {
			t.Errorf("parentPID(%q) accepted", bad)
		}
	}
}

func FuzzParentPID(f *testing.F) {
	f.Add([]byte("1234 (imap) S 77 1234 1234 0 -1 4194560 1 2 3 4 5 6 7 8"))
	f.Add([]byte("99 (a) b (c) R 5 99"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		parentPID(stat)
		if c := statCPU(stat); c < 0 {
			t.Fatalf("negative CPU time %d from %q", c, stat)
		}
	})
}

func TestSampleTreeOfThisProcess(t *testing.T) {
	m, err := sampleTree(os.Getpid())
	if err != nil {
		t.Skip("no smaps_rollup here:", err)
	}
	if m.Procs < 1 || m.PSSBytes <= 0 || m.RSSBytes < m.PSSBytes {
		t.Fatalf("implausible sample %+v", m)
	}
	if cpuTicks(os.Getpid()) < 0 {
		t.Fatal("negative CPU ticks")
	}
}

func TestRollupField(t *testing.T) {
	data := []byte("Rss:                1704 kB\nPss:                 240 kB\nPss_Dirty:           116 kB\n")
	if got := rollupField(data, "Pss:"); got != 240*1024 {
		t.Fatalf("Pss = %d", got)
	}
	if got := rollupField(data, "Swap:"); got != 0 {
		t.Fatalf("missing field = %d", got)
	}
}

func TestPlateauTakesTheEndOfTheHold(t *testing.T) {
	s := func(sec, conns int, pss int64) memSample {
		return memSample{At: time.Duration(sec) * time.Second, Conns: conns, treeMemory: treeMemory{Procs: 3, PSSBytes: pss}}
	}
	trace := []memSample{
		s(0, 0, 10), s(2, 5000, 900), s(4, 10000, 2000), // ramp: processes not hibernated yet
		s(6, 10000, 300), s(8, 10000, 310), s(10, 10000, 305), s(12, 200, 50),
	}
	p, ok := plateau(trace, 10000)
	if !ok || p.PSSBytes != 305 {
		t.Fatalf("plateau = %+v, %v; want the median of the last three full samples (305)", p, ok)
	}
	if _, ok := plateau(trace[:2], 10000); ok {
		t.Fatal("a trace that never reached 99% of the connections has a plateau")
	}
}

func TestStatCPUCountsReapedChildren(t *testing.T) {
	// utime 10, stime 20, cutime 30, cstime 40 (fields 14 to 17).
	stat := []byte("42 (dovecot) S 1 42 42 0 -1 4194560 100 0 0 0 10 20 30 40 20 0 1 0 100 0 0")
	if got := statCPU(stat); got != 100 {
		t.Fatalf("statCPU = %d, want 100", got)
	}
	if got := statCPU([]byte("42 (x) S 1 42 42 0 -1 0 0 0 0 0 10 -20 30 40")); got != 0 {
		t.Fatalf("negative field accepted: %d", got)
	}
}

func FuzzRollupField(f *testing.F) {
	f.Add([]byte("Rss:                1704 kB\nPss:                 240 kB\n"), "Pss:")
	f.Add([]byte("MemTotal:       24684000 kB\nmodel name\t: AMD EPYC\n"), "MemTotal:")
	f.Add([]byte("Pss: -5 kB\nPss: 99999999999999999999 kB\n"), "Pss:")
	f.Add([]byte("Pss: 9223372036854775807 kB\n"), "Pss:")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		if v := rollupField(data, name); v < 0 {
			t.Fatalf("negative size %d", v)
		}
		if cpuModel(data) == "" {
			t.Fatal("empty CPU model")
		}
	})
}
