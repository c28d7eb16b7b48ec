package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Waits between attempts to submit a refused batch.
const (
	retryMin = 50 * time.Millisecond
	retryMax = time.Second
	// retryWarnAfter is the attempt from which backpressure is logged as a
	// warning rather than at debug level.
	retryWarnAfter = 10
)

// SubmitRetry hands evs to sink, waiting (50 ms doubling to 1 s) and
// retrying while it refuses them, until ctx is done. It returns nil once
// the events are durable, else the last refusal: the batch is lost and the
// caller counts it. what names the batch in logs ("syslog", "flow").
func SubmitRetry(ctx context.Context, sink Sink, evs []schema.Event, what string, log *slog.Logger) error {
	wait := retryMin
	var timer *time.Timer
	for attempt := 1; ; attempt++ {
		err := sink.Submit(ctx, evs)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			log.Error(what+" batch lost: the sink still refused it at the shutdown deadline",
				"events", len(evs), "error", err)
			return err
		}
		level := slog.LevelWarn
		if errors.Is(err, ErrBackpressure) && attempt < retryWarnAfter {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, what+" batch refused; retrying", "events", len(evs),
			"attempt", attempt, "wait", wait, "error", err)
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
		wait = min(2*wait, retryMax)
	}
}
