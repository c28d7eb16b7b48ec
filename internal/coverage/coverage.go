// Package coverage holds the asset inventory's expected log sources against
// what actually arrives: for every asset, which expected sources are
// present, silent or never seen; the assets that never sent anything (never
// onboarded); the hosts that send logs but are not in the inventory; and the
// coverage percentage overall and per criticality, with summary lines that
// name the gaps first.
//
// # States
//
// An expected source ("input" or "input:stream", see package asset) is
// matched on its input against the sources (host × input) whose host
// belongs to the asset by host name, short name or address, as package
// asset's Index matches them. It is
//
//   - present when such a source was last seen within SilentAfter of Now and
//     no open silence alert names it;
//   - silent when it was last seen longer ago, or an open source_silent
//     alert (rule vigil.silence.*) names the asset's host and the input (an
//     alert without an input silences every input of the host);
//   - never seen when no source of the asset has that input.
//
// An asset is never onboarded when no source at all belongs to it; it is
// covered when every expected source is present (an asset expecting
// nothing is covered as soon as it sends anything). Percentages count
// covered assets.
package coverage

import (
	"cmp"
	"context"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Source states.
const (
	StatePresent   = "present"
	StateSilent    = "silent"
	StateNeverSeen = "never_seen"
)

// Asset statuses.
const (
	StatusCovered        = "covered"
	StatusGaps           = "gaps"
	StatusNeverOnboarded = "never_onboarded"
)

// Gap kinds, in the order the report lists them.
const (
	GapNeverOnboarded = "never_onboarded"
	GapSilent         = "silent"
	GapNeverSeen      = "never_seen"
)

// DefaultSilentAfter is how long a source may stay quiet before coverage
// counts it silent when Input.SilentAfter is zero.
const DefaultSilentAfter = 24 * time.Hour

// Silence is a source an open silence alert names.
type Silence struct {
	Host string `json:"host"`
	// Input is empty when the alert names no input: every input of the
	// host is silent then.
	Input string `json:"input,omitempty"`
	// AlertID and RuleID identify the alert.
	AlertID string `json:"alert_id,omitempty"`
	RuleID  string `json:"rule_id,omitempty"`
	// Since is when the source went quiet (zero when unknown).
	Since time.Time `json:"since,omitzero"`
}

// Input is what Compute works from.
type Input struct {
	Assets  []statedb.Asset
	Sources []statedb.Source
	// Silences are the open silence alerts' sources.
	Silences []Silence
	// Now is the time of the report; SilentAfter (DefaultSilentAfter when
	// zero) is how long a source may be quiet before it counts as silent.
	Now         time.Time
	SilentAfter time.Duration
}

// Report is the coverage map.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	SilentAfter string    `json:"silent_after"`
	// Summary are human lines, the gaps first.
	Summary []string `json:"summary"`
	// Overall and ByCriticality (most critical first, only the
	// criticalities the inventory holds) count covered assets.
	Overall       Tally   `json:"overall"`
	ByCriticality []Tally `json:"by_criticality"`
	// Gaps lists every gap: never onboarded assets, then silent sources,
	// then sources never seen; the most critical first within each.
	Gaps []Gap `json:"gaps"`
	// Assets are every inventory asset, those with gaps first.
	Assets []AssetCoverage `json:"assets"`
	// Unknown are the hosts that send logs but are not in the inventory.
	Unknown []asset.UnknownAsset `json:"unknown"`
}

// Tally counts the coverage of a set of assets.
type Tally struct {
	Criticality string `json:"criticality,omitempty"`
	Assets      int    `json:"assets"`
	Covered     int    `json:"covered"`
	// Percent is Covered of Assets, 100 for no assets.
	Percent float64 `json:"percent"`
	// Expected and Present count expected sources and those present.
	Expected int `json:"expected_sources"`
	Present  int `json:"present_sources"`
}

// AssetCoverage is one asset's coverage.
type AssetCoverage struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        string   `json:"role,omitempty"`
	Criticality string   `json:"criticality"`
	Addresses   []string `json:"addresses"`
	// Status is covered, gaps or never_onboarded.
	Status   string        `json:"status"`
	Expected []SourceState `json:"expected"`
	// Other lists the inputs the asset sends that it is not expected to.
	Other []string `json:"other"`
	// LastSeen is the latest receipt from any of its sources.
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// SourceState is one expected source of an asset and its state.
type SourceState struct {
	// Expected is the inventory's entry ("winlogbeat:Security"); Input its
	// input part.
	Expected string `json:"expected"`
	Input    string `json:"input"`
	State    string `json:"state"`
	// Hosts are the source host names the input arrived under.
	Hosts    []string  `json:"hosts,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Events   int64     `json:"events"`
	// SilentFor is how long a silent source has been quiet, rounded
	// ("3d", "5h"); AlertID the open silence alert naming it, if any.
	SilentFor string `json:"silent_for,omitempty"`
	AlertID   string `json:"alert_id,omitempty"`
	// age is SilentFor's duration.
	age time.Duration
}

// Gap is one missing piece of coverage.
type Gap struct {
	Kind        string `json:"kind"`
	AssetID     string `json:"asset_id"`
	Asset       string `json:"asset"`
	Role        string `json:"role,omitempty"`
	Criticality string `json:"criticality"`
	// Expected is the expected source (empty for never onboarded).
	Expected  string    `json:"expected,omitempty"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	SilentFor string    `json:"silent_for,omitempty"`
	// age is SilentFor's duration.
	age time.Duration
}

