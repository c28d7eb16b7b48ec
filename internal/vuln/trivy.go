package vuln

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// trivyReport is a Trivy JSON report: SchemaVersion 2 (Results), the
// Kubernetes cluster report (ClusterName with Resources, or the older
// Vulnerabilities and Misconfigurations lists of resources), or the legacy
// bare list of results.
type trivyReport struct {
	CreatedAt         string          `json:"CreatedAt"`
	ArtifactName      string          `json:"ArtifactName"`
	ClusterName       string          `json:"ClusterName"`
	Results           []trivyResult   `json:"Results"`
	Vulnerabilities   []trivyResource `json:"Vulnerabilities"`
	Misconfigurations []trivyResource `json:"Misconfigurations"`
	Resources         []trivyResource `json:"Resources"`
}

// trivyResource is a Kubernetes workload and its results.
type trivyResource struct {
	Namespace string        `json:"Namespace"`
	Kind      string        `json:"Kind"`
	Name      string        `json:"Name"`
	Results   []trivyResult `json:"Results"`
}

// trivyResult is one scanned target inside the artifact (an OS, a lock
// file, a config file). Records stay raw so one bad record is skipped alone.
type trivyResult struct {
	Target            string            `json:"Target"`
	Class             string            `json:"Class"`
	Type              string            `json:"Type"`
	Vulnerabilities   []json.RawMessage `json:"Vulnerabilities"`
	Misconfigurations []json.RawMessage `json:"Misconfigurations"`
	Secrets           []json.RawMessage `json:"Secrets"`
	Licenses          []json.RawMessage `json:"Licenses"`
}

type trivyVuln struct {
	VulnerabilityID  string               `json:"VulnerabilityID"`
	PkgName          string               `json:"PkgName"`
	PkgPath          string               `json:"PkgPath"`
	InstalledVersion string               `json:"InstalledVersion"`
	FixedVersion     string               `json:"FixedVersion"`
	Title            string               `json:"Title"`
	Description      string               `json:"Description"`
	Severity         string               `json:"Severity"`
	SeveritySource   string               `json:"SeveritySource"`
	PrimaryURL       string               `json:"PrimaryURL"`
	References       []string             `json:"References"`
	CVSS             map[string]trivyCVSS `json:"CVSS"`
}

type trivyCVSS struct {
	V2Vector  string  `json:"V2Vector"`
	V3Vector  string  `json:"V3Vector"`
	V40Vector string  `json:"V40Vector"`
	V2Score   float64 `json:"V2Score"`
	V3Score   float64 `json:"V3Score"`
	V40Score  float64 `json:"V40Score"`
}

type trivyMisconfig struct {
	ID          string   `json:"ID"`
	Title       string   `json:"Title"`
	Description string   `json:"Description"`
	Message     string   `json:"Message"`
	Resolution  string   `json:"Resolution"`
	Severity    string   `json:"Severity"`
	PrimaryURL  string   `json:"PrimaryURL"`
	References  []string `json:"References"`
}

type trivySecret struct {
	RuleID    string `json:"RuleID"`
	Category  string `json:"Category"`
	Severity  string `json:"Severity"`
	Title     string `json:"Title"`
	StartLine int    `json:"StartLine"`
}

type trivyLicense struct {
	Severity string `json:"Severity"`
	Category string `json:"Category"`
	PkgName  string `json:"PkgName"`
	FilePath string `json:"FilePath"`
	Name     string `json:"Name"`
	Link     string `json:"Link"`
}

// trivyParser carries one report's parse state.
type trivyParser struct {
	r    *Report
	name string
	at   time.Time
}

