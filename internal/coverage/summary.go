package coverage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxNames is how many names one summary phrase lists before "+N more".
const maxNames = 5

// summarize writes the report's human lines: per criticality with gaps
// (most critical first) the percentage and the gaps, then the hosts not in
// the inventory, then the criticalities without gaps, then the overall
// figure.
func summarize(rep Report) []string {
	var gapLines, okLines []string
	for _, t := range rep.ByCriticality {
		head := fmt.Sprintf("%s assets: %s covered (%d of %d)", t.Criticality, pctText(t.Covered, t.Assets), t.Covered, t.Assets)
		phrases := gapPhrases(rep.Gaps, t.Criticality)
		if len(phrases) == 0 {
			okLines = append(okLines, head)
			continue
		}
		gapLines = append(gapLines, head+", "+strings.Join(phrases, ", "))
	}
	if n := len(rep.Unknown); n > 0 {
		names := make([]string, 0, n)
		for _, u := range rep.Unknown {
			names = append(names, fmt.Sprintf("%s (%s)", u.Host+u.Address, strings.Join(u.SeenAs, ", ")))
		}
		verb := "send logs but are"
		if n == 1 {
			verb = "sends logs but is"
		}
		gapLines = append(gapLines, fmt.Sprintf("%d %s %s not in the inventory: %s", n, plural(n, "host"), verb, listNames(names)))
	}
	o := rep.Overall
	overall := fmt.Sprintf("overall: %s of %d %s covered, %d of %d expected sources present",
		pctText(o.Covered, o.Assets), o.Assets, plural(o.Assets, "asset"), o.Present, o.Expected)
	out := append(gapLines, okLines...)
	return append(out, overall)
}

// gapGroup is the gaps of one kind, role and expected source.
type gapGroup struct {
	kind, role, expected string
	names                []string
	maxAge               time.Duration
}

// gapPhrases describes the gaps of one criticality, grouped by kind, role
// and expected source, in the order of the gaps.
func gapPhrases(gaps []Gap, crit string) []string {
	var groups []*gapGroup
	byKey := map[[3]string]*gapGroup{}
	for _, g := range gaps {
		if g.Criticality != crit {
			continue
		}
		k := [3]string{g.Kind, strings.ToLower(g.Role), g.Expected}
		gg := byKey[k]
		if gg == nil {
			gg = &gapGroup{kind: g.Kind, role: strings.ToLower(g.Role), expected: g.Expected}
			byKey[k] = gg
			groups = append(groups, gg)
		}
		gg.names = append(gg.names, g.Asset)
		gg.maxAge = max(gg.maxAge, g.age)
	}
	out := make([]string, 0, len(groups))
	for _, gg := range groups {
		n := len(gg.names)
		who := fmt.Sprintf("%d %s (%s)", n, plural(n, cmpOr(gg.role, "asset")), listNames(gg.names))
		switch gg.kind {
		case GapNeverOnboarded:
			out = append(out, who+" never sent any logs")
		case GapSilent:
			upTo := ""
			if n > 1 {
				upTo = "up to "
			}
			out = append(out, fmt.Sprintf("%s silent on %s for %s%s", who, gg.expected, upTo, formatAge(gg.maxAge)))
		default:
			out = append(out, fmt.Sprintf("%s never sent %s events", who, gg.expected))
		}
	}
	return out
}

// listNames joins names, at most maxNames of them.
func listNames(names []string) string {
	if len(names) <= maxNames {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNames)
}

// pctText renders n of total as a whole percentage that is 100% only when
// everything is covered.
func pctText(n, total int) string {
	if total == 0 {
		return "100%"
	}
	p := math.Round(100 * float64(n) / float64(total))
	if p == 100 && n < total {
		p = 99
	}
	return strconv.Itoa(int(p)) + "%"
}

// plural returns noun, in the plural when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	switch {
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// formatAge renders a duration coarsely: days from two days, hours from
// two hours, else minutes ("3d", "5h", "40m").
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= 2*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// FormatAge renders a duration as coverage and the reports do: "3d" from
// two days, "5h" from two hours, else minutes.
func FormatAge(d time.Duration) string { return formatAge(d) }
