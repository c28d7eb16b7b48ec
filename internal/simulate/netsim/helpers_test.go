package netsim

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

// seen is one generated record as a test sees it: the record, the event
// Vigil's Zeek mapper makes of it, the flow view of that event, and the
// generator's own description of the record.
type seen struct {
	r   Record
	ev  schema.Event
	fr  flow.Record
	has bool // flow.FromEvent found a flow view
	src *rec
}

// drive runs g to its end through the real Zeek JSON mapper and
// flow.FromEvent, calling fn for every record. It fails the test on the
// first record the mapper rejects.
func drive(t testing.TB, g *Generator, fn func(s *seen)) {
	t.Helper()
	m := zeek.NewMapper()
	var s seen
	recv := time.Unix(0, 0).UTC()
	for {
		r, ok := g.Next()
		if !ok {
			return
		}
		s.r = r
		if err := m.Map(r.JSON, r.Log, recv, &s.ev); err != nil {
			t.Fatalf("record does not map: %v\n%s", err, r.JSON)
		}
		s.has = flow.FromEvent(&s.ev, &s.fr)
		s.src = &g.slab[g.cur]
		fn(&s)
	}
}

// mustNew returns a generator for o or fails the test.
func mustNew(t testing.TB, o Options) *Generator {
	t.Helper()
	g, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return g
}

// flowState is the flow.State a Zeek conn_state of rec maps to.
func flowState(st uint8) flow.State {
	switch st {
	case stS0:
		return flow.StateAttempt
	case stREJ:
		return flow.StateRejected
	case stRSTO:
		return flow.StateReset
	}
	return flow.StateEstablished
}
