package netsim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

func TestMatchesSignal(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr
	beacon := Truth{Kind: flow.SignalBeacon, Src: a("10.10.3.110"), Dst: a("203.0.113.7"), Port: 443,
		Start: at, End: at.Add(4 * time.Hour)}
	sni := Truth{Kind: flow.SignalBeacon, Src: a("10.10.3.103"), Dst: a("203.0.113.200"),
		Name: "update-check.example.org", Start: at, End: at.Add(24 * time.Hour)}
	exfil := Truth{Kind: flow.SignalExfil, Also: []string{flow.SignalBaseline}, Src: a("10.10.1.21"),
		Dst: a("198.51.100.9"), Start: at, End: at.Add(time.Hour)}
	tunnel := Truth{Kind: flow.SignalDNSTunnel, Src: a("10.10.3.120"), Name: "cloud-syncer.net", Start: at,
		End: at.Add(time.Hour)}
	hscan := Truth{Kind: flow.SignalScan, Src: a("10.10.3.130"), Targets: netip.MustParsePrefix("10.10.3.0/24"),
		Start: at, End: at.Add(2 * time.Minute)}
	vscan := Truth{Kind: flow.SignalScan, Src: a("198.51.100.201"), Dst: a("10.10.1.11"), Start: at,
		End: at.Add(2 * time.Minute)}
	ntp := Truth{Kind: flow.SignalBeacon, Benign: true, Dst: a("198.19.0.123"), Start: at.Add(-200 * time.Hour),
		End: at.Add(40 * time.Hour)}
	win := func(s flow.Signal) flow.Signal { s.Start, s.End = at, at.Add(time.Hour); return s }
	tests := []struct {
		name string
		t    Truth
		s    flow.Signal
		want bool
	}{
		{"beacon found", beacon, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.110"), Peer: a("203.0.113.7")}), true},
		{"wrong kind", beacon, win(flow.Signal{Kind: flow.SignalExfil, Host: a("10.10.3.110"), Peer: a("203.0.113.7")}), false},
		{"wrong host", beacon, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.111"), Peer: a("203.0.113.7")}), false},
		{"wrong peer", beacon, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.110"), Peer: a("203.0.113.8")}), false},
		{"window a day later", beacon, flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.110"),
			Start: at.Add(28 * time.Hour), End: at.Add(29 * time.Hour)}, false},
		{"window closing within the slack", beacon, flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.110"),
			Start: at.Add(4 * time.Hour), End: at.Add(5 * time.Hour)}, true},
		{"no window", beacon, flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.110")}, true},
		{"beacon by server name", sni, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.103"),
			PeerName: "update-check.example.org"}), true},
		{"beacon by registered domain", sni, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.103"),
			PeerName: "example.org"}), true},
		{"beacon to another name", sni, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.103"),
			PeerName: "www.example.org"}), false},
		{"exfil as a baseline deviation", exfil, win(flow.Signal{Kind: flow.SignalBaseline, Host: a("10.10.1.21")}), true},
		{"tunnel by domain only", tunnel, win(flow.Signal{Kind: flow.SignalDNSTunnel, PeerName: "cloud-syncer.net"}), true},
		{"tunnel from its host", tunnel, win(flow.Signal{Kind: flow.SignalDNSTunnel, Host: a("10.10.3.120"),
			PeerName: "cloud-syncer.net"}), true},
		{"signal with neither host nor name", tunnel, win(flow.Signal{Kind: flow.SignalDNSTunnel}), false},
		{"horizontal scan about a target", hscan, win(flow.Signal{Kind: flow.SignalScan, Host: a("10.10.3.150"),
			Peer: a("10.10.3.130")}), true},
		{"vertical scan reported on the target", vscan, win(flow.Signal{Kind: flow.SignalScan, Host: a("10.10.1.11"),
			Peer: a("198.51.100.201")}), true},
		{"benign of every host, any host", ntp, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.140"),
			Peer: a("198.19.0.123")}), true},
		{"benign of every host, other peer", ntp, win(flow.Signal{Kind: flow.SignalBeacon, Host: a("10.10.3.140"),
			Peer: a("198.19.1.123")}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.t.MatchesSignal(&tc.s); got != tc.want {
				t.Errorf("MatchesSignal = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr
	vscan := Truth{Kind: flow.SignalScan, Src: a("198.51.100.201"), Dst: a("10.10.1.11"), Port: 1, PortMax: 1024,
		Proto: flow.ProtoTCP, Start: at, End: at.Add(2 * time.Minute)}
	dga := Truth{Kind: flow.SignalDGA, Src: a("10.10.3.140"), Start: at, End: at.Add(5 * time.Minute)}
	tunnel := Truth{Kind: flow.SignalDNSTunnel, Src: a("10.10.3.120"), Name: "cloud-syncer.net", Start: at,
		End: at.Add(time.Hour)}
	scan := func(port uint16, proto uint8, when time.Time) flow.Record {
		return flow.Record{Kind: flow.KindFlow, Src: a("198.51.100.201"), Dst: a("10.10.1.11"), DstPort: port,
			Proto: proto, Start: when}
	}
	dns := func(src, name, rcode string) flow.Record {
		return flow.Record{Kind: flow.KindDNS, Src: a(src), Name: name, RCode: rcode, Start: at.Add(time.Minute)}
	}
	tests := []struct {
		name string
		t    Truth
		r    flow.Record
		want bool
	}{
		{"scan probe", vscan, scan(1024, flow.ProtoTCP, at.Add(time.Minute)), true},
		{"port past the range", vscan, scan(1025, flow.ProtoTCP, at.Add(time.Minute)), false},
		{"other protocol", vscan, scan(80, flow.ProtoUDP, at.Add(time.Minute)), false},
		{"before the start", vscan, scan(80, flow.ProtoTCP, at.Add(-time.Second)), false},
		{"at the end", vscan, scan(80, flow.ProtoTCP, at.Add(2*time.Minute)), true},
		{"nxdomain", dga, dns("10.10.3.140", "qwkrtzhv.com", "NXDOMAIN"), true},
		{"answered lookup", dga, dns("10.10.3.140", "example.com", "NOERROR"), false},
		{"another host's nxdomain", dga, dns("10.10.3.141", "qwkrtzhv.com", "NXDOMAIN"), false},
		{"tunnel query", tunnel, dns("10.10.3.120", "mzxw6ytb.cloud-syncer.net", "NOERROR"), true},
		{"look-alike domain", tunnel, dns("10.10.3.120", "mzxw6ytb.notcloud-syncer.net", "NOERROR"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.t.Matches(&tc.r); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}
