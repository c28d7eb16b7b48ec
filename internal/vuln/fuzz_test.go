package vuln

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzParse seeds f with the sample reports and checks that parsing in
// format never panics and that what it returns is well formed: every
// finding has a target, an id and a valid severity, and keys are unique.
func fuzzParse(f *testing.F, format Format, seeds ...string) {
	inputs, _ := filepath.Glob("testdata/reports/*")
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse("fuzz", data, format)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, fd := range rep.Findings {
			if fd.Target == "" || fd.VulnID == "" || !fd.Severity.Valid() {
				t.Fatalf("malformed finding %+v", fd)
			}
			if seen[fd.Key()] {
				t.Fatalf("duplicate key for %+v", fd)
			}
			seen[fd.Key()] = true
		}
		for _, p := range rep.Problems {
			if p.File != "fuzz" || p.Err == nil {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}

func FuzzTrivy(f *testing.F) {
	fuzzParse(f, FormatTrivy, `null`, `[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","Severity":"x"}]}]`,
		`{"ClusterName":"c","Resources":[{"Namespace":"n","Results":[{"Target":"f","Misconfigurations":[{"ID":"K"}]}]}]}`)
}

func FuzzGrype(f *testing.F) {
	fuzzParse(f, FormatGrype, `{"matches":[{"vulnerability":{"id":"GHSA-1"},"artifact":{"name":"a"}}],"source":{"target":"/src"}}`)
}

func FuzzOpenVASXML(f *testing.F) {
	fuzzParse(f, FormatOpenVASXML, `<report><results><result><host>1.2.3.4</host><port>x/tcp</port><nvt oid="1"/></result></results></report>`)
}

func FuzzOpenVASCSV(f *testing.F) {
	fuzzParse(f, FormatOpenVASCSV, "IP,Port,Port Protocol,CVSS,Severity,NVT Name,NVT OID\n1.2.3.4,22,tcp,11,High,n,1\n")
}

func FuzzNessus(f *testing.F) {
	fuzzParse(f, FormatNessus, `<NessusClientData_v2><Report><ReportHost name="h"><ReportItem pluginID="1" port="-1" severity="9"/></ReportHost></Report></NessusClientData_v2>`)
}

func FuzzTenableCSV(f *testing.F) {
	fuzzParse(f, FormatTenableCSV, "age;definition.id;definition.name;asset.host_name;port\n1;2;n;h;99999\n")
}

// FuzzDetect checks that sniffing then parsing any input never panics.
func FuzzDetect(f *testing.F) {
	fuzzParse(f, FormatUnknown, "", "{", "<", "a,b\n")
}
