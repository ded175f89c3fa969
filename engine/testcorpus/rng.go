package testcorpus

// rng is a splitmix64 generator. The corpus carries its own generator, and
// makes every choice with integers, so that its bytes stay the same across
// Go releases and architectures: benchmark and size figures stay comparable.
type rng struct{ state uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// newRNG returns the generator for one stream of one seed. Streams are
// independent, so message i of a seed does not depend on how many messages
// were asked for.
func newRNG(seed int64, stream uint64) *rng {
	return &rng{state: mix64(mix64(uint64(seed)) + stream*0x9E3779B97F4A7C15)}
}

func (r *rng) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	return mix64(r.state)
}

// intn returns a value in [0, n); n <= 0 yields 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// pct reports true with probability p percent.
func (r *rng) pct(p int) bool { return r.intn(100) < p }

// skewed returns a value in [0, n) biased towards 0, as word frequencies
// are: the minimum of two uniform draws.
func (r *rng) skewed(n int) int { return min(r.intn(n), r.intn(n)) }

// fill writes random bytes into p.
func (r *rng) fill(p []byte) {
	for i := 0; i < len(p); i += 8 {
		v := r.next()
		for j := i; j < i+8 && j < len(p); j++ {
			p[j] = byte(v)
			v >>= 8
		}
	}
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// logSize returns a size between lo and hi whose logarithm is roughly
// uniform: an octave is chosen first, then a size inside it.
func (r *rng) logSize(lo, hi int) int {
	if lo < 1 {
		lo = 1
	}
	if hi <= lo {
		return lo
	}
	octaves := 0
	for lo<<(octaves+1) <= hi {
		octaves++
	}
	base := lo << r.intn(octaves+1)
	return min(base+r.intn(base), hi)
}
