package stix

import (
	"errors"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
)

// FuzzParse checks that any input parses or fails with a *SyntaxError
// inside the input, that the canonical form of a parsed pattern re-parses
// to itself, and that compiling never panics and yields normalised
// indicators.
func FuzzParse(f *testing.F) {
	golden.SeedLines(f, filepath.Join("testdata", "oasis", "spec_examples.txt"))
	for _, s := range []string{
		"[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']",
		"[domain-name:value LIKE '%.example.com'] OR [ipv4-addr:value ISSUBSET '10.0.0.0/8']",
		"[a:b IN (1, -2, .5, true, t'2020-01-01T00:00:00Z', h'00', b'AA==')] REPEATS 2 TIMES WITHIN 1.5 SECONDS",
		"[a:b[*].c NOT MATCHES 'x\\'y'] START t'2016-12-31T23:59:60Z' STOP t'2017-01-01T00:00:00.123Z'",
		"([NOT EXISTS a:'b-c'[-1]] FOLLOWEDBY [a:b <> 1]) // c\n/* d */",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := string(data)
		ast, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", src, err)
			}
			if se.Offset < 0 || se.Offset > len(src) || se.Column < 1 || se.Column > utf8.RuneCountInString(src)+1 {
				t.Fatalf("Parse(%q) error position %d/%d outside the input", src, se.Offset, se.Column)
			}
			return
		}
		canon := ast.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, again.String())
		}
		ins, err := ast.Indicators()
		var u *Unsupported
		if err != nil && !errors.As(err, &u) {
			t.Fatalf("Indicators(%q) error %v is not *Unsupported", src, err)
		}
		if u != nil && u.Partial != (len(ins) > 0) {
			t.Fatalf("Indicators(%q): Partial %v with %d indicators", src, u.Partial, len(ins))
		}
		for _, in := range ins {
			if v, err := intel.Normalize(in.Type, in.Value); err != nil || v != in.Value {
				t.Fatalf("Indicators(%q) yields unnormalised %s %q (%q, %v)", src, in.Type, in.Value, v, err)
			}
		}
	})
}

// FuzzLoad checks that Load never panics and that what it returns is
// consistent: counts add up and every indicator is normalised and named.
// The seeds are small on purpose: the instrumented stix2 and go-json code
// makes every execution expensive, and the fuzzer minimises each new
// input, which takes minutes for a bundle of several kilobytes.
func FuzzLoad(f *testing.F) {
	const ind = `{"type":"indicator","spec_version":"2.1","id":"indicator--6b76011b-03de-4e1e-99df-697f2e4eea6d",` +
		`"created":"2024-01-01T00:00:00Z","modified":"2024-01-02T00:00:00Z","confidence":50,"revoked":false,` +
		`"pattern":"[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 443]",` +
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","valid_until":"2025-01-01T00:00:00Z"}`
	const mal = `{"type":"malware","spec_version":"2.1","id":"malware--7249b480-7560-446c-b49a-d3b46b272329",` +
		`"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"X","is_family":true}`
	const rel = `{"type":"relationship","spec_version":"2.1","id":"relationship--4d2dc98a-9507-4734-8e04-30ddf6ef1e22",` +
		`"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","relationship_type":"indicates",` +
		`"source_ref":"indicator--6b76011b-03de-4e1e-99df-697f2e4eea6d","target_ref":"malware--7249b480-7560-446c-b49a-d3b46b272329"}`
	for _, s := range []string{
		`{"type":"bundle","id":"bundle--0be0c84f-74f1-4122-abf0-132870807ac6","objects":[` + ind + "," + mal + "," + rel + `]}`,
		"[" + ind + `,42,{"id":"x"}]`,
		ind,
		`[{"type":"indicator","id":"indicator--6b76011b-03de-4e1e-99df-697f2e4eea6d","pattern":"[url:value = 'a.example/x']",` +
			`"pattern_type":"yara","valid_from":"2020-01-01T00:00:00Z"}]`,
		`{"type":"identity","id":"identity--6b76011b-03de-4e1e-99df-697f2e4eea6d","created":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Load(data)
		if err != nil {
			if len(r.Indicators) != 0 || len(r.Problems) != 0 {
				t.Fatalf("Load failed with a partial result: %v", err)
			}
			return
		}
		c := r.Counts
		if c.Compiled > c.Indicators || c.Superseded > c.Indicators ||
			c.Compiled+c.InvalidPatterns > c.Indicators-c.Superseded {
			t.Fatalf("inconsistent counts %+v", c)
		}
		if c.Compiled == 0 && len(r.Indicators) != 0 {
			t.Fatalf("%d indicators from no compiled object", len(r.Indicators))
		}
		for _, in := range r.Indicators {
			if v, err := intel.Normalize(in.Type, in.Value); err != nil || v != in.Value || in.ID == "" ||
				in.Confidence < -1 || in.Confidence > 100 {
				t.Fatalf("bad indicator %+v", in)
			}
		}
		for _, p := range r.Problems {
			if p.Where == "" || p.Reason == "" {
				t.Fatalf("empty problem %+v", p)
			}
		}
	})
}
