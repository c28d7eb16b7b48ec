package vuln

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseOpenVASCSV reads Greenbone/OpenVAS' CSV result export: one row per
// result with IP, Hostname, Port, Port Protocol, CVSS, Severity, NVT Name,
// NVT OID, CVEs and the text columns.
func parseOpenVASCSV(name string, data []byte) (*Report, error) {
	r := &Report{Scan: Scan{Scanner: "openvas"}}
	err := readCSV(name, data, r, func(row csvRow) (string, error) {
		f, err := openVASRow(row)
		if err != nil {
			return row.get("ip", "hostname"), err
		}
		if f.LastSeen.After(r.Scan.Time) {
			r.Scan.Time = f.LastSeen
		}
		r.Findings = append(r.Findings, f)
		return f.Target, nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// openVASRow turns one CSV row into a finding.
func openVASRow(row csvRow) (Finding, error) {
	host := row.get("ip", "hostname")
	if host == "" {
		return Finding{}, errors.New("row has no IP or Hostname")
	}
	id := row.get("nvt oid", "nvt name")
	if id == "" {
		return Finding{}, errors.New("row has no NVT OID")
	}
	f := Finding{Scanner: "openvas", Kind: KindVulnerability, Target: host, VulnID: id,
		Hostname: row.get("hostname"), Title: row.get("nvt name", "nvt oid")}
	if p := row.get("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return Finding{}, fmt.Errorf("bad Port %q", p)
		}
		f.Port = n
	}
	f.Protocol = strings.ToLower(row.get("port protocol"))
	score, err := parseScore(row.get("cvss"))
	if err != nil {
		return Finding{}, err
	}
	f.CVSS = score
	f.Severity = severityOr(row.get("severity"), score)
	f.Description = strings.TrimSpace(row.get("summary") + "\n\n" + row.get("specific result"))
	f.Solution = row.get("solution")
	f.Aliases = cves(row.get("cves"))
	f.References = addUnique(nil, strings.Fields(row.get("other references"))...)
	f.FirstSeen = parseTime(row.get("timestamp"))
	f.LastSeen = f.FirstSeen
	return f, nil
}
