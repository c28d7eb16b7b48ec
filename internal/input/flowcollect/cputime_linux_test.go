//go:build linux

package flowcollect

import (
	"runtime"
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// cpuTimes returns the CPU time (user and system) of the process — all
// threads, so background garbage collection counts — and of the calling
// thread, which the benchmark loop keeps with lockThread. On a shared,
// loaded machine these overstate the cost less than wall time does.
func cpuTimes() (process, thread time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if syscall.Getrusage(rusageThread, &ru) == nil {
		thread = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return process, thread
}

// lockThread keeps the calling goroutine on its thread until the returned
// function is called.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