// seen is what arrived from one asset under one input.
type seen struct {
	hosts  []string
	last   time.Time
	events int64
}

// Compute builds the coverage map from in.
func Compute(in Input) Report {
	if in.SilentAfter <= 0 {
		in.SilentAfter = DefaultSilentAfter
	}
	idx, _ := asset.NewIndex(in.Assets, nil) // unparsable addresses just match nothing
	bySource := attribute(idx, in.Sources)
	silenced := silencedInputs(idx, in.Silences)
	rep := Report{GeneratedAt: in.Now.UTC(), SilentAfter: formatAge(in.SilentAfter), Gaps: []Gap{},
		Assets: make([]AssetCoverage, 0, len(in.Assets))}
	for i := range in.Assets {
		ac := assess(&in.Assets[i], bySource[in.Assets[i].ID], silenced[in.Assets[i].ID], in)
		rep.Assets = append(rep.Assets, ac)
		rep.Gaps = append(rep.Gaps, gapsOf(ac)...)
	}
	slices.SortStableFunc(rep.Assets, func(a, b AssetCoverage) int {
		return cmp.Or(cmp.Compare(statusRank(a), statusRank(b)), byCriticalityName(a.Criticality, b.Criticality, a.Name, b.Name))
	})
	slices.SortStableFunc(rep.Gaps, func(a, b Gap) int {
		return cmp.Or(cmp.Compare(gapRank(a.Kind), gapRank(b.Kind)),
			byCriticalityName(a.Criticality, b.Criticality, a.Asset, b.Asset), cmp.Compare(a.Expected, b.Expected))
	})
	rep.Overall, rep.ByCriticality = tally(rep.Assets)
	// Without traffic peers Unknown does no I/O and cannot fail.
	rep.Unknown, _ = asset.Unknown(context.Background(), idx, in.Sources, nil, time.Time{})
	rep.Summary = summarize(rep)
	return rep
}

// attribute adds up the sources per asset ID and input.
func attribute(idx *asset.Index, sources []statedb.Source) map[string]map[string]*seen {
	out := map[string]map[string]*seen{}
	for _, s := range sources {
		e, ok := lookup(idx, s.Host)
		if !ok || e.Record == nil {
			continue
		}
		m := out[e.Record.ID]
		if m == nil {
			m = map[string]*seen{}
			out[e.Record.ID] = m
		}
		x := m[s.Input]
		if x == nil {
			x = &seen{}
			m[s.Input] = x
		}
		x.hosts = append(x.hosts, s.Host)
		x.events += s.Events
		if s.LastSeen.After(x.last) {
			x.last = s.LastSeen
		}
	}
	return out
}

// lookup finds the asset of a source or alert host: by address when it is
// one, else by host name.
func lookup(idx *asset.Index, host string) (*asset.Entry, bool) {
	if host == "" || host == "unknown" {
		return nil, false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return idx.LookupAddr(a)
	}
	return idx.LookupHost(host)
}

// silencedInputs maps asset ID → input → the silence naming it ("" for
// every input).
func silencedInputs(idx *asset.Index, ss []Silence) map[string]map[string]Silence {
	out := map[string]map[string]Silence{}
	for _, s := range ss {
		e, ok := lookup(idx, s.Host)
		if !ok || e.Record == nil {
			continue
		}
		if out[e.Record.ID] == nil {
			out[e.Record.ID] = map[string]Silence{}
		}
		out[e.Record.ID][s.Input] = s
	}
	return out
}

