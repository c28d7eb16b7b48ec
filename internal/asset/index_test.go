package asset

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// testInventory is a small inventory with overlapping addresses and names.
func testInventory() []statedb.Asset {
	return []statedb.Asset{
		{ID: "A1", Hostname: "DC01.corp.example", Addresses: []string{"10.0.0.10"}, Role: "dc", Criticality: "critical"},
		{ID: "A2", Hostname: "web01", Addresses: []string{"10.0.1.1", "2001:db8::1"}, Role: "web", Criticality: "high"},
		{ID: "A3", Addresses: []string{"10.0.0.0/16"}, Role: "office", Criticality: "low"},
		{ID: "A4", Addresses: []string{"10.0.0.0/24"}, Role: "servers", Criticality: "medium"},
		{ID: "A5", Hostname: "app01.eu.example", Criticality: "medium"},
		{ID: "A6", Hostname: "app01.us.example", Criticality: "medium"},
		// A7 and A8 share an address: the more critical wins.
		{ID: "A7", Hostname: "vip-a", Addresses: []string{"10.0.9.9"}, Criticality: "low"},
		{ID: "A8", Hostname: "vip-b", Addresses: []string{"10.0.9.9"}, Criticality: "high"},
	}
}

func TestIndexLookupAddr(t *testing.T) {
	t.Parallel()
	idx, err := NewIndex(testInventory(), []Static{
		{Address: "10.0.0.10", Name: "cfg-dc", Criticality: "low"}, // loses to the inventory
		{Address: "172.16.5.5", Name: "nas", Role: "storage", Criticality: "high", Sensitive: true},
		{Address: "172.16.0.0/12", Name: "branch"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 11 {
		t.Fatalf("Len %d", idx.Len())
	}
	for _, tc := range []struct {
		addr, id, name, crit string
		sensitive            bool
	}{
		{"10.0.0.10", "A1", "DC01.corp.example", "critical", false},
		{"::ffff:10.0.0.10", "A1", "DC01.corp.example", "critical", false},
		{"10.0.0.77", "A4", "10.0.0.0/24", "medium", false}, // most specific CIDR
		{"10.0.200.1", "A3", "10.0.0.0/16", "low", false},
		{"2001:db8::1", "A2", "web01", "high", false},
		{"10.0.9.9", "A8", "vip-b", "high", false},
		{"172.16.5.5", "", "nas", "high", true},
		{"172.20.1.1", "", "branch", "medium", false},
		{"192.0.2.1", "", "", "", false},
	} {
		e, ok := idx.LookupAddr(netip.MustParseAddr(tc.addr))
		if tc.name == "" {
			if ok {
				t.Errorf("%s: found %+v, want nothing", tc.addr, e.Asset)
			}
			continue
		}
		if !ok || e.ID != tc.id || e.Name != tc.name || e.Criticality != tc.crit || e.Sensitive != tc.sensitive {
			t.Errorf("%s: got %+v (ok %v), want id %q name %q criticality %q", tc.addr, e, ok, tc.id, tc.name, tc.crit)
			continue
		}
		if (e.Record == nil) != (tc.id == "") {
			t.Errorf("%s: record %v", tc.addr, e.Record)
		}
	}
	var nilIdx *Index
	if _, ok := nilIdx.LookupAddr(netip.MustParseAddr("10.0.0.10")); ok || nilIdx.Len() != 0 {
		t.Fatal("nil index found something")
	}
}

func TestIndexLookupHost(t *testing.T) {
	t.Parallel()
	idx, err := NewIndex(testInventory(), []Static{{Address: "10.1.1.1", Name: "web01"}, {Address: "10.1.1.2", Name: "nas01"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, id string }{
		{"DC01.corp.example", "A1"},
		{"dc01.CORP.example.", "A1"},
		{"dc01", "A1"},               // short name finds the FQDN
		{"DC01", "A1"},               //
		{"web01.corp.example", "A2"}, // FQDN finds the short name
		{"WEB01", "A2"},              // the inventory wins over the static entry
		{"app01.eu.example", "A5"},   //
		{"app01", ""},                // shared short name: ambiguous
		{"dc01.other.example", ""},   // two full names in different domains do not match
		{"nas01", ""},                // static names are found ...
		{"10.0.0.10", ""},            // an address is not a host name
		{"", ""},
	} {
		e, ok := idx.LookupHost(tc.name)
		switch {
		case tc.name == "nas01":
			if !ok || e.Name != "nas01" || e.Record != nil {
				t.Errorf("%q: got %+v, %v; want the static entry", tc.name, e, ok)
			}
		case tc.id == "" && ok:
			t.Errorf("%q: found %s, want nothing", tc.name, e.ID)
		case tc.id != "" && (!ok || e.ID != tc.id):
			t.Errorf("%q: got %+v, %v; want %s", tc.name, e, ok, tc.id)
		}
	}
}

func TestIndexReportsBadEntriesAndKeepsGood(t *testing.T) {
	t.Parallel()
	idx, err := NewIndex([]statedb.Asset{{ID: "A1", Hostname: "ok", Addresses: []string{"10.0.0.1", "bogus"}}},
		[]Static{{Address: "nope", Name: "x"}, {Address: "10.2.0.0/16", Name: "y", Criticality: "extreme"},
			{Address: "10.3.0.0/16", Name: "z"}})
	if err == nil {
		t.Fatal("no error for bad entries")
	}
	for _, want := range []string{`"bogus" is not an IP`, `static asset 0 (x)`, `static asset 1 (y)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if e, ok := idx.LookupAddr(netip.MustParseAddr("10.0.0.1")); !ok || e.ID != "A1" {
		t.Fatal("good inventory address lost")
	}
	if e, ok := idx.LookupAddr(netip.MustParseAddr("10.3.4.5")); !ok || e.Name != "z" {
		t.Fatal("good static entry lost")
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "::ffff:10.0.0.1", "fe80::1%eth0", "2001:DB8::1", "web01", "", "1.2.3", "deadbeef"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := netip.ParseAddr(s)
		got, ok := ParseAddr(s)
		if ok != (err == nil) || (ok && got != want.Unmap()) {
			t.Fatalf("ParseAddr(%q) = %v, %v; netip says %v, %v", s, got, ok, want, err)
		}
	})
}

func FuzzLookupHost(f *testing.F) {
	for _, s := range []string{"DC01", "dc01.corp.example.", "WEB01.Corp.Example", "app01", "10.0.0.10", "ÄPP01.eu.example", ""} {
		f.Add(s)
	}
	idx, err := NewIndex(append(testInventory(), statedb.Asset{ID: "U", Hostname: "äpp01.eu.example"}), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		e1, ok1 := idx.LookupHost(name)
		e2, ok2 := idx.LookupHost(strings.ToLower(name))
		if ok1 != ok2 || e1 != e2 {
			t.Fatalf("LookupHost(%q) = %v, %v but its lower case gives %v, %v", name, e1, ok1, e2, ok2)
		}
	})
}
