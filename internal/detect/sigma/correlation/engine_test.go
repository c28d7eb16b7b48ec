package correlation

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestBruteForceEventCount(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "bruteforce.yml")
	ip := func(a string) func(int) string { return fixed("source.ip=" + a) }
	cat := func(parts ...[]step) []step { return slices.Concat(parts...) }
	tests := []struct {
		name    string
		steps   []step
		want    []int // Count of each result, in order
		groups  []string
		missing uint64
	}{
		{"nine attempts do not fire", every("failed_logon", 9, 0, 10*time.Second, ip("10.0.0.1")), nil, nil, 0},
		{"ten in five minutes fire once", every("failed_logon", 10, 0, 20*time.Second, ip("10.0.0.2")),
			[]int{10}, []string{"10.0.0.2"}, 0},
		{"ten spread over ten minutes do not fire", every("failed_logon", 10, 0, 66*time.Second, ip("10.0.0.3")), nil, nil, 0},
		{"window bounds are inclusive", every("failed_logon", 10, 0, 5*time.Minute/9, ip("10.0.0.4")),
			[]int{10}, []string{"10.0.0.4"}, 0},
		{"25 in two minutes fire twice, then reset", every("failed_logon", 25, 0, 5*time.Second, ip("10.0.0.5")),
			[]int{10, 10}, []string{"10.0.0.5", "10.0.0.5"}, 0},
		{"two sources interleaved fire separately", cat(
			every("failed_logon", 10, 0, 10*time.Second, ip("10.0.0.6")),
			every("failed_logon", 10, 5*time.Second, 10*time.Second, ip("10.0.0.7")),
		), []int{10, 10}, []string{"10.0.0.6", "10.0.0.7"}, 0},
		{"a slow burst that speeds up fires on the fast part", cat(
			every("failed_logon", 5, 0, 4*time.Minute, ip("10.0.0.8")),
			every("failed_logon", 9, 17*time.Minute, 10*time.Second, ip("10.0.0.8")),
		), []int{10}, []string{"10.0.0.8"}, 0},
		{"events without source.ip are not counted", every("failed_logon", 12, 0, time.Second, fixed("")), nil, nil, 12},
		{"other rules are ignored", every("something_else", 20, 0, time.Second, ip("10.0.0.9")), nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{BaseRules: refs})
			steps := slices.Clone(tc.steps)
			slices.SortStableFunc(steps, func(a, b step) int { return int(a.offset - b.offset) })
			got := run(e, steps)
			if !slices.Equal(counts(got), tc.want) {
				t.Fatalf("counts = %v, want %v", counts(got), tc.want)
			}
			for i, r := range got {
				if r.Group[0].Field != "source.ip" || r.Group[0].Value != tc.groups[i] {
					t.Errorf("result %d group = %v, want source.ip=%s", i, r.Group, tc.groups[i])
				}
				if len(r.EventIDs) != r.Count || r.Last.Sub(r.First) > 5*time.Minute || r.Intermediate {
					t.Errorf("result %d = %+v", i, r)
				}
			}
			if s := e.Stats(); s.MissingField != tc.missing || s.Fired != uint64(len(tc.want)) {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestPasswordSprayingValueCount(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "spraying.yml")
	const id = "id=5f0e3a52-3c2b-4a8e-b5c2-1b7e2f0a2001"
	users := func(ip string, n int) func(int) string {
		return func(i int) string { return fmt.Sprintf("IpAddress=%s TargetUserName=user%d", ip, i%n) }
	}
	tests := []struct {
		name       string
		steps      []step
		distinct   []int
		maxEntries int // entries held afterwards at most
	}{
		{"many attempts on three users do not fire", every(id, 300, 0, time.Second, users("10.1.0.1", 3)), nil, 7},
		{"six users fire at the fifth", every(id, 6, 0, 30*time.Second, users("10.1.0.2", 6)), []int{5}, 1},
		{"five users over twelve minutes do not fire", every(id, 5, 0, 3*time.Minute, users("10.1.0.3", 5)), nil, 5},
		{"referenced by name through BaseRules", every("name=failed_logon_account", 5, 0, time.Second, users("10.1.0.4", 5)),
			[]int{5}, 0},
		{"two addresses counted apart", slices.Concat(
			every(id, 3, 0, time.Second, users("10.1.0.5", 3)),
			every(id, 3, 10*time.Second, time.Second, users("10.1.0.6", 3)),
		), nil, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{BaseRules: refs})
			got := run(e, tc.steps)
			var distinct []int
			for _, r := range got {
				distinct = append(distinct, r.Distinct)
				if len(r.Values) != r.Distinct || r.Group[0].Field != "IpAddress" {
					t.Errorf("result %+v", r)
				}
			}
			if !slices.Equal(distinct, tc.distinct) {
				t.Fatalf("distinct = %v, want %v", distinct, tc.distinct)
			}
			if s := e.Stats(); s.Entries > tc.maxEntries {
				t.Errorf("%d entries held, want at most %d (compaction)", s.Entries, tc.maxEntries)
			}
		})
	}
}

