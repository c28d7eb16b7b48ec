// Package flowcollect receives network flow records over UDP — NetFlow v5,
// NetFlow v9, IPFIX and sFlow v5 — and turns each flow into a
// schema.Event that internal/flow reads back as a flow.Record (see
// flow.FromEvent and the conventions in internal/flow/event.go).
//
// Decoding: goflow2's decoders parse NetFlow v9 / IPFIX template and
// options template sets and sFlow extended router / gateway records. The
// per-flow paths — NetFlow v5 records, v9 / IPFIX data records read
// through templates compiled once, sFlow samples and their sampled packet
// headers — are decoded here without allocating: goflow2's general
// decoders cost 200 ns (v5) to 0.9 µs (v9) of CPU per flow before any event
// is built, and up to 17 allocations per flow (BenchmarkGoflow2* in
// bench_test.go).
//
// Times: flow start and end come from the exporter. NetFlow v5 and v9
// sysUptime times are placed on the wall clock through the packet header's
// uptime and Unix time (v9 headers carry whole seconds, so v9 times can be
// up to a second early, as in every collector); IPFIX sysUptime times use
// the exporter's systemInitTimeMilliseconds option. A record without times
// takes the export time. sFlow carries no flow times: a sample's time is
// its receive time. Counters are multiplied by the sampling rate: the v5
// header's, the v9 / IPFIX record's own or its sampler's (options data
// keyed by sampler or selector id), else the latest the exporter announced
// in options data; an sFlow sample's.
//
// Templates and sampling rates are kept per exporter address, source port,
// version and source id / observation domain, bounded in number and size
// and forgotten when idle (DecoderConfig). A data set that arrives before
// its template waits, bounded in count, bytes and time, and is decoded
// when the template comes; otherwise it is dropped, counted and reported.
// Malformed packets are counted per exporter and reported, rate-limited,
// to the RejectRecorder; the good flows of a packet with a bad part are
// kept.
//
// Events are handed to an ingest.Sink in batches. A batch the sink refuses
// is retried with growing waits; meanwhile datagrams wait in a bounded
// queue and are dropped, and counted, when it is full — UDP has no other
// backpressure.
package flowcollect

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// Listener names, the keys of Collector.Addrs.
const (
	ListenerNetFlow = "netflow"
	ListenerIPFIX   = "ipfix"
	ListenerSFlow   = "sflow"
)

// Counters are the collector's totals since New.
type Counters struct {
	// Received counts datagrams read from the sockets.
	Received uint64
	// QueueDropped counts datagrams dropped because the decode queue was
	// full (the sink was slow or the workers could not keep up).
	QueueDropped uint64
	// Accepted counts events the sink accepted.
	Accepted uint64
	// Lost counts decoded events abandoned because the sink still refused
	// them when the shutdown timeout expired.
	Lost uint64
	// Malformed counts datagrams with a malformed part.
	Malformed uint64
	// Rejects counts problems passed to the RejectRecorder;
	// RejectsSuppressed those only counted because of the rate limit.
	Rejects, RejectsSuppressed uint64
}

type counters struct {
	received, queueDropped, accepted, lost, malformed, rejects, suppressed atomic.Uint64
}

// Collector is a set of flow listeners feeding one sink. Make it with
// New; Run serves once.
type Collector struct {
	cfg      Config
	sink     ingest.Sink
	rejects  ingest.RejectRecorder
	log      *slog.Logger
	decoders []*Decoder
	limiter  *limiter
	seed     maphash.Seed // shards exporter addresses over the workers

	started atomic.Bool
	ready   chan struct{}
	addrs   map[string]net.Addr // written before ready is closed
	stats   counters
}

