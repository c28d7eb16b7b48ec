package sigma

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// textScanner is what the automata have in common.
type textScanner interface {
	scan(text string, st *evalState)
}

// scanState returns a state whose plan has n needles and no clauses, to
// collect the needles a scanner reports.
func scanState(n int) *evalState {
	st := &evalState{gen: 1, mgen: 1}
	p := &plan{nNeedles: n, nRep: 1 << 16, fxStart: make([]int32, n+1)}
	st.prepare(p)
	return st
}

// found lists the needles st saw, and starts the next round.
func found(st *evalState) []int32 {
	var out []int32
	for id := range st.p.nNeedles {
		if st.needleGen[id] == st.mgen {
			out = append(out, int32(id))
		}
	}
	st.nextMarks()
	return out
}

// randomText draws a text from a small alphabet (so needles occur), with
// upper-case letters and some exotic bytes.
func randomText(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// containsFoldASCII is strings.Contains with ASCII letters of the text
// lower-cased (the needles are lower-case).
func containsFoldASCII(text, needle string) bool {
	return strings.Contains(string(lowerInto(nil, text)), needle)
}

// TestScannersAgainstBruteForce checks every contains matcher (the DFA at
// several depths, with remainder tries and 16-bit states; the stride search;
// the gram search), folding case or not, against strings.Contains on
// random needle sets and texts.
func TestScannersAgainstBruteForce(t *testing.T) {
	t.Parallel()
	for _, tc := range scannerCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			for round := range 40 {
				needles := randomNeedles(r, tc.alphabet, tc.minLen, 1+r.IntN(60), tc.cased)
				if tc.name == "stride-short-window" {
					needles = slices.Concat(needles[:1], []string{strings.Repeat("a", strideMinWindow)})
				}
				checkScanner(t, r, tc, needles, round)
			}
		})
	}
}

// scannerCase is a matcher to check on needles drawn from an alphabet.
type scannerCase struct {
	name     string
	alphabet string
	minLen   int
	cased    bool
	build    func(needles []string, ids []int32) textScanner
}

func scannerCases() []scannerCase {
	return []scannerCase{
		{"dfa", "abcAB\\. :-", 1, false, func(n []string, ids []int32) textScanner { return newACDFA(n, ids, true) }},
		{"dfa-shallow", "abcAB\\. :-", 1, false, func(n []string, ids []int32) textScanner {
			return newACDFAWith(n, ids, true, acMinDepth, acBudget, acNarrowAbove)
		}},
		{"dfa-narrow", "abcAB\\. :-", 1, false, func(n []string, ids []int32) textScanner {
			return newACDFAWith(n, ids, true, 6, acBudget, 0)
		}},
		{"dfa-cased", "abcAB\\. :-", 1, true, func(n []string, ids []int32) textScanner { return newACDFA(n, ids, false) }},
		{"stride", "abcdeABCDE .:", strideMinWindow, false, func(n []string, ids []int32) textScanner {
			return newStrideSearch(n, ids, true)
		}},
		{"stride-short-window", "abcdeABCDE .:", strideMinWindow, false, func(n []string, ids []int32) textScanner {
			return newStrideSearch(n, ids, true) // needles set below: one as short as the window
		}},
		{"stride-long", "abcdeABCDE .:", strideWideWindow, false, func(n []string, ids []int32) textScanner {
			return newStrideSearch(n, ids, true)
		}},
		{"stride-cased", "abcdeABCDE .:", strideMinWindow, true, func(n []string, ids []int32) textScanner {
			return newStrideSearch(n, ids, false)
		}},
		{"grams", "abcAB\\. :-\x00\xc3\xa9", 1, false, func(n []string, ids []int32) textScanner {
			return newGramSearch(n, ids, true)
		}},
		{"grams-cased", "abcAB\\. :-\x00", 1, true, func(n []string, ids []int32) textScanner {
			return newGramSearch(n, ids, false)
		}},
	}
}

