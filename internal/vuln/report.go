package vuln

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Format names a scan report format.
type Format string

// The report formats Parse reads.
const (
	FormatUnknown    Format = ""
	FormatTrivy      Format = "trivy"
	FormatGrype      Format = "grype"
	FormatOpenVASXML Format = "openvas-xml"
	FormatOpenVASCSV Format = "openvas-csv"
	FormatNessus     Format = "nessus"
	FormatTenableCSV Format = "tenable-csv"
)

// Formats lists the formats Parse reads.
func Formats() []Format {
	return []Format{FormatTrivy, FormatGrype, FormatOpenVASXML, FormatOpenVASCSV, FormatNessus, FormatTenableCSV}
}

// ErrUnknownFormat is returned when a report's format cannot be recognised.
var ErrUnknownFormat = errors.New("vuln: unknown report format")

// Scan describes one imported report.
type Scan struct {
	// Scanner names the tool: trivy, grype, openvas, nessus or tenable.
	Scanner string `json:"scanner"`
	// Format is the report format.
	Format Format `json:"format"`
	// FileName is the report's file name as given to Parse.
	FileName string `json:"file_name"`
	// Time is when the scan ran according to the report (its end where it
	// says), zero when the report does not say.
	Time time.Time `json:"time"`
	// Targets are the targets the scan covered, including those where it
	// found nothing when the report lists them. A finding on one of these
	// targets that the scan does not report counts as fixed. A target with a
	// skipped record (a Problem naming it) is left out, so a record Vigil
	// could not read never marks a finding fixed.
	Targets []string `json:"targets"`
}

// Report is a parsed scan: its description, its findings (deduplicated by
// Key) and the records that were skipped.
type Report struct {
	Scan     Scan      `json:"scan"`
	Findings []Finding `json:"findings"`
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is a record Parse skipped: the file, where in it (a line, a JSON
// path, an element) and why. The records beside it are kept.
type Problem struct {
	File  string `json:"file"`
	Where string `json:"where"`
	// Target is the skipped record's target when it is known.
	Target string `json:"target,omitempty"`
	Err    error  `json:"-"`
}

// Error renders the problem as "file: where: reason".
func (p Problem) Error() string {
	return fmt.Sprintf("%s: %s: %v", p.File, p.Where, p.Err)
}

// Unwrap returns the reason.
func (p Problem) Unwrap() error { return p.Err }

// Detect sniffs a report's format from its content: a Grype JSON document
// has "matches"; a Trivy one is a list of results, null, or an object with
// SchemaVersion, Results or ClusterName; an XML document is Nessus when its
// root is NessusClientData_v2 and OpenVAS when it is report (or a GMP
// get_reports_response); a CSV header naming an "NVT OID" or "NVT Name" is
// OpenVAS and one naming a plugin (Plugin, Plugin ID, definition.id) is
// Tenable/Nessus.
func Detect(data []byte) Format {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return FormatUnknown
	}
	switch {
	case trimmed[0] == '{' || trimmed[0] == '[' || bytes.HasPrefix(trimmed, []byte("null")):
		return detectJSON(trimmed)
	case trimmed[0] == '<':
		return detectXML(trimmed)
	}
	return detectCSV(trimmed)
}

// detectJSON tells Trivy from Grype by their top-level keys.
func detectJSON(data []byte) Format {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return FormatTrivy
	}
	if data[0] == '[' {
		if bytes.Contains(data, []byte(`"Target"`)) || bytes.Equal(bytes.Join(bytes.Fields(data), nil), []byte("[]")) {
			return FormatTrivy
		}
		return FormatUnknown
	}
	keys := topLevelKeys(data)
	switch {
	case keys["matches"]:
		return FormatGrype
	case keys["SchemaVersion"] || keys["Results"] || keys["ClusterName"] || keys["ArtifactName"]:
		return FormatTrivy
	}
	return FormatUnknown
}

// detectXML looks at the root element's name.
func detectXML(data []byte) Format {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	for {
		tok, err := dec.Token()
		if err != nil {
			return FormatUnknown
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "NessusClientData_v2", "NessusClientData":
				return FormatNessus
			case "report", "get_reports_response":
				return FormatOpenVASXML
			}
			return FormatUnknown
		}
	}
}

// detectCSV looks at the header line's column names.
func detectCSV(data []byte) Format {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	cols := splitHeader(string(line))
	has := func(names ...string) bool {
		return slices.ContainsFunc(cols, func(c string) bool { return slices.Contains(names, c) })
	}
	switch {
	case has("nvt oid", "nvt name"):
		return FormatOpenVASCSV
	case has("plugin", "plugin id", "definition.id", "plugin name"):
		return FormatTenableCSV
	}
	return FormatUnknown
}

// splitHeader splits a CSV header line on commas or semicolons and
// normalises each name (unquoted, trimmed, lower case).
func splitHeader(line string) []string {
	sep := ","
	if strings.Count(line, ";") > strings.Count(line, ",") {
		sep = ";"
	}
	var out []string
	for _, c := range strings.Split(line, sep) {
		out = append(out, strings.ToLower(strings.Trim(strings.TrimSpace(c), `"`)))
	}
	return out
}

// Parse reads a report of format f (FormatUnknown: detect it) from data.
// name is the file name used in the Scan and in problems. A report that
// cannot be read at all (not JSON or XML, an unknown format) is an error;
// a bad record inside a readable report becomes a Problem and the others are
// kept. Findings with the same Key are merged.
func Parse(name string, data []byte, f Format) (*Report, error) {
	if f == FormatUnknown {
		f = Detect(data)
	}
	var (
		r   *Report
		err error
	)
	switch f {
	case FormatTrivy:
		r, err = parseTrivy(name, data)
	case FormatGrype:
		r, err = parseGrype(name, data)
	case FormatOpenVASXML:
		r, err = parseOpenVASXML(name, data)
	case FormatOpenVASCSV:
		r, err = parseOpenVASCSV(name, data)
	case FormatNessus:
		r, err = parseNessus(name, data)
	case FormatTenableCSV:
		r, err = parseTenableCSV(name, data)
	default:
		return nil, fmt.Errorf("vuln: %s: %w (want one of %v)", name, ErrUnknownFormat, Formats())
	}
	if err != nil {
		return nil, err
	}
	r.Scan.Format, r.Scan.FileName = f, name
	r.Findings = Dedup(r.Findings)
	for _, fd := range r.Findings {
		r.Scan.Targets = addUnique(r.Scan.Targets, fd.Target)
	}
	for _, p := range r.Problems {
		if p.Target != "" {
			r.Scan.Targets = removeValue(r.Scan.Targets, p.Target)
		}
	}
	return r, nil
}

// ReadAll reads a report of at most limit bytes from rd, for Parse.
func ReadAll(rd io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("vuln: read report: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("vuln: report is larger than %d bytes", limit)
	}
	return data, nil
}
