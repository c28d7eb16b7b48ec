package bruteforce

import (
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

func failure(ts time.Time, host, src, user string, id uint64) schema.Event {
	return schema.Event{ID: id, Timestamp: ts, Host: schema.Host{Name: host}, Source: schema.Endpoint{IP: src},
		User: schema.User{Name: user}, Event: schema.EventMeta{Category: []string{"authentication"}, Outcome: "failure"}}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		gap    time.Duration
		n      int
		alerts int
	}{
		{"burst inside the window", 10 * time.Second, 10, 1},
		{"just under the threshold", 10 * time.Second, 9, 0},
		{"spread wider than the window", 40 * time.Second, 10, 0},
		{"two bursts", time.Second, 20, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := New(Options{Threshold: 10, Window: 5 * time.Minute})
			var evs []schema.Event
			for i := 0; i < c.n; i++ {
				evs = append(evs, failure(t0.Add(time.Duration(i)*c.gap), "web-01", "203.0.113.9", "root", uint64(i+1)))
			}
			var got []schema.Alert
			d.Detect(evs, func(a schema.Alert) { got = append(got, a) })
			if len(got) != c.alerts {
				t.Fatalf("got %d alerts, want %d", len(got), c.alerts)
			}
			if c.alerts > 0 {
				a := got[0]
				if a.Host != "web-01" || a.SourceIP != "203.0.113.9" || a.User != "root" || len(a.EvidenceIDs) != 10 ||
					!a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(9*c.gap)) {
					t.Fatalf("alert = %+v", a)
				}
			}
		})
	}
}

func TestSuccessesAndOtherSourcesDoNotCount(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	d := New(Options{Threshold: 3, Window: time.Minute})
	evs := []schema.Event{
		failure(t0, "h", "198.51.100.1", "a", 1),
		failure(t0.Add(time.Second), "h", "198.51.100.2", "a", 2),
		failure(t0.Add(2*time.Second), "other", "198.51.100.1", "a", 3),
	}
	ok := failure(t0.Add(3*time.Second), "h", "198.51.100.1", "a", 4)
	ok.Event.Outcome = "success"
	evs = append(evs, ok)
	n := 0
	d.Detect(evs, func(schema.Alert) { n++ })
	if n != 0 {
		t.Fatalf("got %d alerts, want none", n)
	}
}

func TestStateIsBounded(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	d := New(Options{Threshold: 100, Window: time.Minute, MaxKeys: 50})
	var evs []schema.Event
	for i := 0; i < 10000; i++ {
		evs = append(evs, failure(t0.Add(time.Duration(i)*time.Millisecond), "h", "10.0."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250), "u", uint64(i)))
	}
	d.Detect(evs, func(schema.Alert) {})
	if d.Tracked() > 50 {
		t.Fatalf("tracking %d pairs, want at most 50", d.Tracked())
	}
}
