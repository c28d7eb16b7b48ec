package correlation

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// shuffleWithin returns steps in an arrival order where every step arrives
// at most lateness after a later one: steps are shuffled inside
// consecutive blocks whose event times span at most lateness.
func shuffleWithin(rng *rand.Rand, steps []step, lateness time.Duration) []step {
	out := slices.Clone(steps)
	slices.SortStableFunc(out, func(a, b step) int { return int(a.offset - b.offset) })
	for start := 0; start < len(out); {
		end := start + 1
		for end < len(out) && out[end].offset-out[start].offset <= lateness {
			end++
		}
		block := out[start:end]
		rng.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
		start = end
	}
	return out
}

// TestShuffledWithinWindow feeds the same streams in many arrival orders,
// all within the allowed lateness, and expects the same results.
func TestShuffledWithinWindow(t *testing.T) {
	t.Parallel()
	bf, bfRefs := loadFixture(t, "bruteforce.yml")
	sp, spRefs := loadFixture(t, "spraying.yml")
	lat, latRefs := loadFixture(t, "lateral.yml")
	const spray = "id=5f0e3a52-3c2b-4a8e-b5c2-1b7e2f0a2001"
	tests := []struct {
		name  string
		rules []*Rule
		refs  []RuleRef
		steps []step
		want  int
		check func(t *testing.T, r Result)
	}{
		{"brute force", bf, bfRefs, every("failed_logon", 10, 0, 25*time.Second, fixed("source.ip=10.0.0.1")), 1,
			func(t *testing.T, r Result) {
				if r.Count != 10 || !r.First.Equal(base()) || !r.Last.Equal(base().Add(225*time.Second)) {
					t.Errorf("result %+v", r)
				}
			}},
		{"spraying", sp, spRefs, every(spray, 5, 0, time.Minute, func(i int) string {
			return fmt.Sprintf("IpAddress=10.0.0.2 TargetUserName=u%d", i)
		}), 1, func(t *testing.T, r Result) {
			if r.Distinct != 5 {
				t.Errorf("result %+v", r)
			}
		}},
		{"lateral chain", lat, latRefs, []step{
			{"recon_commands", 0, "host.name=ws"}, {"credential_dump", 4 * time.Minute, "host.name=ws"},
			{"lateral_movement", 9 * time.Minute, "host.name=ws"},
		}, 1, func(t *testing.T, r Result) {
			if r.Distinct != 3 || !r.First.Equal(base()) {
				t.Errorf("result %+v", r)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(100) {
				rng := rand.New(rand.NewPCG(seed, 7))
				steps := shuffleWithin(rng, tc.steps, tc.rules[len(tc.rules)-1].Timespan)
				e := mustEngine(t, tc.rules, Options{BaseRules: tc.refs})
				got := run(e, steps)
				if len(got) != tc.want {
					t.Fatalf("seed %d: %d results, want %d", seed, len(got), tc.want)
				}
				for _, r := range got {
					tc.check(t, r)
				}
				if s := e.Stats(); s.Late != 0 {
					t.Fatalf("seed %d: %d late", seed, s.Late)
				}
			}
		})
	}
}

// TestFiresIffWindowExists checks, over random streams arriving out of
// order within the lateness, that a correlation fires at least once
// exactly when some window of one timespan satisfies it, computed by brute
// force over the event times.
func TestFiresIffWindowExists(t *testing.T) {
	t.Parallel()
	const span = time.Minute
	tests := []struct {
		name   string
		doc    string
		rules  []string
		values int
		exists func(steps []step) bool
	}{
		{"event_count", `
title: c
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 6}}`, []string{"a"}, 1,
			func(steps []step) bool {
				return anyWindow(steps, func(w []step) bool { return len(w) >= 6 })
			}},
		{"value_count", `
title: c
correlation: {type: value_count, rules: [a], timespan: 1m, condition: {field: v, gte: 4}}`, []string{"a"}, 6,
			func(steps []step) bool {
				return anyWindow(steps, func(w []step) bool {
					seen := map[string]bool{}
					for _, s := range w {
						seen[s.fields] = true
					}
					return len(seen) >= 4
				})
			}},
		{"temporal", `
title: c
correlation: {type: temporal, rules: [a, b, c], timespan: 1m}`, []string{"a", "b", "c"}, 1,
			func(steps []step) bool {
				return anyWindow(steps, func(w []step) bool {
					seen := map[string]bool{}
					for _, s := range w {
						seen[s.rule] = true
					}
					return len(seen) == 3
				})
			}},
		{"temporal_ordered", `
title: c
correlation: {type: temporal_ordered, rules: [a, b, c], timespan: 1m}`, []string{"a", "b", "c"}, 1,
			func(steps []step) bool {
				return anyWindow(steps, func(w []step) bool { return inOrder(w, []string{"a", "b", "c"}) })
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rules := parseOne(t, tc.doc)
			fired := 0
			for seed := range uint64(1000) {
				rng := rand.New(rand.NewPCG(seed, 11))
				n := 2 + rng.IntN(24)
				steps := make([]step, n)
				for i := range steps {
					steps[i] = step{
						rule:   tc.rules[rng.IntN(len(tc.rules))],
						offset: time.Duration(rng.IntN(300)) * time.Second,
						fields: fmt.Sprintf("v=%d", rng.IntN(tc.values)),
					}
				}
				// Equal times would make the order of temporal_ordered
				// depend on arrival; keep event times distinct.
				slices.SortFunc(steps, func(a, b step) int { return int(a.offset - b.offset) })
				steps = slices.CompactFunc(steps, func(a, b step) bool { return a.offset == b.offset })
				want := tc.exists(steps)
				e := mustEngine(t, rules, Options{})
				got := run(e, shuffleWithin(rng, steps, span))
				if (len(got) > 0) != want {
					t.Fatalf("seed %d: %d results, but a satisfying window exists = %v; stream %v", seed, len(got), want, steps)
				}
				if want {
					fired++
				}
			}
			if fired < 50 || fired > 950 {
				t.Errorf("%d of 1000 random streams fire; the test needs both outcomes", fired)
			}
		})
	}
}

// anyWindow reports whether some run of steps (sorted by time) lasting at
// most a minute satisfies ok.
func anyWindow(steps []step, ok func([]step) bool) bool {
	for i := range steps {
		j := i
		for j < len(steps) && steps[j].offset-steps[i].offset <= time.Minute {
			j++
		}
		if ok(steps[i:j]) {
			return true
		}
	}
	return false
}

// inOrder reports whether rules occur in w (sorted by time) as a
// subsequence.
func inOrder(w []step, rules []string) bool {
	k := 0
	for _, s := range w {
		if k < len(rules) && s.rule == rules[k] {
			k++
		}
	}
	return k == len(rules)
}
