// Package ingest holds Vigil's durable ingest log: NATS JetStream, embedded
// in-process with a file store by default, or an external NATS cluster.
// Inputs submit normalised events; Submit returns once they are durable, and
// only then do inputs acknowledge them.
//
// Consumers (storage, detection) keep their own checkpoint — the highest
// sequence whose work they committed, in the same transaction as the work —
// and read the log from just after it. The log deletes a message only once
// every consumer's checkpoint has passed it. So a crash at any point loses
// nothing acknowledged, replays exactly what was not committed, and the
// stream's size is the backlog that backpressure bounds.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Options configure the ingest log.
type Options struct {
	// Dir holds the embedded JetStream file store. Ignored with URL.
	Dir string
	// URL of an external NATS server; empty runs NATS in-process.
	URL string
	// Stream and Subject name the JetStream stream.
	Stream  string
	Subject string
	// SyncAlways makes the embedded server fsync every write before it
	// acknowledges it (survives power loss, not only process death).
	SyncAlways bool
	// MaxPendingBytes bounds the bytes published but not yet acknowledged
	// by every consumer; past it Submit returns ErrBackpressure.
	MaxPendingBytes int64
	// MaxStoreBytes bounds the stream on disk.
	MaxStoreBytes int64
	// Consumers are the consumer names. The log keeps every message until
	// each of them has reported a checkpoint past it.
	Consumers []string
}

func (o *Options) setDefaults() {
	if o.Stream == "" {
		o.Stream = "VIGIL_EVENTS"
	}
	if o.Subject == "" {
		o.Subject = "vigil.events"
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = 512 << 20
	}
	if o.MaxStoreBytes == 0 {
		o.MaxStoreBytes = 8 << 30
	}
}

// Log is the durable ingest log. It implements Sink.
type Log struct {
	opts   Options
	log    *slog.Logger
	ns     *server.Server // nil with an external NATS
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream

	maxChunk int
	pending  atomic.Int64  // unconsumed bytes in the stream, refreshed by watch
	lastSeq  atomic.Uint64 // highest sequence this process stored

	mu      sync.Mutex
	floors  map[string]uint64 // each consumer's checkpoint, once it reported
	purged  uint64            // messages below purged+1 are deleted
	stop    chan struct{}
	wg      sync.WaitGroup
	metrics *Metrics
	bufs    sync.Pool
}

var _ Sink = (*Log)(nil)

// Open starts (or connects to) NATS, creates the stream and the durable
// consumers, and returns the log.
func Open(ctx context.Context, o Options, m *Metrics, log *slog.Logger) (*Log, error) {
	o.setDefaults()
	l := &Log{opts: o, log: log, stop: make(chan struct{}), metrics: m, floors: map[string]uint64{}}
	if err := l.connect(); err != nil {
		l.Close()
		return nil, err
	}
	js, err := jetstream.New(l.nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("ingest: jetstream: %w", err)
	}
	l.js = js
	l.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       o.Stream,
		Subjects:   []string{o.Subject},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardNew,
		MaxBytes:   o.MaxStoreBytes,
		Duplicates: 10 * time.Minute,
	})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("ingest: stream %s: %w", o.Stream, err)
	}
	l.maxChunk = int(l.nc.MaxPayload()) - 1024
	l.refreshPending(ctx)
	l.wg.Add(1)
	go l.watch()
	return l, nil
}

func (l *Log) connect() error {
	if l.opts.URL != "" {
		nc, err := nats.Connect(l.opts.URL, nats.Name("vigil"), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("ingest: connect %s: %w", l.opts.URL, err)
		}
		l.nc = nc
		return nil
	}
	dir := filepath.Join(l.opts.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "vigil-embedded",
		DontListen: true,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20,
		SyncAlways: l.opts.SyncAlways,
	})
	if err != nil {
		return fmt.Errorf("ingest: embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return errors.New("ingest: embedded nats did not start within 30s")
	}
	l.ns = ns
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("vigil"))
	if err != nil {
		return fmt.Errorf("ingest: connect in-process: %w", err)
	}
	l.nc = nc
	return nil
}

// setFloor records that consumer name has committed everything up to seq.
func (l *Log) setFloor(name string, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq >= l.floors[name] {
		l.floors[name] = seq
	}
}

