package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

// threeDays writes 10 events an hour apart from 10:00 on each of May 1, 2
// and 3 (30 events; seq = day).
func threeDays(t *testing.T) *Store {
	t.Helper()
	s, _ := openTest(t, Options{})
	for d := 1; d <= 3; d++ {
		evs := make([]schema.Event, 10)
		for i := range evs {
			evs[i] = smallEvent(uint64(d), i, day(d).Add(10*time.Hour+time.Duration(i)*time.Hour))
		}
		mustWrite(t, s, evs, uint64(d))
	}
	return s
}

func TestPartitionPruning(t *testing.T) {
	t.Parallel()
	s := threeDays(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to time.Time
		asc      bool
		want     []string
		events   int
	}{
		{"one day", day(2), day(3), true, []string{"events_20240502"}, 10},
		{"one day descending", day(2), day(3), false, []string{"events_20240502"}, 10},
		{"part of a day", day(2).Add(12 * time.Hour), day(2).Add(14 * time.Hour), true, []string{"events_20240502"}, 2},
		{"across midnight", day(1).Add(19 * time.Hour), day(2).Add(11 * time.Hour), true, []string{"events_20240501", "events_20240502"}, 2},
		{"across midnight descending", day(1).Add(19 * time.Hour), day(2).Add(11 * time.Hour), false, []string{"events_20240502", "events_20240501"}, 2},
		// Day 1 holds events from 10:00 to 19:00 only: the catalogue's
		// min/max times prune it although the day overlaps the range.
		{"inside a day but after its last event", day(1).Add(20 * time.Hour), day(2).Add(9 * time.Hour), true, nil, 0},
		{"before all", day(1).Add(-48 * time.Hour), day(1), true, nil, 0},
		{"open start", time.Time{}, day(1).Add(11 * time.Hour), true, []string{"events_20240501"}, 1},
		{"open end", day(3).Add(19 * time.Hour), time.Time{}, true, []string{"events_20240503"}, 1},
		{"exclusive end at an event", day(2).Add(10 * time.Hour), day(2).Add(10*time.Hour + time.Nanosecond), true, []string{"events_20240502"}, 1},
		{"empty at an event", day(2).Add(10 * time.Hour), day(2).Add(10 * time.Hour), true, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := s.Search(ctx, SearchRequest{From: tt.from, To: tt.to, Ascending: tt.asc})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Partitions, tt.want) {
				t.Errorf("search read %v, want %v", res.Partitions, tt.want)
			}
			if len(res.Events) != tt.events {
				t.Errorf("search found %d events, want %d", len(res.Events), tt.events)
			}
			p, err := s.Plan(ctx, tt.from, tt.to, "")
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(p.Partitions, want) {
				t.Errorf("count plan reads %v, want %v", p.Partitions, want)
			}
			if n := mustCount(t, s, tt.from, tt.to, ""); n != int64(tt.events) {
				t.Errorf("count = %d, want %d", n, tt.events)
			}
		})
	}
}

// TestPrunedPlanScansOneTable checks DuckDB's own plan: a count over one
// day scans that day's table and no other.
func TestPrunedPlanScansOneTable(t *testing.T) {
	t.Parallel()
	s := threeDays(t)
	// A range inside the day: over the whole day DuckDB's statistics show
	// the time filter always holds, and it drops it.
	p, err := s.Plan(context.Background(), day(2).Add(12*time.Hour), day(2).Add(14*time.Hour), "destination.port:443")
	if err != nil {
		t.Fatal(err)
	}
	var kind, plan string
	if err := s.db.QueryRow("EXPLAIN "+p.SQL, p.Args...).Scan(&kind, &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "events_20240502") || strings.Contains(plan, "events_20240501") || strings.Contains(plan, "events_20240503") {
		t.Fatalf("plan does not scan only events_20240502:\n%s", plan)
	}
	if !strings.Contains(plan, "ts>=") {
		t.Fatalf("time filter not pushed into the scan:\n%s", plan)
	}
}

// TestSearchStopsAtFullPage checks that a search stops reading partitions
// once the page is full.
func TestSearchStopsAtFullPage(t *testing.T) {
	t.Parallel()
	s := threeDays(t)
	ctx := context.Background()
	res, err := s.Search(ctx, SearchRequest{Limit: 5, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Partitions, []string{"events_20240501"}) || len(res.Events) != 5 || res.Next == "" {
		t.Fatalf("read %v, %d events, next %q", res.Partitions, len(res.Events), res.Next)
	}
	res, err = s.Search(ctx, SearchRequest{Limit: 12})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Partitions, []string{"events_20240503", "events_20240502"}) {
		t.Fatalf("descending read %v", res.Partitions)
	}
	// The next page starts at the cursor: day 3 is pruned.
	res, err = s.Search(ctx, SearchRequest{Limit: 12, Cursor: res.Next})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Partitions, []string{"events_20240502", "events_20240501"}) || len(res.Events) != 12 {
		t.Fatalf("second page read %v, %d events", res.Partitions, len(res.Events))
	}
}

