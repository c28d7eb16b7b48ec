package baseline

import (
	"testing"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestScenarioSweep runs the mixed scenario (office, file server with an
// external nightly backup, a 6x jump, a company-wide update, a 20 GB
// exfiltration at 03:20) with several generator seeds and reports recall
// and precision: the exfiltration must be found as high and the jump as a
// bytes_out deviation every time, and no other signal may be high.
func TestScenarioSweep(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("slow sweep: skipped with -race and -short")
	}
	t.Parallel()
	const seeds = 6
	var expected, found, high, highTrue, other int
	for seed := range uint64(seeds) {
		g := newGen(100 + seed)
		buildBackup(g, backupCase{"", ip("198.51.100.20"), at(12, 3, 20)})
		g.stepHost(ip("10.0.3.6"), ip("198.51.100.10"), backupDays, 9, 6)
		g.burst(30, at(10, 10, 0), commonDst(7))
		e := runScenario(t, g, nil, day(backupDays+1))
		var exfil, jump bool
		for _, s := range e.sigs {
			switch {
			case s.Kind == flow.SignalExfil && s.Peer == ip("203.0.113.66") && s.Start.Equal(at(12, 3, 0)):
				exfil = s.Severity >= schema.SeverityHigh
				if exfil {
					highTrue++
				}
			case (s.Host == ip("10.0.3.6") || s.Host == ip("10.0.3.0")) && s.Start.Equal(at(9, 14, 0)):
				// The jump, on the host and on its subnet.
				jump = jump || s.Metric == MetricBytesOut
				if s.Severity >= schema.SeverityHigh {
					highTrue++
				}
			case s.Start.Equal(at(10, 10, 0)) && (s.Metric == MetricBytesIn || s.Metric == MetricPackets):
				// The update burst: visible, never high.
			default:
				other++
				t.Logf("seed %d: other signal: %s (%v)", seed, s.Title, s.Severity)
			}
			if s.Severity >= schema.SeverityHigh {
				high++
			}
		}
		expected += 2
		for _, ok := range []bool{exfil, jump} {
			if ok {
				found++
			}
		}
	}
	t.Logf("%d seeds: recall %d/%d, high signals %d of which true %d, other signals %d",
		seeds, found, expected, high, highTrue, other)
	if found != expected || high != highTrue {
		t.Errorf("recall %d/%d, %d high signals but %d true", found, expected, high, highTrue)
	}
	if other > 0 {
		t.Errorf("%d signals not explained by the injected events", other)
	}
}