// checkScanner builds tc's matcher of needles and compares what it finds in
// random texts with strings.Contains.
func checkScanner(t *testing.T, r *rand.Rand, tc scannerCase, needles []string, round int) {
	t.Helper()
	ids := make([]int32, len(needles))
	for i := range ids {
		ids[i] = int32(i)
	}
	sc := tc.build(needles, ids)
	st := scanState(len(needles))
	for range 20 {
		text := randomText(r, r.IntN(1200), tc.alphabet)
		sc.scan(text, st)
		got := found(st)
		var want []int32
		for i, n := range needles {
			if (tc.cased && strings.Contains(text, n)) || (!tc.cased && containsFoldASCII(text, n)) {
				want = append(want, int32(i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: text %q needles %q: found %v, want %v", round, text, needles, got, want)
		}
	}
}

// randomNeedles draws distinct needles of at least minLen bytes,
// lower-case unless cased.
func randomNeedles(r *rand.Rand, alphabet string, minLen, n int, cased bool) []string {
	lower := alphabet
	if !cased {
		lower = string(lowerInto(nil, alphabet))
	}
	var out []string
	for len(out) < n {
		s := randomText(r, minLen+r.IntN(14), lower)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestAnchoredTries checks the prefix (with exact ends) and suffix tries
// against strings.HasPrefix, HasSuffix and equality.
func TestAnchoredTries(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	const alphabet = "abAB\\."
	for round := range 50 {
		needles := randomNeedles(r, alphabet, 1, 1+r.IntN(40), false)
		var pre, suf trieBuilder
		pre.newRoot()
		suf.newRoot()
		for i, n := range needles {
			pre.insert(0, n, false, i%2 == 0, int32(i)) // even ids: whole value
			suf.insert(0, n, true, false, int32(i))
		}
		pt, stt := pre.freeze(true), suf.freeze(true)
		st := scanState(len(needles))
		for range 20 {
			text := randomText(r, r.IntN(12), alphabet)
			low := string(lowerInto(nil, text))
			pt.walk(0, text, 0, st)
			gotPre := found(st)
			stt.walkBack(0, text, st)
			gotSuf := found(st)
			var wantPre, wantSuf []int32
			for i, n := range needles {
				if (i%2 == 0 && low == n) || (i%2 == 1 && strings.HasPrefix(low, n)) {
					wantPre = append(wantPre, int32(i))
				}
				if strings.HasSuffix(low, n) {
					wantSuf = append(wantSuf, int32(i))
				}
			}
			if !slices.Equal(gotPre, wantPre) || !slices.Equal(gotSuf, wantSuf) {
				t.Fatalf("round %d: text %q needles %q: prefix %v want %v, suffix %v want %v",
					round, text, needles, gotPre, wantPre, gotSuf, wantSuf)
			}
		}
	}
}

// TestPrefilterAgreesWithNaive evaluates every SigmaHQ rule with the
// prefilter and without it (every routed rule, every pattern) on the
// regression samples and on the generated corpus, also in upper case and
// with non-ASCII letters mixed in, and requires the same matches.
func TestPrefilterAgreesWithNaive(t *testing.T) {
	t.Parallel()
	root := sigmaRoot(t)
	all, _ := loadRuleDirs(t, root)
	mapping, err := DefaultMapping()
	if err != nil {
		t.Fatal(err)
	}
	fast, naive := fastAndNaive(t, all.Rules, mapping)
	var evs []schema.Event
	for _, c := range readRegressionIndex(t, root) {
		evs = append(evs, readJSONEvents(t, filepath.Join(root, c.jsonPath))...)
	}
	evs = append(evs, generateCorpus(t, corpusSeed, 3000).events...)
	evs = append(evs, variants(evs)...)
	matched := 0
	for i := range evs {
		var a, b []string
		fast.Match(&evs[i], func(r *Rule) { a = append(a, r.Path) })
		naive.Match(&evs[i], func(r *Rule) { b = append(b, r.Path) })
		if !slices.Equal(a, b) {
			t.Errorf("event %d %v: prefilter matched %v, every rule %v", i, evs[i].Fields, a, b)
		}
		if len(a) > 0 {
			matched++
		}
	}
	t.Logf("%d events, %d with matches, same rules with and without the prefilter", len(evs), matched)
	if matched == 0 {
		t.Error("no event matched")
	}
}

// variants returns copies of events with their values upper-cased and
// with non-ASCII letters whose lower-case forms differ ('İ', 'K' Kelvin,
// 'ſ', 'Ä') put into them.
func variants(evs []schema.Event) []schema.Event {
	var out []schema.Event
	for i := 0; i < len(evs); i += 7 {
		up, mixed := evs[i], evs[i]
		up.Fields = slices.Clone(up.Fields)
		mixed.Fields = slices.Clone(mixed.Fields)
		for j := range up.Fields {
			up.Fields[j].Value = strings.ToUpper(up.Fields[j].Value)
			if k := up.Fields[j].Key; k == "CommandLine" || k == "Image" || k == "TargetObject" {
				v := mixed.Fields[j].Value
				mixed.Fields[j].Value = fmt.Sprintf("%sİ\u212aſÄ%s", v[:len(v)/2], v[len(v)/2:])
			}
		}
		up.Message = strings.ToUpper(up.Message)
		out = append(out, up, mixed)
	}
	return out
}
