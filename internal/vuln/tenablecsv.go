package vuln

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// tenableColumns are the column names of the Tenable CSV variants (Nessus
// "Export CSV", Tenable.sc and Tenable.io exports), most specific first.
type tenableColumns struct {
	plugin, name, severity, target, hostname, cvss3, cvss2, vector3, vector2, seen, first []string
}

// newTenableColumns returns the column names tenableRow looks for.
func newTenableColumns() tenableColumns {
	return tenableColumns{
		plugin:   []string{"plugin id", "plugin", "definition.id"},
		name:     []string{"name", "plugin name", "definition.name"},
		severity: []string{"risk", "severity", "risk factor", "definition.severity"},
		target:   []string{"host", "ip address", "asset.display_ipv4_address", "asset.host_name", "dns name", "asset.display_fqdn", "fqdn"},
		hostname: []string{"dns name", "fqdn", "asset.display_fqdn", "asset.host_name", "netbios name", "netbios"},
		cvss3:    []string{"cvss v3.0 base score", "cvss v3 base score", "cvssv3", "cvss3 base score", "definition.cvss3.base_score"},
		cvss2:    []string{"cvss v2.0 base score", "cvss v2 base score", "cvss", "cvss base score", "definition.cvss2.base_score"},
		vector3:  []string{"cvss v3 vector", "cvss3 vector", "definition.cvss3.base_vector"},
		vector2:  []string{"cvss v2 vector", "cvss vector", "definition.cvss2.base_vector"},
		seen:     []string{"last observed", "last found", "last_seen", "host end"},
		first:    []string{"first discovered", "first found", "first_seen", "host start"},
	}
}

// parseTenableCSV reads the Tenable/Nessus CSV exports: one row per plugin
// result with a plugin id, a name, a risk or severity and a host. Rows whose
// state says the finding is fixed are left out but their host counts as
// covered; blank rows are skipped.
func parseTenableCSV(name string, data []byte) (*Report, error) {
	r := &Report{Scan: Scan{Scanner: "tenable"}}
	cols := newTenableColumns()
	err := readCSV(name, data, r, func(row csvRow) (string, error) {
		target := row.get(cols.target...)
		if st := strings.ToLower(row.get("vulnerability state", "state")); st == "fixed" {
			r.Scan.Targets = addUnique(r.Scan.Targets, target)
			return target, nil
		}
		f, err := tenableRow(row, cols)
		if err != nil {
			return target, err
		}
		if f.LastSeen.After(r.Scan.Time) {
			r.Scan.Time = f.LastSeen
		}
		r.Findings = append(r.Findings, f)
		return target, nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// tenableRow turns one row into a finding.
func tenableRow(row csvRow, c tenableColumns) (Finding, error) {
	id, title, target := row.get(c.plugin...), row.get(c.name...), row.get(c.target...)
	switch {
	case id == "" && title == "":
		return Finding{}, errors.New("row has no plugin id or name")
	case target == "":
		return Finding{}, errors.New("row has no host")
	case id == "":
		id = title
	}
	f := Finding{Scanner: "tenable", Kind: KindVulnerability, Target: target, VulnID: id, Title: title,
		Protocol: strings.ToLower(row.get("protocol")), Solution: row.get("solution", "steps to remediate", "definition.solution")}
	if h := row.get(c.hostname...); !strings.EqualFold(h, target) {
		f.Hostname = h
	}
	if p := row.get("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return Finding{}, fmt.Errorf("bad Port %q", p)
		}
		f.Port = n
	}
	var err error
	if f.CVSS, err = tenableScore(row.get(c.cvss3...)); err != nil {
		return Finding{}, err
	}
	f.CVSSVector = row.get(c.vector3...)
	if f.CVSS == 0 {
		if f.CVSS, err = tenableScore(row.get(c.cvss2...)); err != nil {
			return Finding{}, err
		}
		f.CVSSVector = row.get(c.vector2...)
	}
	f.Severity = severityOr(row.get(c.severity...), f.CVSS)
	f.Description = strings.TrimSpace(row.get("synopsis", "definition.synopsis") + "\n\n" +
		row.get("description", "definition.description"))
	if out := row.get("plugin output", "plugin text", "output"); out != "" {
		f.Description += "\n\nPlugin output:\n" + out
	}
	f.Aliases = cves(row.get("cve", "definition.cve"))
	f.References = addUnique(nil, strings.Fields(row.get("see also", "definition.see_also"))...)
	f.LastSeen = parseTime(row.get(c.seen...))
	f.FirstSeen = parseTime(row.get(c.first...))
	if f.FirstSeen.IsZero() || f.FirstSeen.After(f.LastSeen) {
		f.FirstSeen = f.LastSeen
	}
	return f, nil
}

// tenableScore reads a CVSS score; Tenable.io's template exports write
// scores as whole tenths ("75" for 7.5), so a whole number above 10 is
// divided by 10.
func tenableScore(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && n > 10 && n <= 100 {
		return float64(n) / 10, nil
	}
	return parseScore(s)
}
