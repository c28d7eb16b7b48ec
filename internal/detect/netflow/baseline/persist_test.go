package baseline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func signalsJSON(t testing.TB, sigs []flow.Signal) []byte {
	t.Helper()
	b, err := json.MarshalIndent(sigs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// mixed is the office with the file server and its external backup, a
// 6x jump on day 9 at 14:00, a company-wide update on day 10 at 10:00 and
// the 20 GB exfiltration on day 12 at 03:20.
func mixed() *gen {
	g := newGen(6)
	buildBackup(g, backupCase{"exfil at 03:00", ip("198.51.100.20"), at(12, 3, 20)})
	g.stepHost(ip("10.0.3.6"), ip("198.51.100.10"), backupDays, 9, 6)
	g.burst(30, at(10, 10, 0), commonDst(7))
	return g
}

// TestSaveRestoreMidStream saves and restores the analyzer (and the
// prevalence tracker, as the engine does) several times, in the middle of
// the hours that raise signals with their accumulators open, and expects
// exactly the signals of an uninterrupted run, which also match the golden
// file.
func TestSaveRestoreMidStream(t *testing.T) {
	t.Parallel()
	end := day(backupDays + 1)
	want := signalsJSON(t, runScenario(t, mixed(), nil, end).sigs)
	restarts := []time.Time{at(2, 2, 30), at(6, 13, 45), at(9, 14, 30), at(10, 10, 35), at(12, 3, 30)}
	got := signalsJSON(t, runScenario(t, mixed(), restarts, end).sigs)
	if !bytes.Equal(got, want) {
		t.Errorf("signals differ after restores:\n%s\nwant:\n%s", got, want)
	}
	golden := filepath.Join("testdata", "mixed.golden.json")
	if *update {
		if err := os.WriteFile(golden, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, want) {
		t.Errorf("signals differ from %s (run with -update to accept):\n%s", golden, want)
	}
}

// TestRestoreOtherWeeks carries history over to an analyzer configured
// with another number of weeks, and drops subnets when the prefix changes.
func TestRestoreOtherWeeks(t *testing.T) {
	t.Parallel()
	g := newGen(5)
	host := ip("10.0.1.6")
	g.stepHost(host, ip("198.51.100.10"), 10, 99, 1)
	e := newEngine(t, DefaultConfig())
	e.run(g.sorted(), time.Time{})
	e.flush(day(11))
	before := e.a.Baseline(host, MetricBytesOut)
	data, err := e.a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		subnets bool
	}{
		{"more weeks", func(c *Config) { c.Weeks = 8 }, true},
		{"fewer weeks", func(c *Config) { c.Weeks = 2 }, true},
		{"other prefix", func(c *Config) { c.SubnetPrefixV4 = 16 }, false},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		a := newTestAnalyzer(t, cfg)
		if err := a.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		after := a.Baseline(host, MetricBytesOut)
		if len(after) != len(before) {
			t.Fatalf("%s: %d points, want %d", tc.name, len(after), len(before))
		}
		for i := range after {
			if after[i].Actual != before[i].Actual || after[i].Known != before[i].Known {
				t.Fatalf("%s: hour %v: %+v, want %+v", tc.name, after[i].Start, after[i], before[i])
			}
		}
		sub := a.SubnetBaseline(mustPrefix("10.0.1.0/24"), MetricBytesOut)
		if known := sub != nil && sub[len(sub)-1].Known; known != tc.subnets {
			t.Errorf("%s: subnet history kept %v, want %v", tc.name, known, tc.subnets)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t, DefaultConfig())
	for _, data := range [][]byte{nil, []byte("garbage"), {0x10, 0xff, 0x81}} {
		if err := a.UnmarshalBinary(data); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
}
