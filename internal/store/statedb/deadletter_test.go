package statedb

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/ingest"
)

func TestAddDeadLettersRaw(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		size          int
		wantStored    int
		wantTruncated bool
	}{
		{"empty", 0, 0, false},
		{"small", 10, 10, false},
		{"exactly the cap", MaxDeadLetterRaw, MaxDeadLetterRaw, false},
		{"one over", MaxDeadLetterRaw + 1, MaxDeadLetterRaw, true},
		{"a megabyte", 1 << 20, MaxDeadLetterRaw, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := openTestClock(t)
			ctx := context.Background()
			raw := bytes.Repeat([]byte{0xff, 'x', 0}, tc.size/3+1)[:tc.size]
			if err := d.AddDeadLetters(ctx, []ingest.Reject{{Input: "ndjson", Source: "h", Reason: "oversized", Raw: raw}}); err != nil {
				t.Fatal(err)
			}
			got, err := d.DeadLetters(ctx, DeadLetterFilter{})
			if err != nil || len(got) != 1 {
				t.Fatalf("DeadLetters = %+v, %v", got, err)
			}
			dl := got[0]
			if len(dl.Raw) != tc.wantStored || !bytes.Equal(dl.Raw, raw[:tc.wantStored]) ||
				dl.RawLen != int64(tc.size) || dl.Truncated != tc.wantTruncated {
				t.Errorf("stored %d bytes, raw_len %d, truncated %v; want %d, %d, %v",
					len(dl.Raw), dl.RawLen, dl.Truncated, tc.wantStored, tc.size, tc.wantTruncated)
			}
		})
	}
}

func TestAddDeadLettersCountsParseErrors(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	t1 := clock.Now().Add(-time.Minute)
	rs := []ingest.Reject{
		{Time: t1, Input: "syslog", Source: "fw1", Reason: "bad_syslog", Detail: "no PRI", Raw: []byte("garbage")},
		{Time: t1.Add(time.Second), Input: "syslog", Source: "fw1", Reason: "bad_syslog", Raw: []byte("more")},
		{Time: t1, Input: "syslog", Source: "fw1", Reason: "invalid_utf8", Raw: []byte{0xc3}},
		{Input: "ndjson", Source: "10.1.1.1", Reason: "invalid_json", Raw: []byte("{")},
		{Input: "", Source: "", Reason: "", Raw: nil},
	}
	if err := d.AddDeadLetters(ctx, rs); err != nil {
		t.Fatal(err)
	}
	src, err := d.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{
		"10.1.1.1/ndjson": {"invalid_json": 1},
		"fw1/syslog":      {"bad_syslog": 2, "invalid_utf8": 1},
		"unknown/unknown": {"invalid": 1},
	}
	if len(src) != len(want) {
		t.Fatalf("sources = %+v", src)
	}
	for _, s := range src {
		w := want[s.Host+"/"+s.Input]
		var total int64
		for reason, n := range w {
			total += n
			if s.ParseErrorsByReason[reason] != n {
				t.Errorf("%s/%s %s = %d, want %d", s.Host, s.Input, reason, s.ParseErrorsByReason[reason], n)
			}
		}
		if s.ParseErrors != total || s.Events != 0 {
			t.Errorf("%s/%s: %d parse errors, %d events; want %d, 0", s.Host, s.Input, s.ParseErrors, s.Events, total)
		}
	}
	if s := src[1]; !s.FirstSeen.Equal(t1) || !s.LastSeen.Equal(t1.Add(time.Second)) {
		t.Errorf("fw1 seen %v..%v, want the reject times", s.FirstSeen, s.LastSeen)
	}
	dls, _ := d.DeadLetters(ctx, DeadLetterFilter{})
	if last := dls[0]; last.Input != "unknown" || last.Reason != "invalid" || !last.Time.Equal(clock.Now()) || len(last.Raw) != 0 {
		t.Errorf("defaults of an empty reject: %+v", last)
	}
}

