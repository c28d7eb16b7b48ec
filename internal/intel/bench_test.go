package intel

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// bigMatcher holds nIP addresses, nNet CIDRs and nDom domains, generated
// from a fixed seed, as large public feeds would.
func bigMatcher(nIP, nNet, nDom int) *Matcher {
	r := rand.New(rand.NewPCG(1, 2))
	b := NewBuilder()
	b.AddSource(SourceInfo{Name: "big", Decay: 30 * 24 * time.Hour})
	seen := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range nIP {
		in := Indicator{Type: TypeIP, Source: "big", Confidence: 70,
			Value: fmt.Sprintf("%d.%d.%d.%d", 100+r.IntN(120), r.IntN(256), r.IntN(256), r.IntN(256))}
		if i%10 == 0 {
			in.Value = fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(65536), r.IntN(65536), r.IntN(65536))
		}
		b.Add(&in, seen)
	}
	for range nNet {
		in := Indicator{Type: TypeIP, Source: "big", Confidence: 50,
			Value: fmt.Sprintf("%d.%d.%d.0/24", 100+r.IntN(120), r.IntN(256), r.IntN(256))}
		b.Add(&in, seen)
	}
	for i := range nDom {
		in := Indicator{Type: TypeDomain, Source: "big", Confidence: 60, Value: fmt.Sprintf("x%07d-%d.example-bad.net", i, r.IntN(1000))}
		b.Add(&in, seen)
	}
	return b.Build()
}

// mixedEvents is a realistic mix: connection flows to internal and
// external addresses, DNS queries, HTTP requests and Windows process
// events carrying hashes.
func mixedEvents(n int) []schema.Event {
	r := rand.New(rand.NewPCG(3, 4))
	ts := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	evs := make([]schema.Event, n)
	for i := range evs {
		e := schema.Event{Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
			Source: schema.Endpoint{IP: fmt.Sprintf("10.1.%d.%d", r.IntN(8), r.IntN(250))}}
		switch i % 4 {
		case 0:
			e.Destination.IP = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256))
		case 1:
			e.Destination.IP = "10.1.0.53"
			e.DNS.Question.Name = fmt.Sprintf("host%d.cdn%d.example.com", r.IntN(100), r.IntN(20))
			e.DNS.Answers = []string{fmt.Sprintf("93.184.%d.%d", r.IntN(256), r.IntN(256))}
		case 2:
			e.Destination.IP = fmt.Sprintf("151.101.%d.%d", r.IntN(256), r.IntN(256))
			e.Destination.Domain = "www.example.org"
			e.URL = schema.URL{Full: fmt.Sprintf("https://www.example.org/a/%d", r.IntN(1000)), Domain: "www.example.org"}
		default:
			e.Source.IP = ""
			e.Host.Name = "ws-17"
			e.Fields = schema.Fields{{Key: "Image", Value: `C:\Windows\System32\svchost.exe`},
				{Key: "Hashes", Value: fmt.Sprintf("SHA1=%040x,MD5=%032x,SHA256=%064x", r.Uint64(), r.Uint64(), r.Uint64())}}
		}
		evs[i] = e
	}
	return evs
}

// BenchmarkMatch measures inline matching per event with no indicators and
// with 1M addresses + 100k CIDRs + 500k domains, and reports the loaded
// matcher's memory.
func BenchmarkMatch(b *testing.B) {
	evs := mixedEvents(4096)
	for _, size := range []struct {
		name           string
		ips, nets, dom int
	}{{"empty", 0, 0, 0}, {"1M-ip_100k-cidr_500k-domain", 1_000_000, 100_000, 500_000}} {
		b.Run(size.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m := bigMatcher(size.ips, size.nets, size.dom)
			runtime.GC()
			runtime.ReadMemStats(&after)
			hits := make([]Hit, 0, 8)
			found := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				hits = m.Match(&evs[i%len(evs)], hits[:0])
				found += len(hits)
			}
			b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/(1<<20), "matcher-MiB")
			b.ReportMetric(float64(found)/float64(b.N), "hits/event")
			runtime.KeepAlive(m)
		})
	}
}

// BenchmarkBuild measures building the large matcher.
func BenchmarkBuild(b *testing.B) {
	for range b.N {
		bigMatcher(1_000_000, 100_000, 500_000)
	}
}
