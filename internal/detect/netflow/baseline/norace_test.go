//go:build !race

package baseline

// raceEnabled is true when the race detector is on; the slowest sweeps
// skip then.
const raceEnabled = false