func TestTemporalOrderedChain(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "lateral.yml")
	const (
		recon = "recon_commands"
		dump  = "credential_dump"
		move  = "lateral_movement"
	)
	on := func(rule string, minutes int, host string) step {
		return step{rule: rule, offset: time.Duration(minutes) * time.Minute, fields: "host.name=" + host}
	}
	tests := []struct {
		name  string
		steps []step
		want  int
	}{
		{"in order on one host", []step{on(recon, 0, "ws1"), on(dump, 5, "ws1"), on(move, 10, "ws1")}, 1},
		{"wrong order", []step{on(dump, 0, "ws1"), on(recon, 5, "ws1"), on(move, 10, "ws1")}, 0},
		{"repeats in between", []step{on(recon, 0, "ws1"), on(recon, 1, "ws1"), on(dump, 2, "ws1"),
			on(recon, 3, "ws1"), on(dump, 4, "ws1"), on(move, 5, "ws1")}, 1},
		{"slower than the timespan", []step{on(recon, 0, "ws1"), on(dump, 20, "ws1"), on(move, 31, "ws1")}, 0},
		{"split across hosts", []step{on(recon, 0, "ws1"), on(dump, 5, "ws2"), on(move, 10, "ws1")}, 0},
		{"a later start completes in time", []step{on(recon, 0, "ws1"), on(recon, 25, "ws1"),
			on(dump, 40, "ws1"), on(move, 50, "ws1")}, 1},
		{"two hosts interleaved", []step{on(recon, 0, "ws1"), on(recon, 1, "ws2"), on(dump, 2, "ws2"),
			on(dump, 3, "ws1"), on(move, 4, "ws1"), on(move, 5, "ws2")}, 2},
		{"out-of-order arrival within the lateness", []step{on(dump, 5, "ws1"), on(recon, 0, "ws1"), on(move, 10, "ws1")}, 1},
		{"sequence again after a reset", []step{on(recon, 0, "ws1"), on(dump, 1, "ws1"), on(move, 2, "ws1"),
			on(recon, 3, "ws1"), on(dump, 4, "ws1"), on(move, 5, "ws1")}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{BaseRules: refs})
			got := run(e, tc.steps)
			if len(got) != tc.want {
				t.Fatalf("%d results, want %d: %+v", len(got), tc.want, got)
			}
			for _, r := range got {
				if r.Distinct != 3 || !slices.Equal(r.Values, []string{recon, dump, move}) || r.Last.Sub(r.First) > 30*time.Minute {
					t.Errorf("result %+v", r)
				}
			}
		})
	}
}

func TestTemporalAnyOrder(t *testing.T) {
	t.Parallel()
	rules := parseOne(t, `
title: three recon tools
correlation:
  type: temporal
  rules: [whoami, nltest, net]
  group-by: [host.name, user.name]
  timespan: 5m
`)
	on := func(rule string, sec int, host, user string) step {
		return step{rule: rule, offset: time.Duration(sec) * time.Second, fields: "host.name=" + host + " user.name=" + user}
	}
	tests := []struct {
		name  string
		steps []step
		want  int
	}{
		{"any order", []step{on("net", 0, "h", "u"), on("whoami", 10, "h", "u"), on("nltest", 20, "h", "u")}, 1},
		{"two of three", []step{on("net", 0, "h", "u"), on("whoami", 10, "h", "u"), on("net", 20, "h", "u")}, 0},
		{"different users", []step{on("net", 0, "h", "u"), on("whoami", 10, "h", "v"), on("nltest", 20, "h", "u")}, 0},
		{"beyond the timespan", []step{on("net", 0, "h", "u"), on("whoami", 200, "h", "u"), on("nltest", 301, "h", "u")}, 0},
		{"a repeat keeps the rule in the window", []step{on("net", 0, "h", "u"), on("net", 200, "h", "u"),
			on("net", 250, "h", "u"), on("whoami", 290, "h", "u"), on("nltest", 480, "h", "u")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{})
			if got := run(e, tc.steps); len(got) != tc.want {
				t.Fatalf("%d results, want %d: %+v", len(got), tc.want, got)
			}
		})
	}
}

