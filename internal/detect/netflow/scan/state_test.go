package scan

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// runRestarted is run with a restart after record split: the state is
// saved, a fresh analyzer made by mk restores it and takes the rest.
func runRestarted(t *testing.T, mk func() flow.Analyzer, recs []flow.Record, batch, split int) []flow.Signal {
	t.Helper()
	var out []flow.Signal
	emit := func(s flow.Signal) { out = append(out, s) }
	an := mk()
	var maxT time.Time
	for i := range recs {
		if i == split {
			data, err := an.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			an = mk()
			if err := an.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			if sa, ok := an.(*Analyzer); ok {
				if err := sa.consistent(); err != nil {
					t.Fatal(err)
				}
			}
			again, err := an.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, again) {
				t.Error("restored state saves differently")
			}
		}
		an.Observe(&recs[i])
		if recs[i].Start.After(maxT) {
			maxT = recs[i].Start
		}
		if (i+1)%batch == 0 {
			an.Advance(maxT.Add(-lateness), emit)
		}
	}
	an.Advance(maxT.Add(-lateness), emit)
	an.Advance(maxT.Add(3*time.Hour), emit)
	return out
}

func TestScanSaveRestore(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 11}
	background(g, t0, t0.Add(4*time.Hour))
	for _, tc := range scanCases {
		if tc.mod == nil {
			tc.build(g)
		}
	}
	sortRecs(g.recs)
	mk := func() flow.Analyzer { return newScan(t, nil) }
	want := run(mk(), g.recs, 300)
	if len(want) < 8 {
		t.Fatalf("only %d signals", len(want))
	}
	// Split in the middle of the slow scan, of a fast scan's burst and
	// between two Advance calls with a forced evaluation pending.
	for _, split := range []int{len(g.recs) / 3, len(g.recs) / 2, len(g.recs) - 10} {
		got := runRestarted(t, mk, g.recs, 300, split)
		if d := diffSignals(want, got); d != "" {
			t.Errorf("restart at %d: %s", split, d)
		}
	}
}

func TestLongConnSaveRestore(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 5}
	for i := range 20 {
		g.chunks(t0.Add(time.Duration(i)*7*time.Minute), time.Duration(60+i*10)*time.Minute, 30*time.Minute,
			nth("10.0.5.1", i), 50000, nth("203.0.113.1", i%3), 443)
	}
	sortRecs(g.recs)
	mk := func() flow.Analyzer {
		l, err := NewLongConn(DefaultLongConfig(), internalSet(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	want := run(mk(), g.recs, 7)
	if len(want) < 20 {
		t.Fatalf("only %d signals", len(want))
	}
	for _, split := range []int{1, len(g.recs) / 2, len(g.recs) - 3} {
		got := runRestarted(t, mk, g.recs, 7, split)
		if d := diffSignals(want, got); d != "" {
			t.Errorf("restart at %d: %s", split, d)
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	t.Parallel()
	a := newScan(t, nil)
	g := &gen{}
	probes(g, t0, time.Second, 10, "10.0.0.5", hostN("10.1.0.1", 22), tcp, always(att))
	for i := range g.recs {
		a.Observe(&g.recs[i])
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	other := newScan(t, func(c *Config) { c.Window = 10 * time.Minute })
	if err := other.UnmarshalBinary(data); err == nil {
		t.Error("state saved with another window was accepted")
	}
	if err := a.UnmarshalBinary([]byte("not gob")); err == nil {
		t.Error("garbage accepted")
	}
	l, _ := NewLongConn(DefaultLongConfig(), nil, nil)
	if err := l.UnmarshalBinary(data[:len(data)/2]); err == nil {
		t.Error("truncated state accepted")
	}
	if st := a.Stats(); st.Entities["contacts"] != 10 || st.Entities["sources"] != 1 || st.Bytes <= 0 {
		t.Errorf("stats %+v", st)
	}
}
