package statedb

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, err string
	}{
		{"10.0.0.5", "10.0.0.5", ""},
		{"10.0.0.0/24", "10.0.0.0/24", ""},
		{"10.0.0.5/32", "10.0.0.5", ""},
		{"::ffff:10.0.0.5", "10.0.0.5", ""},
		{"::ffff:10.0.0.0/120", "10.0.0.0/24", ""},
		{"2001:DB8::5", "2001:db8::5", ""},
		{"2001:db8::/64", "2001:db8::/64", ""},
		{"2001:db8::1/128", "2001:db8::1", ""},
		{"", "", ""},
		{"10.0.0.5/24", "", "host bits set: write the address 10.0.0.5 or the network 10.0.0.0/24"},
		{"fe80::1%eth0", "", "not an IP address"},
		{"web01", "", `"web01" is not an IP address or CIDR`},
		{"10.0.0.0/33", "", "not an IP address or CIDR"},
	} {
		got, err := NormalizeAddress(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NormalizeAddress(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestValidateAsset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   Asset
		want Asset
		errs []string
	}{
		{"normalised", Asset{Hostname: " web01.corp.example ", Addresses: []string{"10.0.0.5", "10.0.0.5/32", " 10.0.1.0/24"},
			MAC: "00-1A-2B-3C-4D-5E", Criticality: "HIGH", Tags: []string{"pci", "PCI", " dmz ", ""},
			ExpectedSources: []string{"Winlogbeat:Security", "syslog"}},
			Asset{Hostname: "web01.corp.example", Addresses: []string{"10.0.0.5", "10.0.1.0/24"}, MAC: "00:1a:2b:3c:4d:5e",
				Criticality: "high", Tags: []string{"pci", "dmz"}, ExpectedSources: []string{"winlogbeat:Security", "syslog"}}, nil},
		{"default medium", Asset{Addresses: []string{"192.0.2.1"}},
			Asset{Addresses: []string{"192.0.2.1"}, Criticality: "medium", Tags: []string{}, ExpectedSources: []string{}}, nil},
		{"needs name or address", Asset{Owner: "x"}, Asset{}, []string{"hostname: an asset needs a host name or at least one address"}},
		{"every bad field", Asset{Hostname: "a b", Addresses: []string{"nope"}, MAC: "zz", Criticality: "urgent",
			ExpectedSources: []string{"winlogbeats", "zeek:"}, Tags: []string{"a,b"}}, Asset{}, []string{
			`hostname: "a b" contains ' '`, `addresses: "nope" is not an IP address`, `mac: "zz" is not a MAC address`,
			`criticality: criticality "urgent" must be`, `expected_sources: expected source "winlogbeats": input "winlogbeats" must be one of`,
			`expected_sources: expected source "zeek:": the stream`, `tags: tag "a,b" contains a separator`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateAsset(tc.in)
			if len(tc.errs) > 0 {
				if !errors.Is(err, ErrInvalidAsset) {
					t.Fatalf("error %v, want ErrInvalidAsset", err)
				}
				for _, e := range tc.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q lacks %q", err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameAsset(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestAssetCRUDAndVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, clock := openTestClock(t)
	version := func() int64 {
		t.Helper()
		v, err := d.AssetsVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 0 {
		t.Fatalf("empty inventory version %d", v)
	}
	a, err := d.CreateAsset(ctx, Asset{Hostname: "DC01.corp.example", Addresses: []string{"10.0.0.10"}, Role: "domain controller",
		Criticality: "critical", Tags: []string{"tier0"}, ExpectedSources: []string{"winlogbeat:Security"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ID) != idLen || !a.Created.Equal(baseTime()) || a.Criticality != "critical" {
		t.Fatalf("created %+v", a)
	}
	got, err := d.Asset(ctx, a.ID)
	if err != nil || !sameAsset(got, a) || !got.Created.Equal(a.Created) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, a)
	}
	v1 := version()
	if _, err := d.CreateAsset(ctx, Asset{Hostname: "dc01.CORP.example"}); !errors.Is(err, ErrAssetConflict) {
		t.Fatalf("duplicate host name: %v, want ErrAssetConflict", err)
	}
	if version() != v1 {
		t.Fatal("refused create moved the version")
	}
	clock.Add(time.Hour)
	before, after, err := d.UpdateAsset(ctx, a.ID, AssetPatch{Owner: ptr("it-ops"), Addresses: &[]string{"10.0.0.10", "10.0.0.11"}})
	if err != nil {
		t.Fatal(err)
	}
	if before.Owner != "" || after.Owner != "it-ops" || !slices.Equal(after.Addresses, []string{"10.0.0.10", "10.0.0.11"}) ||
		after.Role != "domain controller" || !after.Updated.Equal(baseTime().Add(time.Hour)) || !after.Created.Equal(baseTime()) {
		t.Fatalf("update: before %+v after %+v", before, after)
	}
	v2 := version()
	if v2 <= v1 {
		t.Fatalf("version %d after update, was %d", v2, v1)
	}
	if _, after2, err := d.UpdateAsset(ctx, a.ID, AssetPatch{Owner: ptr("it-ops")}); err != nil || !after2.Updated.Equal(after.Updated) || version() != v2 {
		t.Fatalf("no-op update wrote: %+v %v", after2, err)
	}
	if _, _, err := d.UpdateAsset(ctx, a.ID, AssetPatch{Criticality: ptr("severe")}); !errors.Is(err, ErrInvalidAsset) {
		t.Fatalf("bad criticality: %v", err)
	}
	if _, _, err := d.UpdateAsset(ctx, "nope", AssetPatch{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	del, err := d.DeleteAsset(ctx, a.ID)
	if err != nil || del.Owner != "it-ops" {
		t.Fatalf("delete returned %+v, %v", del, err)
	}
	if _, err := d.Asset(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted asset still there: %v", err)
	}
	if _, err := d.DeleteAsset(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if version() <= v2 {
		t.Fatal("delete did not move the version")
	}
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM asset_addresses`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d addresses left after delete (%v)", n, err)
	}
}

func TestAssetsFilterAndOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	for _, a := range []Asset{
		{Hostname: "web02", Addresses: []string{"10.0.1.2"}, Role: "web", Criticality: "medium", Tags: []string{"dmz"}},
		{Hostname: "web01", Addresses: []string{"10.0.1.1"}, Role: "Web", Criticality: "medium", Tags: []string{"DMZ", "pci"}},
		{Hostname: "dc01", Addresses: []string{"10.0.0.10"}, Role: "dc", Criticality: "critical", Owner: "Alice 100%"},
		{Hostname: "laptop7", Criticality: "low", Notes: "sales_floor"},
		{Addresses: []string{"10.9.0.0/16"}, Role: "lab", Criticality: "high"},
	} {
		if _, err := d.CreateAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    AssetFilter
		want []string // host names, or first address when none
	}{
		{"all by criticality then name", AssetFilter{}, []string{"dc01", "10.9.0.0/16", "web01", "web02", "laptop7"}},
		{"role ignores case", AssetFilter{Role: "WEB"}, []string{"web01", "web02"}},
		{"tag ignores case", AssetFilter{Tag: "dmz"}, []string{"web01", "web02"}},
		{"tag pci", AssetFilter{Tag: "pci"}, []string{"web01"}},
		{"criticality", AssetFilter{Criticality: "High"}, []string{"10.9.0.0/16"}},
		{"query address", AssetFilter{Query: "10.0.1."}, []string{"web01", "web02"}},
		{"query owner percent is literal", AssetFilter{Query: "100%"}, []string{"dc01"}},
		{"query underscore is literal", AssetFilter{Query: "s_f"}, []string{"laptop7"}},
		{"query tag", AssetFilter{Query: "PC"}, []string{"web01"}},
		{"combined", AssetFilter{Query: "web", Tag: "pci"}, []string{"web01"}},
		{"limit", AssetFilter{Limit: 2}, []string{"dc01", "10.9.0.0/16"}},
		{"nothing", AssetFilter{Role: "printer"}, nil},
	} {
		got, err := d.Assets(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var names []string
		for _, a := range got {
			if a.Hostname != "" {
				names = append(names, a.Hostname)
			} else {
				names = append(names, a.Addresses[0])
			}
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, names, tc.want)
		}
	}
	if _, err := d.Assets(ctx, AssetFilter{Criticality: "urgent"}); !errors.Is(err, ErrInvalidAsset) {
		t.Fatalf("bad criticality filter: %v", err)
	}
}

// importFixture is a database with dc01 (owner it, notes "keep me") and
// two assets sharing the address 10.0.5.5.
func importFixture(t *testing.T) (*DB, Asset) {
	t.Helper()
	ctx := context.Background()
	d := openTest(t)
	existing, err := d.CreateAsset(ctx, Asset{Hostname: "dc01", Addresses: []string{"10.0.0.10"}, Owner: "it", Notes: "keep me"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"shared-a", "shared-b"} {
		if _, err := d.CreateAsset(ctx, Asset{Hostname: h, Addresses: []string{"10.0.5.5"}}); err != nil {
			t.Fatal(err)
		}
	}
	return d, existing
}

func TestImportAssetsByHostname(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, existing := importFixture(t)
	v0, _ := d.AssetsVersion(ctx)
	rows := []AssetPatch{
		{Hostname: ptr("DC01"), Criticality: ptr("critical")},                                          // 0 updates dc01, keeps notes
		{Hostname: ptr("web01"), Addresses: &[]string{"10.0.1.1"}},                                     // 1 creates
		{Hostname: ptr("web01"), Addresses: &[]string{"10.0.1.1"}},                                     // 2 unchanged (created by row 1)
		{Hostname: ptr("bad"), Criticality: ptr("urgent"), MAC: ptr("zz")},                             // 3 two field errors
		{Addresses: &[]string{"10.0.0.10"}, Owner: ptr("it")},                                          // 4 no host name: by address, unchanged
		{Hostname: ptr("shared-a"), Owner: ptr("net")},                                                 // 5 updates
		{Hostname: ptr("dc01"), Owner: ptr("it"), Notes: ptr("keep me"), Criticality: ptr("critical")}, // 6 unchanged
		{Owner: ptr("nobody")},                                  // 7 neither name nor address
		{Addresses: &[]string{"10.0.2.0/24"}, Role: ptr("lab")}, // 8 creates by address
	}
	res, err := d.ImportAssets(ctx, rows, ImportByHostname)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 2 || res.Updated != 2 || res.Unchanged != 3 {
		t.Fatalf("counts %+v", res)
	}
	wantErrs := []ImportError{{Row: 3, Field: "mac"}, {Row: 3, Field: "criticality"}, {Row: 7, Field: "hostname"}}
	if len(res.Errors) != len(wantErrs) {
		t.Fatalf("errors %+v", res.Errors)
	}
	for i, w := range wantErrs {
		if g := res.Errors[i]; g.Row != w.Row || g.Field != w.Field || g.Reason == "" {
			t.Errorf("error %d = %+v, want row %d field %s", i, g, w.Row, w.Field)
		}
	}
	dc, _ := d.Asset(ctx, existing.ID)
	if dc.Criticality != "critical" || dc.Notes != "keep me" || dc.Hostname != "dc01" {
		t.Fatalf("dc01 after import %+v", dc)
	}
	if v, _ := d.AssetsVersion(ctx); v != v0+1 {
		t.Fatalf("version %d after one import, was %d", v, v0)
	}

	if _, err := d.ImportAssets(ctx, nil, "mac"); !errors.Is(err, ErrInvalidAsset) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestImportAssetsByAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := importFixture(t)
	if _, err := d.CreateAsset(ctx, Asset{Hostname: "web01"}); err != nil {
		t.Fatal(err)
	}
	res, err := d.ImportAssets(ctx, []AssetPatch{
		{Addresses: &[]string{"10.0.0.10"}, Role: ptr("dc")},                       // 0 updates dc01
		{Addresses: &[]string{"10.0.5.5"}, Role: ptr("x")},                         // 1 ambiguous
		{Addresses: &[]string{"10.0.3.3"}, Hostname: ptr("dc01")},                  // 2 new asset, taken host name
		{Addresses: &[]string{"10.0.3.3"}, Hostname: ptr("new01")},                 // 3 creates
		{Hostname: ptr("WEB01"), Owner: ptr("web")},                                // 4 no address: by host name, updates
		{Addresses: &[]string{"10.0.3.0/24"}, Hostname: ptr("lab"), Role: ptr("")}, // 5 creates
		{Addresses: &[]string{"10.0.3.0/25"}, Hostname: ptr("lab2")},               // 6 creates
		{Addresses: &[]string{"10.0.3.7/25"}},                                      // 7 bad address
	}, ImportByAddress)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 3 || res.Updated != 2 || res.Unchanged != 0 || len(res.Errors) != 3 {
		t.Fatalf("by address: %+v", res)
	}
	for i, w := range []struct {
		row    int
		reason string
	}{{1, "matches 2 assets"}, {2, "belongs to asset"}, {7, "host bits set"}} {
		if g := res.Errors[i]; g.Row != w.row || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d = %+v, want row %d %q", i, g, w.row, w.reason)
		}
	}
	web, _ := d.Assets(ctx, AssetFilter{Query: "web01"})
	if len(web) != 1 || web[0].Hostname != "web01" || web[0].Owner != "web" {
		t.Fatalf("web01 after import by host name fallback: %+v", web)
	}
	all, _ := d.Assets(ctx, AssetFilter{})
	if len(all) != 7 {
		t.Fatalf("%d assets after the import, want 7", len(all))
	}
}

func TestCriticalityRank(t *testing.T) {
	t.Parallel()
	for c, want := range map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4, "": 0, "HIGH": 0} {
		if got := CriticalityRank(c); got != want {
			t.Errorf("CriticalityRank(%q) = %d, want %d", c, got, want)
		}
	}
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "10.0.0.0/8", "::ffff:1.2.3.4/128", "2001:db8::/32", "1.2.3.4/24", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeAddress(s)
		if err != nil {
			return
		}
		again, err := NormalizeAddress(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeAddress(%q) = %q, which normalises to %q, %v", s, n, again, err)
		}
		if n == "" {
			return
		}
		if strings.Contains(n, "/") {
			if _, err := netip.ParsePrefix(n); err != nil {
				t.Fatalf("%q gave %q, not a prefix", s, n)
			}
		} else if _, err := netip.ParseAddr(n); err != nil {
			t.Fatalf("%q gave %q, not an address", s, n)
		}
	})
}

func FuzzValidateAsset(f *testing.F) {
	f.Add("web01", "10.0.0.1", "00:11:22:33:44:55", "high", "winlogbeat:Security")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, host, addr, mac, crit, src string) {
		a, err := ValidateAsset(Asset{Hostname: host, Addresses: []string{addr}, MAC: mac, Criticality: crit,
			ExpectedSources: []string{src}})
		if err != nil {
			return
		}
		again, err := ValidateAsset(a)
		if err != nil || !sameAsset(a, again) {
			t.Fatalf("validated %+v does not validate to itself: %+v %v", a, again, err)
		}
		if CriticalityRank(a.Criticality) == 0 {
			t.Fatalf("criticality %q accepted", a.Criticality)
		}
	})
}
