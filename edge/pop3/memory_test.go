package pop3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/pop3"
)

// TestRetrStreams: RETR of a 32 MB message streams from the store to the
// socket: the live heap (what survives the collections made during the
// transfer) grows by a fraction of the message, never by the message.
func TestRetrStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("32 MB message")
	}
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("a@example.com")
	raw := make([]byte, 24<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	var msg bytes.Buffer
	msg.WriteString("Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n--b--\r\n")
	want := sha256.Sum256(msg.Bytes())
	size := msg.Len()
	v.appendMsgs(u, msg.Bytes())
	raw, enc = nil, ""
	msg = bytes.Buffer{}

	c := dial(t, v.plain)
	c.login(u.Name, "secret")
	// The collector runs more often than by default, so that the peak of
	// heap objects shows what the transfer holds rather than how much
	// garbage the default pacing lets pile up.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	base, baseLive := heapObjects(), liveHeap()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if h := heapObjects(); h > peak.Load() {
				peak.Store(h)
			}
			if h := liveHeap(); h > peakLive.Load() {
				peakLive.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	c.send("RETR 1\r\n")
	c.ok()
	h := sha256.New()
	n := 0
	for {
		l, err := c.r.ReadSlice('\n')
		if err != nil {
			t.Fatal(err)
		}
		if string(l) == ".\r\n" {
			break
		}
		if l[0] == '.' {
			l = l[1:]
		}
		h.Write(l)
		n += len(l)
	}
	close(stop)
	<-done
	growth := int64(peak.Load()) - int64(base)
	liveGrowth := int64(peakLive.Load()) - int64(baseLive)
	t.Logf("RETR of %.1f MB: heap objects %.1f MB before, peak growth %.2f MB; live heap growth %.2f MB",
		float64(size)/(1<<20), float64(base)/(1<<20), float64(growth)/(1<<20), float64(liveGrowth)/(1<<20))
	if n != size || [32]byte(h.Sum(nil)) != want {
		t.Fatalf("RETR gave %d bytes, want %d, or different content", n, size)
	}
	if liveGrowth > int64(size)/2 {
		t.Errorf("live heap grew by %.1f MB while streaming a %.0f MB message", float64(liveGrowth)/(1<<20), float64(size)/(1<<20))
	}
}

// liveHeap is the heap that survived the last garbage collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
