package flow_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

func TestPrevalence(t *testing.T) {
	t.Parallel()
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := flow.NewPrevalence(7, 4)
	cdn := netip.MustParseAddr("198.51.100.1")
	rare := netip.MustParseAddr("203.0.113.9")
	for i := range 10 {
		h := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
		p.Observe(h, cdn, "cdn.example", day0.Add(time.Duration(i)*time.Hour))
	}
	p.Observe(netip.MustParseAddr("10.0.0.1"), rare, "", day0)
	if got := p.Hosts(cdn); got != 4 {
		t.Errorf("Hosts(cdn) = %d, want the cap 4", got)
	}
	if got := p.HostsName("cdn.example"); got != 4 {
		t.Errorf("HostsName = %d", got)
	}
	if got := p.Hosts(rare); got != 1 {
		t.Errorf("Hosts(rare) = %d", got)
	}
	if got := p.Population(); got != 10 {
		t.Errorf("Population = %d", got)
	}
	data, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q := flow.NewPrevalence(7, 4)
	if err := q.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if q.Hosts(rare) != 1 || q.Population() != 10 || q.HostsName("cdn.example") != 4 {
		t.Error("restore lost state")
	}
	// Eight days later everything has aged out and is forgotten.
	q.Advance(day0.Add(8 * 24 * time.Hour))
	if q.Hosts(cdn) != 0 || q.Population() != 0 {
		t.Error("old hosts still counted")
	}
	if d, h, _ := q.Size(); d != 0 || h != 0 {
		t.Errorf("Size = %d dests, %d hosts after expiry", d, h)
	}
	if err := q.UnmarshalBinary([]byte("junk")); err == nil {
		t.Error("junk state accepted")
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	s, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"10.1.2.3": true, "192.168.0.1": true, "8.8.8.8": false, "fd00::1": true, "2001:db8::1": false} {
		if got := s.Contains(netip.MustParseAddr(a)); got != want {
			t.Errorf("Contains(%s) = %v", a, got)
		}
	}
	if _, err := flow.NewSet([]string{"10.0.0.0/33", "nope", "1.2.3.4"}); err == nil {
		t.Error("bad entries accepted")
	}
	var nilSet *flow.Set
	if nilSet.Contains(netip.MustParseAddr("10.0.0.1")) || nilSet.Len() != 0 {
		t.Error("nil set")
	}
}
