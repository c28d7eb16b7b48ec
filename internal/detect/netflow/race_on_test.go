//go:build race

package netflow_test

// raceEnabled is true when the tests run with the race detector, which
// slows the multi-day scenario runs about tenfold; `make test` runs them
// in a separate step without it.
const raceEnabled = true
