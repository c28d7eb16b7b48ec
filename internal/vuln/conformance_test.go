package vuln

import (
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/shareddata"
)

// vigilCounts are the rows of EXPECTED_FINDING_COUNTS.csv where Vigil's
// count legitimately differs from DefectDojo's, keyed by "sample|test",
// with Vigil's number. DefectDojo counts what it shows in one engagement;
// Vigil counts what it tracks per target, because fixed and reopened are
// decided per target (a host, an image), so a weakness on two hosts is two
// findings that are fixed separately.
func vigilCounts() map[string]vigilCount {
	return map[string]vigilCount{
		// Grype: DefectDojo's default mode keys on vulnerability id, package
		// name and installed version. Vigil's key leaves the version out so a
		// package upgraded to a still-vulnerable version stays the same open
		// finding (its age and SLA keep running); the two avro jars (1.9.2 and
		// 1.11.1) both affected by CVE-2023-39410 are one finding listing both
		// versions and paths.
		"issue_9618.json|test_grype_issue_9618": {34, "installed version is not part of the key"},
		// Grype "detailed mode" keeps one finding per package path. Vigil has
		// one mode and keys on target + vulnerability + package, so the two
		// paths are one finding with both paths listed; the default-mode row
		// for the same file (1) passes.
		"same_cve_different_paths.json|test_detailed_mode_separates_same_cve_different_paths": {1, "paths are not part of the key"},
		// Nessus XML: DefectDojo merges ReportItems by severity + plugin name
		// across hosts and ports into one finding with many endpoints. Vigil
		// keeps one finding per host, plugin, port and protocol: here "Nessus
		// SYN scanner" on ports 443 and 264 are two findings.
		"nessus_many_vuln.xml|test_parse_some_findings_nessus_legacy": {7, "one finding per host/plugin/port"},
		// Same rule over 7 hosts: 296 ReportItems are 296 host/plugin/port
		// findings, which DefectDojo folds into 32 severity+title groups.
		"nessus_v_unknown.xml|test_parse_some_findings_samples_nessus_legacy": {296, "one finding per host/plugin/port"},
		// Tenable.sc CSV (IP Address column, no Host column): DefectDojo's
		// dedup key reads the missing Host column as "No host" and so merges
		// the same plugin on the same port of two different IPs. Vigil keys on
		// the IP: plugin 73756 on 2.3.4.5:1433, 2.3.4.5:5555 and 1.2.3.4:1433
		// are three findings.
		"issue_9612.csv|test_parse_issue_9612": {3, "the IP is part of the key"},
		// Same: plugin 42873 on 1.2.3.4:443, 2.3.4.5:443 and 1.2.3.4:8443.
		"issue_11102.csv|test_parse_issue_11102": {3, "the IP is part of the key"},
	}
}

// vigilCount is Vigil's count for a sample and the reason it differs.
type vigilCount struct {
	n   int
	why string
}

// scanDirs maps the upstream test file to the sample directory.
func scanDirs() map[string]string {
	return map[string]string{
		"test_anchore_grype_parser.py": "anchore_grype",
		"test_openvas_parser.py":       "openvas",
		"test_tenable_parser.py":       "tenable",
		"test_trivy_parser.py":         "trivy",
	}
}

// TestConformanceCounts parses every sample listed in the shared
// EXPECTED_FINDING_COUNTS.csv that is present and compares the number of
// findings with DefectDojo's, or with Vigil's documented number where the
// dedup semantics differ.
func TestConformanceCounts(t *testing.T) {
	root := shareddata.Path(t, "vuln/unittests/scans")
	rows := readExpected(t, shareddata.Path(t, "vuln/EXPECTED_FINDING_COUNTS.csv"))
	dirs, overrides := scanDirs(), vigilCounts()
	var pass, differ, missing int
	for _, row := range rows {
		dir, ok := dirs[row[0]]
		if !ok {
			t.Errorf("unknown upstream test file %q", row[0])
			continue
		}
		path := findSample(t, filepath.Join(root, dir), row[2])
		if path == "" {
			missing++
			t.Logf("%s: sample not in the shared data; skipped", row[2])
			continue
		}
		want, err := strconv.Atoi(row[3])
		if err != nil {
			t.Fatalf("%s: bad expected count %q", row[2], row[3])
		}
		if v, ok := overrides[row[2]+"|"+row[1]]; ok {
			t.Logf("%s (%s): DefectDojo %d, Vigil %d: %s", row[2], row[1], want, v.n, v.why)
			want = v.n
			differ++
		}
		ok = t.Run(row[1]+"/"+row[2], func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Parse(row[2], data, FormatUnknown)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(rep.Findings) != want {
				t.Errorf("%d findings, want %d", len(rep.Findings), want)
			}
			if len(rep.Problems) != 0 {
				t.Errorf("problems: %v", rep.Problems)
			}
		})
		if ok {
			pass++
		}
	}
	t.Logf("conformance: %d of %d listed samples pass (%d with DefectDojo's count, %d with Vigil's documented count); %d samples absent",
		pass, len(rows)-missing, pass-differ, differ, missing)
}

func readExpected(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) < 2 || !strings.HasPrefix(rows[0][0], "test_file") {
		t.Fatalf("%s: unexpected header %v", path, rows[0])
	}
	return rows[1:]
}

// findSample returns the path of the file named name under dir, or "".
func findSample(t *testing.T, dir, name string) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == name {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return found
}
