package flow

import (
	"net/netip"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Signal kinds: what phase one of a network detection found.
const (
	SignalBaseline  = "baseline"        // a host metric far above its hour-of-week baseline
	SignalExfil     = "exfil"           // outbound volume far above baseline, to a destination or in total
	SignalBeacon    = "beacon"          // regular connections from a host to a destination
	SignalDNSTunnel = "dns_tunnel"      // DNS used as a data channel to one registered domain
	SignalDGA       = "dga"             // a burst of NXDOMAIN answers for random-looking names
	SignalNewTalker = "new_talker"      // a first-seen pair or service on a sensitive asset
	SignalScan      = "scan"            // horizontal or vertical port scan, or host sweep
	SignalLongConn  = "long_connection" // a connection open far longer than usual
)

// Fact is one named figure of a signal, for display in the order given.
type Fact struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Signal is phase one of a network detection: a statistic that deviates,
// stated in numbers an analyst can check. The engine adds context (phase
// two) before it becomes an alert.
type Signal struct {
	// Kind is one of the Signal* constants; Detector names the analyzer.
	Kind     string
	Detector string
	// Title is a one-line summary ("beacon every 60s to 203.0.113.7:443").
	Title string
	// Host is the internal host the signal is about (usually the source);
	// Peer the other side when there is one; PeerName a domain name.
	Host     netip.Addr
	Peer     netip.Addr
	PeerName string
	Port     uint16
	// Start and End bound the window the statistic covers (event time).
	Start, End time.Time
	// Metric, Baseline, Current and Factor state a deviation: the metric,
	// its baseline for this hour, its current value and current/baseline.
	// They are empty/zero for signals that are not deviations.
	Metric   string
	Baseline float64
	Current  float64
	Factor   float64
	// Score is the signal's strength from 0 to 1; Severity the severity the
	// analyzer proposes before context.
	Score    float64
	Severity schema.Severity
	// Facts are further figures (period, jitter, distinct ports, ...).
	Facts []Fact
	// Evidence are IDs of events behind the signal, capped by the analyzer.
	Evidence []uint64
	// Key identifies the finding across windows so repeats group into one
	// alert (for example "beacon|10.0.0.5|203.0.113.7|443").
	Key string
	// Tags are ATT&CK tags (attack.t1071, ...).
	Tags []string
}

// Analyzer is one network analytic. The engine feeds it records in roughly
// event-time order from one goroutine and moves the watermark forward; an
// analyzer closes the windows that end at or before the watermark and emits
// what they show. It must keep bounded state and never read the wall clock.
type Analyzer interface {
	// Name identifies the analyzer in logs, metrics and alerts.
	Name() string
	// Observe takes one record. Records may arrive late, but never more
	// than the engine's allowed lateness behind the watermark.
	Observe(r *Record)
	// Advance tells the analyzer that no record older than watermark will
	// follow, and emits the signals of windows that closed.
	Advance(watermark time.Time, emit func(Signal))
	// Stats reports the analyzer's tracked entities and estimated memory.
	Stats() Stats
	// MarshalBinary and UnmarshalBinary save and restore the analyzer's
	// state, so that baselines and windows survive restarts.
	MarshalBinary() ([]byte, error)
	UnmarshalBinary(data []byte) error
}

// Stats is an analyzer's size.
type Stats struct {
	// Entities counts tracked keys (hosts, pairs, domains) by kind.
	Entities map[string]int
	// Bytes estimates the memory the analyzer holds.
	Bytes int64
}