// parseTrivy reads any of Trivy's JSON report shapes.
func parseTrivy(name string, data []byte) (*Report, error) {
	p := &trivyParser{r: &Report{Scan: Scan{Scanner: "trivy"}}, name: name}
	var list []trivyResult
	if err := json.Unmarshal(data, &list); err == nil {
		for i, res := range list {
			p.result(fmt.Sprintf("[%d]", i), res.Target, res)
		}
		return p.r, nil
	}
	var rep trivyReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("vuln: %s: not a Trivy JSON report: %w", name, err)
	}
	p.at = parseTime(rep.CreatedAt)
	p.r.Scan.Time = p.at
	if rep.ClusterName == "" && rep.Results == nil && rep.ArtifactName == "" && rep.Resources == nil &&
		rep.Vulnerabilities == nil && rep.Misconfigurations == nil {
		return nil, fmt.Errorf("vuln: %s: not a Trivy JSON report: no Results, ArtifactName, ClusterName or Resources", name)
	}
	p.r.Scan.Targets = addUnique(p.r.Scan.Targets, rep.ArtifactName)
	for i, res := range rep.Results {
		target := rep.ArtifactName
		if target == "" {
			target = res.Target
		}
		p.result(fmt.Sprintf("Results[%d]", i), target, res)
	}
	groups := []struct {
		field string
		rs    []trivyResource
	}{{"Vulnerabilities", rep.Vulnerabilities}, {"Misconfigurations", rep.Misconfigurations}, {"Resources", rep.Resources}}
	for _, g := range groups {
		field := g.field
		for i, rc := range g.rs {
			target := strings.Join(slices.DeleteFunc([]string{rc.Namespace, rc.Kind, rc.Name},
				func(s string) bool { return s == "" }), "/")
			p.r.Scan.Targets = addUnique(p.r.Scan.Targets, target)
			for j, res := range rc.Results {
				p.result(fmt.Sprintf("%s[%d].Results[%d]", field, i, j), target, res)
			}
		}
	}
	return p.r, nil
}

// result turns one result's records into findings on target.
func (p *trivyParser) result(where, target string, res trivyResult) {
	if target == "" {
		p.problem(where, "", errors.New("result has no Target"))
		return
	}
	p.r.Scan.Targets = addUnique(p.r.Scan.Targets, target)
	base := Finding{Scanner: "trivy", Target: target, FirstSeen: p.at, LastSeen: p.at}
	each := func(field string, recs []json.RawMessage, fn func(raw json.RawMessage, f *Finding) error) {
		for i, raw := range recs {
			f := base
			if err := fn(raw, &f); err != nil {
				p.problem(fmt.Sprintf("%s.%s[%d]", where, field, i), target, err)
				continue
			}
			p.r.Findings = append(p.r.Findings, f)
		}
	}
	each("Vulnerabilities", res.Vulnerabilities, func(raw json.RawMessage, f *Finding) error {
		return trivyVulnFinding(raw, res, f)
	})
	each("Misconfigurations", res.Misconfigurations, func(raw json.RawMessage, f *Finding) error {
		return trivyMisconfigFinding(raw, res, f)
	})
	each("Secrets", res.Secrets, func(raw json.RawMessage, f *Finding) error {
		return trivySecretFinding(raw, res, f)
	})
	each("Licenses", res.Licenses, func(raw json.RawMessage, f *Finding) error {
		return trivyLicenseFinding(raw, res, f)
	})
}

func (p *trivyParser) problem(where, target string, err error) {
	p.r.Problems = append(p.r.Problems, Problem{File: p.name, Where: where, Target: target, Err: err})
}

// trivyVulnFinding fills f from a vulnerability record.
func trivyVulnFinding(raw json.RawMessage, res trivyResult, f *Finding) error {
	var v trivyVuln
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("bad vulnerability: %w", err)
	}
	if v.VulnerabilityID == "" || v.PkgName == "" {
		return errors.New("vulnerability needs VulnerabilityID and PkgName")
	}
	f.Kind, f.VulnID, f.Title = KindVulnerability, v.VulnerabilityID, v.Title
	if f.Title == "" {
		f.Title = v.VulnerabilityID + " in " + v.PkgName
	}
	f.Package, f.InstalledVersion, f.FixedVersion = v.PkgName, v.InstalledVersion, v.FixedVersion
	f.Paths = addUnique(nil, v.PkgPath)
	if res.Target != f.Target {
		f.Paths = addUnique(f.Paths, res.Target)
	}
	f.Description = v.Description
	f.References = addUnique(addUnique(nil, v.PrimaryURL), v.References...)
	f.CVSS, f.CVSSVector = trivyScore(v.CVSS, v.SeveritySource)
	f.Severity = severityOr(v.Severity, f.CVSS)
	return nil
}

