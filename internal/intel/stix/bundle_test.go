package stix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/TcM1911/stix2"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

func loadFile(t testing.TB, path string) Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(data)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return r
}

func totalObjects(c Counts) int {
	n := 0
	for _, v := range c.Objects {
		n += v
	}
	return n
}

func resultJSON(t testing.TB, r Result) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestLoadExamples loads every example bundle of the OASIS STIX 2.1
// repository. The expected numbers were counted with jq, independently of
// this package: objects per file, indicator objects, and for intel
// indicators the comparisons of the supported patterns (poisonivy: 67
// comparisons, minus two file:name patterns and one invalid domain).
func TestLoadExamples(t *testing.T) {
	t.Parallel()
	dir := shareddata.Path(t, "intel/stix2-examples/examples")
	tests := []struct {
		file                                                   string
		objects, indicators, compiled, unsupported, intelCount int
		problems                                               map[string]string // indicator id → reason part
		threat                                                 string            // Threat of the first indicator
	}{
		{"indicator-for-c2-ip-address.json", 1, 1, 1, 0, 1, nil, "IP Address for known C2 channel"},
		{"indicator-to-campaign-relationship.json", 3, 1, 1, 0, 1, nil, "Operation Omega"},
		{"indicators-for-C2-with-COA.json", 8, 2, 2, 0, 2, nil, "Poison Ivy"},
		{"infrastructure.json", 10, 0, 0, 0, 0, nil, ""},
		{"interop-objectmarking-test.json", 1, 0, 0, 0, 0, nil, ""},
		{"malicious-email-indicator-with-attachment.json", 6, 2, 0, 2, 0, map[string]string{
			"indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7": "MATCHES at column 2: regular expressions are not matched",
			"indicator--2e17f6fe-3a4d-438a-911a-e509ba1b9933": "MATCHES at column 2",
		}, ""},
		{"threat-reports/apt1.json", 76, 12, 10, 2, 10, map[string]string{
			"indicator--b3b6b540-d838-41e2-853b-005056c00008": "object type x509-certificate",
			"indicator--b3b7035e-d838-41e2-8d38-005056c00008": "object type x509-certificate",
		}, "HUC Packet Transmit Tool (HTRAN)"},
		{"threat-reports/poisonivy.json", 155, 25, 23, 3, 64, map[string]string{
			"indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40": `invalid value at column 22: domain-name:value 'domain autuo.xicp.net'`,
			"indicator--137acf67-cedc-4a07-8719-72759174de3a": "property file:name",
			"indicator--0b71628d-31dd-4eb8-baee-39f19c0a14b0": "property file:name",
		}, "PIVY Variant (808e21d6efa2884811fbd0adf67fda78)"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := loadFile(t, filepath.Join(dir, tt.file))
			c := r.Counts
			if totalObjects(c) != tt.objects || c.Indicators != tt.indicators || c.Compiled != tt.compiled ||
				c.Unsupported != tt.unsupported || len(r.Indicators) != tt.intelCount || c.InvalidObjects != 0 ||
				c.InvalidPatterns != 0 {
				t.Fatalf("counts %+v with %d indicators, want objects %d, indicators %d, compiled %d, unsupported %d, "+
					"%d indicators", c, len(r.Indicators), tt.objects, tt.indicators, tt.compiled, tt.unsupported, tt.intelCount)
			}
			if len(r.Problems) != len(tt.problems) {
				t.Errorf("problems = %v, want %d", r.Problems, len(tt.problems))
			}
			for _, p := range r.Problems {
				if want, ok := tt.problems[p.Where]; !ok || !strings.Contains(p.Reason, want) {
					t.Errorf("problem %v, want reason containing %q", p, want)
				}
			}
			if len(r.Indicators) > 0 && r.Indicators[0].Threat != tt.threat {
				t.Errorf("threat = %q, want %q", r.Indicators[0].Threat, tt.threat)
			}
			for _, in := range r.Indicators {
				if !strings.HasPrefix(in.ID, "indicator--") || in.ValidFrom.IsZero() || in.Confidence != -1 {
					t.Errorf("indicator lacks id, valid_from or has a confidence the file does not give: %+v", in)
				}
			}
			golden.Check(t, filepath.Join("testdata", "golden", "examples", strings.ReplaceAll(tt.file, "/", "_")),
				resultJSON(t, r))
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "threat-reports", "*.json"))
	for _, f := range append(files, more...) {
		rel, _ := filepath.Rel(dir, f)
		if !seen[filepath.ToSlash(rel)] {
			t.Errorf("example %s is not in the table", rel)
		}
	}
}