func TestDeadLettersFilter(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	var rs []ingest.Reject
	for i := range 12 {
		rs = append(rs, ingest.Reject{
			Time:   clock.Now().Add(time.Duration(i) * time.Second),
			Input:  []string{"syslog", "ndjson", "zeek"}[i%3],
			Source: []string{"a", "b"}[i%2],
			Reason: []string{"r1", "r2", "r3", "r4"}[i%4],
			Raw:    fmt.Appendf(nil, "rec%d", i),
		})
	}
	if err := d.AddDeadLetters(ctx, rs); err != nil {
		t.Fatal(err)
	}
	all, err := d.DeadLetters(ctx, DeadLetterFilter{})
	if err != nil || len(all) != 12 {
		t.Fatalf("all = %d, %v", len(all), err)
	}
	recs := func(dls []DeadLetter) string {
		var b []string
		for _, dl := range dls {
			b = append(b, string(dl.Raw))
		}
		return strings.Join(b, ",")
	}
	for _, tc := range []struct {
		name string
		f    DeadLetterFilter
		want string
	}{
		{"newest first", DeadLetterFilter{Limit: 3}, "rec11,rec10,rec9"},
		{"source", DeadLetterFilter{Source: "a"}, "rec10,rec8,rec6,rec4,rec2,rec0"},
		{"input", DeadLetterFilter{Input: "zeek"}, "rec11,rec8,rec5,rec2"},
		{"reason", DeadLetterFilter{Reason: "r2"}, "rec9,rec5,rec1"},
		{"source and input", DeadLetterFilter{Source: "b", Input: "syslog"}, "rec9,rec3"},
		{"all three", DeadLetterFilter{Source: "a", Input: "syslog", Reason: "r1"}, "rec0"},
		{"before id", DeadLetterFilter{BeforeID: all[9].ID}, "rec1,rec0"},
		{"no match", DeadLetterFilter{Reason: "nope"}, ""},
	} {
		got, err := d.DeadLetters(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if recs(got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, recs(got), tc.want)
		}
	}
}

func TestDeadLettersPruned(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t, WithDeadLetterLimit(10))
	ctx := context.Background()
	for batch := range 5 {
		var rs []ingest.Reject
		for i := range 7 {
			rs = append(rs, ingest.Reject{Input: "syslog", Source: "h", Reason: "empty", Raw: fmt.Appendf(nil, "%d", batch*7+i)})
		}
		if err := d.AddDeadLetters(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.DeadLetters(ctx, DeadLetterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || string(got[0].Raw) != "34" || string(got[9].Raw) != "25" {
		t.Errorf("kept %d dead letters, newest %q oldest %q; want 10, 34..25", len(got), got[0].Raw, got[len(got)-1].Raw)
	}
	src, _ := d.Sources(ctx)
	if src[0].ParseErrors != 35 {
		t.Errorf("pruning dead letters changed the counters: %d", src[0].ParseErrors)
	}
}

func TestDeadLetterDetailCapped(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	detail := strings.Repeat("é", maxDetail) // 2 bytes each: the cap falls inside a rune
	if err := d.AddDeadLetters(ctx, []ingest.Reject{{Input: "i", Source: "s", Reason: "r", Detail: detail}}); err != nil {
		t.Fatal(err)
	}
	got, _ := d.DeadLetters(ctx, DeadLetterFilter{})
	if len(got[0].Detail) > maxDetail || !utf8.ValidString(got[0].Detail) || len(got[0].Detail) < maxDetail-utf8.UTFMax {
		t.Errorf("detail of %d bytes, valid UTF-8 %v", len(got[0].Detail), utf8.ValidString(got[0].Detail))
	}
}

func TestListLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want int }{{-1, 100}, {0, 100}, {1, 1}, {1000, 1000}, {1001, 1000}} {
		if got := listLimit(tc.in); got != tc.want {
			t.Errorf("listLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