func eventOrder(a, b schema.Event) int {
	return cmp.Or(a.Timestamp.Compare(b.Timestamp), cmp.Compare(a.ID, b.ID))
}

func TestPagingWithTies(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	base := day(7).Add(23*time.Hour + 59*time.Minute)
	var all []schema.Event
	for seq := uint64(1); seq <= 5; seq++ {
		evs := make([]schema.Event, 50)
		for i := range evs {
			// Many ties on time; some events differ only below the
			// microsecond; the run crosses midnight into May 8.
			ts := base.Add(time.Duration(i%4) * 20 * time.Second).Add(time.Duration(i%3) * 100 * time.Nanosecond)
			evs[i] = smallEvent(seq, i, ts)
		}
		mustWrite(t, s, evs, seq)
		all = append(all, evs...)
	}
	slices.SortFunc(all, eventOrder)
	for _, asc := range []bool{true, false} {
		for _, limit := range []int{1, 7, 50, 249, 250, 1000} {
			t.Run(fmt.Sprintf("asc=%v/limit=%d", asc, limit), func(t *testing.T) {
				t.Parallel()
				got := pageAll(t, s, SearchRequest{Ascending: asc, Limit: limit})
				want := slices.Clone(all)
				if !asc {
					slices.Reverse(want)
				}
				if len(got) != len(want) {
					t.Fatalf("paged %d events, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i].ID != want[i].ID || !got[i].Timestamp.Equal(want[i].Timestamp) {
						t.Fatalf("event %d: got id %d at %v, want id %d at %v", i, got[i].ID, got[i].Timestamp, want[i].ID, want[i].Timestamp)
					}
				}
			})
		}
	}
	t.Run("filtered", func(t *testing.T) {
		t.Parallel()
		got := pageAll(t, s, SearchRequest{Ascending: true, Limit: 3, Query: "destination.port:443"})
		var want []uint64
		for _, e := range all {
			if e.Destination.Port == 443 {
				want = append(want, e.ID)
			}
		}
		var ids []uint64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("filtered paging got %v, want %v", ids, want)
		}
	})
}

func pageAll(t *testing.T, s *Store, r SearchRequest) []schema.Event {
	t.Helper()
	var out []schema.Event
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		res, err := s.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		lim := cmp.Or(r.Limit, DefaultLimit)
		if len(res.Events) > lim || (res.Next != "" && len(res.Events) != lim) {
			t.Fatalf("page of %d events with next %q for limit %d", len(res.Events), res.Next, lim)
		}
		out = append(out, res.Events...)
		if res.Next == "" {
			return out
		}
		r.Cursor = res.Next
	}
}

func TestSearchQueries(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ts := day(9).Add(time.Hour)
	a := fullEvent(1, 0, ts)
	b := smallEvent(1, 1, ts.Add(time.Second))
	c := smallEvent(1, 2, ts.Add(2*time.Second))
	c.Source.IP = "fe80::1"
	c.Event.Category = nil
	mustWrite(t, s, []schema.Event{a, b, c}, 1)
	tests := []struct {
		q    string
		want []int // indexes into a, b, c
	}{
		{"", []int{0, 1, 2}},
		{"account failed", []int{0}},
		{"ACCOUNT", []int{0}},
		{`"id.resp_p\":443"`, []int{1, 2}},
		{"source.ip:2001:db8::/32", []int{0}},
		{"source.ip:10.0.0.0/8", []int{1}},
		{"source.ip:fe80::/10", []int{2}},
		{"-source.ip:10.0.0.0/8", []int{0, 2}},
		{"host.ip:10.0.0.5", []int{0}},
		{"event.category:network", []int{1}},
		{"event.category:process", []int{0}},
		{"event.type:start", []int{0}},
		{"dns.answers:93.184.216.34", []int{0}},
		{"event.category:*", []int{0, 1}},
		{"destination.port:>=445", []int{0}},
		{"destination.port:[1 TO 100]", []int{1, 2}},
		{"user.name:Administrator", []int{0}},
		{"user.name:admin*", []int{0}},
		{"EventID:4625", []int{0}},
		{"Event.System.Provider:Microsoft-*", []int{0}},
		{"conn_state:SF", []int{1, 2}},
		{"uid:*", []int{1, 2}},
		{"NOT uid:*", []int{0}},
		{`dup:1`, []int{0}},
		{"log.syslog.facility.code:4", []int{0}},
		{"log.syslog.severity.code:0", []int{0}},
		{"log.syslog.severity.code:*", []int{0}},
		{"event.duration:>1000", []int{0}},
		{"input:zeek AND source.port:>40001", []int{2}},
		{"@timestamp:>" + ts.Format(time.RFC3339Nano), []int{1, 2}},
		{"event.ingested:<" + ts.Add(time.Second).Format(time.RFC3339Nano), nil},
		{"message:account OR network.protocol:http", []int{0, 1, 2}},
	}
	evs := []schema.Event{a, b, c}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			res, err := s.Search(context.Background(), SearchRequest{Query: tt.q, Ascending: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, e := range res.Events {
				got = append(got, slices.IndexFunc(evs, func(x schema.Event) bool { return x.ID == e.ID }))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%q found %v, want %v", tt.q, got, tt.want)
			}
			if n := mustCount(t, s, time.Time{}, time.Time{}, tt.q); n != int64(len(tt.want)) {
				t.Fatalf("count %q = %d, want %d", tt.q, n, len(tt.want))
			}
		})
	}
}

