package newtalker

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
)

func TestGoldenSignals(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, s := range run(t, newAnalyzer(t, testConfig()), mixedTraffic(), 1000) {
		fmt.Fprintf(&b, "%s %v score=%v %s\n  %s\n  host=%v peer=%v port=%d tags=%v evidence=%v\n",
			s.Start.Format(time.RFC3339), s.Severity, s.Score, s.Key, s.Title, s.Host, s.Peer, s.Port, s.Tags, s.Evidence)
		for _, f := range s.Facts {
			fmt.Fprintf(&b, "  %s: %s\n", f.Key, f.Value)
		}
	}
	golden.Check(t, filepath.Join("testdata", "signals.golden"), []byte(b.String()))
}
