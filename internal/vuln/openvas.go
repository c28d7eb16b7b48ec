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

// ovResult is one <result> of a Greenbone/OpenVAS XML report.
type ovResult struct {
	Name string `xml:"name"`
	Host struct {
		IP       string `xml:",chardata"`
		Hostname string `xml:"hostname"`
	} `xml:"host"`
	Port string `xml:"port"`
	NVT  struct {
		OID      string `xml:"oid,attr"`
		Name     string `xml:"name"`
		CVSSBase string `xml:"cvss_base"`
		Tags     string `xml:"tags"`
		CVE      string `xml:"cve"`
		Refs     []struct {
			ID   string `xml:"id,attr"`
			Type string `xml:"type,attr"`
		} `xml:"refs>ref"`
		Severities []struct {
			Value string `xml:"value"`
		} `xml:"severities>severity"`
	} `xml:"nvt"`
	Threat      string `xml:"threat"`
	Severity    string `xml:"severity"`
	Description string `xml:"description"`
}

// ovParser carries one OpenVAS XML report's parse state.
type ovParser struct {
	r     *Report
	name  string
	dec   *xml.Decoder
	stack []string
	times map[string]time.Time
	// rooted is set once the root element was seen.
	rooted bool
}

// parseOpenVASXML streams a Greenbone/OpenVAS XML report: every
// report/results/result becomes a finding on its host and port; the
// report's host and port lists name the targets covered.
func parseOpenVASXML(name string, data []byte) (*Report, error) {
	p := &ovParser{r: &Report{Scan: Scan{Scanner: "openvas"}}, name: name,
		dec: xml.NewDecoder(bytes.NewReader(data)), times: map[string]time.Time{}}
	var results []Finding
	for {
		tok, err := p.dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("vuln: %s: line %d: bad OpenVAS XML: %w", name, p.line(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			f, ok, err := p.start(t)
			if err != nil {
				return nil, err
			}
			if ok {
				results = append(results, f)
			}
		case xml.EndElement:
			p.stack = p.stack[:len(p.stack)-1]
		}
	}
	if !p.rooted {
		return nil, fmt.Errorf("vuln: %s: no OpenVAS <report> element", name)
	}
	for _, k := range []string{"scan_end", "timestamp", "scan_start", "creation_time"} {
		if t := p.times[k]; !t.IsZero() {
			p.r.Scan.Time = t
			break
		}
	}
	for i := range results {
		results[i].FirstSeen, results[i].LastSeen = p.r.Scan.Time, p.r.Scan.Time
	}
	p.r.Findings = results
	return p.r, nil
}

func (p *ovParser) line() int {
	l, _ := p.dec.InputPos()
	return l
}

// start handles an opening tag: a result is decoded whole, the report's
// host lists and time stamps are noted, and anything else is descended.
func (p *ovParser) start(t xml.StartElement) (Finding, bool, error) {
	parent := ""
	if len(p.stack) > 0 {
		parent = p.stack[len(p.stack)-1]
	}
	el := t.Name.Local
	if parent == "" {
		p.rooted = true
	}
	switch {
	case el == "result" && parent == "results":
		line := p.line()
		var res ovResult
		if err := p.dec.DecodeElement(&res, &t); err != nil {
			return Finding{}, false, fmt.Errorf("vuln: %s: line %d: bad OpenVAS result: %w", p.name, line, err)
		}
		f, err := ovFinding(&res)
		if err != nil {
			p.r.Problems = append(p.r.Problems, Problem{File: p.name, Where: fmt.Sprintf("line %d: result", line),
				Target: strings.TrimSpace(res.Host.IP), Err: err})
			return Finding{}, false, nil
		}
		p.r.Scan.Targets = addUnique(p.r.Scan.Targets, f.Target)
		return f, true, nil
	case parent == "" && el != "report" && el != "get_reports_response":
		return Finding{}, false, fmt.Errorf("vuln: %s: line %d: root element <%s> is not an OpenVAS <report>", p.name, p.line(), el)
	case (el == "host" && parent == "port") ||
		(el == "ip" && parent == "host") || el == "scan_end" || el == "timestamp" ||
		el == "scan_start" || (el == "creation_time" && parent == "report"):
		var text string
		if err := p.dec.DecodeElement(&text, &t); err != nil {
			return Finding{}, false, fmt.Errorf("vuln: %s: line %d: bad <%s>: %w", p.name, p.line(), el, err)
		}
		p.note(el, strings.TrimSpace(text))
		return Finding{}, false, nil
	}
	p.stack = append(p.stack, el)
	return Finding{}, false, nil
}

// note records a host or a time stamp read from the report.
func (p *ovParser) note(el, text string) {
	if text == "" {
		return
	}
	if el == "host" || el == "ip" {
		p.r.Scan.Targets = addUnique(p.r.Scan.Targets, text)
		return
	}
	if _, seen := p.times[el]; !seen {
		p.times[el] = parseTime(text)
	}
}

// ovFinding turns a result into a finding.
func ovFinding(res *ovResult) (Finding, error) {
	host := strings.TrimSpace(res.Host.IP)
	if host == "" {
		return Finding{}, errors.New("result has no host")
	}
	id := strings.TrimSpace(res.NVT.OID)
	if id == "" {
		return Finding{}, errors.New("result has no nvt oid")
	}
	f := Finding{Scanner: "openvas", Kind: KindVulnerability, Target: host, VulnID: id,
		Hostname: strings.TrimSpace(res.Host.Hostname), Title: strings.TrimSpace(res.Name)}
	if f.Title == "" {
		f.Title = strings.TrimSpace(res.NVT.Name)
	}
	var err error
	if f.Port, f.Protocol, err = splitPort(res.Port); err != nil {
		return Finding{}, err
	}
	score, err := parseScore(res.Severity)
	if err != nil || score == 0 {
		score, _ = parseScore(res.NVT.CVSSBase)
	}
	f.CVSS = score
	if len(res.NVT.Severities) > 0 {
		f.CVSSVector = strings.TrimSpace(res.NVT.Severities[0].Value)
	}
	f.Severity = severityOr(res.Threat, score)
	tags := ovTags(res.NVT.Tags)
	f.Description = strings.TrimSpace(strings.TrimSpace(tags["summary"]) + "\n\n" + strings.TrimSpace(res.Description))
	f.Solution = strings.TrimSpace(tags["solution"])
	for _, ref := range res.NVT.Refs {
		switch strings.ToLower(ref.Type) {
		case "cve":
			f.Aliases = addUnique(f.Aliases, ref.ID)
		case "url":
			f.References = addUnique(f.References, ref.ID)
		}
	}
	f.Aliases = addUnique(f.Aliases, splitList(res.NVT.CVE)...)
	return f, nil
}

// ovTags splits an NVT's "key=value|key=value" tags.
func ovTags(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, "|") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[strings.TrimSpace(k)] = v
		}
	}
	return out
}

// splitPort reads OpenVAS' "80/tcp" or "general/tcp" port form.
func splitPort(s string) (int, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "", nil
	}
	num, proto, _ := strings.Cut(s, "/")
	proto = strings.ToLower(strings.TrimSpace(proto))
	if num == "general" || num == "package" || num == "" {
		return 0, proto, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 65535 {
		return 0, "", fmt.Errorf("bad port %q", s)
	}
	return n, proto, nil
}

// splitList splits a comma- or space-separated identifier list, dropping
// the scanners' "NOCVE" placeholder.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == ';' }) {
		if v != "NOCVE" {
			out = append(out, v)
		}
	}
	return out
}