// assess computes one asset's coverage.
func assess(a *statedb.Asset, got map[string]*seen, silenced map[string]Silence, in Input) AssetCoverage {
	crit, err := statedb.ParseCriticality(a.Criticality)
	if err != nil {
		crit = statedb.CriticalityMedium
	}
	ac := AssetCoverage{ID: a.ID, Name: cmp.Or(a.Hostname, first(a.Addresses)), Role: a.Role, Criticality: crit,
		Addresses: slices.Clip(append([]string{}, a.Addresses...)), Expected: []SourceState{}, Other: []string{}}
	expected := map[string]bool{}
	for _, ex := range a.ExpectedSources {
		input, _, _ := strings.Cut(ex, ":")
		expected[input] = true
		ac.Expected = append(ac.Expected, sourceState(ex, input, got[input], silenced, in))
	}
	for input, x := range got {
		if x.last.After(ac.LastSeen) {
			ac.LastSeen = x.last
		}
		if !expected[input] {
			ac.Other = append(ac.Other, input)
		}
	}
	slices.Sort(ac.Other)
	switch {
	case len(got) == 0:
		ac.Status = StatusNeverOnboarded
	case slices.ContainsFunc(ac.Expected, func(s SourceState) bool { return s.State != StatePresent }):
		ac.Status = StatusGaps
	default:
		ac.Status = StatusCovered
	}
	return ac
}

// sourceState is the state of one expected source.
func sourceState(expected, input string, x *seen, silenced map[string]Silence, in Input) SourceState {
	st := SourceState{Expected: expected, Input: input, State: StateNeverSeen}
	if x == nil {
		return st
	}
	st.Hosts, st.LastSeen, st.Events = slices.Compact(slices.Sorted(slices.Values(x.hosts))), x.last, x.events
	sil, alerted := silenced[input]
	if !alerted {
		sil, alerted = silenced[""]
	}
	switch {
	case alerted:
		st.State, st.AlertID = StateSilent, sil.AlertID
		st.age = in.Now.Sub(cmp.Or(sil.Since, x.last))
		st.SilentFor = formatAge(st.age)
	case in.Now.Sub(x.last) > in.SilentAfter:
		st.State, st.age = StateSilent, in.Now.Sub(x.last)
		st.SilentFor = formatAge(st.age)
	default:
		st.State = StatePresent
	}
	return st
}

// gapsOf lists an asset's gaps.
func gapsOf(ac AssetCoverage) []Gap {
	g := Gap{AssetID: ac.ID, Asset: ac.Name, Role: ac.Role, Criticality: ac.Criticality}
	if ac.Status == StatusNeverOnboarded {
		g.Kind = GapNeverOnboarded
		return []Gap{g}
	}
	var out []Gap
	for _, s := range ac.Expected {
		if s.State == StatePresent {
			continue
		}
		x := g
		x.Kind, x.Expected, x.LastSeen, x.SilentFor, x.age = s.State, s.Expected, s.LastSeen, s.SilentFor, s.age
		out = append(out, x)
	}
	return out
}

// tally counts covered assets overall and per criticality.
func tally(as []AssetCoverage) (Tally, []Tally) {
	var all Tally
	by := map[string]*Tally{}
	for _, a := range as {
		t := by[a.Criticality]
		if t == nil {
			t = &Tally{Criticality: a.Criticality}
			by[a.Criticality] = t
		}
		for _, x := range []*Tally{&all, t} {
			x.Assets++
			if a.Status == StatusCovered {
				x.Covered++
			}
			x.Expected += len(a.Expected)
			for _, s := range a.Expected {
				if s.State == StatePresent {
					x.Present++
				}
			}
		}
	}
	out := []Tally{}
	for _, c := range []string{statedb.CriticalityCritical, statedb.CriticalityHigh, statedb.CriticalityMedium, statedb.CriticalityLow} {
		if t := by[c]; t != nil {
			t.Percent = percent(t.Covered, t.Assets)
			out = append(out, *t)
		}
	}
	all.Percent = percent(all.Covered, all.Assets)
	return all, out
}

// percent is n of total to one decimal, 100 for an empty total.
func percent(n, total int) float64 {
	if total == 0 {
		return 100
	}
	return math.Round(1000*float64(n)/float64(total)) / 10
}

// statusRank orders assets: never onboarded, then silent sources, then
// never seen ones, then covered.
func statusRank(a AssetCoverage) int {
	switch {
	case a.Status == StatusNeverOnboarded:
		return 0
	case slices.ContainsFunc(a.Expected, func(s SourceState) bool { return s.State == StateSilent }):
		return 1
	case a.Status == StatusGaps:
		return 2
	}
	return 3
}

// gapRank orders gap kinds.
func gapRank(kind string) int {
	switch kind {
	case GapNeverOnboarded:
		return 0
	case GapSilent:
		return 1
	}
	return 2
}

// byCriticalityName orders the most critical first, then by name.
func byCriticalityName(ca, cb, na, nb string) int {
	return cmp.Or(cmp.Compare(statedb.CriticalityRank(cb), statedb.CriticalityRank(ca)),
		cmp.Compare(strings.ToLower(na), strings.ToLower(nb)))
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