// purgeFloor returns the sequence below which every consumer is done, and
// whether every consumer has reported.
func (l *Log) purgeFloor() (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lowest uint64
	for i, c := range l.opts.Consumers {
		f, ok := l.floors[c]
		if !ok {
			return 0, false
		}
		if i == 0 || f < lowest {
			lowest = f
		}
	}
	return lowest, len(l.opts.Consumers) > 0
}

// purge deletes the messages every consumer has committed.
func (l *Log) purge(ctx context.Context) {
	floor, ok := l.purgeFloor()
	if !ok || floor <= l.purged {
		return
	}
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSequence(floor+1)); err != nil {
		l.log.Warn("ingest: purging consumed messages failed", "below", floor+1, "err", err)
		return
	}
	l.purged = floor
}

// watch deletes consumed messages and refreshes the pending-bytes gauge that
// backpressure reads.
func (l *Log) watch() {
	defer l.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.purge(ctx)
			l.refreshPending(ctx)
			cancel()
		}
	}
}

func (l *Log) refreshPending(ctx context.Context) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return
	}
	l.pending.Store(int64(info.State.Bytes))
	if l.metrics != nil {
		l.metrics.QueueBytes.Set(float64(info.State.Bytes))
		l.metrics.QueueMessages.Set(float64(info.State.Msgs))
	}
}

// State returns the stream's state: messages, bytes, first and last
// sequence. It is safe to call from any goroutine.
func (l *Log) State(ctx context.Context) (jetstream.StreamState, error) {
	st, err := l.js.Stream(ctx, l.opts.Stream)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	return info.State, nil
}

// LastSeq returns the highest stream sequence stored by this process's
// submissions (0 before any). Consumers are drained once they are past it.
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

// Pending returns the bytes in the stream not yet committed by every
// consumer, as last measured (up to 100ms old).
func (l *Log) Pending() int64 { return l.pending.Load() }

// Overloaded reports whether consumers are further behind than the bound.
func (l *Log) Overloaded() bool { return l.pending.Load() > l.opts.MaxPendingBytes }

// Submit encodes evs into batches, publishes them and waits until the
// stream has stored every one. It returns ErrBackpressure without
// publishing when consumers are behind the bound.
func (l *Log) Submit(ctx context.Context, evs []schema.Event) error {
	return l.SubmitID(ctx, "", evs)
}

// SubmitID is Submit with an idempotency key: a batch resubmitted with the
// same key inside the stream's duplicate window is stored once.
func (l *Log) SubmitID(ctx context.Context, key string, evs []schema.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if l.Overloaded() {
		return ErrBackpressure
	}
	start := time.Now()
	var futures []jetstream.PubAckFuture
	var bufs []*[]byte
	defer func() {
		for _, b := range bufs {
			l.bufs.Put(b)
		}
	}()
	chunk := 0
	for len(evs) > 0 {
		n, data := l.encodeChunk(evs)
		bufs = append(bufs, data)
		msg := nats.NewMsg(l.opts.Subject)
		msg.Data = *data
		if key != "" {
			msg.Header.Set(jetstream.MsgIDHeader, key+"/"+strconv.Itoa(chunk))
		}
		f, err := l.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("ingest: publish: %w", err)
		}
		futures = append(futures, f)
		evs = evs[n:]
		chunk++
	}
	for _, f := range futures {
		select {
		case ack := <-f.Ok():
			for {
				cur := l.lastSeq.Load()
				if ack.Sequence <= cur || l.lastSeq.CompareAndSwap(cur, ack.Sequence) {
					break
				}
			}
		case err := <-f.Err():
			return fmt.Errorf("ingest: not stored: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if l.metrics != nil {
		l.metrics.AckLatency.Observe(time.Since(start).Seconds())
	}
	return nil
}

// encodeChunk encodes as many leading events of evs as fit one message.
func (l *Log) encodeChunk(evs []schema.Event) (int, *[]byte) {
	bp, _ := l.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 256<<10)
		bp = &b
	}
	n := min(len(evs), schema.MaxBatchEvents)
	for {
		*bp = AppendBatch((*bp)[:0], evs[:n])
		if len(*bp) <= l.maxChunk || n == 1 {
			return n, bp
		}
		n = max(1, n*l.maxChunk/len(*bp)*9/10)
	}
}

// Close stops the log: the client connection, then the embedded server.
func (l *Log) Close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	if l.nc != nil {
		_ = l.nc.Drain()
		l.nc.Close()
	}
	if l.ns != nil {
		l.ns.Shutdown()
		l.ns.WaitForShutdown()
	}
}
