package eventstore

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

// BenchmarkWrite measures bulk writes of Filebeat-shaped events (about
// 500 bytes of JSON each, mapped by ecsjson as the NDJSON input maps them)
// in batches of 1,000, 10,000 and 50,000. The figures include a final
// checkpoint, so that work DuckDB defers from the writes to its next
// checkpoint is counted: cpu-µs/event is the process's CPU time (DuckDB's
// threads included) per event.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, _ := openTest(b, Options{Threads: benchThreads()})
			base := day(1)
			evs := make([]schema.Event, size)
			m := &ecsjson.Mapper{}
			var raw []byte
			seq := uint64(0)
			var wall, cpu time.Duration
			measure := func(f func() error) {
				t0, c0 := time.Now(), processCPU()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				wall, cpu = wall+time.Since(t0), cpu+processCPU()-c0
			}
			b.ReportAllocs()
			for b.Loop() {
				seq++
				b.StopTimer()
				for i := range evs {
					ts := base.Add(time.Duration(seq)*time.Minute + time.Duration(i)*time.Millisecond)
					raw = filebeatRecord(raw[:0], ts, i)
					if err := m.Map(raw, schema.InputNDJSON, ts.Add(time.Second), &evs[i]); err != nil {
						b.Fatal(err)
					}
					evs[i].ID = schema.MakeID(seq, i)
				}
				b.StartTimer()
				measure(func() error { return s.Write(context.Background(), evs, seq) })
			}
			measure(func() error { _, err := s.db.Exec("CHECKPOINT"); return err })
			n := float64(size * b.N)
			b.ReportMetric(n/wall.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/n, "cpu-µs/event")
			b.ReportMetric(float64(len(raw)), "json-bytes/event")
		})
	}
}

// filebeatRecord appends a Filebeat-shaped nginx access record of about
// 500 bytes, as the node benchmark sends them.
func filebeatRecord(b []byte, ts time.Time, i int) []byte {
	return fmt.Appendf(b, `{"@timestamp":"%s","host":{"name":"web-%02d"},"source":{"ip":"10.1.%d.%d","port":%d},`+
		`"destination":{"ip":"10.2.0.%d","port":443},"event":{"category":["network"],"outcome":"success","dataset":"nginx.access"},`+
		`"user":{"name":"user%d"},"log":{"file":{"path":"/var/log/nginx/access.log"}},"agent":{"type":"filebeat","version":"8.11.0"},`+
		`"message":"10.1.%d.%d - user%d [19/Nov/2026:10:00:00 +0000] \"GET /api/v1/items/%d HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\""}`,
		ts.Format(time.RFC3339Nano), i%20, i%250, (i*7)%250, 30000+i%30000, i%250, i%500, i%250, (i*7)%250, i%500, i)
}

// BenchmarkSearchTimeRange measures a one-hour, newest-first search over a
// store of 200,000 events spread over ten days.
func BenchmarkSearchTimeRange(b *testing.B) {
	s, _ := openTest(b, Options{Threads: benchThreads()})
	const days, perDay = 10, 20000
	for d := range days {
		evs := make([]schema.Event, perDay)
		for i := range evs {
			evs[i] = smallEvent(uint64(d+1), i, day(1+d).Add(time.Duration(i)*86400*time.Second/perDay))
		}
		mustWrite(b, s, evs, uint64(d+1))
	}
	from := day(5).Add(12 * time.Hour)
	for _, q := range []string{"", "destination.port:443", "source.ip:10.0.1.0/24"} {
		b.Run(fmt.Sprintf("query=%q", q), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Search(context.Background(), SearchRequest{From: from, To: from.Add(time.Hour), Query: q})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Events) == 0 {
					b.Fatal("no events")
				}
			}
		})
	}
}

// benchThreads is the DuckDB thread count the write and search benchmarks
// use: $VIGIL_BENCH_THREADS, or 0 (the store's default) when unset.
func benchThreads() int {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_THREADS"))
	return n
}
