package simulate

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// scanItem is one finding of the simulated company's weekly scan.
type scanItem struct {
	host, ip  string
	port      int
	svc       string
	severity  int // Nessus: 4 critical, 3 high, 2 medium, 1 low
	plugin    int
	name, cve string
	cvss      float64
	fixedBy   int // the scan (1-based) that no longer finds it; 0 never
}

// scanItems are the findings of the company's servers: an old critical on
// the database (past its 15-day deadline), a web server finding fixed
// between the scans, and a few others.
func scanItems() []scanItem {
	return []scanItem{
		{"db-01", "10.10.1.21", 5432, "postgresql", 4, 183214, "PostgreSQL 13.x < 13.14 Multiple Vulnerabilities", "CVE-2024-0985", 8.0, 0},
		{"db-01", "10.10.1.21", 22, "ssh", 3, 187315, "SSH Terrapin Prefix Truncation Weakness", "CVE-2023-48795", 5.9, 0},
		{"web-01", "10.10.1.11", 443, "www", 4, 192957, "OpenSSL 3.0.x < 3.0.14 Multiple Vulnerabilities", "CVE-2024-4741", 9.8, 2},
		{"web-01", "10.10.1.11", 443, "www", 2, 42873, "SSL Medium Strength Cipher Suites Supported (SWEET32)", "CVE-2016-2183", 7.5, 0},
		{"web-02", "10.10.1.12", 80, "www", 3, 200162, "nginx 1.25.x < 1.25.5 HTTP/3 Vulnerabilities", "CVE-2024-31079", 7.5, 0},
		{"mail-01", "10.10.1.25", 25, "smtp", 2, 198217, "Postfix SMTP Smuggling", "CVE-2023-51764", 5.3, 0},
		{"dc-01", "10.10.2.10", 445, "cifs", 3, 214128, "Windows Server Security Update (Kerberos)", "CVE-2024-43639", 9.8, 0},
	}
}

// ScanReports returns the simulated company's last two weekly vulnerability
// scans as Nessus (.nessus) reports, run 21 and 7 days before now: the
// second no longer finds what was patched in between, so importing both in
// order shows open, overdue and fixed findings.
func ScanReports(now time.Time) [][]byte {
	var out [][]byte
	for i, age := range []time.Duration{21 * 24 * time.Hour, 7 * 24 * time.Hour} {
		out = append(out, nessusReport(now.Add(-age).UTC(), i+1))
	}
	return out
}

// attr quotes an XML attribute value.
func attr(s string) string { return `"` + html.EscapeString(s) + `"` }

func nessusReport(at time.Time, scan int) []byte {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Report name=\"weekly servers\">\n")
	byHost := map[string][]scanItem{}
	var order []string
	for _, it := range scanItems() {
		if _, ok := byHost[it.host]; !ok {
			order = append(order, it.host)
		}
		byHost[it.host] = append(byHost[it.host], it)
	}
	for _, h := range order {
		items := byHost[h]
		fmt.Fprintf(&b, "<ReportHost name=%s><HostProperties><tag name=\"HOST_START_TIMESTAMP\">%d</tag>"+
			"<tag name=\"HOST_END_TIMESTAMP\">%d</tag><tag name=\"host-ip\">%s</tag><tag name=\"hostname\">%s</tag>"+
			"</HostProperties>\n", attr(items[0].ip), at.Add(-20*time.Minute).Unix(), at.Unix(), items[0].ip, h)
		for _, it := range items {
			if it.fixedBy != 0 && scan >= it.fixedBy {
				continue
			}
			fmt.Fprintf(&b, "<ReportItem port=\"%d\" svc_name=%s protocol=\"tcp\" severity=\"%d\" pluginID=\"%d\" "+
				"pluginName=%s><cvss3_base_score>%.1f</cvss3_base_score><cve>%s</cve></ReportItem>\n",
				it.port, attr(it.svc), it.severity, it.plugin, attr(it.name), it.cvss, html.EscapeString(it.cve))
		}
		b.WriteString("</ReportHost>\n")
	}
	b.WriteString("</Report>\n</NessusClientData_v2>\n")
	return []byte(b.String())
}
