package netsim

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// small is a quick run: 30 hosts over two days, the scenarios on both.
func small(seed uint64) Options { return Options{Seed: seed, Hosts: 30, Days: 2, AttackDay: 1} }

// digest returns a hash of the first limit records of g's byte stream (log
// names and JSON; all of it when limit is 0) and how many it hashed.
func digest(g *Generator, limit int) ([32]byte, int) {
	h := sha256.New()
	n := 0
	for r, ok := g.Next(); ok && (limit == 0 || n < limit); r, ok = g.Next() {
		h.Write([]byte(r.Log))
		h.Write(r.JSON)
		h.Write([]byte{'\n'})
		n++
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		a, b  Options
		limit int // records compared, 0 = all
		same  bool
	}{
		{"same seed", small(7), small(7), 0, true},
		{"different seed", small(7), small(8), 2000, false},
		{"different hosts", small(7), Options{Seed: 7, Hosts: 31, Days: 2, AttackDay: 1}, 2000, false},
		{"different browse scale", small(7), Options{Seed: 7, Hosts: 30, Days: 2, AttackDay: 1, BrowseScale: 1.5},
			50000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ga, gb := mustNew(t, tc.a), mustNew(t, tc.b)
			ha, na := digest(ga, tc.limit)
			hb, nb := digest(gb, tc.limit)
			if (ha == hb) != tc.same {
				t.Errorf("streams equal = %v (%d and %d records), want %v", ha == hb, na, nb, tc.same)
			}
			if tc.same && !reflect.DeepEqual(ga.Truth(), gb.Truth()) {
				t.Errorf("same options, different truth")
			}
		})
	}
}

// TestScenariosOnlyAdd checks that injecting the scenarios leaves every
// background record as it was: the run without scenarios is a
// subsequence of the run with them, and every added record belongs to a
// truth entry.
func TestScenariosOnlyAdd(t *testing.T) {
	t.Parallel()
	none := small(3)
	none.Scenarios = []string{}
	base := mustNew(t, none)
	if len(base.Truth()) != 0 {
		t.Fatalf("no scenarios enabled, but Truth has %d entries", len(base.Truth()))
	}
	want, ok := base.Next()
	g := mustNew(t, small(3))
	truth := g.Truth()
	added := 0
	drive(t, g, func(s *seen) {
		if ok && bytes.Equal(s.r.JSON, want.JSON) {
			want, ok = base.Next()
			return
		}
		added++
		if !s.has {
			if s.r.Log != LogSSL {
				t.Fatalf("added record without a flow view: %s", s.r.JSON)
			}
			return
		}
		for i := range truth {
			if truth[i].Matches(&s.fr) || lookupOf(&truth[i], &s.fr) {
				return
			}
		}
		t.Fatalf("added record matches no truth entry: %s", s.r.JSON)
	})
	if ok {
		t.Fatalf("background record missing from the run with scenarios: %s", want.JSON)
	}
	t.Logf("scenarios added %d records", added)
}

// lookupOf reports whether r is a DNS query, or the conn record of one, a
// scenario's host makes during the scenario: the lookups of the names it
// connects to.
func lookupOf(t *Truth, r *flow.Record) bool {
	dns := r.Kind == flow.KindDNS || (r.Kind == flow.KindFlow && r.Service == "dns" && r.DstPort == 53)
	return dns && r.Src == t.Src && !r.Start.Before(t.Start) && !r.Start.After(t.End)
}

// TestSelectScenarios checks that Options.Scenarios and Options.Benign pick
// what runs.
func TestSelectScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		scenarios, benign []string
		wantTruth         []string
		wantBenign        []string
	}{
		{"all", nil, nil, Scenarios(), []string{BenignNTP, BenignNTP, BenignMonitoring, BenignAVUpdate,
			BenignBackup, BenignBackup, BenignUpdateBurst, BenignCDN, BenignCDN}},
		{"none", []string{}, []string{}, nil, nil},
		{"two", []string{ScenarioDGA, ScenarioBeacon60s}, []string{BenignBackup},
			[]string{ScenarioBeacon60s, ScenarioDGA}, []string{BenignBackup, BenignBackup}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := small(1)
			o.Scenarios, o.Benign = tc.scenarios, tc.benign
			g := mustNew(t, o)
			if got := names(g.Truth()); !reflect.DeepEqual(got, tc.wantTruth) {
				t.Errorf("Truth = %q, want %q", got, tc.wantTruth)
			}
			if got := names(g.Benign()); !reflect.DeepEqual(got, tc.wantBenign) {
				t.Errorf("Benign = %q, want %q", got, tc.wantBenign)
			}
		})
	}
}

