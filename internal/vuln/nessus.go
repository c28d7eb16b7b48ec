package vuln

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// nessusHost is one ReportHost of a .nessus (NessusClientData_v2) file.
type nessusHost struct {
	Name string `xml:"name,attr"`
	Tags []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"HostProperties>tag"`
	Items []nessusItem `xml:"ReportItem"`
}

// nessusItem is one ReportItem: a plugin's result on a port.
type nessusItem struct {
	Port         string   `xml:"port,attr"`
	Protocol     string   `xml:"protocol,attr"`
	Severity     string   `xml:"severity,attr"`
	PluginID     string   `xml:"pluginID,attr"`
	PluginName   string   `xml:"pluginName,attr"`
	Synopsis     string   `xml:"synopsis"`
	Description  string   `xml:"description"`
	Solution     string   `xml:"solution"`
	RiskFactor   string   `xml:"risk_factor"`
	CVSS3Base    string   `xml:"cvss3_base_score"`
	CVSS3Vector  string   `xml:"cvss3_vector"`
	CVSSBase     string   `xml:"cvss_base_score"`
	CVSSVector   string   `xml:"cvss_vector"`
	CVE          []string `xml:"cve"`
	SeeAlso      []string `xml:"see_also"`
	PluginOutput string   `xml:"plugin_output"`
}

// parseNessus streams a Nessus v2 XML report: every ReportItem of every
// ReportHost becomes a finding on that host, informational plugins
// (severity 0) included as severity info.
func parseNessus(name string, data []byte) (*Report, error) {
	r := &Report{Scan: Scan{Scanner: "nessus"}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	rooted := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := dec.InputPos()
		if err != nil {
			return nil, fmt.Errorf("vuln: %s: line %d: bad Nessus XML: %w", name, line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !rooted {
			if !strings.HasPrefix(se.Name.Local, "NessusClientData") {
				return nil, fmt.Errorf("vuln: %s: line %d: root element <%s> is not NessusClientData_v2", name, line, se.Name.Local)
			}
			rooted = true
			continue
		}
		if se.Name.Local != "ReportHost" {
			continue
		}
		var h nessusHost
		if err := dec.DecodeElement(&h, &se); err != nil {
			return nil, fmt.Errorf("vuln: %s: line %d: bad ReportHost: %w", name, line, err)
		}
		nessusHostFindings(name, line, &h, r)
	}
	if !rooted {
		return nil, fmt.Errorf("vuln: %s: no NessusClientData_v2 element", name)
	}
	return r, nil
}

// nessusHostFindings adds one host's items to r.
func nessusHostFindings(name string, line int, h *nessusHost, r *Report) {
	target := strings.TrimSpace(h.Name)
	tags := map[string]string{}
	for _, t := range h.Tags {
		tags[t.Name] = strings.TrimSpace(t.Value)
	}
	if target == "" {
		target = tags["host-ip"]
	}
	if target == "" {
		r.Problems = append(r.Problems, Problem{File: name, Where: fmt.Sprintf("line %d: ReportHost", line),
			Err: errors.New("host has no name or host-ip")})
		return
	}
	r.Scan.Targets = addUnique(r.Scan.Targets, target)
	start, end := parseTime(tags["HOST_START"]), parseTime(tags["HOST_END"])
	if start.IsZero() {
		start = unixTime(tags["HOST_START_TIMESTAMP"])
	}
	if end.IsZero() {
		end = unixTime(tags["HOST_END_TIMESTAMP"])
	}
	if end.IsZero() {
		end = start
	}
	if end.After(r.Scan.Time) {
		r.Scan.Time = end
	}
	hostname := tags["host-fqdn"]
	if hostname == "" {
		hostname = tags["netbios-name"]
	}
	for i := range h.Items {
		f, err := nessusFinding(&h.Items[i], target, hostname)
		if err != nil {
			r.Problems = append(r.Problems, Problem{File: name,
				Where: fmt.Sprintf("line %d: ReportHost %q ReportItem %d", line, target, i+1), Target: target, Err: err})
			continue
		}
		f.FirstSeen, f.LastSeen = start, end
		r.Findings = append(r.Findings, f)
	}
}

// nessusFinding turns one ReportItem into a finding.
func nessusFinding(it *nessusItem, target, hostname string) (Finding, error) {
	if strings.TrimSpace(it.PluginID) == "" {
		return Finding{}, errors.New("ReportItem has no pluginID")
	}
	f := Finding{Scanner: "nessus", Kind: KindVulnerability, Target: target, Hostname: hostname,
		VulnID: strings.TrimSpace(it.PluginID), Title: strings.TrimSpace(it.PluginName),
		Protocol: strings.ToLower(strings.TrimSpace(it.Protocol)), Solution: strings.TrimSpace(it.Solution)}
	if p := strings.TrimSpace(it.Port); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return Finding{}, fmt.Errorf("bad port %q", it.Port)
		}
		f.Port = n
	}
	var err error
	if f.CVSS, err = parseScore(it.CVSS3Base); err != nil {
		return Finding{}, err
	}
	f.CVSSVector = it.CVSS3Vector
	if f.CVSS == 0 {
		if f.CVSS, err = parseScore(it.CVSSBase); err != nil {
			return Finding{}, err
		}
		f.CVSSVector = it.CVSSVector
	}
	sev, ok := ParseSeverity(it.Severity)
	if !ok || strings.TrimSpace(it.Severity) == "" {
		sev = severityOr(it.RiskFactor, f.CVSS)
	}
	f.Severity = sev
	f.Description = strings.TrimSpace(strings.TrimSpace(it.Synopsis) + "\n\n" + strings.TrimSpace(it.Description))
	if out := strings.TrimSpace(it.PluginOutput); out != "" {
		f.Description += "\n\nPlugin output:\n" + out
	}
	f.Aliases = addUnique(nil, it.CVE...)
	for _, s := range it.SeeAlso {
		f.References = addUnique(f.References, strings.Fields(s)...)
	}
	return f, nil
}

// unixTime reads a Unix seconds string; zero when unreadable.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
