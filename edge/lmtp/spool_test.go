package lmtp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// TestSpoolOrder: bytes come out in the order they went in, whatever mix of
// memory and spill file carried them and however reads and writes interleave.
func TestSpoolOrder(t *testing.T) {
	for _, window := range []int{1, 100, 4 << 10, 1 << 20} {
		rng := rand.New(rand.NewPCG(uint64(window), 1))
		data := make([]byte, 3<<20)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		sp := newSpool(window, t.TempDir())
		got := make(chan []byte)
		go func() {
			var out []byte
			buf := make([]byte, 7000)
			for {
				n, err := sp.Read(buf[:1+rand.IntN(len(buf)-1)])
				out = append(out, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Error(err)
					break
				}
				if rand.IntN(50) == 0 {
					time.Sleep(100 * time.Microsecond) // a store slower than the network, now and then
				}
			}
			sp.Release()
			got <- out
		}()
		for off := 0; off < len(data); {
			n := min(len(data)-off, 1+rng.IntN(70000))
			sp.Write(data[off : off+n])
			off += n
		}
		sp.CloseWrite()
		if out := <-got; !bytes.Equal(out, data) {
			t.Fatalf("window %d: read %d bytes, differ from the %d written", window, len(out), len(data))
		}
	}
}

// TestSpoolAbort: the reader gets the abort reason instead of the rest, and
// writes after Release are dropped; the spill file is gone at once.
func TestSpoolAbort(t *testing.T) {
	dir := t.TempDir()
	sp := newSpool(10, dir)
	sp.Write([]byte("0123456789"))
	sp.Write([]byte("spilled to the file"))
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("spill file left in the directory: %v", entries)
	}
	buf := make([]byte, 4)
	if n, err := sp.Read(buf); n != 4 || err != nil || string(buf) != "0123" {
		t.Fatalf("first read: %d %v %q", n, err, buf)
	}
	reason := errors.New("client went away")
	sp.Abort(reason)
	if _, err := sp.Read(buf); !errors.Is(err, reason) {
		t.Fatalf("read after abort: %v", err)
	}
	sp.Release()
	sp.Write([]byte("after release"))
	if w := sp.Written(); w != 29 {
		t.Fatalf("written %d, want 29", w)
	}
}