func TestChainedCorrelations(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "chain.yml")
	const (
		outer = "Correlation - Multiple Failed Logins Followed by Successful Login"
		inner = "Multiple failed logons"
	)
	fail := func(user string, start time.Duration) []step {
		return every("failed_login", 10, start, 10*time.Second, fixed("User="+user))
	}
	ok := func(user string, at time.Duration) []step {
		return []step{{rule: "successful_login", offset: at, fields: "User=" + user}}
	}
	tests := []struct {
		name         string
		steps        []step
		inner, outer int
	}{
		{"failures then success", slices.Concat(fail("alice", 0), ok("alice", 2*time.Minute)), 1, 1},
		{"success first", slices.Concat(ok("alice", 0), fail("alice", time.Second)), 1, 0},
		{"success of another user", slices.Concat(fail("alice", 0), ok("bob", 2*time.Minute)), 1, 0},
		{"success too late", slices.Concat(fail("alice", 0), ok("alice", 12*time.Minute)), 1, 0},
		{"nine failures then success", slices.Concat(fail("alice", 0)[:9], ok("alice", 2*time.Minute)), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{BaseRules: refs})
			var s sink
			for i, st := range tc.steps {
				e.Observe(st.match(uint64(i+1)), s.emit)
			}
			in, out := s.byRule(inner), s.byRule(outer)
			if len(in) != tc.inner || len(out) != tc.outer {
				t.Fatalf("inner %d outer %d results, want %d and %d", len(in), len(out), tc.inner, tc.outer)
			}
			for _, r := range in {
				if !r.Intermediate || r.Count != 10 {
					t.Errorf("inner result %+v", r)
				}
			}
			for _, r := range out {
				if r.Intermediate || r.GroupMap()["User"] != "alice" || len(r.EventIDs) != 11 {
					t.Errorf("outer result %+v", r)
				}
			}
		})
	}
	e := mustEngine(t, rules, Options{BaseRules: refs})
	for _, ref := range []RuleRef{{Name: "failed_login"}, {ID: "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8"}} {
		if e.Generates(ref) {
			t.Errorf("Generates(%v) = true; a correlation without generate references it", ref)
		}
	}
	if !e.Generates(RuleRef{ID: "unrelated"}) {
		t.Error("Generates(unrelated) = false")
	}
	if got := e.Rules(); len(got) != 2 || got[0].Title != inner {
		t.Errorf("Rules() = %v, want the inner correlation first", got)
	}
}

func TestAliases(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "aliases.yml")
	err500 := func(sec int, src, dst string) step {
		return step{rule: "internal_error", offset: time.Duration(sec) * time.Second,
			fields: "source.ip=" + src + " destination.ip=" + dst}
	}
	conn := func(sec int, src, dst string) step {
		return step{rule: "new_network_connection", offset: time.Duration(sec) * time.Second,
			fields: "source.ip=" + src + " destination.ip=" + dst}
	}
	tests := []struct {
		name  string
		steps []step
		want  int
	}{
		{"connection back to the client", []step{err500(0, "203.0.113.9", "10.0.0.5"), conn(4, "10.0.0.5", "203.0.113.9")}, 1},
		{"connection the other way", []step{err500(0, "203.0.113.9", "10.0.0.5"), conn(4, "203.0.113.9", "10.0.0.5")}, 0},
		{"too late", []step{err500(0, "203.0.113.9", "10.0.0.5"), conn(11, "10.0.0.5", "203.0.113.9")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{BaseRules: refs})
			got := run(e, tc.steps)
			if len(got) != tc.want {
				t.Fatalf("%d results, want %d", len(got), tc.want)
			}
			for _, r := range got {
				want := []GroupValue{{"internal_ip", "10.0.0.5"}, {"remote_ip", "203.0.113.9"}}
				if !slices.Equal(r.Group, want) || r.Intermediate {
					t.Errorf("result group %v, want %v", r.Group, want)
				}
			}
			if !e.Generates(RuleRef{Name: "internal_error"}) {
				t.Error("generate: true, yet the base rule is not to generate")
			}
		})
	}
}

