package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// BenchmarkWrite measures bulk writes of about 500-byte events (as JSON)
// in batches of 1,000 and 10,000.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, _ := openTest(b, Options{})
			base := day(1)
			evs := make([]schema.Event, size)
			seq := uint64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				seq++
				b.StopTimer()
				for i := range evs {
					evs[i] = smallEvent(seq, i, base.Add(time.Duration(seq)*time.Minute+time.Duration(i)*time.Millisecond))
				}
				b.StartTimer()
				if err := s.Write(context.Background(), evs, seq); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			js, err := json.Marshal(evs[len(evs)/2])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(js)), "json-bytes/event")
		})
	}
}

// BenchmarkSearchTimeRange measures a one-hour, newest-first search over a
// store of 200,000 events spread over ten days.
func BenchmarkSearchTimeRange(b *testing.B) {
	s, _ := openTest(b, Options{})
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
