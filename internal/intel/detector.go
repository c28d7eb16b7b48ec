package intel

import (
	"github.com/vigil-soc/vigil/internal/schema"
)

// Detector matches every event and flow against the manager's current
// indicators, inline in the detection stage, and raises ioc alerts.
type Detector struct {
	mgr     *Manager
	metrics *Metrics
	hits    []Hit
}

// NewDetector returns the inline matcher detector.
func NewDetector(mgr *Manager, metrics *Metrics) *Detector {
	return &Detector{mgr: mgr, metrics: metrics}
}

// Name returns "intel".
func (d *Detector) Name() string { return "intel" }

// Detect matches evs against the indicators valid at each event's time.
func (d *Detector) Detect(evs []schema.Event, emit func(schema.Alert)) {
	m := d.mgr.Matcher()
	if m.Len() == 0 {
		return
	}
	for i := range evs {
		d.hits = m.Match(&evs[i], d.hits[:0])
		for _, h := range d.hits {
			d.metrics.hit(h.Source, false)
			emit(AlertFor(&evs[i], h, false))
		}
	}
}