func TestUpperBoundsDecidedAtClose(t *testing.T) {
	t.Parallel()
	rules := parseOne(t, `
title: three or four probes
correlation:
  type: event_count
  rules: [probe]
  group-by: [source.ip]
  timespan: 1m
  condition: {gt: 2, lte: 4}
---
title: exactly two of three
correlation:
  type: temporal
  rules: [probe2, other, third]
  group-by: source.ip
  timespan: 1m
  condition: {eq: 2}
---
title: fewer than two in order
correlation:
  type: temporal_ordered
  rules: [first, second]
  group-by: source.ip
  timespan: 1m
  condition: {lt: 2}
`)
	probes := func(rule, ip string, n int, start time.Duration) []step {
		return every(rule, n, start, 5*time.Second, fixed("source.ip="+ip))
	}
	tick := step{rule: "probe", offset: 10 * time.Minute, fields: "source.ip=192.0.2.99"}
	tests := []struct {
		name  string
		steps []step
		flush bool
		want  map[string]int // results per title
	}{
		{"three probes fire once the window closes", append(probes("probe", "192.0.2.1", 3, 0), tick),
			false, map[string]int{"three or four probes": 1}},
		{"not before the lateness has passed", probes("probe", "192.0.2.1", 3, 0), false, map[string]int{}},
		{"flush decides open windows", probes("probe", "192.0.2.1", 4, 0), true, map[string]int{"three or four probes": 1}},
		{"five probes are too many", append(probes("probe", "192.0.2.1", 5, 0), tick), false, map[string]int{}},
		{"two windows of three", append(probes("probe", "192.0.2.1", 6, 0)[:3],
			append(probes("probe", "192.0.2.1", 3, 2*time.Minute), tick)...), false, map[string]int{"three or four probes": 2}},
		{"two of three rules", slices.Concat(probes("probe2", "192.0.2.2", 1, 0), probes("other", "192.0.2.2", 2, 0)),
			true, map[string]int{"exactly two of three": 1}},
		{"all three rules", slices.Concat(probes("probe2", "192.0.2.2", 1, 0), probes("other", "192.0.2.2", 1, 0),
			probes("third", "192.0.2.2", 1, 0)), true, map[string]int{}},
		{"only the first of an ordered pair", probes("first", "192.0.2.3", 2, 0), true, map[string]int{"fewer than two in order": 1}},
		{"a complete ordered pair", slices.Concat(probes("first", "192.0.2.3", 1, 0), probes("second", "192.0.2.3", 1, time.Second)),
			true, map[string]int{}},
		{"second before first", slices.Concat(probes("second", "192.0.2.3", 1, 0), probes("first", "192.0.2.3", 1, time.Second)),
			true, map[string]int{"fewer than two in order": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, rules, Options{})
			var s sink
			for i, st := range tc.steps {
				e.Observe(st.match(uint64(i+1)), s.emit)
			}
			if tc.flush {
				e.Flush(s.emit)
			}
			got := map[string]int{}
			for _, r := range s.results() {
				got[r.Rule.Title]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("results %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLateMatchesAreDropped(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "bruteforce.yml")
	e := mustEngine(t, rules, Options{BaseRules: refs})
	steps := []step{{rule: "failed_logon", offset: time.Hour, fields: "source.ip=10.9.9.9"}}
	steps = append(steps, every("failed_logon", 10, 50*time.Minute, time.Second, fixed("source.ip=10.9.9.9"))...)
	if got := run(e, steps); len(got) != 0 {
		t.Fatalf("late matches fired: %+v", got)
	}
	if s := e.Stats(); s.Late != 10 || s.Watermark != base().Add(time.Hour) {
		t.Errorf("stats = %+v", s)
	}
}

func TestNoTime(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "bruteforce.yml")
	e := mustEngine(t, rules, Options{BaseRules: refs})
	e.Observe(Match{RuleName: "failed_logon"}, func(Result) { t.Error("fired") })
	if s := e.Stats(); s.NoTime != 1 || s.Observed != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestAlert(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "bruteforce.yml")
	e := mustEngine(t, rules, Options{BaseRules: refs})
	got := run(e, every("failed_logon", 10, 0, time.Second, fixed("source.ip=198.51.100.7")))
	if len(got) != 1 {
		t.Fatalf("%d results", len(got))
	}
	a := got[0].Alert()
	if a.RuleID != "2b1d8f0e-7c3e-4f7a-9a55-0d6c1f0a1002" || a.Title != "Brute force from one source address" ||
		a.Severity.String() != "high" || a.Priority != 2 || a.SourceIP != "198.51.100.7" ||
		!slices.Equal(a.Tags, []string{"attack.credential-access", "attack.t1110"}) || len(a.EvidenceIDs) != 10 ||
		!a.FirstSeen.Equal(base()) || !a.LastSeen.Equal(base().Add(9*time.Second)) || a.Kind != "sigma" ||
		a.Details["count"] != "10" || a.Details["condition"] != "gte 10" ||
		a.DedupKey != "sigma|correlation|2b1d8f0e-7c3e-4f7a-9a55-0d6c1f0a1002|source.ip=198.51.100.7" {
		t.Errorf("alert = %+v", a)
	}
}
