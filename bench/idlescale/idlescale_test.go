package idlescale

import (
	"os"
	"testing"
)

func TestParseSources(t *testing.T) {
	got, err := ParseSources("127.0.0.1-127.0.0.3, 127.0.1.9,::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.1.9", "::1"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"", ",", "127.0.0.9-127.0.0.1", "localhost", "127.0.0.1-", "::1-::2", "10.0.0.0-10.0.255.255"} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	n, err := ReadRSS(os.Getpid())
	if err != nil || n < 1<<20 {
		t.Fatalf("RSS of this process %d bytes: %v", n, err)
	}
	if _, err := ReadRSS(1 << 30); err == nil {
		t.Error("RSS of a process that does not exist")
	}
}

// FuzzParseSources: any --sources value is refused or gives at most 1024
// addresses.
func FuzzParseSources(f *testing.F) {
	f.Add("127.0.0.1-127.0.0.8")
	f.Add("127.0.0.1,::1")
	f.Add("1.2.3.4-1.2.4.4")
	f.Fuzz(func(t *testing.T, s string) {
		addrs, err := ParseSources(s)
		if err == nil && (len(addrs) == 0 || len(addrs) > 1024) {
			t.Fatalf("%q gave %d addresses", s, len(addrs))
		}
	})
}
