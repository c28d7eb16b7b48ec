package asset

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

func TestUnknown(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	idx, err := NewIndex(testInventory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sources := []statedb.Source{
		{Host: "dc01", Input: "winlogbeat", FirstSeen: at(0), LastSeen: at(50), Events: 10}, // known by short name
		{Host: "ws17", Input: "winlogbeat", FirstSeen: at(5), LastSeen: at(30), Events: 4},
		{Host: "WS17", Input: "syslog", FirstSeen: at(2), LastSeen: at(20), Events: 1},
		{Host: "192.168.7.7", Input: "syslog", FirstSeen: at(1), LastSeen: at(10), Events: 2},
		{Host: "10.0.0.10", Input: "syslog", FirstSeen: at(1), LastSeen: at(60)}, // known address
		{Host: "unknown", Input: "ndjson", FirstSeen: at(1), LastSeen: at(60)},
		{Host: "auth.log", Input: "import:syslog", FirstSeen: at(1), LastSeen: at(60)}, // a file's rejects
		{Host: "old", Input: "syslog", FirstSeen: at(-600), LastSeen: at(-500)},        // before since
	}
	pc := NewPeerCollector(nil)
	pc.Add("192.168.7.7", "203.0.113.9", at(3), at(40), 5)
	pc.Add("192.168.7.7", "192.168.7.8", at(4), at(8), 1)
	pc.Add("10.0.1.1", "8.8.8.8", at(0), at(70), 9) // known
	pc.Add("198.51.100.1", "203.0.113.9", at(0), at(90), 1)
	var gotSince time.Time
	peers := func(_ context.Context, since time.Time) ([]Peer, error) {
		gotSince = since
		return pc.Peers(), nil
	}
	got, err := Unknown(context.Background(), idx, sources, peers, at(-60))
	if err != nil {
		t.Fatal(err)
	}
	if !gotSince.Equal(at(-60)) {
		t.Fatalf("peers asked since %v", gotSince)
	}
	want := []UnknownAsset{
		{Address: "192.168.7.7", FirstSeen: at(1), LastSeen: at(40), SeenAs: []string{"syslog", "flow"}, Events: 2,
			Connections: 6, Peers: 2},
		{Host: "ws17", FirstSeen: at(2), LastSeen: at(30), SeenAs: []string{"syslog", "winlogbeat"}, Events: 5},
		{Address: "192.168.7.8", FirstSeen: at(4), LastSeen: at(8), SeenAs: []string{"flow"}, Connections: 1, Peers: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d unknown: %+v", len(got), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Host != w.Host || g.Address != w.Address || !g.FirstSeen.Equal(w.FirstSeen) || !g.LastSeen.Equal(w.LastSeen) ||
			!slices.Equal(g.SeenAs, w.SeenAs) || g.Events != w.Events || g.Connections != w.Connections || g.Peers != w.Peers {
			t.Errorf("%d: got %+v\nwant %+v", i, g, w)
		}
	}
	boom := errors.New("store closed")
	if _, err := Unknown(context.Background(), idx, nil, func(context.Context, time.Time) ([]Peer, error) { return nil, boom },
		t0); !errors.Is(err, boom) {
		t.Fatalf("peers error: %v", err)
	}
}

func TestPeerCollectorKeepsInternalOnly(t *testing.T) {
	t.Parallel()
	internal, err := flow.NewSet([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	pc := NewPeerCollector(internal)
	pc.Add("10.1.1.1", "192.168.1.1", time.Unix(10, 0), time.Unix(20, 0), 2)
	pc.Add("::ffff:10.1.1.1", "not-an-ip", time.Unix(5, 0), time.Unix(15, 0), 1)
	ps := pc.Peers()
	if len(ps) != 1 || ps[0].Addr != netip.MustParseAddr("10.1.1.1") || ps[0].Connections != 3 || ps[0].Peers != 2 ||
		ps[0].FirstSeen.Unix() != 5 || ps[0].LastSeen.Unix() != 20 {
		t.Fatalf("peers %+v", ps)
	}
}
