package flowcollect

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/schema"
)

// t0 is the export time of the hand-made packets.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// exporterA is the address the hand-made packets come from.
var exporterA = netip.MustParseAddrPort("192.0.2.10:50000")

// decodeAll decodes pkts in order from one exporter, one second apart, and
// returns the events and the errors (nil entries for good packets).
func decodeAll(d *Decoder, from netip.AddrPort, pkts ...[]byte) ([]schema.Event, []error) {
	var evs []schema.Event
	var errs []error
	for i, p := range pkts {
		var err error
		evs, err = d.Decode(from, p, t0.Add(time.Duration(i)*time.Second), evs)
		errs = append(errs, err)
	}
	return evs, errs
}

// render writes events as JSON lines, then the errors and the exporter
// statistics, for golden files.
func render(evs []schema.Event, errs []error, stats []ExporterStats) []byte {
	var b bytes.Buffer
	for i := range evs {
		line, err := json.Marshal(&evs[i])
		if err != nil {
			panic(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(&b, "error in packet %d: %v\n", i, err)
		}
	}
	for _, s := range stats {
		s.LastSeen = time.Time{}
		fmt.Fprintf(&b, "stats: %+v\n", s)
	}
	return b.Bytes()
}

// readPackets reads a capture file of datagrams, each prefixed with its
// length as a 2-byte big-endian number.
func readPackets(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for len(data) > 0 {
		if len(data) < 2 || int(binary.BigEndian.Uint16(data))+2 > len(data) {
			t.Fatalf("%s: bad framing", path)
		}
		n := int(binary.BigEndian.Uint16(data))
		pkts = append(pkts, data[2:2+n])
		data = data[2+n:]
	}
	return pkts
}

// collectSink is a real in-memory ingest.Sink: it keeps what it is given
// and can refuse or hold batches to exercise backpressure.
type collectSink struct {
	failFirst int           // refuse the first failFirst calls with ErrBackpressure
	block     chan struct{} // when set, Submit waits until it is closed

	mu      sync.Mutex
	calls   int
	batches []int
	evs     []schema.Event
}

func (s *collectSink) Submit(ctx context.Context, evs []schema.Event) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.mu.Unlock()
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
	s.evs = append(s.evs, evs...)
	return nil
}

func (s *collectSink) events() []schema.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]schema.Event(nil), s.evs...)
}

func (s *collectSink) batchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
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

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !waitUntil(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// waitUntil polls cond until it holds (true) or the timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