// New checks cfg and returns a collector that is not yet listening.
// rejects may be nil when problems need only be counted.
func New(cfg Config, sink ingest.Sink, rejects ingest.RejectRecorder, log *slog.Logger) (*Collector, error) {
	if sink == nil || log == nil {
		return nil, errors.New("flowcollect: sink and logger are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Collector{
		cfg: cfg, sink: sink, rejects: rejects, log: log,
		limiter: newLimiter(float64(cfg.RejectRate), float64(cfg.RejectBurst)),
		seed:    maphash.MakeSeed(),
		ready:   make(chan struct{}),
		addrs:   make(map[string]net.Addr),
	}
	dc := cfg.Decoder
	dc.Reject = c.recordReject
	for range cfg.Workers {
		c.decoders = append(c.decoders, NewDecoder(dc))
	}
	return c, nil
}

// recordReject passes a problem to the recorder unless the rate limit says
// to count it only.
func (c *Collector) recordReject(r ingest.Reject) {
	if c.rejects == nil || !c.limiter.allow(time.Now()) {
		c.stats.suppressed.Add(1)
		return
	}
	c.stats.rejects.Add(1)
	c.rejects.Record(r)
}

// Ready is closed once every configured listener is bound. It stays open
// when Run fails to bind them.
func (c *Collector) Ready() <-chan struct{} { return c.ready }

// Addrs returns the bound address of each enabled listener, keyed by
// ListenerNetFlow, ListenerIPFIX and ListenerSFlow; it is empty until
// Ready is closed.
func (c *Collector) Addrs() map[string]net.Addr {
	select {
	case <-c.ready:
	default:
		return map[string]net.Addr{}
	}
	out := make(map[string]net.Addr, len(c.addrs))
	for k, v := range c.addrs {
		out[k] = v
	}
	return out
}

// Stats returns the counters of every exporter heard from (and not yet
// forgotten), ordered by address.
func (c *Collector) Stats() []ExporterStats {
	var out []ExporterStats
	for _, d := range c.decoders {
		out = append(out, d.Stats()...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Exporter.Less(out[j].Exporter) })
	return out
}

// Counters returns the collector's totals.
func (c *Collector) Counters() Counters {
	s := &c.stats
	return Counters{
		Received: s.received.Load(), QueueDropped: s.queueDropped.Load(), Accepted: s.accepted.Load(),
		Lost: s.lost.Load(), Malformed: s.malformed.Load(), Rejects: s.rejects.Load(),
		RejectsSuppressed: s.suppressed.Load(),
	}
}

// Run binds the listeners, serves until ctx is done, then closes them,
// decodes the datagrams already queued, submits the batches in hand
// (retrying for at most Config.ShutdownTimeout) and returns. It returns an
// error only when a listener cannot be bound, and may be called once.
func (c *Collector) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("flowcollect: Run called twice")
	}
	conns, err := c.listen(ctx)
	if err != nil {
		return err
	}
	close(c.ready)

	flushCtx, cancelFlush := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFlush()
	queues := make([]chan datagram, len(c.decoders))
	var workers sync.WaitGroup
	for i, d := range c.decoders {
		queues[i] = make(chan datagram, max(1, c.cfg.Queue/len(c.decoders)))
		workers.Go(func() { c.work(flushCtx, d, queues[i]) })
	}
	var readers sync.WaitGroup
	for name, pc := range conns {
		readers.Go(func() { c.read(name, pc, queues) })
	}
	c.log.Info("flow listeners started", "addrs", fmt.Sprint(c.Addrs()), "workers", len(c.decoders))

	<-ctx.Done()
	stop := time.AfterFunc(c.cfg.ShutdownTimeout, cancelFlush)
	defer stop.Stop()
	for _, pc := range conns {
		_ = pc.Close()
	}
	readers.Wait()
	for _, q := range queues {
		close(q)
	}
	workers.Wait()
	n := c.Counters()
	c.log.Info("flow listeners stopped", "received", n.Received, "accepted", n.Accepted,
		"malformed", n.Malformed, "queue_dropped", n.QueueDropped, "lost", n.Lost)
	return nil
}

// listen binds the configured listeners, closing them all if one fails.
func (c *Collector) listen(ctx context.Context) (map[string]*net.UDPConn, error) {
	var lc net.ListenConfig
	conns := make(map[string]*net.UDPConn)
	for _, l := range []struct{ name, addr string }{
		{ListenerNetFlow, c.cfg.NetFlowAddr}, {ListenerIPFIX, c.cfg.IPFIXAddr}, {ListenerSFlow, c.cfg.SFlowAddr},
	} {
		if l.addr == "" {
			continue
		}
		pc, err := lc.ListenPacket(ctx, "udp", l.addr)
		if err != nil {
			for _, open := range conns {
				_ = open.Close()
			}
			return nil, fmt.Errorf("flowcollect: listen %s udp %s: %w", l.name, l.addr, err)
		}
		conns[l.name] = pc.(*net.UDPConn)
		c.addrs[l.name] = pc.LocalAddr()
	}
	return conns, nil
}