// TestLoadInterop checks the interop directory: it holds JSON Schemas, not
// bundles, and each is rejected as such rather than loaded as nothing.
func TestLoadInterop(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(shareddata.Path(t, "intel/stix2-examples/interop"), "*.json"))
	if err != nil || len(files) != 20 {
		t.Fatalf("interop files = %d (%v), want 20", len(files), err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(data); err == nil || !strings.Contains(err.Error(), "JSON Schema") {
			t.Errorf("Load(%s) error = %v, want a JSON Schema rejection", filepath.Base(f), err)
		}
	}
}

// TestLoadATTACK loads the MITRE ATT&CK bundles: no indicators, nothing
// rejected, every object counted.
func TestLoadATTACK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path                   string
		objects, relationships int
	}{
		{"intel/mitre-attack-stix/ics-attack/ics-attack-18.1.json", 1826, 1373},
		{"intel/mitre-attack-stix/mobile-attack/mobile-attack-17.1.json", 2148, 1766},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			t.Parallel()
			r := loadFile(t, shareddata.Path(t, tt.path))
			if n := totalObjects(r.Counts); n != tt.objects || r.Counts.Objects["relationship"] != tt.relationships {
				t.Errorf("objects = %d, relationships %d, want %d and %d", n, r.Counts.Objects["relationship"],
					tt.objects, tt.relationships)
			}
			if len(r.Indicators) != 0 || len(r.Problems) != 0 || r.Counts.Indicators != 0 || r.Counts.InvalidObjects != 0 {
				t.Errorf("indicators %d, problems %v, counts %+v; want none", len(r.Indicators), r.Problems, r.Counts)
			}
		})
	}
}

// TestLoadLifecycle checks the mapping of indicator properties, threats,
// versions and every kind of bad object on a bundle written for it.
func TestLoadLifecycle(t *testing.T) {
	t.Parallel()
	r := loadFile(t, filepath.Join("testdata", "bundles", "lifecycle.json"))
	want := Counts{Indicators: 9, Superseded: 1, Compiled: 6, Unsupported: 2, InvalidPatterns: 1, InvalidObjects: 4}
	got := r.Counts
	got.Objects = nil
	if !reflect.DeepEqual(got, want) || totalObjects(r.Counts) != 20 || r.Counts.Objects["indicator"] != 10 {
		t.Errorf("counts = %+v (objects %v), want %+v and 20 objects", r.Counts, r.Counts.Objects, want)
	}
	byValue := map[string]intel.Indicator{}
	for _, in := range r.Indicators {
		byValue[in.Value] = in
	}
	if len(byValue) != 7 || len(r.Indicators) != 7 {
		t.Fatalf("indicators = %v, want 7", renderAll(r.Indicators))
	}
	emotet := byValue["198.51.100.7"]
	if emotet.Threat != "Emotet" || emotet.Confidence != 80 || !emotet.C2() ||
		!slices.Equal(emotet.Tags, []string{"malicious-activity", "apt", "c2"}) ||
		emotet.Description != "Emotet C2 over TLS: Tier-1 controller" ||
		!emotet.ValidUntil.Equal(time.Date(2024, 9, 1, 0, 0, 0, 5e8, time.UTC)) ||
		render(emotet) != "ip 198.51.100.7 [destination.port=443 network.transport=tcp]" {
		t.Errorf("emotet = %+v", emotet)
	}
	phish := byValue["login-example.net"]
	if !phish.Revoked || phish.Confidence != 0 || phish.Threat != "APT-Z" || phish.C2() || phish.Active(time.Now()) {
		t.Errorf("revoked phishing indicator = %+v", phish)
	}
	if in, ok := byValue["192.0.2.200"]; !ok || in.Threat != "Scanner (current version)" || in.Confidence != -1 {
		t.Errorf("newest version not used: %+v", in)
	}
	if _, ok := byValue["192.0.2.100"]; ok {
		t.Error("superseded version loaded")
	}
	if in := byValue["cead3f77f6cda6ec00f57d76c9a6879f"]; in.Type != intel.TypeMD5 || in.Threat != "" || in.Description != "" {
		t.Errorf("nameless hash indicator = %+v", in)
	}
	if in := byValue["http://evil.example.com/Path?Q=1"]; in.Threat != "STIX 2.0 URL indicator" ||
		!slices.Equal(in.Tags, []string{"malicious-activity"}) {
		t.Errorf("STIX 2.0 indicator = %+v", in)
	}
	if in := byValue["billing@example.org"]; in.Confidence != -1 || in.Threat != "Over-confident" {
		t.Errorf("out-of-range confidence = %+v", in)
	}
	reasons := map[string]string{
		"identity--d4045fae-9219-465a-9df9-efada5baac8e": "invalid identity object: malformed object",
		"identity--c7785fb9-9450-4b25-a57d-26107cb020f5": "object has no type",
		"object 17":             "invalid JSON object",
		"indicator--not-a-uuid": "invalid indicator object",
		"indicator--989a2ac5-84b9-452a-ac35-3be5aa2024ba": "pattern_type sigma not supported",
		"indicator--99da1b56-f76b-4824-98ff-0a44e76e7a23": "invalid STIX pattern: column 31: expected ']', AND or OR",
		"indicator--7a8350f3-239b-4b57-b190-a5e27842b007": "object type process",
	}
	for _, p := range r.Problems {
		if want, ok := reasons[p.Where]; ok && strings.Contains(p.Reason, want) {
			delete(reasons, p.Where)
		}
	}
	if len(reasons) != 0 || len(r.Problems) != 8 {
		t.Errorf("problems = %v; missing %v", r.Problems, reasons)
	}
	golden.Check(t, filepath.Join("testdata", "golden", "lifecycle.json"), resultJSON(t, r))
}

