package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/intel"
)

// render writes indicators as JSON lines followed by "problem:" lines, the
// format of the golden files.
func render(t testing.TB, ins []intel.Indicator, probs []intel.Problem) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, in := range ins {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	for _, p := range probs {
		buf.WriteString("problem: " + p.String() + "\n")
	}
	return buf.Bytes()
}

// values lists "type:value" of each indicator.
func values(ins []intel.Indicator) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Key()
	}
	return out
}

// checkIndicators asserts the reader invariants: a known type, a value
// that is already normalised, a confidence in -1..100, and Problems that
// say where and why.
func checkIndicators(t testing.TB, ins []intel.Indicator, probs []intel.Problem) {
	t.Helper()
	for _, in := range ins {
		norm, err := intel.Normalize(in.Type, in.Value)
		if err != nil || norm != in.Value {
			t.Fatalf("indicator %s is not normalised: %q, %v", in.Key(), norm, err)
		}
		if in.Confidence < -1 || in.Confidence > 100 {
			t.Fatalf("indicator %s: confidence %d", in.Key(), in.Confidence)
		}
	}
	for _, p := range probs {
		if p.Where == "" || p.Reason == "" {
			t.Fatalf("problem without place or reason: %+v", p)
		}
	}
}

// compileTestPattern is a small real compiler for the patterns of the test
// fixtures: one comparison of an address, domain or URL value.
func compileTestPattern(pattern string) ([]intel.Indicator, error) {
	re := regexp.MustCompile(`^\[(ipv4-addr|ipv6-addr|domain-name|url):value = '([^']*)'\]$`)
	m := re.FindStringSubmatch(strings.TrimSpace(pattern))
	if m == nil {
		return nil, &patternError{pattern}
	}
	t := map[string]intel.Type{"ipv4-addr": intel.TypeIP, "ipv6-addr": intel.TypeIP,
		"domain-name": intel.TypeDomain, "url": intel.TypeURL}[m[1]]
	v, err := intel.Normalize(t, m[2])
	if err != nil {
		return nil, err
	}
	return []intel.Indicator{{Type: t, Value: v, Confidence: -1}}, nil
}

type patternError struct{ pattern string }

func (e *patternError) Error() string { return "unsupported pattern " + e.pattern }

// convertTestObjects is a small real STIX converter for the TAXII test
// objects: indicator objects with patterns compileTestPattern reads, other
// object types ignored.
func convertTestObjects(objects []json.RawMessage) ([]intel.Indicator, []intel.Problem) {
	var (
		out   []intel.Indicator
		probs []intel.Problem
	)
	for i, raw := range objects {
		var o struct {
			Type    string   `json:"type"`
			ID      string   `json:"id"`
			Pattern string   `json:"pattern"`
			Labels  []string `json:"labels"`
			Revoked bool     `json:"revoked"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			probs = append(probs, intel.Problem{Where: fmt.Sprintf("object %d", i), Reason: err.Error()})
			continue
		}
		if o.Type != "indicator" {
			continue
		}
		ins, err := compileTestPattern(o.Pattern)
		if err != nil {
			probs = append(probs, intel.Problem{Where: o.ID, Reason: err.Error()})
			continue
		}
		for _, in := range ins {
			in.ID, in.Tags, in.Revoked = o.ID, o.Labels, o.Revoked
			out = append(out, in)
		}
	}
	return out, probs
}
