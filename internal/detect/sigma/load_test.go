package sigma

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/sigma/correlation"
	"github.com/vigil-soc/vigil/internal/golden"
)

// TestLoadDirGolden loads testdata/load, a folder of good and broken rules,
// and compares what loaded and every error (file, line, reason) with a
// golden file.
func TestLoadDirGolden(t *testing.T) {
	t.Parallel()
	set, errs := LoadDir(os.DirFS("testdata"), "load", LoadOptions{})
	var b strings.Builder
	fmt.Fprintln(&b, "# rules")
	for _, r := range set.Rules {
		fmt.Fprintf(&b, "%s:%d %s %q name=%s level=%s status=%s logsource=%s tags=%v\n",
			r.Path, r.Line, r.ID, r.Title, r.Name, r.Level, r.Status, r.Logsource, r.Tags)
	}
	fmt.Fprintln(&b, "# correlations")
	for _, c := range set.Correlations {
		fmt.Fprintf(&b, "%s:%d %s %q type=%s rules=%v group-by=%v timespan=%s condition=%v generate=%v\n",
			c.File, c.Line, c.ID, c.Title, c.Type, c.Rules, c.GroupBy, c.Timespan, c.Condition, c.Generate)
	}
	fmt.Fprintln(&b, "# errors")
	for _, e := range errs {
		fmt.Fprintln(&b, e.Error())
	}
	golden.Check(t, "testdata/load.golden", []byte(b.String()))
}

