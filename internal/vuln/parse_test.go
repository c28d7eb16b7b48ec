package vuln

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/golden"
)

// goldenReport is the golden rendering of a parsed report: problems as
// their messages.
type goldenReport struct {
	Scan     Scan      `json:"scan"`
	Findings []Finding `json:"findings"`
	Keys     []string  `json:"keys"`
	Problems []string  `json:"problems"`
}

// TestParseGolden parses each sample under testdata/reports (one per
// format, each with bad records beside good ones) and compares the result
// with testdata/golden/<name>.golden.
func TestParseGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/reports/*")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/reports (%v)", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Parse(filepath.Base(in), data, FormatUnknown)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			g := goldenReport{Scan: rep.Scan, Findings: rep.Findings, Problems: []string{}}
			for i := range rep.Findings {
				g.Keys = append(g.Keys, rep.Findings[i].Key())
			}
			for _, p := range rep.Problems {
				g.Problems = append(g.Problems, p.Error())
			}
			out, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", filepath.Base(in)+".golden"), append(out, '\n'))
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Format
	}{
		{"trivy v2", `{"SchemaVersion": 2, "Results": []}`, FormatTrivy},
		{"trivy legacy", `[{"Target": "x", "Vulnerabilities": null}]`, FormatTrivy},
		{"trivy legacy empty", "null\n", FormatTrivy},
		{"trivy k8s", `{"ClusterName": "prod", "Resources": []}`, FormatTrivy},
		{"grype", "\xef\xbb\xbf" + `{"matches": [], "source": {}}`, FormatGrype},
		{"nessus", `<?xml version="1.0" ?><NessusClientData_v2><Report/></NessusClientData_v2>`, FormatNessus},
		{"openvas", "<report id=\"1\"><report/></report>", FormatOpenVASXML},
		{"gmp response", "<get_reports_response status=\"200\"><report/></get_reports_response>", FormatOpenVASXML},
		{"openvas csv", "IP,Hostname,Port,Port Protocol,CVSS,Severity,NVT Name,NVT OID\n", FormatOpenVASCSV},
		{"nessus csv", "Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name\n", FormatTenableCSV},
		{"tenable.io csv", "age_in_days;asset.host_name;definition.id;definition.name\n", FormatTenableCSV},
		{"tenable.sc csv", `"Plugin","Plugin Name","Family","Severity","IP Address"` + "\n", FormatTenableCSV},
		{"other json", `{"alerts": []}`, FormatUnknown},
		{"other xml", "<html></html>", FormatUnknown},
		{"other csv", "a,b,c\n1,2,3\n", FormatUnknown},
		{"empty", "  \n", FormatUnknown},
		{"json list of numbers", "[1, 2]", FormatUnknown},
		{"csv starting with n", "name,plugin id,host\n", FormatTenableCSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect([]byte(tt.in)); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseErrors checks that unreadable reports give an error naming the
// file (and the line where there is one) and never a panic.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		format   Format
		want     []string
	}{
		{"unknown", "hello", FormatUnknown, []string{"bad.txt", "unknown report format"}},
		{"trivy not json", "{", FormatTrivy, []string{"bad.txt", "not a Trivy JSON report"}},
		{"trivy other object", `{"x": 1}`, FormatTrivy, []string{"bad.txt", "no Results"}},
		{"grype not json", "[", FormatGrype, []string{"bad.txt", "not a Grype JSON report"}},
		{"nessus truncated", "<NessusClientData_v2>\n<Report>\n<ReportHost name=\"a\">", FormatNessus, []string{"bad.txt", "line 3"}},
		{"nessus wrong root", "<report/>", FormatNessus, []string{"bad.txt", "not NessusClientData_v2"}},
		{"nessus empty", "", FormatNessus, []string{"bad.txt", "no NessusClientData_v2"}},
		{"openvas wrong root", "<html/>", FormatOpenVASXML, []string{"bad.txt", "not an OpenVAS"}},
		{"openvas broken", "<report>\n<results>\n<result>\n</results>", FormatOpenVASXML, []string{"bad.txt", "line"}},
		{"openvas empty", "", FormatOpenVASXML, []string{"bad.txt", "no OpenVAS"}},
		{"csv empty", "", FormatTenableCSV, []string{"bad.txt", "line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.txt", []byte(tt.in), tt.format)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Parse("bad.txt", []byte("hello"), FormatUnknown); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format error %v is not ErrUnknownFormat", err)
	}
}

// TestKeyAcrossScanners checks that Trivy and Grype reports of the same
// image give the same key for the same CVE in the same package, whatever
// the installed version and path.
func TestKeyAcrossScanners(t *testing.T) {
	trivy := Finding{Scanner: "trivy", Target: "registry.local/shop/web:1.4", VulnID: "CVE-2021-44228",
		Package: "log4j-core", InstalledVersion: "2.14.1", Paths: []string{"a.jar"}}
	grype := Finding{Scanner: "grype", Target: "Registry.local/shop/web:1.4 ", VulnID: "cve-2021-44228",
		Package: "log4j-core", InstalledVersion: "2.16.0", Paths: []string{"b.jar"}}
	if trivy.Key() != grype.Key() {
		t.Errorf("keys differ: %s and %s", trivy.Key(), grype.Key())
	}
	tests := []struct {
		name   string
		change func(f *Finding)
	}{
		{"target", func(f *Finding) { f.Target = "other" }},
		{"vuln", func(f *Finding) { f.VulnID = "CVE-2021-45046" }},
		{"package", func(f *Finding) { f.Package = "log4j-api" }},
		{"port", func(f *Finding) { f.Port = 443 }},
		{"protocol", func(f *Finding) { f.Protocol = "udp" }},
	}
	for _, tt := range tests {
		f := trivy
		tt.change(&f)
		if f.Key() == trivy.Key() {
			t.Errorf("changing the %s kept the key", tt.name)
		}
	}
	noPkg := Finding{Target: "t", VulnID: "DS002", Location: "Dockerfile"}
	other := noPkg
	other.Location = "build/Dockerfile"
	if noPkg.Key() == other.Key() {
		t.Error("location is not part of the key of a finding without a package")
	}
}

func TestDedupMerges(t *testing.T) {
	in := []Finding{
		{Target: "h", VulnID: "1", Severity: SeverityLow, InstalledVersion: "1.0", Paths: []string{"/a"}},
		{Target: "h", VulnID: "2", Severity: SeverityLow},
		{Target: "H", VulnID: "1", Severity: SeverityHigh, CVSS: 7.5, InstalledVersion: "1.1", Paths: []string{"/b", "/a"}},
	}
	out := Dedup(in)
	if len(out) != 2 {
		t.Fatalf("%d findings, want 2", len(out))
	}
	m := out[0]
	if m.Severity != SeverityHigh || m.CVSS != 7.5 || m.InstalledVersion != "1.0, 1.1" ||
		strings.Join(m.Paths, " ") != "/a /b" {
		t.Errorf("merged = %+v", m)
	}
}

// TestCSVKeepsGoodRows checks that an unreadable CSV line is reported with
// its line number and the rows around it are kept.
func TestCSVKeepsGoodRows(t *testing.T) {
	in := "Plugin ID,Name,Risk,Host,Protocol,Port\n" +
		"1,One,High,10.0.0.1,tcp,22\n" +
		"2,Two,Low,10.0.0.1,tcp,notaport\n" +
		"3,Three,Medium,10.0.0.2,tcp,80\n"
	rep, err := Parse("x.csv", []byte(in), FormatUnknown)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 || len(rep.Problems) != 1 {
		t.Fatalf("findings %d problems %v", len(rep.Findings), rep.Problems)
	}
	if got := rep.Problems[0].Error(); !strings.Contains(got, "x.csv: line 3") || !strings.Contains(got, "notaport") {
		t.Errorf("problem %q does not name the file, line and value", got)
	}
}

func TestReadAll(t *testing.T) {
	if _, err := ReadAll(bytes.NewReader(make([]byte, 11)), 10); err == nil {
		t.Error("ReadAll accepted a report over the limit")
	}
	got, err := ReadAll(strings.NewReader("null"), 10)
	if err != nil || string(got) != "null" {
		t.Errorf("ReadAll = %q, %v", got, err)
	}
}
