package node

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/detect/silence"
	"github.com/vigil-soc/vigil/internal/schema"
)

// maxPendingSilenceAlerts bounds the wall-clock alerts kept for a retry
// while the state database refuses writes.
const maxPendingSilenceAlerts = 10000

// silenceDetector builds the silent-source detector (nil when disabled),
// keeps it for silenceLoop and registers its metrics.
func (n *Node) silenceDetector() (detect.Detector, error) {
	if !n.Cfg.Silence.Enabled {
		return nil, nil
	}
	o, err := n.Cfg.Silence.Options()
	if err != nil {
		return nil, fmt.Errorf("silence: %w", err)
	}
	d := silence.New(o, indexLookupFunc(n))
	if err := n.Reg.Register(d); err != nil {
		return nil, fmt.Errorf("silence: register metrics: %w", err)
	}
	n.silence = d
	return d, nil
}

// silenceLoop checks live sources against the wall clock until ctx ends:
// every check interval it reads the sources table, lets the detector judge
// live sources that stopped and parse-error rates that jumped, and stores
// the alerts with the node's prioritizer and grouping window. It idles
// when the detector is disabled or the node does not listen.
func (n *Node) silenceLoop(ctx context.Context) error {
	d := n.silence
	if d == nil || !n.Opts.Listen {
		<-ctx.Done()
		return nil
	}
	iv := n.Cfg.Silence.CheckInterval.Duration
	if iv <= 0 {
		iv = 30 * time.Second
	}
	listening := time.Now()
	t := time.NewTicker(iv)
	defer t.Stop()
	var pending []schema.Alert
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pending = n.checkSilence(ctx, d, listening, pending)
	}
}

// checkSilence runs one wall-clock check and stores its alerts with those
// a failed write left pending; it returns what is still pending.
func (n *Node) checkSilence(ctx context.Context, d *silence.Detector, listening time.Time,
	pending []schema.Alert) []schema.Alert {
	srcs, err := n.State.Sources(ctx)
	if err != nil {
		n.Log.Warn("silent sources: reading the sources table failed", "err", err)
		return pending
	}
	counts := make([]silence.SourceCounts, len(srcs))
	for i, s := range srcs {
		counts[i] = silence.SourceCounts{Host: s.Host, Input: s.Input, LastSeen: s.LastSeen, Events: s.Events,
			ParseErrors: s.ParseErrors}
	}
	alerts := d.CheckWall(silence.WallCheck{Now: time.Now(), Listening: listening, Counts: counts,
		Backlog: n.Detect.Done() < n.Ingest.LastSeq()})
	for i := range alerts {
		n.prio.Apply(&alerts[i])
		n.Log.Info("silent sources: "+alerts[i].Title, "rule", alerts[i].RuleID, "state", alerts[i].Details["state"])
	}
	pending = append(pending, alerts...)
	if len(pending) == 0 {
		return nil
	}
	stored, err := n.State.UpsertAlerts(ctx, pending, n.Cfg.Alerts.GroupWindow.Duration)
	if err != nil && len(stored) == 0 {
		n.Log.Warn("silent sources: storing alerts failed; retrying", "alerts", len(pending), "err", err)
		if len(pending) > maxPendingSilenceAlerts {
			pending = pending[len(pending)-maxPendingSilenceAlerts:]
		}
		return pending
	}
	if err != nil {
		n.Log.Warn("silent sources: some alerts were invalid", "err", err)
	}
	return nil
}
