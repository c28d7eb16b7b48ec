package correlation

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// benchStream is a pool of matches whose times the benchmark assigns.
type benchStream []Match

// newBenchStream builds n matches: rule names drawn from rules, source
// addresses from ips distinct ones, user names from users, hosts from
// hosts.
func newBenchStream(n int, rules []string, ips, users, hosts int) benchStream {
	rng := rand.New(rand.NewPCG(1, 2))
	s := make(benchStream, n)
	for i := range s {
		ev := &schema.Event{ID: uint64(i + 1)}
		ip := fmt.Sprintf("10.%d.%d.%d", rng.IntN(ips)>>16, rng.IntN(ips)>>8&255, rng.IntN(ips)&255)
		ev.Source.IP = ip
		ev.Host.Name = fmt.Sprintf("ws%d", rng.IntN(hosts))
		ev.Fields.Add("IpAddress", ip)
		ev.Fields.Add("TargetUserName", fmt.Sprintf("user%d", rng.IntN(users)))
		ev.Fields.Add("User", fmt.Sprintf("user%d", rng.IntN(users)))
		s[i] = Match{RuleName: rules[rng.IntN(len(rules))], Event: ev}
	}
	return s
}

// BenchmarkObserve measures Observe per match: for each correlation type
// alone, for all fixtures together, and for matches of rules that no
// correlation references. Event time advances 10ms per match, so state
// ages out as it would live.
func BenchmarkObserve(b *testing.B) {
	all, allRefs := loadFixture(b, "bruteforce.yml", "spraying.yml", "lateral.yml", "chain.yml")
	bf, bfRefs := loadFixture(b, "bruteforce.yml")
	sp, spRefs := loadFixture(b, "spraying.yml")
	lat, latRefs := loadFixture(b, "lateral.yml")
	cases := []struct {
		name   string
		rules  []*Rule
		refs   []RuleRef
		stream benchStream
	}{
		{"event_count", bf, bfRefs, newBenchStream(1<<16, []string{"failed_logon"}, 2000, 100, 100)},
		{"value_count", sp, spRefs, newBenchStream(1<<16, []string{"failed_logon_account"}, 2000, 100, 100)},
		{"temporal_ordered", lat, latRefs, newBenchStream(1<<16,
			[]string{"recon_commands", "credential_dump", "lateral_movement"}, 100, 100, 2000)},
		{"mixed", all, allRefs, newBenchStream(1<<16, []string{"failed_logon", "failed_logon_account", "recon_commands",
			"credential_dump", "lateral_movement", "failed_login", "successful_login"}, 2000, 500, 2000)},
		{"unreferenced", all, allRefs, newBenchStream(1<<16, []string{"some_other_rule"}, 2000, 100, 100)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := mustEngine(b, tc.rules, Options{BaseRules: tc.refs})
			fired := 0
			emit := func(Result) { fired++ }
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m := tc.stream[i%len(tc.stream)]
				m.Time = base().Add(time.Duration(i) * 10 * time.Millisecond)
				e.Observe(m, emit)
				i++
			}
			s := e.Stats()
			b.ReportMetric(float64(s.Groups), "groups")
			b.ReportMetric(float64(s.Bytes)/1024, "state-KiB")
			b.ReportMetric(float64(fired)/float64(i)*1000, "fired/1k")
		})
	}
}
