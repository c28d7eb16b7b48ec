package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Batch is one message of the ingest log: its stream sequence and its
// events, whose IDs are set from the sequence.
type Batch struct {
	Seq    uint64
	Events []schema.Event
}

// Handler processes batches in log order. When it returns nil the batches
// count as committed; when it fails they are handed to it again after a
// backoff. A handler keeps a checkpoint of the highest sequence it
// committed, in the same transaction as its work, and passes it to Consume
// when it starts again.
type Handler func(ctx context.Context, batches []Batch) error

// ConsumeOptions tune a consumer.
type ConsumeOptions struct {
	// MaxBytes bounds the encoded size of the batches handed to one Handler
	// call (and so the memory they take once decoded). It is raised to fit
	// the largest message the log holds.
	MaxBytes int
	// MaxWait is how long to wait to fill a call when the log is quiet.
	MaxWait time.Duration
	// Floor, when set, returns the sequence the consumer could restart from
	// after a crash, which may trail the last sequence it handled (a consumer
	// that snapshots state only now and then replays from its snapshot). The
	// log keeps everything after it. Without Floor the last handled sequence
	// is the floor.
	Floor func() uint64
	// Idle, when set, is called from the consuming goroutine after a fetch
	// that found nothing new (the consumer has caught up).
	Idle func(ctx context.Context)
}

// Consume reads the log for consumer name from just after checkpoint until
// ctx is done, calling h with batches in order. After each successful call
// the consumer's checkpoint moves to the last sequence handed over, and the
// log may delete what every consumer has passed.
func (l *Log) Consume(ctx context.Context, name string, checkpoint uint64, o ConsumeOptions, h Handler) error {
	if o.MaxBytes < 2*l.maxChunk {
		o.MaxBytes = 2 * l.maxChunk
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 100 * time.Millisecond
	}
	l.setFloor(name, checkpoint)
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   checkpoint + 1,
	})
	if err != nil {
		return fmt.Errorf("ingest: consumer %s: %w", name, err)
	}
	for ctx.Err() == nil {
		mb, err := cons.FetchBytes(o.MaxBytes, jetstream.FetchMaxWait(o.MaxWait))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			l.log.Warn("ingest: fetch failed", "consumer", name, "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		var batches []Batch
		var last uint64
		for msg := range mb.Messages() {
			b, seq, ok := l.decodeMsg(name, msg)
			if seq > last {
				last = seq
			}
			if ok {
				batches = append(batches, b)
			}
		}
		if err := mb.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			l.log.Debug("ingest: fetch ended", "consumer", name, "err", err)
		}
		if last == 0 {
			if o.Idle != nil {
				o.Idle(ctx)
				if o.Floor != nil {
					l.setFloor(name, o.Floor())
				}
			}
			continue
		}
		if err := l.handle(ctx, name, batches, h); err != nil {
			break // ctx is done
		}
		if o.Floor != nil {
			l.setFloor(name, min(o.Floor(), last))
		} else {
			l.setFloor(name, last)
		}
	}
	return nil
}

// handle calls h until it succeeds or ctx ends.
func (l *Log) handle(ctx context.Context, name string, batches []Batch, h Handler) error {
	if len(batches) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := h(ctx, batches)
		if err == nil {
			if l.metrics != nil {
				n := 0
				for _, b := range batches {
					n += len(b.Events)
				}
				l.metrics.Consumed.WithLabelValues(name).Add(float64(n))
				l.metrics.ConsumeSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l.metrics != nil {
			l.metrics.ConsumeErrors.WithLabelValues(name).Inc()
		}
		l.log.Error("ingest: consumer failed; retrying", "consumer", name,
			"first_seq", batches[0].Seq, "err", err, "backoff", backoff)
		if !sleepCtx(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (l *Log) decodeMsg(name string, msg jetstream.Msg) (Batch, uint64, bool) {
	md, err := msg.Metadata()
	if err != nil {
		l.log.Error("ingest: message without metadata skipped", "consumer", name, "err", err)
		return Batch{}, 0, false
	}
	seq := md.Sequence.Stream
	evs, err := DecodeBatch(nil, msg.Data())
	if err != nil {
		if l.metrics != nil {
			l.metrics.CorruptBatches.Inc()
		}
		l.log.Error("ingest: undecodable batch skipped", "consumer", name, "seq", seq, "err", err)
		return Batch{}, seq, false
	}
	for i := range evs {
		evs[i].ID = schema.MakeID(seq, i)
	}
	return Batch{Seq: seq, Events: evs}, seq, true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
