package redis

import (
	"strings"
	"testing"
	"time"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if err := Ping(s.Addr(), time.Second); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	if _, err := Command(s.Addr(), "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := Command(s.Addr(), "GET", "k"); err != nil || v != "v" {
		t.Fatalf("GET: %q, %v", v, err)
	}
	if v, err := Command(s.Addr(), "CONFIG", "GET", "appendonly"); err == nil {
		t.Fatalf("CONFIG GET answered an array as %q", v) // Command reads no arrays
	}
	s.Stop()
	if err := Ping(s.Addr(), 200*time.Millisecond); err == nil {
		t.Fatal("ping after Stop succeeded")
	}
	s.Stop() // twice is fine
	port := s.Port()
	s.Restart()
	if s.Port() != port {
		t.Fatalf("restart moved the server from port %d to %d", port, s.Port())
	}
	if v, err := Command(s.Addr(), "EXISTS", "k"); err != nil || v != "0" {
		t.Fatalf("restarted server kept data: %q, %v", v, err)
	}
}

func TestCommandError(t *testing.T) {
	s := Start(t, "--requirepass", "pw")
	if _, err := Command(s.Addr(), "GET", "k"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("GET without AUTH: %v", err)
	}
}

func TestCluster(t *testing.T) {
	s := StartCluster(t)
	if v, err := Command(s.Addr(), "CLUSTER", "COUNTKEYSINSLOT", "0"); err != nil || v != "0" {
		t.Fatalf("cluster: %q, %v", v, err)
	}
}