func names(ts []Truth) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Scenario)
	}
	return out
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
		want []string // every part must be in the error
	}{
		{"days", Options{Days: -1}, []string{"days -1"}},
		{"too few hosts", Options{Hosts: 12}, []string{"hosts 12 is outside 30..20000"}},
		{"attack day after the run", Options{Days: 5, AttackDay: 6}, []string{"attack day 6 is outside 1..5"}},
		{"sites", Options{Sites: 10}, []string{"sites 10"}},
		{"scale", Options{BrowseScale: -2}, []string{"browse scale -2"}},
		{"unknown names", Options{Scenarios: []string{"beacon-7s"}, Benign: []string{"printer"}},
			[]string{`unknown scenarios ["beacon-7s"]`, `unknown benign activities ["printer"]`}},
		{"every bad value at once", Options{Days: 1000, Hosts: 1, Sites: 1},
			[]string{"days 1000", "hosts 1", "sites 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.o)
			if err == nil {
				t.Fatalf("New(%+v) succeeded", tc.o)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	g := mustNew(t, Options{})
	o := g.Options()
	if o.Days != 10 || o.Hosts != 60 || o.AttackDay != 8 || o.Sites != 2000 || o.BrowseScale != 1 {
		t.Errorf("defaults = %+v", o)
	}
	if !g.Start().Equal(DefaultStart()) || g.Start().Weekday() != time.Monday {
		t.Errorf("start %v, want %v (a Monday)", g.Start(), DefaultStart())
	}
	if d := g.End().Sub(g.Start()); d != 240*time.Hour {
		t.Errorf("run lasts %v, want ten days", d)
	}
	for _, tr := range g.Truth() {
		if day := int(tr.Start.Sub(g.Start()).Hours() / 24); day < 7 {
			t.Errorf("%s starts on day %d, inside the seven-day learning period", tr.Scenario, day+1)
		}
	}
	// A short run moves the attack day in.
	if g := mustNew(t, Options{Days: 3}); g.Options().AttackDay != 3 {
		t.Errorf("3-day run: attack day %d, want 3", g.Options().AttackDay)
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	n := mustNew(t, Options{}).Network()
	if len(n.Hosts) != 60 {
		t.Fatalf("%d hosts, want 60", len(n.Hosts))
	}
	set, err := flow.NewSet(n.Internal())
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, h := range n.Hosts {
		roles[h.Role]++
		if !set.Contains(h.IP) || !h.Subnet.Contains(h.IP) {
			t.Errorf("%s %v is not in the internal networks", h.Name, h.IP)
		}
	}
	want := map[string]int{RoleWeb: 2, RoleDB: 1, RoleMail: 1, RoleBastion: 1, RoleDC: 1, RoleFileServer: 1,
		RoleBackup: 1, RoleDNS: 1, RoleWorkstation: 51}
	if !reflect.DeepEqual(roles, want) {
		t.Errorf("roles = %v, want %v", roles, want)
	}
	tests := []struct {
		name, ip, role string
		sensitive      bool
	}{
		{"dc-01", "10.10.2.10", RoleDC, true},
		{"db-01", "10.10.1.21", RoleDB, true},
		{"fs-01", "10.10.2.20", RoleFileServer, true},
		{"backup-01", "10.10.2.30", RoleBackup, true},
		{"ns-01", "10.10.2.53", RoleDNS, false},
		{"ws-03", "10.10.3.103", RoleWorkstation, false},
		{"ws-51", "10.10.3.151", RoleWorkstation, false},
	}
	for _, tc := range tests {
		h, ok := n.Host(tc.name)
		if !ok || h.IP.String() != tc.ip || h.Role != tc.role || h.Sensitive != tc.sensitive {
			t.Errorf("%s = %+v, want %s %s sensitive=%v", tc.name, h, tc.ip, tc.role, tc.sensitive)
		}
		if byIP, _ := n.HostByIP(h.IP); byIP.Name != tc.name {
			t.Errorf("HostByIP(%v) = %q, want %q", h.IP, byIP.Name, tc.name)
		}
	}
	if n.Resolver.String() != "10.10.2.53" {
		t.Errorf("resolver %v", n.Resolver)
	}
	// Many hosts spill into more workstation subnets.
	big := mustNew(t, Options{Hosts: 400, Days: 1}).Network()
	if len(big.Subnets) != 5 || len(big.Hosts) != 400 {
		t.Errorf("400 hosts: %d subnets, %d hosts; want 5 and 400", len(big.Subnets), len(big.Hosts))
	}
}

func TestClone(t *testing.T) {
	t.Parallel()
	g := mustNew(t, small(1))
	r, _ := g.Next()
	c := r.Clone()
	if &c.JSON[0] == &r.JSON[0] || !bytes.Equal(c.JSON, r.JSON) || c.Time != r.Time || c.Log != r.Log {
		t.Errorf("Clone shares the generator's buffer or lost fields")
	}
}
