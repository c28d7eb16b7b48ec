package newtalker

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// FuzzObserve feeds arbitrary records: the analyzer must not panic, must
// keep its caps and must emit well-formed signals.
func FuzzObserve(f *testing.F) {
	f.Add(make([]byte, 48))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testConfig()
		c.Learning, c.MaxPairsPerAsset, c.MaxServicesPerAsset, c.MaxAssets = time.Hour, 8, 8, 2
		a := newAnalyzer(t, c)
		var recs []flow.Record
		for i := 0; i+12 <= len(data); i += 12 {
			b := data[i : i+12]
			at := t0.Add(time.Duration(binary.BigEndian.Uint16(b)) * time.Minute)
			recs = append(recs, flow.Record{Kind: flow.Kind(b[2]%3 + 1), EventID: uint64(i + 1), Start: at, End: at,
				Src: netipFrom(10, 0, b[3]%2*5, b[4]%40), Dst: netipFrom(10+b[5]%2*180, 0, 0, b[6]%40),
				SrcPort: binary.BigEndian.Uint16(b[7:9]), DstPort: binary.BigEndian.Uint16(b[9:11]),
				Proto: []uint8{tcp, udp, flow.ProtoICMP}[b[11]%3], State: flow.State(b[11] / 3 % 5),
				PktsIn: int64(b[11] % 4), BytesIn: int64(b[11]) * 10})
		}
		for _, s := range run(t, a, recs, 7) {
			if s.Key == "" || s.Title == "" || s.Score <= 0 || s.Score > 1 || len(s.Evidence) > 1 {
				t.Fatalf("bad signal %+v", s)
			}
		}
		for _, as := range a.state {
			if len(as.pairs) > c.MaxPairsPerAsset || len(as.services) > c.MaxServicesPerAsset {
				t.Fatalf("caps broken: %d pairs, %d services", len(as.pairs), len(as.services))
			}
		}
		if len(a.state) > c.MaxAssets {
			t.Fatalf("%d assets", len(a.state))
		}
		state, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := newAnalyzer(t, c).UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzUnmarshal checks that arbitrary saved state is rejected or
// restored, never a panic.
func FuzzUnmarshal(f *testing.F) {
	a := newAnalyzer(f, testConfig())
	for _, r := range mixedTraffic()[:2000] {
		a.Observe(&r)
	}
	good, err := a.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newAnalyzer(t, testConfig())
		if b.UnmarshalBinary(data) == nil {
			r := flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: ws(1), Dst: dc, SrcPort: 50000,
				DstPort: 3389, Proto: tcp, State: flow.StateEstablished}
			b.Observe(&r)
			b.Advance(t0, func(flow.Signal) {})
		}
	})
}