// trivyScore picks the CVSS entry of the severity source, else NVD's, else
// the first by name; within it v3, then v4, then v2.
func trivyScore(m map[string]trivyCVSS, source string) (float64, string) {
	if len(m) == 0 {
		return 0, ""
	}
	c, ok := m[source]
	if !ok {
		c, ok = m["nvd"]
	}
	if !ok {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		slices.Sort(names)
		c = m[names[0]]
	}
	switch {
	case c.V3Score > 0 || c.V3Vector != "":
		return c.V3Score, c.V3Vector
	case c.V40Score > 0 || c.V40Vector != "":
		return c.V40Score, c.V40Vector
	}
	return c.V2Score, c.V2Vector
}

// trivyMisconfigFinding fills f from a misconfiguration record.
func trivyMisconfigFinding(raw json.RawMessage, res trivyResult, f *Finding) error {
	var m trivyMisconfig
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("bad misconfiguration: %w", err)
	}
	if m.ID == "" {
		return errors.New("misconfiguration has no ID")
	}
	f.Kind, f.VulnID, f.Title, f.Location = KindMisconfiguration, m.ID, m.ID+" - "+m.Title, res.Target
	f.Description = strings.TrimSpace(m.Description + "\n" + m.Message)
	f.Solution = m.Resolution
	f.References = addUnique(addUnique(nil, m.PrimaryURL), m.References...)
	f.Severity = severityOr(m.Severity, 0)
	return nil
}

// trivySecretFinding fills f from a secret record.
func trivySecretFinding(raw json.RawMessage, res trivyResult, f *Finding) error {
	var s trivySecret
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("bad secret: %w", err)
	}
	if s.RuleID == "" {
		return errors.New("secret has no RuleID")
	}
	f.Kind, f.VulnID = KindSecret, s.RuleID
	f.Title = "Secret detected in " + res.Target + " - " + s.Title
	f.Location = res.Target + ":" + strconv.Itoa(s.StartLine)
	f.Description = s.Category
	f.Severity = severityOr(s.Severity, 0)
	return nil
}

// trivyLicenseFinding fills f from a licence record.
func trivyLicenseFinding(raw json.RawMessage, res trivyResult, f *Finding) error {
	var l trivyLicense
	if err := json.Unmarshal(raw, &l); err != nil {
		return fmt.Errorf("bad license: %w", err)
	}
	if l.Name == "" {
		return errors.New("license has no Name")
	}
	f.Kind, f.VulnID, f.Package = KindLicense, l.Name, l.PkgName
	f.Location = l.FilePath
	if f.Location == "" {
		f.Location = res.Target
	}
	f.Title = "License " + l.Name
	if l.PkgName != "" {
		f.Title += " in " + l.PkgName
	}
	f.Description = "License category: " + l.Category
	f.References = addUnique(nil, l.Link)
	f.Severity = severityOr(l.Severity, 0)
	return nil
}

// severityOr normalises word, falling back on the CVSS score when the word
// is not a known severity.
func severityOr(word string, cvss float64) Severity {
	if s, ok := ParseSeverity(word); ok && (s != SeverityInfo || cvss == 0) {
		return s
	}
	return FromCVSS(cvss)
}

// parseTime reads a report time stamp in the layouts scanners use; zero
// when empty or unreadable.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "Mon Jan 2 15:04:05 2006",
		"Mon Jan _2 15:04:05 2006", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
