package syslognet

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/syslog"
	"github.com/vigil-soc/vigil/internal/schema"
)

// collectSink is a real in-memory ingest.Sink: it keeps (or counts) what
// it is given and can refuse or hold batches to exercise backpressure.
type collectSink struct {
	countOnly bool          // count events instead of keeping them
	failFirst int           // refuse the first failFirst calls with ErrBackpressure
	block     chan struct{} // when set, Submit waits until it is closed
	entered   chan struct{} // when set, gets a value (if free) on every Submit

	mu      sync.Mutex
	calls   int
	batches []int
	evs     []schema.Event
	count   int
}

func (s *collectSink) Submit(ctx context.Context, evs []schema.Event) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.mu.Unlock()
	if s.entered != nil {
		select {
		case s.entered <- struct{}{}:
		default:
		}
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if call <= s.failFirst {
		return ingest.ErrBackpressure
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(evs))
	s.count += len(evs)
	if !s.countOnly {
		s.evs = append(s.evs, evs...)
	}
	return nil
}

func (s *collectSink) events() []schema.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]schema.Event(nil), s.evs...)
}

func (s *collectSink) stats() (calls int, batches []int, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]int(nil), s.batches...), s.count
}

// rejectLog is a RejectRecorder that keeps every reject.
type rejectLog struct {
	mu sync.Mutex
	rs []ingest.Reject
}

func (r *rejectLog) Record(rj ingest.Reject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rs = append(r.rs, rj)
}

func (r *rejectLog) all() []ingest.Reject {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ingest.Reject(nil), r.rs...)
}

// testLogger logs warnings and errors to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// running is a server started by startServer.
type running struct {
	s    *Server
	udp  net.Addr
	tcp  net.Addr
	tls  net.Addr
	stop func() // cancels Run and waits for it; safe to call twice
}

// startServer runs a server for cfg until the test ends (or stop).
func startServer(t testing.TB, cfg Config, sink ingest.Sink, rec ingest.RejectRecorder) *running {
	t.Helper()
	p := syslog.NewParser(syslog.Options{})
	s, err := New(cfg, sink, rec, p, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready after 10s")
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
	r := &running{s: s, stop: stop}
	r.udp, r.tcp, r.tls = s.Addrs()
	return r
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSettled waits until n messages were received and each is accepted,
// rejected or dropped.
func waitSettled(t *testing.T, s *Server, n uint64) Stats {
	t.Helper()
	var st Stats
	waitFor(t, "messages to settle", 20*time.Second, func() bool {
		st = s.Stats()
		return st.Received >= n && st.Accepted+st.Rejected+st.UDPDropped+st.Lost == st.Received
	})
	if st.Received != n {
		t.Fatalf("received %d messages, want %d", st.Received, n)
	}
	return st
}

// localCfg listens on loopback ports picked by the kernel.
func localCfg() Config {
	return Config{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", FlushInterval: 20 * time.Millisecond}
}
