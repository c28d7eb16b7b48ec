// Package pipeline holds the consumer stages that read the ingest log:
// storage (events to DuckDB, source statistics to SQLite) and detection
// (detectors to alerts). Each stage keeps a checkpoint of the highest log
// sequence it finished in the same transaction as its work, and skips what
// is at or below it, so a crash at any point neither loses nor duplicates.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Consumer names in the ingest log.
const (
	ConsumerStore  = "store"
	ConsumerDetect = "detect"
)

// Consumers lists the durable consumers the pipeline runs; the ingest log
// creates them before accepting events.
func Consumers() []string { return []string{ConsumerStore, ConsumerDetect} }

// Source is the part of the ingest log a stage reads.
type Source interface {
	Consume(ctx context.Context, name string, checkpoint uint64, o ingest.ConsumeOptions, h ingest.Handler) error
}

// StoreStage writes events to the event store and source statistics to the
// state database.
type StoreStage struct {
	events *eventstore.Store
	state  *statedb.DB
	log    *slog.Logger
	done   atomic.Uint64  // highest sequence stored
	buf    []schema.Event // reused across calls: events are large
}

// NewStoreStage returns the storage stage.
func NewStoreStage(events *eventstore.Store, state *statedb.DB, log *slog.Logger) *StoreStage {
	return &StoreStage{events: events, state: state, log: log}
}

// Run consumes until ctx ends.
func (s *StoreStage) Run(ctx context.Context, src Source) error {
	ckpt, err := s.events.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("store stage: %w", err)
	}
	s.done.Store(ckpt)
	return src.Consume(ctx, ConsumerStore, ckpt, ingest.ConsumeOptions{MaxBytes: 16 << 20}, s.handle)
}

// Done returns the highest ingest-log sequence stored.
func (s *StoreStage) Done() uint64 { return s.done.Load() }

func (s *StoreStage) handle(ctx context.Context, batches []ingest.Batch) error {
	ckpt := s.done.Load()
	n := 0
	for _, b := range batches {
		n += len(b.Events)
	}
	evs := slices.Grow(s.buf[:0], n)
	defer func() { clear(evs); s.buf = evs[:0] }()
	var last uint64
	for _, b := range batches {
		if b.Seq <= ckpt {
			continue // committed before a restart
		}
		evs = append(evs, b.Events...)
		last = b.Seq
	}
	if last == 0 {
		return nil
	}
	if err := s.events.Write(ctx, evs, last); err != nil {
		return fmt.Errorf("store stage: %w", err)
	}
	// The events are committed; finish the statistics even when shutdown
	// has begun, then report the batch done.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.state.ApplySourceDeltas(sctx, sourceDeltas(evs)); err != nil {
		s.log.Warn("store stage: source statistics not updated", "err", err)
	}
	s.done.Store(last)
	return nil
}

// sourceDeltas sums events per source (host × input).
func sourceDeltas(evs []schema.Event) []statedb.SourceDelta {
	idx := map[[2]string]int{}
	var out []statedb.SourceDelta
	for i := range evs {
		ev := &evs[i]
		k := [2]string{ev.SourceHost(), ev.Input}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, statedb.SourceDelta{Host: k[0], Input: k[1], FirstEvent: ev.Timestamp,
				LastEvent: ev.Timestamp, LastReceived: ev.Received})
		}
		d := &out[j]
		d.Events++
		d.Bytes += int64(len(ev.Original) + len(ev.Message))
		if ev.Timestamp.Before(d.FirstEvent) {
			d.FirstEvent = ev.Timestamp
		}
		if ev.Timestamp.After(d.LastEvent) {
			d.LastEvent = ev.Timestamp
		}
		if ev.Received.After(d.LastReceived) {
			d.LastReceived = ev.Received
		}
	}
	return out
}

// DetectStage runs detectors over the log and stores their alerts.
//
// When the detector is stateful (detect.Stateful), the stage saves its
// state every StateInterval and on shutdown, with the log sequence it
// reflects. On start it restores the state and replays the log from that
// sequence, dropping the alerts of batches at or below the alert checkpoint
// (they are stored already), so state and alerts both come out exactly as
// an uninterrupted run's. The log keeps what a replay needs.
type DetectStage struct {
	det    detect.Detector
	state  *statedb.DB
	window time.Duration
	log    *slog.Logger
	done   atomic.Uint64
	alerts atomic.Int64
	// pending keeps the alerts of batches whose write failed, so a retry
	// does not feed the same events to the detectors twice.
	pendingSeq    uint64
	pendingAlerts []schema.Alert
	// Stateful detectors: snapshot bookkeeping.
	stateful  detect.Stateful
	interval  time.Duration
	saved     atomic.Uint64 // sequence of the last saved snapshot
	lastSave  time.Time
	replayEnd uint64 // alerts of batches at or below it are already stored
	fed       uint64 // highest sequence fed to the detector
	unsaved   int    // events fed since the last snapshot
	// prioritize, when set, refines each new alert (priority) before it is
	// stored.
	prioritize func(*schema.Alert)
}

// DefaultStateInterval is how often a stateful detector's state is saved.
const DefaultStateInterval = time.Minute

// NewDetectStage returns the detection stage. window is the alert grouping
// window.
func NewDetectStage(det detect.Detector, state *statedb.DB, window time.Duration, log *slog.Logger) *DetectStage {
	d := &DetectStage{det: det, state: state, window: window, log: log, interval: DefaultStateInterval}
	d.stateful, _ = det.(detect.Stateful)
	return d
}

