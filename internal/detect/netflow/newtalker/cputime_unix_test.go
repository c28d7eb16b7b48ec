//go:build unix

package newtalker

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, so that benchmarks
// can report CPU per record on a shared machine where wall time varies
// with the load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
