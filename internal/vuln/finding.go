package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says what sort of weakness a finding is.
type Kind string

// Finding kinds.
const (
	// KindVulnerability is a known vulnerability (a CVE, an advisory, a
	// scanner plugin or NVT) in a package or a network service.
	KindVulnerability Kind = "vulnerability"
	// KindMisconfiguration is a configuration check that failed (Trivy
	// misconfigurations).
	KindMisconfiguration Kind = "misconfiguration"
	// KindSecret is a secret found in a file (Trivy secrets).
	KindSecret Kind = "secret"
	// KindLicense is a package licence flagged by policy (Trivy licenses).
	KindLicense Kind = "license"
)

// Finding is one weakness on one target as one scan reports it.
type Finding struct {
	// Scanner names the tool that reported it: trivy, grype, openvas,
	// nessus or tenable.
	Scanner string `json:"scanner"`
	// Kind is what sort of weakness it is.
	Kind Kind `json:"kind"`
	// Target is what was scanned, as the scanner names it: a host's IP or
	// name, an image reference, a directory, a Kubernetes workload.
	Target string `json:"target"`
	// Hostname is a host name the scanner gave beside an IP target.
	Hostname string `json:"hostname,omitempty"`
	// VulnID is the vulnerability's identifier: a CVE where the scanner
	// reports one per finding, else the scanner's own id (GHSA, Nessus
	// plugin id, OpenVAS NVT OID, misconfiguration or secret rule id).
	VulnID string `json:"vuln_id"`
	// Aliases are other identifiers of the same weakness (the CVEs a plugin
	// covers, a GHSA beside its CVE).
	Aliases []string `json:"aliases,omitempty"`
	// Title is a one-line name.
	Title string `json:"title"`
	// Severity is the normalised severity.
	Severity Severity `json:"severity"`
	// CVSS is the base score, 0 when the scanner gave none.
	CVSS float64 `json:"cvss,omitempty"`
	// CVSSVector is the CVSS vector when given.
	CVSSVector string `json:"cvss_vector,omitempty"`
	// Package is the affected package or component name.
	Package string `json:"package,omitempty"`
	// InstalledVersion is the package version found.
	InstalledVersion string `json:"installed_version,omitempty"`
	// FixedVersion is the version that fixes it, when known.
	FixedVersion string `json:"fixed_version,omitempty"`
	// Paths are where the package was found inside the target (files,
	// lock files, layers); informative, not part of the dedup key.
	Paths []string `json:"paths,omitempty"`
	// Location is where a non-package finding sits inside the target (the
	// misconfigured file, a secret's file:line, a licence's file); part of
	// the dedup key.
	Location string `json:"location,omitempty"`
	// Port and Protocol locate a network finding; 0 and "" when the scanner
	// gave none (Nessus' and OpenVAS' "general" findings).
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	// Description is the scanner's longer text.
	Description string `json:"description,omitempty"`
	// Solution is the remediation advice when given.
	Solution string `json:"solution,omitempty"`
	// References are advisory URLs.
	References []string `json:"references,omitempty"`
	// FirstSeen and LastSeen bound when this scan saw it (the scan time,
	// or a host's scan start and end for Nessus); zero when the report
	// carries no time.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Key returns the finding's stable dedup key: a hash of the target, the
// vulnerability id, the package (or, for findings without one, the
// location) and the port and protocol, each compared without regard to
// case. It leaves out the scanner, the installed version and the package
// paths, so the same weakness reported by Trivy and by Grype for the same
// image, or still present after an upgrade that did not fix it, keeps one
// key.
func (f *Finding) Key() string {
	loc := ""
	if f.Package == "" {
		loc = f.Location
	}
	port := ""
	if f.Port != 0 || f.Protocol != "" {
		port = strconv.Itoa(f.Port) + "/" + f.Protocol
	}
	parts := []string{f.Target, f.VulnID, f.Package, loc, port}
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// merge folds g, a second report of f's key in the same scan, into f: the
// higher severity and score win, versions and lists are united, and the
// seen window widens.
func (f *Finding) merge(g *Finding) {
	if g.Severity.Rank() > f.Severity.Rank() {
		f.Severity = g.Severity
	}
	if g.CVSS > f.CVSS {
		f.CVSS, f.CVSSVector = g.CVSS, g.CVSSVector
	}
	f.InstalledVersion = joinDistinct(f.InstalledVersion, g.InstalledVersion)
	f.FixedVersion = joinDistinct(f.FixedVersion, g.FixedVersion)
	f.Paths = unite(f.Paths, g.Paths)
	f.Aliases = unite(f.Aliases, g.Aliases)
	f.References = unite(f.References, g.References)
	if f.Hostname == "" {
		f.Hostname = g.Hostname
	}
	if f.FirstSeen.IsZero() || (!g.FirstSeen.IsZero() && g.FirstSeen.Before(f.FirstSeen)) {
		f.FirstSeen = g.FirstSeen
	}
	if g.LastSeen.After(f.LastSeen) {
		f.LastSeen = g.LastSeen
	}
}

// Dedup merges findings with the same Key, keeping the order of each key's
// first appearance.
func Dedup(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	at := make(map[string]int, len(fs))
	for i := range fs {
		k := fs[i].Key()
		if j, ok := at[k]; ok {
			out[j].merge(&fs[i])
			continue
		}
		at[k] = len(out)
		out = append(out, fs[i])
	}
	return out
}

// joinDistinct joins two comma-separated value lists without repeats.
func joinDistinct(a, b string) string {
	switch {
	case b == "" || a == b:
		return a
	case a == "":
		return b
	}
	have := strings.Split(a, ", ")
	for _, v := range strings.Split(b, ", ") {
		if !slices.Contains(have, v) {
			have = append(have, v)
		}
	}
	return strings.Join(have, ", ")
}

// unite appends the values of b missing from a.
func unite(a, b []string) []string {
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	return a
}

// addUnique appends the non-empty, trimmed values missing from list.
func addUnique(list []string, vs ...string) []string {
	for _, v := range vs {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// isCVE reports whether id looks like a CVE identifier.
func isCVE(id string) bool {
	return len(id) > 4 && strings.EqualFold(id[:4], "CVE-")
}
