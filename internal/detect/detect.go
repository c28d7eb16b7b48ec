// Package detect holds the contract between the detection stage and its
// detectors. Detectors see every event in ingest-log order and judge it by
// event time, so an import of last week's logs raises what live ingest
// would have.
package detect

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/vigil-soc/vigil/internal/schema"
)

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

// Stateful is implemented by detectors whose state (baselines, windows)
// must survive a restart. The detection stage saves a snapshot now and then
// together with the log sequence it reflects, restores it on start and
// replays the log from there, discarding the alerts it had already stored.
type Stateful interface {
	// SaveState returns the detector's state.
	SaveState() ([]byte, error)
	// LoadState replaces the detector's state with a saved one.
	LoadState(data []byte) error
}

// setState is the snapshot of a Set: the states of its stateful members
// by name.
type setState map[string][]byte

var _ Stateful = Set(nil)

// SaveState saves the state of every stateful member.
func (s Set) SaveState() ([]byte, error) {
	st := setState{}
	for _, d := range s {
		if sd, ok := d.(Stateful); ok {
			b, err := sd.SaveState()
			if err != nil {
				return nil, fmt.Errorf("detect: save state of %s: %w", d.Name(), err)
			}
			st[d.Name()] = b
		}
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		return nil, fmt.Errorf("detect: save state: %w", err)
	}
	return b.Bytes(), nil
}

// LoadState restores every stateful member saved by SaveState; members
// without saved state keep theirs.
func (s Set) LoadState(data []byte) error {
	var st setState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return fmt.Errorf("detect: load state: %w", err)
	}
	for _, d := range s {
		sd, ok := d.(Stateful)
		if !ok {
			continue
		}
		if b, ok := st[d.Name()]; ok {
			if err := sd.LoadState(b); err != nil {
				return fmt.Errorf("detect: load state of %s: %w", d.Name(), err)
			}
		}
	}
	return nil
}
