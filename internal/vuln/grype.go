package vuln

import (
	"errors"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
)

// grypeReport is Grype's JSON output (grype -o json).
type grypeReport struct {
	Matches    []json.RawMessage `json:"matches"`
	Source     *grypeSource      `json:"source"`
	Descriptor struct {
		Timestamp string `json:"timestamp"`
	} `json:"descriptor"`
}

// grypeSource names what was scanned; Target is an object for images
// (userInput) and a string for directories and files.
type grypeSource struct {
	Type   string          `json:"type"`
	Target json.RawMessage `json:"target"`
}

type grypeMatch struct {
	Vulnerability grypeVuln     `json:"vulnerability"`
	Related       []grypeVuln   `json:"relatedVulnerabilities"`
	Artifact      grypeArtifact `json:"artifact"`
}

type grypeVuln struct {
	ID          string      `json:"id"`
	DataSource  string      `json:"dataSource"`
	Severity    string      `json:"severity"`
	URLs        []string    `json:"urls"`
	Description string      `json:"description"`
	CVSS        []grypeCVSS `json:"cvss"`
	Fix         struct {
		Versions []string `json:"versions"`
		State    string   `json:"state"`
	} `json:"fix"`
}

type grypeCVSS struct {
	Version string `json:"version"`
	Vector  string `json:"vector"`
	Metrics struct {
		BaseScore float64 `json:"baseScore"`
	} `json:"metrics"`
}

type grypeArtifact struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Type      string `json:"type"`
	Locations []struct {
		Path string `json:"path"`
	} `json:"locations"`
}

// parseGrype reads Grype's JSON report. The target is the scanned source
// (the image reference as typed, or the directory); each match becomes a
// finding on it.
func parseGrype(name string, data []byte) (*Report, error) {
	var rep grypeReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("vuln: %s: not a Grype JSON report: %w", name, err)
	}
	r := &Report{Scan: Scan{Scanner: "grype", Time: parseTime(rep.Descriptor.Timestamp)}}
	target := grypeTarget(rep.Source)
	if target == "" {
		target = "unknown"
	}
	r.Scan.Targets = []string{target}
	for i, raw := range rep.Matches {
		f, err := grypeFinding(raw, target)
		if err != nil {
			r.Problems = append(r.Problems, Problem{File: name, Where: fmt.Sprintf("matches[%d]", i), Target: target, Err: err})
			continue
		}
		f.FirstSeen, f.LastSeen = r.Scan.Time, r.Scan.Time
		r.Findings = append(r.Findings, f)
	}
	return r, nil
}

// grypeTarget names the scanned source.
func grypeTarget(src *grypeSource) string {
	if src == nil || len(src.Target) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(src.Target, &s); err == nil {
		return s
	}
	var img struct {
		UserInput string `json:"userInput"`
		ImageID   string `json:"imageID"`
	}
	if err := json.Unmarshal(src.Target, &img); err == nil {
		if img.UserInput != "" {
			return img.UserInput
		}
		return img.ImageID
	}
	return ""
}

// grypeFinding turns one match into a finding. A GHSA or distribution id
// whose related vulnerabilities name exactly one CVE is reported as that
// CVE, with the original id as an alias, so the key matches other scanners'.
func grypeFinding(raw json.RawMessage, target string) (Finding, error) {
	var m grypeMatch
	if err := json.Unmarshal(raw, &m); err != nil {
		return Finding{}, fmt.Errorf("bad match: %w", err)
	}
	v := m.Vulnerability
	if v.ID == "" || m.Artifact.Name == "" {
		return Finding{}, errors.New("match needs vulnerability.id and artifact.name")
	}
	f := Finding{Scanner: "grype", Kind: KindVulnerability, Target: target, VulnID: v.ID,
		Package: m.Artifact.Name, InstalledVersion: m.Artifact.Version, Description: v.Description}
	var cves []string
	for _, rv := range m.Related {
		if isCVE(rv.ID) {
			cves = addUnique(cves, rv.ID)
		}
		f.Aliases = addUnique(f.Aliases, rv.ID)
		if f.Description == "" {
			f.Description = rv.Description
		}
	}
	if !isCVE(v.ID) && len(cves) == 1 {
		f.VulnID = cves[0]
		f.Aliases = addUnique([]string{v.ID}, f.Aliases...)
	}
	f.Aliases = removeValue(f.Aliases, f.VulnID)
	f.Title = f.VulnID + " in " + f.Package
	if v.Fix.State == "fixed" {
		f.FixedVersion = strings.Join(v.Fix.Versions, ", ")
	}
	for _, l := range m.Artifact.Locations {
		f.Paths = addUnique(f.Paths, l.Path)
	}
	f.References = addUnique(addUnique(nil, v.DataSource), v.URLs...)
	f.CVSS, f.CVSSVector = grypeScore(v.CVSS)
	for _, rv := range m.Related {
		if f.CVSS == 0 {
			f.CVSS, f.CVSSVector = grypeScore(rv.CVSS)
		}
	}
	f.Severity = severityOr(v.Severity, f.CVSS)
	return f, nil
}

// grypeScore picks the highest-version CVSS entry's base score.
func grypeScore(cs []grypeCVSS) (float64, string) {
	var best grypeCVSS
	for _, c := range cs {
		if c.Version >= best.Version {
			best = c
		}
	}
	return best.Metrics.BaseScore, best.Vector
}

// removeValue drops v (compared without regard to case) from list.
func removeValue(list []string, v string) []string {
	out := list[:0]
	for _, s := range list {
		if !strings.EqualFold(s, v) {
			out = append(out, s)
		}
	}
	return out
}
