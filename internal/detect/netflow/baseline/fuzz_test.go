package baseline

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// checkSignal fails on a signal that breaks the analyzer's promises.
func checkSignal(t *testing.T, s flow.Signal) {
	t.Helper()
	if len(s.Evidence) > maxEvidence || !s.Start.Before(s.End) || s.Key == "" || len(s.Tags) == 0 || s.Title == "" {
		t.Fatalf("bad signal %+v", s)
	}
	if s.Kind != flow.SignalBaseline && s.Kind != flow.SignalExfil {
		t.Fatalf("kind %q", s.Kind)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	g := newGen(9)
	g.stepHost(ip("10.0.1.6"), ip("198.51.100.10"), 9, 8, 6)
	e := newEngine(f, DefaultConfig())
	e.run(g.sorted(), at(9, 14, 30))
	seed, err := e.a.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a := newTestAnalyzer(t, DefaultConfig())
		if err := a.UnmarshalBinary(data); err != nil {
			return
		}
		// A restored analyzer keeps working.
		ts := hourStart(a.open)
		if !a.started {
			ts = at(1, 0, 0)
		}
		a.Observe(&flow.Record{Kind: flow.KindFlow, EventID: 1, Start: ts, End: ts, Src: ip("10.0.1.6"),
			Dst: ip("198.51.100.10"), BytesOut: 1 << 40})
		a.Advance(ts.Add(3*time.Hour), func(s flow.Signal) { checkSignal(t, s) })
		a.Baseline(ip("10.0.1.6"), MetricBytesOut)
		a.Stats()
		if _, err := a.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzObserve turns the input into a stream of flows (12 bytes each) among
// a few internal and external hosts and checks the analyzer's invariants.
func FuzzObserve(f *testing.F) {
	f.Add([]byte("0123456789ab0123456789abzzzzzzzzzzzz"))
	f.Add(make([]byte, 120))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.LearningDays, cfg.MaxHosts, cfg.MaxSubnets = 0, 8, 3
		cfg.MinCurrent = Thresholds{}
		cfg.Exfil.MinBytes, cfg.Exfil.PairsPerHost = 1, 2
		a := newTestAnalyzer(t, cfg)
		ts := at(1, 0, 0)
		newest := ts
		emit := func(s flow.Signal) { checkSignal(t, s) }
		for i := 0; i+12 <= len(data); i += 12 {
			b := data[i : i+12]
			ts = ts.Add(time.Duration(int16(binary.LittleEndian.Uint16(b[3:5]))) * time.Minute)
			src := netip.AddrFrom4([4]byte{10, b[0] % 4, 0, b[0] % 16})
			dst := netip.AddrFrom4([4]byte{198, 51, 100, b[2] % 8})
			if b[1]%3 == 0 {
				dst = netip.AddrFrom4([4]byte{10, 1, b[2] % 2, b[2] % 16})
			}
			r := flow.Record{Kind: flow.KindFlow, EventID: uint64(i + 1), Start: ts, End: ts, Src: src, Dst: dst,
				DstPort: uint16(b[5]), BytesOut: int64(binary.LittleEndian.Uint32(b[6:10])) << (b[11] % 24),
				BytesIn: int64(b[10]) << 10, PktsOut: int64(b[10])}
			if b[1]%5 == 0 {
				r.Src, r.Dst = r.Dst, r.Src
			}
			a.Observe(&r)
			if ts.After(newest) {
				newest = ts
			}
			if b[11]&0x80 != 0 {
				a.Advance(newest.Add(-lateness), emit)
			}
		}
		a.Advance(newest.Add(48*time.Hour), emit)
		if st := a.Stats(); st.Entities["hosts"] > cfg.MaxHosts || st.Entities["subnets"] > cfg.MaxSubnets {
			t.Fatalf("stats %+v", st)
		}
		data, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := newTestAnalyzer(t, cfg).UnmarshalBinary(data); err != nil {
			t.Fatalf("own state does not restore: %v", err)
		}
	})
}
