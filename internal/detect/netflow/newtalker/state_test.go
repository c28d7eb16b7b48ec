package newtalker

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// mixedTraffic is routine traffic with new talkers before and after the
// learning period.
func mixedTraffic() []flow.Record {
	g := &gen{}
	routine(g, 14)
	est := flow.StateEstablished
	for d := 2; d < 14; d++ {
		at := t0.Add(time.Duration(d)*day + 11*time.Hour)
		g.add(at, ws(d), dc, 3389, tcp, est)
		g.add(at.Add(time.Minute), addr("10.0.1.1"), db, uint16(8000+d), tcp, est)
		g.add(at.Add(2*time.Minute), db, addr("203.0.113.66"), uint16(4000+d), tcp, est)
		g.add(at.Add(3*time.Minute), addr(fmt.Sprintf("198.51.100.%d", d)), db, 5432, tcp, est)
	}
	sortRecs(g.recs)
	return g.recs
}

func TestSaveRestore(t *testing.T) {
	t.Parallel()
	recs := mixedTraffic()
	mk := func() *Analyzer { return newAnalyzer(t, testConfig()) }
	want := run(t, mk(), recs, 500)
	if len(want) < 15 {
		t.Fatalf("only %d signals", len(want))
	}
	for _, split := range []int{len(recs) / 3, len(recs) / 2, len(recs) - 5} {
		var got []flow.Signal
		emit := func(s flow.Signal) { got = append(got, s) }
		an := mk()
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
				if again, _ := an.MarshalBinary(); !bytes.Equal(again, data) {
					t.Error("restored state saves differently")
				}
			}
			an.Observe(&recs[i])
			if (i+1)%500 == 0 {
				an.Advance(recs[i].Start.Add(-2*time.Minute), emit)
			}
		}
		an.Advance(recs[len(recs)-1].Start, emit)
		if fmt.Sprint(titles(got)) != fmt.Sprint(titles(want)) {
			t.Errorf("restart at %d:\n got %v\nwant %v", split, titles(got), titles(want))
		}
	}
}

func TestRestoreDropsAssetsNoLongerSensitive(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(t, testConfig())
	for _, r := range mixedTraffic()[:5000] {
		a.Observe(&r)
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig()
	c.Sensitive = c.Sensitive[1:] // dc01 is no longer listed
	b := newAnalyzer(t, c)
	if err := b.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if n, m := a.Stats().Entities["assets"], b.Stats().Entities["assets"]; n != 2 || m != 1 {
		t.Errorf("assets before %d, after %d", n, m)
	}
	if err := b.UnmarshalBinary(data[:len(data)/2]); err == nil {
		t.Error("truncated state accepted")
	}
}
