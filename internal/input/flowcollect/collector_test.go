package flowcollect

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// running is a collector started by startCollector.
type running struct {
	c    *Collector
	stop func() // cancels Run and waits for it; safe to call twice
}

// startCollector runs a collector for cfg until the test ends (or stop).
func startCollector(t testing.TB, cfg Config, sink ingest.Sink, rec ingest.RejectRecorder) *running {
	t.Helper()
	c, err := New(cfg, sink, rec, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-c.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("collector not ready after 10s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return 30s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return &running{c: c, stop: stop}
}

// localCfg listens on loopback ports picked by the kernel.
func localCfg() Config {
	return Config{NetFlowAddr: "127.0.0.1:0", IPFIXAddr: "127.0.0.1:0", SFlowAddr: "127.0.0.1:0",
		FlushInterval: 20 * time.Millisecond}
}

// send writes datagrams to addr from one socket.
func send(t testing.TB, addr net.Addr, pkts ...[]byte) {
	t.Helper()
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range pkts {
		if _, err := conn.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCollectorUDP sends every format to every listener and checks that
// each flow reaches the sink once, batched, with the statistics.
func TestCollectorUDP(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	r := startCollector(t, localCfg(), sink, nil)
	addrs := r.c.Addrs()
	if len(addrs) != 3 {
		t.Fatalf("Addrs = %v, want 3 listeners", addrs)
	}
	want := 0
	for _, name := range []string{ListenerNetFlow, ListenerIPFIX, ListenerSFlow} {
		for _, tc := range decodeCases() {
			send(t, addrs[name], tc.pkts...)
			want += tc.flows
		}
	}
	waitFor(t, "all flows", 10*time.Second, func() bool { return len(sink.events()) >= want })
	if got := len(sink.events()); got != want {
		t.Errorf("sink got %d events, want %d", got, want)
	}
	r.stop()
	n := r.c.Counters()
	if n.Accepted != uint64(want) || n.Malformed != 0 || n.QueueDropped != 0 || n.Lost != 0 {
		t.Errorf("counters = %+v", n)
	}
	st := r.c.Stats()
	if len(st) != 1 || st[0].Exporter.String() != "127.0.0.1" || st[0].Flows != uint64(want) {
		t.Errorf("stats = %+v", st)
	}
	for _, ev := range sink.events() {
		if ev.Observer.IP != "127.0.0.1" || ev.Received.IsZero() {
			t.Fatalf("event %+v lacks its exporter or receive time", ev)
		}
	}
}

// TestCollectorBatches checks that batches respect BatchSize and that a
// partial batch is flushed after FlushInterval.
func TestCollectorBatches(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	cfg := localCfg()
	cfg.BatchSize, cfg.FlushInterval, cfg.Workers = 3, 50*time.Millisecond, 1
	r := startCollector(t, cfg, sink, nil)
	v5 := decodeCases()[0].pkts[0] // 2 flows
	send(t, r.c.Addrs()[ListenerNetFlow], v5, v5, v5, v5)
	waitFor(t, "8 flows", 10*time.Second, func() bool { return len(sink.events()) == 8 })
	for _, n := range sink.batchSizes() {
		if n > 3 {
			t.Errorf("batch of %d events exceeds BatchSize 3", n)
		}
	}
}

// TestCollectorBackpressure checks that refused batches are retried, and
// that datagrams are dropped and counted while the sink holds the workers.
func TestCollectorBackpressure(t *testing.T) {
	t.Parallel()
	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		sink := &collectSink{failFirst: 2}
		r := startCollector(t, localCfg(), sink, nil)
		send(t, r.c.Addrs()[ListenerNetFlow], decodeCases()[0].pkts[0])
		waitFor(t, "the refused batch to be accepted", 10*time.Second, func() bool { return len(sink.events()) == 2 })
	})
	t.Run("queue full", func(t *testing.T) {
		t.Parallel()
		sink := &collectSink{block: make(chan struct{})}
		cfg := localCfg()
		cfg.Queue, cfg.Workers, cfg.BatchSize = 4, 1, 1
		r := startCollector(t, cfg, sink, nil)
		pkt := decodeCases()[0].pkts[0]
		addr := r.c.Addrs()[ListenerNetFlow]
		waitFor(t, "datagrams to be dropped", 10*time.Second, func() bool {
			send(t, addr, pkt)
			return r.c.Counters().QueueDropped > 0
		})
		close(sink.block)
		r.stop()
		n := r.c.Counters()
		if n.Received != n.QueueDropped+r.c.Stats()[0].Packets {
			t.Errorf("counters %+v: received != dropped + decoded %d", n, r.c.Stats()[0].Packets)
		}
		if n.Accepted != 2*r.c.Stats()[0].Packets {
			t.Errorf("accepted %d events from %d decoded datagrams of 2 flows", n.Accepted, r.c.Stats()[0].Packets)
		}
	})
}

// TestCollectorRejects sends a flood of malformed datagrams: all are
// counted, only a rate-limited share reaches the recorder, and good
// flows still arrive.
func TestCollectorRejects(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	var rejects rejectLog
	cfg := localCfg()
	cfg.RejectRate, cfg.RejectBurst = 1, 5
	r := startCollector(t, cfg, sink, &rejects)
	addr := r.c.Addrs()[ListenerIPFIX]
	bad := cat(u16(10), u16(8), make([]byte, 20))
	for range 100 {
		send(t, addr, bad)
	}
	send(t, addr, decodeCases()[4].pkts[0])
	waitFor(t, "all datagrams", 10*time.Second, func() bool {
		st := r.c.Stats()
		return len(st) == 1 && st[0].Packets == 101 && len(sink.events()) == 2
	})
	n := r.c.Counters()
	if n.Malformed != 100 || n.Rejects+n.RejectsSuppressed != 100 || n.Rejects > 10 || n.Rejects < 5 {
		t.Errorf("counters = %+v, want 100 malformed of which 5 to 10 recorded", n)
	}
	if rs := rejects.all(); uint64(len(rs)) != n.Rejects || rs[0].Reason != ReasonBadFlow {
		t.Errorf("%d rejects recorded, counters say %d", len(rs), n.Rejects)
	}
}

// TestCollectorShutdownLoses checks that events the sink still refuses at
// the shutdown deadline are counted as lost.
func TestCollectorShutdownLoses(t *testing.T) {
	t.Parallel()
	sink := &collectSink{failFirst: 1 << 30}
	cfg := localCfg()
	cfg.ShutdownTimeout = 100 * time.Millisecond
	r := startCollector(t, cfg, sink, nil)
	send(t, r.c.Addrs()[ListenerSFlow], decodeCases()[7].pkts[0])
	waitFor(t, "the datagram", 10*time.Second, func() bool { return r.c.Counters().Received == 1 })
	time.Sleep(100 * time.Millisecond)
	r.stop()
	if n := r.c.Counters(); n.Lost != 4 || n.Accepted != 0 {
		t.Errorf("counters = %+v, want 4 lost", n)
	}
}

// TestCollectorConfig checks configuration errors.
func TestCollectorConfig(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no listener"},
		{Config{SFlowAddr: ":0", BatchSize: -1}, "negative"},
		{Config{SFlowAddr: ":0", BatchSize: 1 << 20}, "exceeds"},
	} {
		if _, err := New(tc.cfg, sink, nil, testLogger(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error about %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(localCfg(), nil, nil, testLogger(t)); err == nil {
		t.Error("New without a sink succeeded")
	}
	c, err := New(Config{NetFlowAddr: "256.0.0.1:1"}, sink, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err == nil {
		t.Error("Run bound an impossible address")
	}
	if err := c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run = %v", err)
	}
}

// TestCollectorMetrics registers the metrics and reads them back.
func TestCollectorMetrics(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	r := startCollector(t, localCfg(), sink, nil)
	reg := prometheus.NewRegistry()
	if err := r.c.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	send(t, r.c.Addrs()[ListenerNetFlow], decodeCases()[2].pkts[0])
	waitFor(t, "the flows", 10*time.Second, func() bool { return len(sink.events()) == 3 })
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			got[mf.GetName()] += v
		}
	}
	for name, want := range map[string]float64{
		"vigil_flow_datagrams_received_total": 1, "vigil_flow_events_accepted_total": 3,
		"vigil_flow_exporters": 1, "vigil_flow_exporter_flows_total": 3, "vigil_flow_exporter_sampling_rate": 10,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
