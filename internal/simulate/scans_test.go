package simulate

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/vuln"
)

// TestScanReports parses the demo's two scans with the real Nessus parser:
// seven findings in the first, six in the second (the web server's OpenSSL
// finding was patched), on the servers' addresses.
func TestScanReports(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	reps := ScanReports(now)
	want := []int{7, 6}
	for i, data := range reps {
		r, err := vuln.Parse("demo.nessus", data, vuln.FormatUnknown)
		if err != nil {
			t.Fatal(err)
		}
		if r.Scan.Format != vuln.FormatNessus || len(r.Findings) != want[i] || len(r.Problems) != 0 {
			t.Fatalf("scan %d: format %s, %d findings, problems %v", i+1, r.Scan.Format, len(r.Findings), r.Problems)
		}
		if got := r.Scan.Time; !got.Equal(now.Add(-[]time.Duration{21, 7}[i] * 24 * time.Hour)) {
			t.Errorf("scan %d time %v", i+1, got)
		}
	}
}
