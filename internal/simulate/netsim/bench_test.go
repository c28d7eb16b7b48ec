package netsim

import "testing"

// BenchmarkNext measures the generator alone: records per second and
// allocations per record over the default company.
func BenchmarkNext(b *testing.B) {
	o := Options{Seed: 1}
	g, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		r, ok := g.Next()
		if !ok {
			g, _ = New(o)
			continue
		}
		bytes += int64(len(r.JSON))
	}
	b.SetBytes(bytes / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNew measures building a generator (company, site catalogue,
// scenario plan) for the default and a 5,000-host company.
func BenchmarkNew(b *testing.B) {
	for _, hosts := range []int{60, 5000} {
		b.Run("hosts="+itoa(hosts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(Options{Seed: 1, Hosts: hosts}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
