package intel_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

type stores struct {
	state  *statedb.DB
	events *eventstore.Store
}

func openStores(t *testing.T) stores {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := statedb.Open(ctx, filepath.Join(dir, "state.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eventstore.Open(ctx, filepath.Join(dir, "events.duckdb"), eventstore.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); ev.Close() })
	return stores{st, ev}
}

func flowEvent(id uint64, ts time.Time, src, dst string) schema.Event {
	return schema.Event{ID: id, Timestamp: ts, Input: schema.InputZeek,
		Event:  schema.EventMeta{Dataset: "zeek.conn", Category: []string{"network"}},
		Source: schema.Endpoint{IP: src, Port: 50000}, Destination: schema.Endpoint{IP: dst, Port: 443},
		Network: schema.Network{Transport: "tcp"}}
}

func listBatch(full bool, values ...string) intel.Batch {
	b := intel.Batch{Full: full}
	for _, v := range values {
		b.Indicators = append(b.Indicators, intel.Indicator{Type: intel.TypeIP, Value: v, Confidence: 90,
			Threat: "TrickBot", Tags: []string{"c2"}})
	}
	return b
}

// TestRetroHunt loads an indicator after a host contacted it: the hunt
// finds the past contact, marks its alert retrospective, and does not hunt
// the same indicator twice; the inline detector then catches new contacts.
func TestRetroHunt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStores(t)
	now := time.Now().UTC()
	past := []schema.Event{
		flowEvent(1<<16, now.Add(-72*time.Hour), "10.0.0.5", "203.0.113.50"),
		flowEvent(1<<16+1, now.Add(-71*time.Hour), "10.0.0.6", "93.184.216.34"),
		flowEvent(1<<16+2, now.Add(-40*24*time.Hour), "10.0.0.7", "203.0.113.50"), // older than the hunt window
	}
	if err := s.events.Write(ctx, past, 1); err != nil {
		t.Fatal(err)
	}
	metrics := intel.NewMetrics(prometheus.NewRegistry())
	hunt := &intel.RetroHunt{Store: s.state, Events: s.events, Alerts: s.state, Days: 30, Window: time.Hour, Metrics: metrics}
	mgr := intel.NewManager(s.state, nil, hunt, metrics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	added, err := mgr.Record(ctx, "abuse-feodo", "csv", listBatch(true, "203.0.113.50", "198.51.100.1"), nil)
	if err != nil || added != 2 {
		t.Fatalf("record: added %d, %v", added, err)
	}
	n, err := mgr.Refresh(ctx)
	if err != nil || n != 1 {
		t.Fatalf("retro-hunt raised %d alerts, %v; want 1", n, err)
	}
	alerts, _, err := s.state.Alerts(ctx, statedb.AlertFilter{Kind: schema.KindIOC})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v, %v", alerts, err)
	}
	a := alerts[0]
	if a.Host != "10.0.0.5" || a.Details["retrospective"] != "true" || a.Details["direction"] != intel.DirContacted ||
		a.Severity != schema.SeverityCritical || !a.FirstSeen.Equal(past[0].Timestamp) {
		t.Errorf("retro alert = %+v", a)
	}
	if n, err := hunt.Hunt(ctx); err != nil || n != 0 {
		t.Errorf("second hunt raised %d, %v; want 0", n, err)
	}

	// Inline: a new contact matches the rebuilt matcher.
	det := intel.NewDetector(mgr, metrics)
	var got []schema.Alert
	det.Detect([]schema.Event{flowEvent(2<<16, now, "10.0.0.9", "198.51.100.1"), flowEvent(2<<16+1, now, "10.0.0.9", "192.0.2.1")},
		func(a schema.Alert) { got = append(got, a) })
	if len(got) != 1 || got[0].Host != "10.0.0.9" || got[0].Details["retrospective"] != "false" {
		t.Fatalf("inline alerts = %+v", got)
	}

	// A full fetch that no longer lists 198.51.100.1 withdraws it.
	if _, err := mgr.Record(ctx, "abuse-feodo", "csv", listBatch(true, "203.0.113.50"), nil); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if n := mgr.Matcher().Len(); n != 1 {
		t.Fatalf("matcher holds %d indicators after withdrawal, want 1", n)
	}
	st, err := mgr.Status(ctx)
	if err != nil || len(st) != 1 || st[0].Indicators != 1 || st[0].LastSuccess.IsZero() {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// flakySource fails its first fetch and then delivers a list.
type flakySource struct{ calls atomic.Int32 }

func (f *flakySource) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	if f.calls.Add(1) == 1 {
		return intel.Batch{}, errors.New("connection refused")
	}
	return listBatch(true, "203.0.113.99"), nil
}

// TestManagerPolls runs the manager's schedule: a failed fetch is recorded
// with its error, the next one succeeds and the matcher picks it up.
func TestManagerPolls(t *testing.T) {
	t.Parallel()
	s := openStores(t)
	src := &flakySource{}
	mgr := intel.NewManager(s.state, []intel.SourceConfig{{Name: "list", Kind: "list", Interval: 50 * time.Millisecond,
		Source: src}}, nil, intel.NewMetrics(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mgr.Run(ctx) }()
	deadline := time.After(10 * time.Second)
	for mgr.Matcher().Len() != 1 {
		select {
		case <-deadline:
			t.Fatal("the matcher never got the source's indicator")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st, err := mgr.Status(context.Background())
	if err != nil || len(st) != 1 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if st[0].LastSuccess.IsZero() || st[0].Indicators != 1 || src.calls.Load() < 2 {
		t.Errorf("status after a failure and a success = %+v (fetches %d)", st[0], src.calls.Load())
	}
}
