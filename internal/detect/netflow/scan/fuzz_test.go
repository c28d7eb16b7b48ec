package scan

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// recordsFrom turns arbitrary bytes into records: 16 bytes each.
func recordsFrom(data []byte) []flow.Record {
	var recs []flow.Record
	for i := 0; i+16 <= len(data); i += 16 {
		b := data[i : i+16]
		at := t0.Add(time.Duration(binary.BigEndian.Uint16(b[0:2])) * time.Second)
		r := flow.Record{Kind: flow.Kind(b[2]%3 + 1), EventID: uint64(i + 1), Start: at,
			End:     at.Add(time.Duration(b[3]) * time.Minute),
			Src:     netip.AddrFrom4([4]byte{10, 0, b[4] % 4, b[5] % 8}),
			Dst:     netip.AddrFrom4([4]byte{b[6]%2*190 + 10, 1, b[7] % 4, b[8]}),
			SrcPort: binary.BigEndian.Uint16(b[9:11]), DstPort: uint16(b[11]) % 64,
			Proto: []uint8{flow.ProtoTCP, flow.ProtoUDP, flow.ProtoICMP, 0}[b[12]%4],
			State: flow.State(b[13] % 6), PktsIn: int64(b[14] % 4), BytesIn: int64(b[15]) * 8, PktsOut: 1}
		if b[14]&0x80 != 0 {
			r.Dst = netip.AddrFrom16([16]byte{0xff, 0x02, 15: b[8]}) // multicast
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzAnalyzers feeds arbitrary records to both analyzers with small
// thresholds: they must not panic, must keep their caps and must emit
// well-formed signals; a save and restore must keep working.
func FuzzAnalyzers(f *testing.F) {
	f.Add(make([]byte, 64))
	seed := make([]byte, 0, 16*40)
	for i := range 40 {
		seed = append(seed, 0, byte(i), 0, 0, 1, 1, 0, 0, byte(i), 0xc0, 0, 22, 0, 1, 0, 0)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := recordsFrom(data)
		cfg := DefaultConfig()
		cfg.HorizontalMinHosts, cfg.VerticalMinPorts, cfg.SweepMinHosts, cfg.SlowMinFailed = 3, 3, 3, 3
		cfg.MaxContactsPerSource, cfg.MaxContacts = 16, 64
		sc, err := New(cfg, internalSet(t))
		if err != nil {
			t.Fatal(err)
		}
		lcfg := DefaultLongConfig()
		lcfg.MinDuration, lcfg.MaxSessions = time.Minute, 8
		lc, err := NewLongConn(lcfg, internalSet(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, an := range []flow.Analyzer{sc, lc} {
			sigs := run(an, recs, 5)
			for _, s := range sigs {
				if s.Key == "" || s.Title == "" || len(s.Evidence) > maxEvidence || s.Score < 0 || s.Score > 1 {
					t.Fatalf("bad signal %+v", s)
				}
			}
			data, err := an.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := an.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
		}
		if sc.index.n > cfg.MaxContacts || len(lc.sessions) > lcfg.MaxSessions {
			t.Fatalf("caps broken: %d contacts, %d sessions", sc.index.n, len(lc.sessions))
		}
		if err := sc.consistent(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzUnmarshal checks that arbitrary saved state is rejected or
// restored, never a panic.
func FuzzUnmarshal(f *testing.F) {
	a := newScan(f, nil)
	g := &gen{}
	probes(g, t0, time.Second, 30, "10.0.0.5", hostN("10.1.0.1", 22), tcp, always(att))
	for i := range g.recs {
		a.Observe(&g.recs[i])
	}
	good, err := a.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newScan(t, nil)
		if b.UnmarshalBinary(data) == nil {
			b.Advance(t0.Add(time.Hour), func(flow.Signal) {})
		}
		l, _ := NewLongConn(DefaultLongConfig(), nil, nil)
		if l.UnmarshalBinary(data) == nil {
			l.Advance(t0.Add(time.Hour), func(flow.Signal) {})
		}
	})
}
