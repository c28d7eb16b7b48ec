package dnsanomaly

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// mixed: three hours of background on 30 hosts, anti-virus lookups, a
// tunnel spanning windows and two DGA bursts.
func mixed(seed uint64) []flow.Record {
	g := newGen(seed)
	g.background(30, t0, 3*time.Hour)
	g.avLookups(12, t0, 3*time.Hour)
	g.tunnel(host(23), "exfil-tunnel.example", base32Alpha, "TXT", 1, t0.Add(40*time.Minute), 2*time.Hour)
	g.dga(host(24), "abcdefghijklmnopqrstuvwxyz", 40, t0.Add(58*time.Minute), 4*time.Minute)
	g.dga(host(25), "abcdefghijklmnopqrstuvwxyz0123456789", 60, t0.Add(150*time.Minute), 10*time.Minute)
	return g.sorted()
}

// TestSaveRestoreMidStream: saving and restoring mid-stream gives the same
// signals as an uninterrupted run.
func TestSaveRestoreMidStream(t *testing.T) {
	t.Parallel()
	recs := mixed(6)
	whole := newDriver(t, DefaultConfig())
	whole.feed(recs)
	whole.advance(whole.maxT.Add(time.Hour))
	if len(whole.sigs) < 3 {
		t.Fatalf("only %d signals", len(whole.sigs))
	}
	for _, split := range []int{len(recs) / 3, len(recs) / 2, len(recs) * 9 / 10} {
		first := newDriver(t, DefaultConfig())
		first.feed(recs[:split])
		b, err := first.a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		second := newDriver(t, DefaultConfig())
		if err := second.a.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		second.maxT, second.next, second.sigs = first.maxT, first.next, first.sigs
		second.feed(recs[split:])
		second.advance(second.maxT.Add(time.Hour))
		if !reflect.DeepEqual(second.sigs, whole.sigs) {
			t.Fatalf("split at %d: %d signals, uninterrupted %d:\n%s\nvs\n%s", split, len(second.sigs), len(whole.sigs),
				summary(second.sigs), summary(whole.sigs))
		}
		if !reflect.DeepEqual(second.a.Counts(), whole.a.Counts()) {
			t.Fatalf("split at %d: counts %+v vs %+v", split, second.a.Counts(), whole.a.Counts())
		}
	}
}

func TestUnmarshalRejectsBadState(t *testing.T) {
	t.Parallel()
	d := newDriver(t, DefaultConfig())
	for _, data := range [][]byte{nil, []byte("nonsense"), {0x0f, 0xff, 0x81}} {
		if err := d.a.UnmarshalBinary(data); err == nil {
			t.Errorf("%q accepted", data)
		}
	}
}

// FuzzUnmarshalBinary: arbitrary bytes give an error or a usable analyzer.
func FuzzUnmarshalBinary(f *testing.F) {
	g := newGen(7)
	g.tunnel(host(3), "t.example", hexAlpha, "TXT", 0.5, t0, 20*time.Minute)
	g.dga(host(4), "abcdefghijklmnopqrstuvwxyz", 30, t0, 5*time.Minute)
	d := newDriver(f, DefaultConfig())
	d.feed(g.sorted())
	good, err := d.a.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDriver(t, DefaultConfig())
		if d.a.UnmarshalBinary(data) != nil {
			return
		}
		g := newGen(8)
		g.tunnel(host(3), "t.example", hexAlpha, "TXT", 0.5, t0.Add(20*time.Minute), 20*time.Minute)
		g.dga(host(4), "abcdefghijklmnopqrstuvwxyz", 30, t0.Add(20*time.Minute), 5*time.Minute)
		d.feed(g.sorted())
		d.advance(d.maxT.Add(48 * time.Hour))
		_ = d.a.Stats()
	})
}

