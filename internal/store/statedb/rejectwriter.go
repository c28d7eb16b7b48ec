package statedb

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// Reject writer defaults.
const (
	DefaultRejectBuffer   = 10_000
	DefaultRejectBatch    = 500
	DefaultRejectInterval = 200 * time.Millisecond
	// rejectWriteTimeout bounds one batch write. Writes run on a context
	// detached from Run's, so a batch in flight when Run is cancelled still
	// lands.
	rejectWriteTimeout = 5 * time.Second
)

// RejectWriterOptions tune a RejectWriter; zero fields take the defaults.
type RejectWriterOptions struct {
	// Buffer is how many rejects may wait for the writer
	// (DefaultRejectBuffer).
	Buffer int
	// BatchSize is how many rejects are written per transaction at most
	// (DefaultRejectBatch).
	BatchSize int
	// Interval is the longest a reject waits before it is written
	// (DefaultRejectInterval).
	Interval time.Duration
}

// RejectCount is how many records one input rejected for one reason since
// the writer started.
type RejectCount struct {
	Input  string
	Reason string
	Count  int64
}

// RejectWriter records rejected records for the inputs: it implements
// ingest.RejectRecorder, queues rejects on a bounded channel, and Run writes
// them to the database as dead letters in batches. Record never blocks: when
// the queue is full the raw record is dropped, but the reject is still
// counted, both in Counts and in its source's parse-error counters.
type RejectWriter struct {
	db   *DB
	log  *slog.Logger
	opts RejectWriterOptions
	ch   chan pendingReject

	dropped atomic.Int64

	mu sync.Mutex
	// counts are all rejects per input × reason, for metrics.
	counts map[[2]string]int64
	// overflow are rejects counted but not queued, waiting for the next
	// write.
	overflow map[reasonKey]int64
}

var _ ingest.RejectRecorder = (*RejectWriter)(nil)

// NewRejectWriter returns a writer into db, logging write failures to log
// (nil discards them). Call Run to start writing.
func NewRejectWriter(db *DB, log *slog.Logger, opts RejectWriterOptions) *RejectWriter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultRejectBuffer
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultRejectBatch
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultRejectInterval
	}
	return &RejectWriter{
		db:       db,
		log:      log,
		opts:     opts,
		ch:       make(chan pendingReject, opts.Buffer),
		counts:   make(map[[2]string]int64),
		overflow: make(map[reasonKey]int64),
	}
}

// Record queues r. It copies at most MaxDeadLetterRaw bytes of r.Raw, so the
// caller may reuse its buffer. It never blocks; see RejectWriter.
func (w *RejectWriter) Record(r ingest.Reject) {
	k := reasonKey{orUnknown(r.Source), orUnknown(r.Input), reasonOrInvalid(r.Reason)}
	w.mu.Lock()
	w.counts[[2]string{k.input, k.reason}]++
	w.mu.Unlock()
	// Under a flood the queue stays full: skip the copy that would be
	// dropped anyway.
	if len(w.ch) < cap(w.ch) {
		p := pendingReject{r: r, rawLen: len(r.Raw)}
		if len(r.Raw) > 0 {
			p.r.Raw = append([]byte(nil), r.Raw[:min(len(r.Raw), MaxDeadLetterRaw)]...)
		}
		if p.r.Time.IsZero() {
			p.r.Time = w.db.now()
		}
		select {
		case w.ch <- p:
			return
		default:
		}
	}
	w.dropped.Add(1)
	w.mu.Lock()
	w.overflow[k]++
	w.mu.Unlock()
}

// Dropped returns how many rejects lost their raw record: because the queue
// was full, or because writing their batch failed. They are still counted.
func (w *RejectWriter) Dropped() int64 { return w.dropped.Load() }

// Counts returns the rejects per input and reason since the writer was made,
// ordered by input and reason, for metrics. Empty names read "unknown" and
// an empty reason "invalid", as in the database.
func (w *RejectWriter) Counts() []RejectCount {
	w.mu.Lock()
	out := make([]RejectCount, 0, len(w.counts))
	for k, n := range w.counts {
		out = append(out, RejectCount{Input: k[0], Reason: k[1], Count: n})
	}
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b RejectCount) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// Run writes queued rejects every Interval or whenever BatchSize are
// waiting, until ctx is done; then it writes what is still queued (within a
// few seconds) and returns. A failed write is logged and its rejects are
// kept as counts only, to be written with the next batch; Run goes on. Run
// must not be called twice at once. Stop the inputs before cancelling Run:
// rejects recorded after Run returns are counted only in Counts.
func (w *RejectWriter) Run(ctx context.Context) error {
	tick := time.NewTicker(w.opts.Interval)
	defer tick.Stop()
	batch := make([]pendingReject, 0, w.opts.BatchSize)
	for {
		select {
		case <-ctx.Done():
			return w.shutdown(ctx, batch)
		case p := <-w.ch:
			batch = append(batch, p)
			if len(batch) < w.opts.BatchSize {
				continue
			}
		case <-tick.C:
		}
		batch, _ = w.flush(ctx, batch)
	}
}

// shutdown drains the queue into the database after Run's context is done.
func (w *RejectWriter) shutdown(ctx context.Context, batch []pendingReject) error {
	for {
		select {
		case p := <-w.ch:
			batch = append(batch, p)
			if len(batch) < w.opts.BatchSize {
				continue
			}
		default:
		}
		var err error
		if batch, err = w.flush(ctx, batch); err != nil {
			return fmt.Errorf("statedb: reject writer shutdown: %w", err)
		}
		if len(w.ch) == 0 {
			return nil
		}
	}
}

// flush writes batch and the overflow counts, and returns batch emptied. The
// write is not cancelled with ctx but bounded by rejectWriteTimeout.
// When the write fails, the batch's raw records are dropped and its rejects
// go back to the overflow counts.
func (w *RejectWriter) flush(ctx context.Context, batch []pendingReject) ([]pendingReject, error) {
	extra := w.takeOverflow()
	if len(batch) == 0 && len(extra) == 0 {
		return batch, nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rejectWriteTimeout)
	err := w.db.addRejects(wctx, batch, extra)
	cancel()
	if err != nil {
		w.log.Error("writing dead letters failed; keeping counts only",
			"rejects", len(batch), "err", err)
		w.dropped.Add(int64(len(batch)))
		w.mu.Lock()
		for _, c := range extra {
			w.overflow[reasonKey{c.host, c.input, c.reason}] += c.n
		}
		for i := range batch {
			r := &batch[i].r
			w.overflow[reasonKey{orUnknown(r.Source), orUnknown(r.Input), reasonOrInvalid(r.Reason)}]++
		}
		w.mu.Unlock()
	}
	clear(batch)
	return batch[:0], err
}

// takeOverflow returns and resets the counted-only rejects.
func (w *RejectWriter) takeOverflow() []parseErrorCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.overflow) == 0 {
		return nil
	}
	out := make([]parseErrorCount, 0, len(w.overflow))
	for k, n := range w.overflow {
		out = append(out, parseErrorCount{k.host, k.input, k.reason, n})
	}
	clear(w.overflow)
	return out
}
