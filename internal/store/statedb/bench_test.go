package statedb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// BenchmarkUpsertAlerts stores batches of 100 alerts. In "grouping" they
// fall on 50 dedup keys, so each batch updates alerts that already carry
// their full 100 evidence IDs; in "new" every alert opens a new one.
func BenchmarkUpsertAlerts(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  func(n int) (rule, host string)
	}{
		{"grouping", func(n int) (string, string) { return fmt.Sprintf("rule-%d", n%50), fmt.Sprintf("host-%d", n%10) }},
		{"new", func(n int) (string, string) { return fmt.Sprintf("rule-%d", n), "host" }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := openTest(b)
			ctx := context.Background()
			base := baseTime()
			batch := make([]schema.Alert, 100)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					rule, host := tc.key(n)
					a := alertAt(rule, host, base.Add(time.Duration(n)*time.Second))
					a.EvidenceIDs = []uint64{uint64(n) << 16}
					a.Tags = []string{"attack.t1110"}
					batch[i] = a
					n++
				}
				if _, err := d.UpsertAlerts(ctx, batch, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkApplySourceDeltas applies batches of 50 deltas over 200 sources,
// as an ingest consumer does once per flushed batch.
func BenchmarkApplySourceDeltas(b *testing.B) {
	d := openTest(b)
	ctx := context.Background()
	deltas := make([]SourceDelta, 50)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		for i := range deltas {
			deltas[i] = SourceDelta{
				Host: fmt.Sprintf("host-%d", n%200), Input: "syslog", Events: 100, Bytes: 25_000,
				FirstEvent: now.Add(-time.Second), LastEvent: now, LastReceived: now,
			}
			n++
		}
		if err := d.ApplySourceDeltas(ctx, deltas); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(deltas))/b.Elapsed().Seconds(), "deltas/s")
}
