package lmtp_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bigMessage streams a message of about size bytes to w without holding
// it: a text part and a base64 attachment of pseudo-random bytes (seeded,
// so every run sends the same content).
func bigMessage(w io.Writer, size int, seed uint64) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int64
	head := "From: s@remote.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	tail := "--b--\r\n"
	k, _ := bw.WriteString(head)
	n += int64(k)
	rng := rand.New(rand.NewPCG(seed, seed))
	var raw [57]byte
	var line [78]byte
	for n+int64(len(line)+len(tail)) <= int64(size) {
		for i := 0; i < len(raw); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(raw); j++ {
				raw[i+j] = byte(v >> (8 * j))
			}
		}
		base64.StdEncoding.Encode(line[:76], raw[:])
		line[76], line[77] = '\r', '\n'
		k, err := bw.Write(line[:])
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	k, _ = bw.WriteString(tail)
	n += int64(k)
	return n, bw.Flush()
}

// TestHundredRecipientsTenMegabytes: one 10 MB message for 100 recipients
// is stored once (blob storage grows by one copy) and the server's heap
// grows by less than 8 MB while it streams in and is stored.
func TestHundredRecipientsTenMegabytes(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MB delivery")
	}
	v := newEnv(t, envOptions{})
	var rcpts strings.Builder
	for i := range 100 {
		v.user(fmt.Sprintf("big%02d@example.com", i), 0)
		fmt.Fprintf(&rcpts, "RCPT TO:<big%02d@example.com>\r\n", i)
	}
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	// A first, small delivery creates what lives for the whole process (the
	// zstd encoders, the frame buffers), so that the measurement below shows
	// what one delivery costs.
	c.send("MAIL FROM:<s@remote.test>\r\nRCPT TO:<big00@example.com>\r\nDATA\r\n")
	c.expect(250, "2.1.0")
	c.expect(250, "2.1.5")
	c.expect(354, "")
	if _, err := bigMessage(c.conn, 600<<10, 7); err != nil {
		t.Fatal(err)
	}
	c.send(".\r\n")
	c.expect(250, "2.0.0")
	blobsBefore, sizeBefore := v.blobUsage()

	c.send("MAIL FROM:<s@remote.test> SIZE=10485760\r\n" + rcpts.String() + "DATA\r\n")
	c.expect(250, "2.1.0")
	for range 100 {
		c.expect(250, "2.1.5")
	}
	c.expect(354, "")

	// The collector runs more often than by default, so that the peak of
	// heap objects shows what the delivery holds rather than how much
	// garbage the default pacing lets pile up on top of a large live heap.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	base, baseLive := heapObjects(), liveHeap()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
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
			case <-tick.C:
			}
		}
	}()
	sent, err := bigMessage(c.conn, 10<<20, 42)
	if err != nil {
		t.Fatal(err)
	}
	c.send(".\r\n")
	for range 100 {
		c.expect(250, "2.0.0")
	}
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(base)
	t.Logf("10 MB (%d bytes) to 100 recipients: heap objects %.1f MB before, peak growth %.2f MB; live heap growth %.2f MB",
		sent, float64(base)/(1<<20), float64(growth)/(1<<20), float64(int64(peakLive.Load())-int64(baseLive))/(1<<20))
	if growth > 8<<20 {
		t.Errorf("heap grew by %.1f MB during the delivery, want < 8 MB", float64(growth)/(1<<20))
	}

	blobsAfter, sizeAfter := v.blobUsage()
	decoded := sent * 3 / 4
	t.Logf("blob storage: %d → %d blobs, +%.2f MB for %.2f MB of attachment", blobsBefore, blobsAfter,
		float64(sizeAfter-sizeBefore)/(1<<20), float64(decoded)/(1<<20))
	if blobsAfter-blobsBefore != 1 {
		t.Errorf("%d new blobs for one attachment delivered 100 times", blobsAfter-blobsBefore)
	}
	if grew := sizeAfter - sizeBefore; grew > decoded+decoded/50 || grew < decoded/2 {
		t.Errorf("blob storage grew by %d bytes; one copy is about %d", grew, decoded)
	}
	// Every copy reads back whole.
	for _, i := range []int{0, 57, 99} {
		u, err := v.e.UserByName(t.Context(), fmt.Sprintf("big%02d@example.com", i))
		if err != nil {
			t.Fatal(err)
		}
		msgs := v.messages(u.ID, "INBOX")
		prefix := fmt.Sprintf("Return-Path: <s@remote.test>\r\nDelivered-To: big%02d@example.com\r\n", i)
		last := msgs[len(msgs)-1]
		if int64(len(last)) != int64(len(prefix))+sent || !strings.HasPrefix(string(last[:200]), prefix) {
			t.Fatalf("recipient %d: %d messages", i, len(msgs))
		}
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
