package node

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/intel"
)

// ndjsonBody builds n Filebeat-shaped events of about 500 bytes each.
func ndjsonBody(n, seed int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"@timestamp":"2026-11-19T10:%02d:%02d.%03dZ","host":{"name":"web-%02d"},"source":{"ip":"10.1.%d.%d","port":%d},`+
			`"destination":{"ip":"10.2.0.%d","port":443},"event":{"category":["network"],"outcome":"success","dataset":"nginx.access"},`+
			`"user":{"name":"user%d"},"log":{"file":{"path":"/var/log/nginx/access.log"}},"agent":{"type":"filebeat","version":"8.11.0"},`+
			`"message":"10.1.%d.%d - user%d [19/Nov/2026:10:00:00 +0000] \"GET /api/v1/items/%d HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\""}`+"\n",
			(seed+i)/60%60, (seed+i)%60, i%1000, i%20, i%250, (i*7)%250, 30000+i%30000, i%250, i%500, i%250, (i*7)%250, i%500, seed+i)
	}
	return b.Bytes()
}

// BenchmarkIngestHTTPToDuckDB measures the whole path: NDJSON over HTTP ->
// parse -> durable in JetStream (fsync on) -> storage stage -> DuckDB.
// It reports events/s, events/s per core and the process's peak heap.
func BenchmarkIngestHTTPToDuckDB(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("sync_always=%v", sync), func(b *testing.B) {
			benchIngest(b, sync)
		})
	}
}

// BenchmarkIngestIntel measures the same path with no indicators and with
// 1M addresses, 100k CIDRs and 500k domains loaded through the intel store,
// so every event is also matched inline by the detection stage. Compare
// the two events/s figures for the slowdown; peak-heap-MiB includes the
// matcher.
func BenchmarkIngestIntel(b *testing.B) {
	b.Run("indicators=0", func(b *testing.B) { benchIngest(b, false) })
	b.Run("indicators=1.6M", func(b *testing.B) {
		benchIngestWith(b, false, func(tn *testNode) {
			start := time.Now()
			batch := intel.Batch{Full: true}
			for i := range 1_000_000 {
				batch.Indicators = append(batch.Indicators, intel.Indicator{Type: intel.TypeIP, Confidence: 70,
					Value: fmt.Sprintf("%d.%d.%d.%d", 100+i>>24%100, i>>16&255, i>>8&255, i&255)})
			}
			for i := range 100_000 {
				batch.Indicators = append(batch.Indicators, intel.Indicator{Type: intel.TypeIP, Confidence: 50,
					Value: fmt.Sprintf("%d.%d.%d.0/24", 150+i>>16, i>>8&255, i&255)})
			}
			for i := range 500_000 {
				batch.Indicators = append(batch.Indicators, intel.Indicator{Type: intel.TypeDomain, Confidence: 60,
					Value: fmt.Sprintf("x%07d.example-bad.net", i)})
			}
			if _, err := tn.Intel.Record(b.Context(), "bench", "list", batch, nil); err != nil {
				b.Fatal(err)
			}
			// Wait for the manager's own rebuild and retro-hunt of the new
			// indicators: the benchmark measures steady-state ingest.
			for tn.Intel.Busy() || tn.Intel.Matcher().Len() == 0 {
				time.Sleep(100 * time.Millisecond)
			}
			b.Logf("loaded, rebuilt and retro-hunted %d indicators in %s", tn.Intel.Matcher().Len(),
				time.Since(start).Round(time.Millisecond))
		})
	})
}

func benchIngest(b *testing.B, syncAlways bool) { benchIngestWith(b, syncAlways, nil) }

func benchIngestWith(b *testing.B, syncAlways bool, setup func(*testNode)) {
	tn := startNode(b, b.TempDir(), func(c *config.Config) {
		c.Syslog.UDP, c.Syslog.TCP, c.Syslog.TLS = "127.0.0.1:0", "127.0.0.1:0", ""
		c.Flows = config.FlowsConfig{NetFlow: "127.0.0.1:0"}
		c.Ingest.SyncAlways = syncAlways
		c.Detect.SSHBruteForce.Enabled = false
	})
	if setup != nil {
		setup(tn)
	}
	const perReq, clients = 1000, 4
	bodies := make([][]byte, 16)
	for i := range bodies {
		bodies[i] = ndjsonBody(perReq, i*perReq)
	}
	b.SetBytes(int64(len(bodies[0]) / perReq))
	var peak uint64
	stopMem := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stopMem:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak {
					peak = ms.HeapInuse
				}
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	reqs := make(chan []byte)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range reqs {
				for !post(tn.url, tn.token, body) {
					time.Sleep(10 * time.Millisecond) // 429: back off and resend
				}
			}
		}()
	}
	events := 0
	for i := 0; events < b.N; i++ {
		reqs <- bodies[i%len(bodies)]
		events += perReq
	}
	close(reqs)
	wg.Wait()
	if err := tn.WaitDrained(b.Context()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stopMem)
	rate := float64(events) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rate/float64(runtime.GOMAXPROCS(0)), "events/s/core")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(0, "ns/op")
}
