package ingest

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// fillAll sets every settable field of v to a distinct non-zero value, so a
// codec that forgets a field fails the round trip.
func fillAll(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + strconv.Itoa(*n) + "é")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * -7919)
	case reflect.Uint64:
		// IDs are assigned by the log, not carried in the batch.
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.String:
			v.Set(reflect.ValueOf([]string{"a" + strconv.Itoa(*n), "", "b"}))
		default:
			s := reflect.MakeSlice(v.Type(), 2, 2)
			for i := 0; i < 2; i++ {
				fillAll(t, s.Index(i), n)
			}
			v.Set(s)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1700000000+int64(*n), 123456789).UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fillAll(t, v.Field(i), n)
		}
	default:
		t.Fatalf("fillAll: unhandled kind %s", v.Kind())
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	var full schema.Event
	n := 0
	fillAll(t, reflect.ValueOf(&full).Elem(), &n)
	evs := []schema.Event{full, {}, {Message: "only message", Timestamp: time.Unix(-5, 0).UTC()}}
	buf := AppendBatch(nil, evs)
	got, err := DecodeBatch(nil, buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, evs)
	}
}

func TestCodecTruncated(t *testing.T) {
	t.Parallel()
	var full schema.Event
	n := 0
	fillAll(t, reflect.ValueOf(&full).Elem(), &n)
	buf := AppendBatch(nil, []schema.Event{full})
	for i := 0; i < len(buf); i++ {
		if _, err := DecodeBatch(nil, buf[:i]); err == nil {
			t.Fatalf("decoding %d of %d bytes: want an error", i, len(buf))
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, []schema.Event{{Message: "x", Fields: schema.Fields{{Key: "k", Value: "v"}}}}))
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeBatch(nil, data)
		if err != nil {
			return
		}
		again, err := DecodeBatch(nil, AppendBatch(nil, evs))
		if err != nil || !reflect.DeepEqual(again, evs) {
			t.Fatalf("re-encoding a decoded batch does not round-trip: %v", err)
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	ev := schema.Event{Timestamp: time.Now(), Received: time.Now(), Input: "ndjson", Message: string(make([]byte, 300)),
		Host: schema.Host{Name: "web-01"}, Source: schema.Endpoint{IP: "10.0.0.5", Port: 5555},
		Fields: schema.Fields{{Key: "a", Value: "b"}, {Key: "c", Value: "d"}}}
	evs := make([]schema.Event, 1000)
	for i := range evs {
		evs[i] = ev
	}
	var buf []byte
	var out []schema.Event
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBatch(buf[:0], evs)
		var err error
		out, err = DecodeBatch(out[:0], buf)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// TestCodecVersion1 decodes a batch as the first codec wrote it (no
// enrichment block), as an ingest log written before the upgrade holds.
func TestCodecVersion1(t *testing.T) {
	t.Parallel()
	ev := schema.Event{Message: "old", Timestamp: time.Unix(1700000000, 0).UTC(), Input: schema.InputSyslog}
	v2 := AppendBatch(nil, []schema.Event{ev})
	if v2[0] != 2 || v2[len(v2)-1] != 0 {
		t.Fatalf("want a version 2 batch ending in an empty enrichment flag, got % x", v2)
	}
	v1 := append([]byte{1}, v2[1:len(v2)-1]...)
	got, err := DecodeBatch(nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], ev) {
		t.Fatalf("got %+v, want %+v", got, ev)
	}
	if _, err := DecodeBatch(nil, append([]byte{3}, v2[1:]...)); err == nil {
		t.Fatal("version 3 decoded; want an error")
	}
}
