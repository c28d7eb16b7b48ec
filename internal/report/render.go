package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
)

// Formats the report renders to.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
)

//go:embed blindspots.html
var htmlSource string

// htmlTemplate is parsed once; templates are safe for concurrent use.
var htmlTemplate = template.Must(template.New("blindspots").Funcs(template.FuncMap{
	"day":  day,
	"when": when,
	"gap":  gapText,
}).Parse(htmlSource))

// Render writes the report in format (md or html) to w.
func (b BlindSpots) Render(w io.Writer, format string) error {
	switch format {
	case FormatMarkdown, "markdown", "":
		return b.Markdown(w)
	case FormatHTML:
		return b.HTML(w)
	}
	return fmt.Errorf("report: format %q: want md or html", format)
}

// HTML writes the report as one self-contained HTML page (inline styles,
// no scripts, no external resources).
func (b BlindSpots) HTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, b); err != nil {
		return fmt.Errorf("report: render HTML: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Headline are the report's summary lines.
func (b BlindSpots) Headline() []string {
	crit := "no critical assets in the inventory"
	for _, t := range b.Coverage.ByCriticality {
		if t.Criticality == "critical" {
			crit = fmt.Sprintf("critical assets: %.0f%% covered (%d of %d)", t.Percent, t.Covered, t.Assets)
		}
	}
	return []string{
		fmt.Sprintf("%d %s went silent (%d still silent)", len(b.Silent), plural(len(b.Silent), "source", "sources"), b.StillSilent),
		crit,
		fmt.Sprintf("%d overdue %s (%d critical, %d high)", b.OverdueTotal, plural(b.OverdueTotal, "vulnerability", "vulnerabilities"),
			b.OverdueBySeverity["critical"], b.OverdueBySeverity["high"]),
		fmt.Sprintf("%d intel %s failed to update", len(b.StaleFeeds), plural(len(b.StaleFeeds), "feed", "feeds")),
		fmt.Sprintf("%d %s failed to load", len(b.RuleErrors), plural(len(b.RuleErrors), "rule", "rules")),
	}
}

// Markdown writes the report as Markdown.
func (b BlindSpots) Markdown(w io.Writer) error {
	var m strings.Builder
	fmt.Fprintf(&m, "# Vigil blind-spot report\n\nPeriod: %s to %s (%d days). Generated %s.\n\n## Summary\n\n",
		day(b.From), day(b.To), b.Days, when(b.GeneratedAt))
	for _, l := range b.Headline() {
		fmt.Fprintf(&m, "- %s\n", mdText(l))
	}
	m.WriteString("\n## Silent sources\n\n")
	rows := make([][]string, 0, len(b.Silent))
	for _, s := range b.Silent {
		state := "came back"
		if s.Still {
			state = "still silent"
		}
		rows = append(rows, []string{s.Host, s.Input, when(s.Since), s.For, state, s.Severity, s.RuleID})
	}
	table(&m, []string{"Host", "Input", "Silent since", "For", "Status", "Severity", "Rule"}, rows, "No source went silent.")
	m.WriteString("\n## Coverage of critical assets\n\n")
	for _, l := range b.Coverage.Summary {
		fmt.Fprintf(&m, "- %s\n", mdText(l))
	}
	m.WriteString("\n")
	rows = rows[:0]
	for _, g := range b.CriticalGaps {
		rows = append(rows, []string{g.Asset, g.Criticality, g.Role, gapText(g), when(g.LastSeen)})
	}
	table(&m, []string{"Asset", "Criticality", "Role", "Gap", "Last seen"}, rows, "Every critical and high asset is covered.")
	m.WriteString("\n## Overdue vulnerabilities\n\n")
	rows = rows[:0]
	for _, f := range b.Overdue {
		rows = append(rows, []string{f.Severity, f.VulnID, f.Title, f.Target, day(f.Opened), day(f.Due), f.OverdueBy})
	}
	table(&m, []string{"Severity", "Vulnerability", "Title", "Target", "Open since", "Due", "Overdue by"}, rows,
		"No finding is past its deadline.")
	if n := b.OverdueTotal - len(b.Overdue); n > 0 {
		fmt.Fprintf(&m, "\nAnd %d more.\n", n)
	}
	m.WriteString("\n## Intel feeds that failed to update\n\n")
	rows = rows[:0]
	for _, f := range b.StaleFeeds {
		rows = append(rows, []string{f.Name, f.Kind, when(f.LastSuccess), f.Why, f.LastError})
	}
	table(&m, []string{"Feed", "Kind", "Last success", "Problem", "Last error"}, rows, "Every feed is up to date.")
	m.WriteString("\n## Rules that failed to load\n\n")
	rows = rows[:0]
	for _, e := range b.RuleErrors {
		rows = append(rows, []string{e.File, lineText(e.Line), e.Reason})
	}
	table(&m, []string{"File", "Line", "Reason"}, rows, "Every rule loaded.")
	_, err := io.WriteString(w, m.String())
	return err
}

// table writes a Markdown table, or none when there are no rows.
func table(m *strings.Builder, head []string, rows [][]string, none string) {
	if len(rows) == 0 {
		m.WriteString(none + "\n")
		return
	}
	m.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat(" --- |", len(head)) + "\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdCell(c)
		}
		m.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// mdCell escapes a table cell: pipes, line breaks and Markdown's inline
// markup characters.
func mdCell(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace(s)
	return mdText(s)
}

// mdText escapes the characters Markdown would read as markup or HTML.
func mdText(s string) string {
	return strings.NewReplacer(`\|`, `\|`, `\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
		"<", "&lt;", ">", "&gt;").Replace(s)
}

// gapText describes a coverage gap.
func gapText(g coverage.Gap) string {
	switch g.Kind {
	case coverage.GapNeverOnboarded:
		return "never sent any logs"
	case coverage.GapSilent:
		return "silent on " + g.Expected + " for " + g.SilentFor
	}
	return "never sent " + g.Expected
}

// day formats a date; the zero time is "—".
func day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

// when formats a time to the minute; the zero time is "—".
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func lineText(n int) string {
	if n <= 0 {
		return "—"
	}
	return strconv.Itoa(n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
