package correlation

import (
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// GroupValue is one group-by field of a result and its value.
type GroupValue struct {
	Field, Value string
}

// Result is a correlation rule firing for one group.
type Result struct {
	// Rule is the correlation rule that fired.
	Rule *Rule
	// Group holds the group-by fields (as the rule names them, aliases
	// included) and their values, in the rule's group-by order.
	Group []GroupValue
	// First and Last are the event times of the first and last match of
	// the window that fired.
	First, Last time.Time
	// Count is the number of matches in the window. Matches that add
	// nothing to a value_count or temporal window (a third match of the
	// same value within one timespan) are not kept, so Count can be lower
	// than the number of matching events for those types.
	Count int
	// Distinct is the number of distinct values (value_count) or of
	// distinct referenced rules matched (temporal; for temporal_ordered the
	// length of the ordered sequence found). It is zero for event_count.
	Distinct int
	// Values are the distinct values counted (value_count) or the rule
	// references matched (temporal kinds), capped by Options.MaxEvidence.
	Values []string
	// EventIDs are the ids of matched events in the window (including
	// those behind chained results), capped by Options.MaxEvidence.
	EventIDs []uint64
	// Intermediate is true when a correlation without generate: true
	// references the rule, so its results feed that correlation and are not
	// meant to become alerts of their own.
	Intermediate bool
}

// result builds the Result of window w of group g.
func (e *Engine) result(c *corr, g *group, w window) Result {
	es := g.entries[w.lo:w.hi]
	r := Result{
		Rule:         c.rule,
		First:        time.Unix(0, es[0].at).UTC(),
		Last:         time.Unix(0, es[len(es)-1].at).UTC(),
		Count:        w.count,
		Distinct:     w.distinct,
		Intermediate: c.intermediate,
	}
	if c.rule.Type == EventCount {
		r.Distinct = 0
	}
	for i, f := range c.rule.GroupBy {
		r.Group = append(r.Group, GroupValue{Field: f, Value: g.values[i]})
	}
	limit := e.opts.MaxEvidence
	var seenRules uint64
	var seenVals map[string]bool
	if c.rule.Type == ValueCount {
		seenVals = make(map[string]bool, min(w.distinct, limit))
	}
	for i := range es {
		if es[i].id != 0 && len(r.EventIDs) < limit {
			r.EventIDs = append(r.EventIDs, es[i].id)
		}
		if es[i].sub != nil {
			for _, id := range *es[i].sub {
				if len(r.EventIDs) < limit {
					r.EventIDs = append(r.EventIDs, id)
				}
			}
		}
		switch c.rule.Type {
		case ValueCount:
			if v := es[i].val; !seenVals[v] && len(r.Values) < limit {
				seenVals[v] = true
				r.Values = append(r.Values, displayValue(v, len(c.rule.Condition.Field)))
			}
		case Temporal, TemporalOrdered:
			seenRules |= es[i].mask
		}
	}
	for m := seenRules; m != 0; m &= m - 1 {
		r.Values = append(r.Values, c.rule.Rules[bits.TrailingZeros64(m)])
	}
	return r
}

// displayValue renders a counted value; values of several fields, stored
// length-prefixed, are joined with commas.
func displayValue(v string, fields int) string {
	if fields <= 1 {
		return v
	}
	var parts []string
	for len(v) >= 4 {
		n := int(v[0])<<24 | int(v[1])<<16 | int(v[2])<<8 | int(v[3])
		if n > len(v)-4 {
			break
		}
		parts = append(parts, v[4:4+n])
		v = v[4+n:]
	}
	return strings.Join(parts, ",")
}

// GroupMap returns the group-by fields and values as a map.
func (r *Result) GroupMap() map[string]string {
	m := make(map[string]string, len(r.Group))
	for _, g := range r.Group {
		m[g.Field] = g.Value
	}
	return m
}

// Well-known group-by field names that fill an alert's host, user and
// address fields, ECS names first.
var (
	hostFields = []string{"host.name", "host.hostname", "Computer", "ComputerName", "Hostname", "hostname", "Workstation", "WorkstationName"}
	userFields = []string{"user.name", "User", "TargetUserName", "SubjectUserName", "UserName", "AccountName", "username"}
	srcFields  = []string{"source.ip", "IpAddress", "SourceIp", "SourceAddress", "src_ip", "ClientIP", "id.orig_h"}
	dstFields  = []string{"destination.ip", "DestinationIp", "DestAddress", "dest_ip", "id.resp_h"}
)

func pick(m map[string]string, names []string) string {
	for _, n := range names {
		if v := m[n]; v != "" {
			return v
		}
	}
	return ""
}

// Alert turns the result into an alert: the rule's id, title, level
// (medium when it gives none) and tags, the window's times and evidence,
// and host, user and addresses from group-by fields with well-known names.
// The dedup key is the rule and its group, so repeats of one group are one
// alert. ID, Created, Updated and Status are left to the alert store.
func (r *Result) Alert() schema.Alert {
	sev, err := schema.ParseSeverity(r.Rule.Level)
	if err != nil {
		sev = schema.SeverityMedium
	}
	gm := r.GroupMap()
	a := schema.Alert{
		RuleID: r.Rule.ID, RuleName: r.Rule.Name, Kind: schema.KindSigma, Title: r.Rule.Title,
		Severity: sev, Priority: schema.PriorityFromSeverity(sev),
		FirstSeen: r.First, LastSeen: r.Last,
		Host: pick(gm, hostFields), User: pick(gm, userFields),
		SourceIP: pick(gm, srcFields), DestinationIP: pick(gm, dstFields),
		Tags: append([]string(nil), r.Rule.Tags...), EvidenceIDs: append([]uint64(nil), r.EventIDs...),
		Count: 1,
		Details: map[string]string{
			"correlation": string(r.Rule.Type),
			"timespan":    r.Rule.Timespan.String(),
			"condition":   r.Rule.Condition.String(),
			"count":       strconv.Itoa(r.Count),
		},
	}
	if a.RuleID == "" {
		a.RuleID = r.Rule.Name
	}
	if r.Rule.Type != EventCount {
		a.Details["distinct"] = strconv.Itoa(r.Distinct)
		a.Details["values"] = strings.Join(r.Values, ",")
	}
	key := []string{schema.KindSigma, "correlation", a.RuleID}
	for _, g := range r.Group {
		key = append(key, g.Field+"="+g.Value)
		a.Details["group."+g.Field] = g.Value
	}
	a.DedupKey = strings.Join(key, "|")
	return a
}
