package schema

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	base := func() *Event {
		return &Event{
			Timestamp: at, Received: at, Input: InputZeek, Original: "raw",
			Source: Endpoint{IP: "10.0.0.1", Port: 5000},
			DNS:    DNS{Answers: []string{"a", "b"}},
			Fields: Fields{{Key: "uid", Value: "C1"}, {Key: "proto", Value: "tcp"}},
		}
	}
	tests := []struct {
		name   string
		change func(e *Event)
		want   []string
	}{
		{"equal", func(*Event) {}, nil},
		{"original is ignored", func(e *Event) { e.Original = "other" }, nil},
		{"ecs fields by name", func(e *Event) { e.Source.Port = 5001; e.Input = InputSyslog },
			[]string{`source.port: "5000" != "5001"`, `input: "zeek" != "syslog"`}},
		{"timestamp", func(e *Event) { e.Timestamp = at.Add(time.Second) },
			[]string{`@timestamp: "2026-11-20T10:00:00Z" != "2026-11-20T10:00:01Z"`}},
		{"received", func(e *Event) { e.Received = at.Add(time.Millisecond) },
			[]string{"received: 2026-11-20 10:00:00 +0000 UTC != 2026-11-20 10:00:00.001 +0000 UTC"}},
		{"duration", func(e *Event) { e.Event.Duration = 5 }, []string{"event.duration: 0 != 5"}},
		{"original fields by position", func(e *Event) {
			e.Fields[1].Value = "udp"
			e.Fields = append(e.Fields, Field{Key: "extra", Value: "1"})
		}, []string{`fields[1]: proto="tcp" != proto="udp"`, `fields[2]: ="" != extra="1"`}},
		{"ecs before original fields", func(e *Event) { e.Fields[0].Value = "C2"; e.Message = "m" },
			[]string{`message: "" != "m"`, `fields[0]: uid="C1" != uid="C2"`}},
		{"catch-all: answers joining to the same string", func(e *Event) { e.DNS.Answers = []string{"a,b"} },
			[]string{"events differ: "}},
		{"catch-all: id", func(e *Event) { e.ID = 7 }, []string{"events differ: "}},
		{"catch-all: time zone", func(e *Event) { e.Timestamp = at.In(time.FixedZone("X", 3600)) },
			[]string{"events differ: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := base(), base()
			tc.change(b)
			got := Diff(a, b)
			if len(got) != len(tc.want) {
				t.Fatalf("Diff = %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("line %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
			// Diff is empty exactly when the events are deeply equal but
			// for Original.
			a.Original, b.Original = "", ""
			if (len(got) == 0) != reflect.DeepEqual(a, b) {
				t.Errorf("Diff = %q, but DeepEqual = %v", got, reflect.DeepEqual(a, b))
			}
		})
	}
}