// TestObjects checks the TAXII entry point against Load on the same
// objects.
func TestObjects(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "oasis", "indicators-for-C2-with-COA.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	ins, problems := Objects(b.Objects)
	r, err := Load(data)
	if err != nil || len(problems) != 0 || len(ins) != 2 || !slices.EqualFunc(ins, r.Indicators, func(a, b intel.Indicator) bool {
		return a.Key() == b.Key() && a.Threat == b.Threat && a.ID == b.ID
	}) {
		t.Fatalf("Objects = %v, %v; Load = %v, %v", ins, problems, r.Indicators, err)
	}
	if ins[0].Threat != "Poison Ivy" || ins[1].Type != intel.TypeSHA256 {
		t.Errorf("indicators = %+v", ins)
	}
	// Relationships delivered on another page: the threat falls back to
	// the indicator's name.
	ins, _ = Objects(b.Objects[:4])
	if len(ins) != 2 || ins[0].Threat != "IP Address for known C2 channel" {
		t.Errorf("without relationships = %+v", ins)
	}
	if ins, problems := Objects(nil); ins != nil || problems != nil {
		t.Errorf("Objects(nil) = %v, %v", ins, problems)
	}
}

// TestLoadDocuments checks the document shapes Load accepts and rejects.
func TestLoadDocuments(t *testing.T) {
	t.Parallel()
	ind := `{"type":"indicator","spec_version":"2.1","id":"indicator--6b76011b-03de-4e1e-99df-697f2e4eea6d",` +
		`"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '192.0.2.1']",` +
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	tests := []struct {
		name, doc  string
		indicators int
		err        string
	}{
		{"bundle", `{"type":"bundle","id":"bundle--7249b480-7560-446c-b49a-d3b46b272329","objects":[` + ind + `]}`, 1, ""},
		{"array", "[" + ind + "]", 1, ""},
		{"single object", "\n " + ind + "\n", 1, ""},
		{"empty bundle", `{"type":"bundle","id":"bundle--7249b480-7560-446c-b49a-d3b46b272329"}`, 0, ""},
		{"empty array", `[]`, 0, ""},
		{"empty", "  ", 0, "empty document"},
		{"scalar", `"bundle"`, 0, "not a JSON object or array"},
		{"not json", `{"type":`, 0, "not a STIX bundle or object"},
		{"object without id", `{"type":"indicator"}`, 0, "not a STIX bundle or object"},
		{"objects not a list", `{"type":"bundle","objects":{}}`, 0, "not a STIX bundle or object"},
		{"bad array", `[1,`, 0, "invalid JSON array"},
		{"json schema", `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`, 0, "JSON Schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Load([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(r.Indicators) != tt.indicators || len(r.Problems) != 0 {
				t.Fatalf("Load = %+v, %v; want %d indicators", r, err, tt.indicators)
			}
		})
	}
}

// TestDecodeObjectPanic shows why objects are decoded one at a time under
// recover: stix2 v0.9.0 panics on a timestamp that is not a string.
func TestDecodeObjectPanic(t *testing.T) {
	t.Parallel()
	raw := `{"type":"identity","spec_version":"2.1","id":"identity--4d2dc98a-9507-4734-8e04-30ddf6ef1e22",` +
		`"created":5,"modified":"2024-01-01T00:00:00Z","name":"x"}`
	panicked := func() (p bool) {
		defer func() { p = recover() != nil }()
		_, _ = stix2.FromJSON([]byte("[" + raw + "]"))
		return false
	}()
	if !panicked {
		t.Log("stix2 no longer panics on a numeric timestamp; the recover in decodeObject is now only a safeguard")
	}
	if _, err := decodeObject(json.RawMessage(raw)); err == nil {
		t.Fatal("decodeObject accepted a numeric timestamp")
	}
}