// TestGoldenSignals pins the signals of the mixed scenario. Run with
// -update to rewrite testdata/golden_signals.json after checking them.
func TestGoldenSignals(t *testing.T) {
	t.Parallel()
	d := newDriver(t, DefaultConfig())
	d.feed(mixed(9))
	d.advance(d.maxT.Add(time.Hour))
	got, err := json.MarshalIndent(d.sigs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden_signals.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("signals differ from %s (run with -update after checking):\n%s", path, summary(d.sigs))
	}
	keys := byKey(d.sigs)
	if len(keys["dns_tunnel|exfil-tunnel.example"]) != 3 || len(keys["dga|10.0.2.24"]) == 0 || len(keys["dga|10.0.2.25"]) == 0 {
		t.Fatalf("want the tunnel in 3 windows and both DGA bursts:\n%s", summary(d.sigs))
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"tunnel window", func(c *Config) { c.Tunnel.Window = 0 }, []string{"tunnel.window"}},
		{"ramps", func(c *Config) { c.Tunnel.LabelLow, c.Tunnel.EntropyHigh, c.Tunnel.RateLow = 50, 1, 0 },
			[]string{"tunnel.label_low", "tunnel.entropy_low", "tunnel.rate_low"}},
		{"weights", func(c *Config) { c.Tunnel.Weights = TunnelWeights{Rate: 2} }, []string{"tunnel.weights.rate"}},
		{"prevalence", func(c *Config) { c.Tunnel.Prevalence = Prevalence{} },
			[]string{"tunnel.prevalence.days", "tunnel.prevalence.share", "tunnel.prevalence.hosts",
				"tunnel.prevalence.min_population"}},
		{"dga", func(c *Config) { c.DGA.Step, c.DGA.Window, c.DGA.MinNames = time.Minute, 30*time.Second, 1 },
			[]string{"dga.window", "dga.min_names"}},
		{"dga names cap", func(c *Config) { c.DGA.MaxNamesPerHost = 10 }, []string{"dga.max_names_per_host"}},
		{"severity", func(c *Config) { c.DGA.Severity.High = 2; c.Tunnel.Severity.Low = 0 },
			[]string{"dga.severity", "tunnel.severity"}},
		{"suffix", func(c *Config) { c.AllowSuffixes = []string{"."} }, []string{"allow_suffixes"}},
		{"evidence", func(c *Config) { c.MaxEvidence = 50 }, []string{"max_evidence"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			c.mod(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	internal, _ := flow.NewSet(flow.DefaultInternal())
	if _, err := New(DefaultConfig(), nil, nil); err == nil {
		t.Error("nil internal networks accepted")
	}
	bad := DefaultConfig()
	bad.DGA.MinNames = 0
	if _, err := New(bad, internal, nil); err == nil {
		t.Error("bad config accepted")
	}
}

// TestBounded: the domain and host caps hold, and state empties once the
// windows pass.
func TestBounded(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Tunnel.MaxDomains, cfg.DGA.MaxHosts, cfg.DGA.MaxNamesPerHost = 50, 5, 30
	g := newGen(10)
	for i := range 2000 {
		ts := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		g.query(ts, host(1+i%20), "x"+g.chunk(hexAlpha, 8)+".d"+g.chunk(hexAlpha, 6)+".example", "A", "NXDOMAIN")
	}
	d := newDriver(t, cfg)
	d.feed(g.sorted())
	st := d.a.Stats()
	if st.Entities["domains"] > 50 || st.Entities["nx_hosts"] > 5 || st.Entities["nx_names"] > 5*30 {
		t.Fatalf("stats %+v", st)
	}
	if c := d.a.Counts(); c.DomainsDropped == 0 || c.HostsDropped == 0 {
		t.Fatalf("counts %+v", c)
	}
	d.advance(t0.Add(5 * time.Hour))
	if st := d.a.Stats(); st.Entities["domains"] != 0 || st.Entities["nx_hosts"] != 0 || st.Entities["tunnel_windows"] != 0 {
		t.Fatalf("stats after the windows passed %+v", st)
	}
}
