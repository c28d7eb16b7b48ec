package stix

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/vigil-soc/vigil/internal/shareddata"
)

// benchPatterns returns n patterns of the shapes feeds deliver: addresses,
// ranges, domains, hashes, URLs and network-traffic with conditions.
func benchPatterns(n int) []string {
	out := make([]string, n)
	for i := range out {
		a, b, c := i>>16&255, i>>8&255, i&255
		switch i % 6 {
		case 0:
			out[i] = fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", a, b, c)
		case 1:
			out[i] = fmt.Sprintf("[ipv4-addr:value ISSUBSET '172.%d.%d.0/24']", a+16, b)
		case 2:
			out[i] = fmt.Sprintf("[domain-name:value = 'host%d.example.com' OR domain-name:value LIKE '%%.bad%d.example']", i, i)
		case 3:
			sum := sha256.Sum256([]byte{byte(a), byte(b), byte(c)})
			out[i] = fmt.Sprintf("[file:hashes.'SHA-256' = '%s']", hex.EncodeToString(sum[:]))
		case 4:
			out[i] = fmt.Sprintf("[url:value = 'http://mal%d.example/path/%d?q=1']", i, i)
		default:
			out[i] = fmt.Sprintf("[network-traffic:dst_ref.value = '192.0.%d.%d' AND network-traffic:dst_port = %d "+
				"AND network-traffic:protocols[*] = 'tcp']", b, c, 1024+i%60000)
		}
	}
	return out
}

// BenchmarkPattern10k parses and compiles 10,000 patterns per iteration.
func BenchmarkPattern10k(b *testing.B) {
	patterns := benchPatterns(10_000)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, p := range patterns {
			ins, err := Pattern(p)
			if err != nil || len(ins) == 0 {
				b.Fatalf("Pattern(%q) = %v, %v", p, ins, err)
			}
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*len(patterns)), "ns/pattern")
}

// BenchmarkLoadMobileATTACK loads the 4 MB MITRE ATT&CK mobile bundle
// (2,148 objects, each validated by stix2).
func BenchmarkLoadMobileATTACK(b *testing.B) {
	data, err := os.ReadFile(shareddata.Path(b, "intel/mitre-attack-stix/mobile-attack/mobile-attack-17.1.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}