// TestCollection checks that action: global merges into each following
// document.
func TestCollection(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/load/i_collection.yml")
	if err != nil {
		t.Fatal(err)
	}
	loaded, errs := LoadFile("i_collection.yml", data, LoadOptions{})
	rules := loaded.Rules
	if len(errs) > 0 || len(rules) != 2 {
		t.Fatalf("rules %d, errors %v", len(rules), errs)
	}
	m := &Mapping{}
	err = m.Add("m.yml", []byte(`logsources:
  - {product: windows, service: security, when: {Channel: Security}}
  - {product: windows, service: system, when: {Channel: System}}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(rules, m)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kv   []string
		want string
	}{
		{[]string{"Channel", "Security", "EventID", "4720", "User", "bob"}, "99999999-9999-9999-9999-999999999991"},
		{[]string{"Channel", "Security", "EventID", "4720", "User", "SYSTEM"}, ""},
		{[]string{"Channel", "System", "EventID", "7045"}, "99999999-9999-9999-9999-999999999992"},
		{[]string{"Channel", "System", "EventID", "4720"}, ""},
	}
	for _, tc := range tests {
		got := ""
		e.Match(testEvent(tc.kv...), func(r *Rule) { got += r.ID })
		if got != tc.want {
			t.Errorf("%v: matched %q, want %q", tc.kv, got, tc.want)
		}
	}
	if rules[0].Title != "Collection" || rules[0].Level != "medium" {
		t.Errorf("global keys not merged: %+v", rules[0])
	}
}

func TestLoadFileMetadata(t *testing.T) {
	t.Parallel()
	text := `title: Meta
id: 12345678-1234-1234-1234-123456789012
status: stable
description: A description.
author: Someone
date: 2024-01-02
modified: 2024-02-03
references:
    - https://example.com/a
tags: [attack.execution, attack.t1059.001]
related:
    - id: 00000000-0000-0000-0000-000000000009
      type: derived
fields: [CommandLine, ParentImage]
falsepositives: Admin scripts
logsource:
    product: windows
    category: process_creation
    definition: Needs command line auditing.
detection:
    sel:
        Image: x
    condition: sel
level: critical
`
	r := loadOne(t, text, LoadOptions{})
	want := Rule{ID: "12345678-1234-1234-1234-123456789012", Title: "Meta", Level: "critical", Status: "stable",
		Description: "A description.", Author: "Someone", Date: "2024-01-02", Modified: "2024-02-03",
		Path: "rule.yml", Line: 1}
	got := *r
	got.Tags, got.References, got.FalsePositives, got.Fields, got.Related, got.Logsource, got.det = nil, nil, nil, nil, nil, Logsource{}, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rule = %+v\nwant  %+v", got, want)
	}
	if fmt.Sprint(r.Tags, r.References, r.FalsePositives, r.Fields, r.Related) !=
		"[attack.execution attack.t1059.001] [https://example.com/a] [Admin scripts] [CommandLine ParentImage] [{00000000-0000-0000-0000-000000000009 derived}]" {
		t.Errorf("lists = %v %v %v %v %v", r.Tags, r.References, r.FalsePositives, r.Fields, r.Related)
	}
	if r.Logsource != (Logsource{Product: "windows", Category: "process_creation", Definition: "Needs command line auditing."}) {
		t.Errorf("logsource = %+v", r.Logsource)
	}
	if !r.HasTag("ATTACK.T1059.001") || r.HasTag("attack.t1059") {
		t.Error("HasTag")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"not a map", "- a\n- b\n", 1, "a rule must be a YAML map"},
		{"no title", "logsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n", 1, "no title"},
		{"no logsource", "title: x\ndetection: {s: {a: 1}, condition: s}\n", 1, "no logsource"},
		{"empty logsource", "title: x\nlogsource: {definition: y}\ndetection: {s: {a: 1}, condition: s}\n", 2, "names no product"},
		{"no condition", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    a: 1\n", 4, "no condition"},
		{"bad status", "title: x\nstatus: done\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n", 2, "unknown status"},
		{"empty value list", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    a: []\n  condition: s\n", 5, "empty list of values"},
		{"map value", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    a: {b: c}\n  condition: s\n", 5, "not a map"},
		{"bad cidr", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    ip|cidr: 10.0.0.0/33\n  condition: s\n", 5, "cidr value"},
		{"bad number", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    n|gt: ten\n  condition: s\n", 5, "needs a number"},
		{"bad exists", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    n|exists: maybe\n  condition: s\n", 5, "true or false"},
		{"duplicate key", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    a: 1\n  s:\n    b: 1\n  condition: s\n", 6, "given twice"},
		{"aggregation", "title: x\nlogsource: {product: x}\ndetection:\n  s:\n    a: 1\n  condition: s | count() > 3\n", 6, "aggregations"},
		{"bad correlation type", "title: x\ncorrelation:\n  type: value_sum\n  rules: [a]\n  timespan: 1h\n", 3, "unsupported correlation type"},
		{"bad timespan", "title: x\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  timespan: 1x\n", 5, "want a number and a unit"},
		{"unknown action", "action: frobnicate\ntitle: x\n", 1, "unknown action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loaded, errs := LoadFile("bad.yml", []byte(tc.text), LoadOptions{})
			rules := loaded.Rules
			if len(rules) != 0 || len(errs) != 1 {
				t.Fatalf("rules %d, errors %v", len(rules), errs)
			}
			if errs[0].Line != tc.line || !strings.Contains(errs[0].Reason, tc.want) || errs[0].File != "bad.yml" {
				t.Errorf("error = %v, want line %d and %q", errs[0], tc.line, tc.want)
			}
		})
	}
}

// TestLoadKeepsGoodRules checks that a broken document does not stop the
// good ones beside it, in one file and in a folder.
func TestLoadKeepsGoodRules(t *testing.T) {
	t.Parallel()
	good := "title: good\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n"
	bad := "title: bad\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: t}\n"
	loaded, errs := LoadFile("f.yml", []byte(good+"---\n"+bad+"---\n"+good), LoadOptions{})
	rules := loaded.Rules
	if len(rules) != 2 || len(errs) != 1 || errs[0].Line != 7 {
		t.Errorf("rules %d, errors %v", len(rules), errs)
	}
	fsys := fstest.MapFS{
		"r/a.yml":      {Data: []byte(good)},
		"r/b.yaml":     {Data: []byte(bad)},
		"r/sub/c.yml":  {Data: []byte(good)},
		"r/readme.md":  {Data: []byte("# not a rule")},
		"r/d.yml":      {Data: []byte("\t")},
		"r/e.YML":      {Data: []byte(good)},
		"r/sub/f.json": {Data: []byte("{}")},
	}
	set, errs := LoadDir(fsys, "r", LoadOptions{})
	if len(set.Rules) != 3 || len(errs) != 2 {
		t.Errorf("rules %d, errors %v", len(set.Rules), errs)
	}
	if _, errs := LoadDir(fsys, "missing", LoadOptions{}); len(errs) != 1 {
		t.Errorf("missing root: errors %v", errs)
	}
}

// TestLoadFileHandsOverCorrelations checks that correlation documents are
// parsed by the correlation package as they are read, beside the detection
// rules of the same file: parsed once, their problems reported with the
// file and line, and the documents around a broken one still loaded.
func TestLoadFileHandsOverCorrelations(t *testing.T) {
	t.Parallel()
	text := `title: failed logon
id: 11111111-0000-0000-0000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4625}, condition: sel}
---
title: brute force
id: 11111111-0000-0000-0000-000000000002
correlation:
  type: event_count
  rules: failed_logon
  group-by: [IpAddress]
  timespan: 10m
  condition: {gte: 20}
  generate: true
---
title: broken
correlation:
  type: event_count
  rules: [failed_logon]
  timespan: 10x
  condition: {gte: 20}
`
	set, errs := LoadFile("c.yml", []byte(text), LoadOptions{})
	if len(set.Rules) != 1 || set.Rules[0].Name != "failed_logon" {
		t.Fatalf("detection rules %v", set.Rules)
	}
	if len(set.Correlations) != 1 {
		t.Fatalf("correlations %v, errors %v", set.Correlations, errs)
	}
	c := set.Correlations[0]
	if c.File != "c.yml" || c.Line != 7 || c.Type != correlation.EventCount || !slices.Equal(c.Rules, []string{"failed_logon"}) ||
		!slices.Equal(c.GroupBy, []string{"IpAddress"}) || c.Timespan != 10*time.Minute || c.Condition.String() != "gte 20" || !c.Generate {
		t.Errorf("correlation = %+v", c)
	}
	if len(errs) != 1 || errs[0].File != "c.yml" || errs[0].Line != 21 || !strings.Contains(errs[0].Reason, "timespan") {
		t.Errorf("errors = %v, want the timespan of line 21", errs)
	}
	fsys := fstest.MapFS{"r/a.yml": {Data: []byte(text)}, "r/b.yml": {Data: []byte(text)}}
	dir, errs := LoadDir(fsys, "r", LoadOptions{})
	if len(dir.Rules) != 1 || len(dir.Correlations) != 1 || len(errs) != 4 {
		t.Errorf("folder: %d rules, %d correlations, errors %v (want the broken rule twice and two duplicate ids)",
			len(dir.Rules), len(dir.Correlations), errs)
	}
}
