package scan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/golden"
)

// formatSignals writes signals one block each, every field an analyst
// sees, for golden comparison.
func formatSignals(sigs []flow.Signal) []byte {
	var b strings.Builder
	for _, s := range sigs {
		fmt.Fprintf(&b, "%s..%s %v score=%v %s\n", s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339),
			s.Severity, s.Score, s.Key)
		fmt.Fprintf(&b, "  %s\n  host=%v peer=%v port=%d metric=%q current=%v tags=%v\n", s.Title, s.Host, s.Peer,
			s.Port, s.Metric, s.Current, s.Tags)
		for _, f := range s.Facts {
			fmt.Fprintf(&b, "  %s: %s\n", f.Key, f.Value)
		}
		fmt.Fprintf(&b, "  evidence: %v\n", s.Evidence)
	}
	return []byte(b.String())
}

func TestGoldenScans(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 7}
	background(g, t0, t0.Add(4*time.Hour))
	for _, tc := range scanCases {
		if tc.mod == nil {
			tc.build(g)
		}
	}
	sortRecs(g.recs)
	golden.Check(t, filepath.Join("testdata", "scans.golden"), formatSignals(run(newScan(t, nil), g.recs, 250)))
}

func TestGoldenLongConnections(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 9}
	g.chunks(t0, 5*time.Hour, 30*time.Minute, addr("10.0.5.7"), 50001, addr("203.0.113.66"), 8443)
	g.span(t0.Add(time.Hour), 2*time.Hour, addr("198.51.100.20"), 51000, addr("10.0.0.22"), 22)
	g.span(t0.Add(2*time.Hour), 75*time.Minute, addr("74.125.133.188"), 5228, addr("10.0.5.8"), 35874)
	sortRecs(g.recs)
	l, err := NewLongConn(DefaultLongConfig(), internalSet(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "long_connections.golden"), formatSignals(run(l, g.recs, 1)))
}