// TestQueryCorpusOnStore runs a query on every field the language maps
// against real partition tables.
func TestQueryCorpusOnStore(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	mustWrite(t, s, []schema.Event{fullEvent(1, 0, day(1))}, 1)
	for name := range query.ECSMapping().Columns {
		for _, v := range []string{"x", "x*", "*", "[a TO b]", ">5", "10.0.0.0/8", "2024-01-01", `"a b"`} {
			q := name + ":" + v
			if _, err := query.Compile(q, query.ECSMapping()); err != nil {
				continue
			}
			if _, err := s.Count(context.Background(), day(1), day(2), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	s := threeDays(t)
	ctx := context.Background()
	_, err := s.Search(ctx, SearchRequest{Query: "destination.port:"})
	var qe *query.Error
	if !errors.As(err, &qe) || qe.Col != 18 {
		t.Fatalf("bad query error = %v", err)
	}
	if _, err := s.Count(ctx, time.Time{}, time.Time{}, "(a"); !errors.As(err, &qe) {
		t.Fatalf("bad count query error = %v", err)
	}
	for _, c := range []string{"nope", "AQ", strings.Repeat("A", 26), position{nanos: 1000}.encode()} {
		if _, err := s.Search(ctx, SearchRequest{Cursor: c}); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("cursor %q: error = %v, want ErrBadCursor", c, err)
		}
	}
	res, err := s.Search(ctx, SearchRequest{Limit: MaxLimit + 5})
	if err != nil || len(res.Events) != 30 || res.Next != "" || res.Took <= 0 {
		t.Fatalf("over-limit search: %d events, next %q, took %v, %v", len(res.Events), res.Next, res.Took, err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Search(ctx2, SearchRequest{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled search error = %v", err)
	}
}

func TestSearchEmptyStore(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	res, err := s.Search(context.Background(), SearchRequest{Query: "x"})
	if err != nil || len(res.Events) != 0 || res.Next != "" || len(res.Partitions) != 0 {
		t.Fatalf("empty store search = %+v, %v", res, err)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 0 {
		t.Fatalf("empty count = %d", n)
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	var evs []schema.Event
	for i := range 30 {
		evs = append(evs, smallEvent(1, i, day(1+i%3).Add(time.Duration(i)*time.Minute)))
	}
	mustWrite(t, s, evs, 1)
	ctx := context.Background()
	seen := map[uint64]bool{}
	err := s.Scan(ctx, day(2), day(3), "destination.port:22", func(e *schema.Event) error {
		if e.Timestamp.Before(day(2)) || !e.Timestamp.Before(day(3)) || e.Destination.Port != 22 {
			t.Errorf("scan returned %v port %d", e.Timestamp, e.Destination.Port)
		}
		seen[e.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i, e := range evs {
		if i%3 == 1 && e.Destination.Port == 22 {
			want++
		}
	}
	if len(seen) != want || want == 0 {
		t.Fatalf("scan saw %d events, want %d", len(seen), want)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Scan(ctx, time.Time{}, time.Time{}, "", func(*schema.Event) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("scan after fn error: %v, %d calls", err, n)
	}
	if err := s.Scan(ctx, time.Time{}, time.Time{}, "port:(", func(*schema.Event) error { return nil }); err == nil {
		t.Fatal("bad query scanned")
	}
}

func TestHistogramAndTopValues(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	var evs []schema.Event
	for i := range 30 {
		evs = append(evs, smallEvent(1, i, day(1).Add(time.Duration(i)*time.Minute)))
	}
	mustWrite(t, s, evs, 1)
	ctx := context.Background()
	h, err := s.Histogram(ctx, day(1), day(2), 10*time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Count != 10 || !h[1].Start.Equal(day(1).Add(10*time.Minute)) {
		t.Fatalf("histogram %+v", h)
	}
	top, err := s.TopValues(ctx, day(1), day(2), "", "destination.port", 2)
	if err != nil || len(top) != 2 || top[0].Count != 6 {
		t.Fatalf("top ports %+v, %v", top, err)
	}
	top, err = s.TopValues(ctx, day(1), day(2), "destination.port:22", "conn_state", 5)
	if err != nil || len(top) != 1 || top[0].Value != "SF" || top[0].Count != 6 {
		t.Fatalf("top of an original field %+v, %v", top, err)
	}
	if _, err := s.TopValues(ctx, day(1), day(2), "", `x'y`, 5); err == nil {
		t.Fatal("a field name with a quote was accepted")
	}
}
