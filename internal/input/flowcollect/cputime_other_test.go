//go:build !linux

package flowcollect

import "time"

// cpuTimes is not measured on this platform.
func cpuTimes() (process, thread time.Duration) { return 0, 0 }

// lockThread does nothing on this platform.
func lockThread() func() { return func() {} }
