package beacon

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestSaveRestoreMidStream: saving and restoring the analyzer (and the
// shared prevalence) in the middle of a stream gives the same signals as
// an uninterrupted run.
func TestSaveRestoreMidStream(t *testing.T) {
	t.Parallel()
	recs := scenario(9, 2, beaconCases)
	whole := newDriver(t, DefaultConfig())
	whole.feed(recs)
	whole.advance(whole.maxT)
	if len(whole.sigs) == 0 {
		t.Fatal("no signals")
	}
	for _, split := range []int{len(recs) / 3, len(recs) / 2} {
		first := newDriver(t, DefaultConfig())
		first.feed(recs[:split])
		ab, err := first.a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		pb, err := first.prev.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		second := newDriver(t, DefaultConfig())
		if err := second.a.UnmarshalBinary(ab); err != nil {
			t.Fatal(err)
		}
		if err := second.prev.UnmarshalBinary(pb); err != nil {
			t.Fatal(err)
		}
		second.maxT, second.batchAt, second.sigs = first.maxT, first.batchAt, first.sigs
		second.feed(recs[split:])
		second.advance(second.maxT)
		if len(second.sigs) != len(whole.sigs) {
			t.Fatalf("split at %d: %d signals, uninterrupted %d", split, len(second.sigs), len(whole.sigs))
		}
		for i := range whole.sigs {
			if !reflect.DeepEqual(second.sigs[i], whole.sigs[i]) {
				t.Fatalf("split at %d: signal %d differs:\n%+v\n%+v", split, i, second.sigs[i], whole.sigs[i])
			}
		}
		// Entities, not Bytes: the estimate counts slice capacity, which a
		// restore trims.
		if !reflect.DeepEqual(second.a.Stats().Entities, whole.a.Stats().Entities) {
			t.Fatalf("split at %d: stats %+v, uninterrupted %+v", split, second.a.Stats(), whole.a.Stats())
		}
	}
}

func TestUnmarshalRejectsBadState(t *testing.T) {
	t.Parallel()
	d := newDriver(t, DefaultConfig())
	for _, data := range [][]byte{nil, []byte("not gob"), {0x0f, 0xff, 0x81}} {
		if err := d.a.UnmarshalBinary(data); err == nil {
			t.Errorf("%q accepted", data)
		}
	}
}

// FuzzUnmarshalBinary: arbitrary state bytes give an error or a usable
// analyzer, never a panic.
func FuzzUnmarshalBinary(f *testing.F) {
	g := newGen(10)
	g.beacon(host(3), ext("203.0.113.3"), 443, "c2.example", time.Minute, 0.2, t0, 3*time.Hour, fixedSize(100))
	d := newDriver(f, DefaultConfig())
	d.feed(g.sorted())
	good, err := d.a.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDriver(t, DefaultConfig())
		if d.a.UnmarshalBinary(data) != nil {
			return
		}
		g := newGen(11)
		g.beacon(host(3), ext("203.0.113.3"), 443, "c2.example", time.Minute, 0.2, t0.Add(3*time.Hour), 2*time.Hour, fixedSize(100))
		d.feed(g.sorted())
		d.advance(d.maxT.Add(48 * time.Hour))
		_ = d.a.Stats()
	})
}

// FuzzScore: any set of connection times and sizes scores within [0, 1].
func FuzzScore(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{60, 0, 60, 0, 60, 0, 60, 0, 61, 0, 59, 0, 60, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		sc := scorer{cfg: &cfg}
		base := t0.Unix()
		ts := base
		var conns []uint64
		for i := 0; i+1 < len(data); i += 2 {
			ts += int64(data[i]) * int64(data[i]%7+1)
			conns = append(conns, pack(ts, int64(data[i+1])*int64(data[i+1])))
		}
		if len(conns) == 0 {
			return
		}
		r, ok := sc.score(conns, 1, base, ts+1)
		if !ok {
			return
		}
		for name, v := range map[string]float64{"raw": r.raw, "ts": r.tsScore, "ds": r.dsScore, "hist": r.histScore, "dur": r.durScore} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s score %v outside [0, 1] (%+v)", name, v, r)
			}
		}
	})
}

// TestGoldenSignals pins the signals of a small fixed scenario (one 60 s
// beacon with its TLS name, a DNS beacon, a 15 min beacon and background)
// at its last scoring boundary. Run with -update to rewrite.
func TestGoldenSignals(t *testing.T) {
	t.Parallel()
	g := newGen(12)
	g.ntp(12, ntpServers, 26*time.Hour)
	g.beacon(host(40), ext("203.0.113.40"), 443, "beacon.example.net", time.Minute, 0.2, t0, 26*time.Hour, fixedSize(1500))
	g.beacon(host(41), ext("203.0.113.41"), 80, "", 15*time.Minute, 0.1, t0, 26*time.Hour, fixedSize(800))
	for ts := t0; ts.Before(t0.Add(26 * time.Hour)); ts = ts.Add(time.Duration(270+g.rng.IntN(61)) * time.Second) {
		g.id++
		g.recs = append(g.recs, flow.Record{Kind: flow.KindDNS, EventID: g.id, Start: ts, End: ts, Src: host(42),
			Dst: host(1), SrcPort: g.port(), DstPort: 53, Proto: flow.ProtoUDP, Name: "poll.example.org", QType: "TXT"})
	}
	d := newDriver(t, DefaultConfig())
	d.feed(g.sorted())
	d.advance(d.maxT)
	var last []flow.Signal
	for _, s := range d.sigs {
		if s.End.Equal(d.sigs[len(d.sigs)-1].End) {
			last = append(last, s)
		}
	}
	got, err := json.MarshalIndent(last, "", " ")
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
		t.Fatalf("signals differ from %s (run with -update after checking):\n%s", path, got)
	}
	if len(last) != 4 {
		t.Fatalf("%d signals at the last boundary, want 4 (two address pairs, one name, one DNS)", len(last))
	}
}
