package imapload

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// DefaultMix is the command mix of a stress run when none is given.
const DefaultMix = "select=5,fetch=30,fetchbody=10,partial=5,store=15,search=10,append=8,copy=4,move=4,expunge=4,idle=3,logout=2"

// Operations a mix may name.
const (
	opSelect    = "select"
	opFetch     = "fetch"
	opFetchBody = "fetchbody"
	opPartial   = "partial"
	opStore     = "store"
	opSearch    = "search"
	opAppend    = "append"
	opCopy      = "copy"
	opMove      = "move"
	opExpunge   = "expunge"
	opIdle      = "idle"
	opLogout    = "logout"
)

var knownOps = []string{opSelect, opFetch, opFetchBody, opPartial, opStore, opSearch, opAppend, opCopy, opMove, opExpunge, opIdle, opLogout}

// Mix is a weighted choice of operations.
type Mix struct {
	ops     []string
	weights []int
	total   int
}

// ParseMix reads "op=weight,op=weight,...". Unknown operations and
// negative weights are errors; a zero weight leaves an operation out.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: want op=weight", part)
		}
		known := false
		for _, k := range knownOps {
			known = known || k == name
		}
		if !known {
			return Mix{}, fmt.Errorf("mix: unknown operation %q (known: %s)", name, strings.Join(knownOps, ", "))
		}
		if seen[name] {
			return Mix{}, fmt.Errorf("mix: %q given twice", name)
		}
		seen[name] = true
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 0 || n > 1e6 {
			return Mix{}, fmt.Errorf("mix: weight of %q: want a number from 0 to 1000000", name)
		}
		if n == 0 {
			continue
		}
		m.ops = append(m.ops, name)
		m.weights = append(m.weights, n)
		m.total += n
	}
	if m.total == 0 {
		return Mix{}, fmt.Errorf("mix %q: no operation has a weight", s)
	}
	return m, nil
}

// pick chooses an operation in proportion to the weights.
func (m Mix) pick(r *rand.Rand) string {
	n := r.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.ops[i]
		}
		n -= w
	}
	return m.ops[len(m.ops)-1]
}

// String returns the mix in the form ParseMix reads.
func (m Mix) String() string {
	parts := make([]string, len(m.ops))
	for i, op := range m.ops {
		parts[i] = op + "=" + strconv.Itoa(m.weights[i])
	}
	return strings.Join(parts, ",")
}