// SetPrioritizer sets a function that refines every new alert before it is
// stored (risk.Prioritizer.Apply). Call it before Run.
func (d *DetectStage) SetPrioritizer(f func(*schema.Alert)) { d.prioritize = f }

// SetStateInterval changes how often detector state is saved (tests).
func (d *DetectStage) SetStateInterval(iv time.Duration) { d.interval = iv }

// Run consumes until ctx ends.
func (d *DetectStage) Run(ctx context.Context, src Source) error {
	ckpt, err := d.state.ConsumerCheckpoint(ctx, ConsumerDetect)
	if err != nil {
		return fmt.Errorf("detect stage: %w", err)
	}
	start := ckpt
	opts := ingest.ConsumeOptions{MaxBytes: 16 << 20}
	if d.stateful != nil {
		if start, err = d.restore(ctx, ckpt); err != nil {
			return err
		}
		opts.Floor = d.saved.Load
		opts.Idle = d.idle
		d.lastSave = time.Now()
	}
	d.done.Store(ckpt)
	d.replayEnd, d.fed = ckpt, start
	err = src.Consume(ctx, ConsumerDetect, start, opts, d.handle)
	if d.stateful != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		d.saveState(sctx)
	}
	return err
}

// restore loads the saved detector state and returns the sequence to
// consume from.
func (d *DetectStage) restore(ctx context.Context, ckpt uint64) (uint64, error) {
	seq, data, ok, err := d.state.DetectorState(ctx, ConsumerDetect)
	if err != nil {
		return 0, fmt.Errorf("detect stage: %w", err)
	}
	if !ok {
		// No state yet: a first start, or a detector that became stateful;
		// start empty from the checkpoint.
		d.saved.Store(ckpt)
		return ckpt, nil
	}
	if err := d.stateful.LoadState(data); err != nil {
		d.log.Error("detect stage: saved detector state unreadable; starting with empty state", "err", err)
		d.saved.Store(ckpt)
		return ckpt, nil
	}
	seq = min(seq, ckpt)
	d.saved.Store(seq)
	if seq < ckpt {
		d.log.Info("detect stage: replaying to rebuild detector state", "from", seq, "to", ckpt)
	}
	return seq, nil
}

// saveState snapshots the detector. It runs between batches on the
// consumer goroutine, so the state reflects exactly the batches up to fed.
// It saves nothing while alerts of fed batches wait for a retried write: a
// restart from that state would lose them.
func (d *DetectStage) saveState(ctx context.Context) {
	seq := d.fed
	if d.pendingSeq != 0 || seq <= d.saved.Load() {
		return
	}
	data, err := d.stateful.SaveState()
	if err == nil {
		err = d.state.SaveDetectorState(ctx, ConsumerDetect, seq, data)
	}
	if err != nil {
		d.log.Warn("detect stage: detector state not saved", "err", err)
		return
	}
	d.saved.Store(seq)
	d.lastSave = time.Now()
	d.unsaved = 0
}

// Done returns the highest ingest-log sequence examined.
func (d *DetectStage) Done() uint64 { return d.done.Load() }

// Alerts returns how many alerts the stage emitted since it started.
func (d *DetectStage) Alerts() int64 { return d.alerts.Load() }

func (d *DetectStage) handle(ctx context.Context, batches []ingest.Batch) error {
	ckpt := d.done.Load()
	alerts := d.pendingAlerts
	last := d.pendingSeq
	for _, b := range batches {
		if b.Seq <= max(d.fed, d.pendingSeq) || b.Seq <= ckpt && d.stateful == nil {
			continue
		}
		if b.Seq <= d.replayEnd {
			// Rebuilding state after a restart: these alerts are stored.
			d.det.Detect(b.Events, func(schema.Alert) {})
		} else {
			d.det.Detect(b.Events, func(a schema.Alert) {
				if d.prioritize != nil {
					d.prioritize(&a)
				}
				alerts = append(alerts, a)
			})
			last = b.Seq
		}
		d.fed = b.Seq
	}
	if last > ckpt {
		if err := d.state.ApplyDetections(ctx, ConsumerDetect, last, alerts, d.window); err != nil {
			d.pendingSeq, d.pendingAlerts = last, alerts
			return fmt.Errorf("detect stage: %w", err)
		}
		d.pendingSeq, d.pendingAlerts = 0, nil
		d.done.Store(last)
		d.alerts.Add(int64(len(alerts)))
	}
	if d.stateful != nil {
		for _, b := range batches {
			d.unsaved += len(b.Events)
		}
		// Save on the interval, and sooner when many events wait in the log
		// only for a replay: the log cannot drop them until the state is
		// saved, and a full log refuses new events.
		if time.Since(d.lastSave) >= d.interval || d.unsaved >= stateEveryEvents {
			d.saveState(ctx)
		}
	}
	return nil
}

// stateEveryEvents bounds the events handled between two state snapshots.
const stateEveryEvents = 100_000

// idle saves the state once the stage has caught up with the log (at most
// once a second), so the log can drop what it holds for a replay even when
// no further events arrive.
func (d *DetectStage) idle(ctx context.Context) {
	if d.fed > d.saved.Load() && time.Since(d.lastSave) >= time.Second {
		d.saveState(ctx)
	}
}
