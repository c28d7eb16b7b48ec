//go:build !race

package netsim

// raceEnabled reports whether the race detector is on: the big runs shrink.
const raceEnabled = false
