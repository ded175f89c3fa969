//go:build unix

package idlescale

import (
	"fmt"
	"syscall"
)

// raiseFileLimit lifts the soft limit on open files to the hard limit and
// fails when even that is below need: each connection is a descriptor.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("open files limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raising the open files limit to %d: %w", lim.Max, err)
		}
	}
	if uint64(need) > lim.Cur {
		return fmt.Errorf("--conns needs about %d open files; the hard limit is %d (run several processes or raise it)", need, lim.Cur)
	}
	return nil
}
