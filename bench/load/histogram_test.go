package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBucketsCoverEveryValue checks that bucketOf and bucketRange agree:
// every value falls in the bucket whose range holds it, and the ranges
// tile the number line without gaps.
func TestBucketsCoverEveryValue(t *testing.T) {
	var prevHi uint64
	for i := 0; i < numBuckets; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		prevHi = hi
		if hi == 1<<64-1 {
			if i != numBuckets-1 {
				t.Fatalf("bucket %d ends the range but there are %d", i, numBuckets)
			}
			break
		}
	}
	if prevHi != 1<<64-1 {
		t.Fatalf("buckets end at %d", prevHi)
	}
}

// TestQuantilesMatchSortedSamples compares the histogram's percentiles
// with the exact nearest-rank percentiles of the same samples: they must
// be within the bucket precision (1/64).
func TestQuantilesMatchSortedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	samples := make([]time.Duration, 100000)
	for i := range samples {
		// Log-normal-ish latencies from 50 µs to seconds.
		d := time.Duration(50e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*200))
		samples[i] = d
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := h.Quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 1.0/64 || diff < -1.0/64 {
			t.Errorf("p%v = %v, exact %v (%.2f%% off)", q*100, got, exact, diff*100)
		}
	}
	if h.Quantile(1) != samples[len(samples)-1] || h.Max() != samples[len(samples)-1] {
		t.Errorf("max %v / p100 %v, want %v", h.Max(), h.Quantile(1), samples[len(samples)-1])
	}
	if h.Count() != uint64(len(samples)) {
		t.Errorf("count %d", h.Count())
	}
}

func TestQuantileSmallCounts(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
	for _, ms := range []int{1, 2, 3, 4, 100} {
		h.Record(time.Duration(ms) * time.Millisecond)
	}
	near := func(got, want time.Duration) bool {
		return got >= want-want/64 && got <= want+want/64
	}
	// Nearest rank over 5 values: p50 is the 3rd, p90 and p99 the 5th.
	if got := h.Quantile(0.5); !near(got, 3*time.Millisecond) {
		t.Errorf("p50 = %v, want ~3ms", got)
	}
	if got := h.Quantile(0.9); got != 100*time.Millisecond {
		t.Errorf("p90 = %v, want 100ms (the exact maximum)", got)
	}
	if got := h.Quantile(0.01); got != time.Millisecond {
		t.Errorf("p1 = %v, want 1ms (the exact minimum)", got)
	}
	var m Histogram
	m.Record(-time.Second) // clock steps count as zero
	m.Merge(&h)
	if m.Count() != 6 || m.Quantile(0) != 0 || m.Max() != 100*time.Millisecond {
		t.Errorf("merged: count %d, min %v, max %v", m.Count(), m.Quantile(0), m.Max())
	}
}

func TestRecorderReport(t *testing.T) {
	rec := NewRecorder()
	for i := range 100 {
		rec.Done("FETCH", time.Duration(i+1)*time.Millisecond)
	}
	rec.Failed("STORE", 5*time.Millisecond, "NO [EXPUNGEISSUED] gone")
	rec.AddBytes(2e6)
	for range 25 {
		rec.Inconsistent("sample %d", 1)
	}
	rep := rec.Report("imap", "127.0.0.1:1143", time.Unix(0, 0), 2*time.Second, 3)
	if rep.Ops != 101 || rep.Errors != 1 || rep.ConsistencyErrors != 25 || len(rep.ConsistencySamples) != maxSamples {
		t.Fatalf("report %+v", rep)
	}
	f := rep.Commands["FETCH"]
	if f.Count != 100 || f.PerS != 50 || f.P50 < 49 || f.P50 > 51 || f.P99 < 98 || f.P99 > 100 {
		t.Errorf("FETCH %+v", f)
	}
	if s := rep.Commands["STORE"]; s.Count != 1 || s.Errors != 1 {
		t.Errorf("STORE %+v", s)
	}
	if rep.MBPerS != 1 || rep.Started != "1970-01-01T00:00:00Z" {
		t.Errorf("MB/s %v, started %q", rep.MBPerS, rep.Started)
	}
}
