// Package detect holds the contract between the detection stage and its
// detectors. Detectors see every event in ingest-log order and judge it by
// event time, so an import of last week's logs raises what live ingest
// would have.
package detect

import "github.com/vigil-soc/vigil/internal/schema"

// Detector examines events and emits alerts. Detect is called from one
// goroutine at a time, in log order; a detector keeps whatever bounded state
// it needs between calls.
type Detector interface {
	// Name identifies the detector in logs and metrics.
	Name() string
	// Detect examines evs and calls emit for every finding.
	Detect(evs []schema.Event, emit func(schema.Alert))
}

// Set runs several detectors as one.
type Set []Detector

var _ Detector = Set(nil)

// Name returns "set".
func (s Set) Name() string { return "set" }

// Detect runs every detector of the set over evs.
func (s Set) Detect(evs []schema.Event, emit func(schema.Alert)) {
	for _, d := range s {
		d.Detect(evs, emit)
	}
}
