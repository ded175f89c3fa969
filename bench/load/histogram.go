package load

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power of two is split into
// 2^(subBits-1) buckets, so a recorded value is reported within 1/64
// (1.6 %) of itself while the whole range of int64 nanoseconds fits in a
// few thousand counters. That is the layout of an HDR histogram, without
// its configuration.
const (
	subBits    = 7
	subCount   = 1 << subBits
	halfCount  = subCount / 2
	numBuckets = (64-subBits+1)*halfCount + halfCount
)

// Histogram counts latencies in log-linear buckets. The zero value is
// empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	min    time.Duration
	max    time.Duration
	sum    time.Duration
}

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits
	return e*halfCount + int(v>>uint(e))
}

// bucketRange returns the smallest and largest value bucket i holds.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	e := i/halfCount - 1
	m := uint64(i - e*halfCount)
	lo = m << uint(e)
	return lo, lo + (1 << uint(e)) - 1
}

// Record adds one latency; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.total++
	h.sum += d
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Mean returns the average of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// Max returns the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the value below or at which the fraction q of the
// recorded values lie (nearest rank): the middle of the bucket holding
// that rank, clamped to the exact minimum and maximum, which the first
// and last ranks return as they are. Empty: 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	rank = min(rank, h.total)
	switch rank {
	case 1:
		return h.min
	case h.total:
		return h.max
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := time.Duration(lo + (hi-lo)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
