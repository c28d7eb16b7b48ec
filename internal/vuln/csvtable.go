package vuln

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	json "github.com/goccy/go-json"
)

// maxCSVErrors bounds how many unreadable CSV lines are reported before the
// rest of the file is given up.
const maxCSVErrors = 100

// csvRow is one CSV record with its header, read by column name.
type csvRow struct {
	line int
	cols map[string]int
	rec  []string
}

// get returns the first non-empty value among the named columns (lower
// case), trimmed.
func (r csvRow) get(names ...string) string {
	for _, n := range names {
		if i, ok := r.cols[n]; ok && i < len(r.rec) {
			if v := strings.TrimSpace(r.rec[i]); v != "" {
				return v
			}
		}
	}
	return ""
}

// empty reports whether every field is blank.
func (r csvRow) empty() bool {
	for _, v := range r.rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// readCSV reads a CSV report with a header line, separated by commas or
// (when the header has more of them) semicolons, and calls fn for each
// non-blank record. Unreadable lines become problems; fn's error for a row
// becomes a problem naming the row's line and the target fn returned.
func readCSV(name string, data []byte, r *Report, fn func(row csvRow) (string, error)) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	header, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(header, []byte(";")) > bytes.Count(header, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	hdr, err := cr.Read()
	if err != nil {
		return fmt.Errorf("vuln: %s: line 1: read CSV header: %w", name, err)
	}
	cols := make(map[string]int, len(hdr))
	for i, h := range hdr {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[h]; !dup && h != "" {
			cols[h] = i
		}
	}
	bad := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			r.Problems = append(r.Problems, Problem{File: name, Where: fmt.Sprintf("line %d", line), Err: err})
			if bad++; bad >= maxCSVErrors {
				return fmt.Errorf("vuln: %s: gave up after %d unreadable CSV lines: %w", name, bad, err)
			}
			continue
		}
		row := csvRow{line: line, cols: cols, rec: rec}
		if row.empty() {
			continue
		}
		if target, err := fn(row); err != nil {
			r.Problems = append(r.Problems, Problem{File: name, Where: fmt.Sprintf("line %d", line), Target: target, Err: err})
		}
	}
}

// cves returns the distinct CVE identifiers (CVE-yyyy-n...) in s, upper
// case.
func cves(s string) []string {
	var out []string
	up := strings.ToUpper(s)
	for i := strings.Index(up, "CVE-"); i >= 0; {
		j := i + 4
		year := digitsAt(up, j)
		if year == 4 && j+4 < len(up) && up[j+4] == '-' {
			if n := digitsAt(up, j+5); n > 0 {
				out = addUnique(out, up[i:j+5+n])
			}
		}
		next := strings.Index(up[j:], "CVE-")
		if next < 0 {
			break
		}
		i = j + next
	}
	return out
}

// digitsAt counts the ASCII digits of s starting at i.
func digitsAt(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		n++
	}
	return n
}

// topLevelKeys returns the keys of a JSON object, or nil when data is not
// one.
func topLevelKeys(data []byte) map[string]bool {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil
	}
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys
}
