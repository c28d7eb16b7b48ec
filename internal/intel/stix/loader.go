package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/TcM1911/stix2"
	gojson "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// loader accumulates one LoadObjects call.
type loader struct {
	res Result
	// order lists indicator ids by first appearance; byID holds the
	// newest version of each.
	order []string
	byID  map[string]*indicatorObject
	// related holds the objects an indicator may indicate, by id.
	related map[string]relatedObject
	// indicates maps an indicator id to the ids it indicates.
	indicates map[string][]string
}

// indicatorObject is one decoded indicator with what stix2 does not keep.
type indicatorObject struct {
	obj        *stix2.Indicator
	confidence int
}

// relatedObject is a threat an indicator can point at.
type relatedObject struct {
	rank int
	name string
	c2   bool
}

// threatRank orders the targets of indicates relationships: the first
// found of the lowest rank names the threat.
func threatRank(typ string) int {
	switch typ {
	case "malware":
		return 1
	case "infrastructure":
		return 2
	case "intrusion-set":
		return 3
	case "threat-actor":
		return 4
	case "campaign":
		return 5
	case "tool":
		return 6
	case "attack-pattern":
		return 7
	}
	return 0
}

func (l *loader) problem(where, format string, args ...any) {
	l.res.Problems = append(l.res.Problems, intel.Problem{Where: where, Reason: fmt.Sprintf(format, args...)})
}

// object validates and files one raw object.
func (l *loader) object(i int, raw json.RawMessage) {
	var head struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Confidence json.RawMessage `json:"confidence"`
	}
	where := fmt.Sprintf("object %d", i)
	if err := gojson.Unmarshal(raw, &head); err != nil {
		l.res.Counts.InvalidObjects++
		l.problem(where, "invalid JSON object: %v", err)
		return
	}
	if head.ID != "" {
		where = head.ID
	}
	if head.Type == "" {
		l.res.Counts.InvalidObjects++
		l.problem(where, "object has no type")
		return
	}
	l.res.Counts.Objects[head.Type]++
	obj, err := decodeObject(raw)
	if err != nil {
		l.res.Counts.InvalidObjects++
		l.problem(where, "invalid %s object: %v", head.Type, err)
		return
	}
	switch o := obj.(type) {
	case *stix2.Indicator:
		l.indicator(o, head.Confidence)
	case *stix2.Relationship:
		if o.RelationshipType == stix2.RelationshipTypeIndicates {
			src := string(o.Source)
			if !slices.Contains(l.indicates[src], string(o.Target)) {
				l.indicates[src] = append(l.indicates[src], string(o.Target))
			}
		}
	default:
		l.relatedObject(obj)
	}
}

// relatedObject files a possible target of an indicates relationship.
func (l *loader) relatedObject(obj stix2.STIXObject) {
	var name string
	c2 := false
	switch o := obj.(type) {
	case *stix2.Malware:
		name = o.Name
	case *stix2.Infrastructure:
		name = o.Name
		c2 = slices.ContainsFunc(o.Types, func(s string) bool { return strings.EqualFold(s, "command-and-control") })
	case *stix2.IntrusionSet:
		name = o.Name
	case *stix2.ThreatActor:
		name = o.Name
	case *stix2.Campaign:
		name = o.Name
	case *stix2.Tool:
		name = o.Name
	case *stix2.AttackPattern:
		name = o.Name
	default:
		return
	}
	l.related[string(obj.GetID())] = relatedObject{rank: threatRank(string(obj.GetType())), name: name, c2: c2}
}

// indicator files an indicator object, keeping the newest version per id.
func (l *loader) indicator(o *stix2.Indicator, confRaw json.RawMessage) {
	l.res.Counts.Indicators++
	id := string(o.ID)
	conf := -1
	if len(confRaw) > 0 && string(confRaw) != "null" {
		if err := gojson.Unmarshal(confRaw, &conf); err != nil || conf < 0 || conf > 100 {
			l.problem(id, "confidence %s is not an integer 0..100; treated as unknown", confRaw)
			conf = -1
		}
	}
	cur := &indicatorObject{obj: o, confidence: conf}
	prev, ok := l.byID[id]
	if !ok {
		l.order = append(l.order, id)
		l.byID[id] = cur
		return
	}
	l.res.Counts.Superseded++
	if modified(prev.obj).After(modified(o)) {
		return
	}
	l.byID[id] = cur
}

func modified(o *stix2.Indicator) time.Time {
	if o.Modified == nil {
		return time.Time{}
	}
	return o.Modified.Time
}

// finish compiles the indicators once every relationship is known.
func (l *loader) finish() {
	for _, id := range l.order {
		l.compile(id, l.byID[id])
	}
}

func (l *loader) compile(id string, io *indicatorObject) {
	o := io.obj
	if pt := strings.ToLower(strings.TrimSpace(o.PatternType)); pt != "" && pt != "stix" {
		l.res.Counts.Unsupported++
		l.problem(id, "pattern_type %s not supported", o.PatternType)
		return
	}
	if strings.TrimSpace(o.Pattern) == "" {
		l.res.Counts.InvalidPatterns++
		l.problem(id, "indicator has no pattern")
		return
	}
	ins, err := Pattern(o.Pattern)
	var syn *SyntaxError
	var uns *Unsupported
	switch {
	case errors.As(err, &syn):
		l.res.Counts.InvalidPatterns++
		l.problem(id, "%v", err)
	case errors.As(err, &uns):
		l.res.Counts.Unsupported++
		l.problem(id, "%v", err)
	case err != nil:
		l.res.Counts.InvalidPatterns++
		l.problem(id, "%v", err)
	case len(ins) == 0:
		l.problem(id, "pattern matches nothing (empty IN set)")
	}
	if len(ins) == 0 {
		return
	}
	l.res.Counts.Compiled++
	base := l.base(id, io)
	for _, in := range ins {
		out := base
		out.Type, out.Value, out.Also = in.Type, in.Value, in.Also
		out.Tags = slices.Clone(base.Tags)
		l.res.Indicators = append(l.res.Indicators, out)
	}
}

// base maps the indicator object's properties to an intel.Indicator
// without observable.
func (l *loader) base(id string, io *indicatorObject) intel.Indicator {
	o := io.obj
	in := intel.Indicator{ID: id, Confidence: io.confidence, Revoked: o.Revoked}
	if o.ValidFrom != nil {
		in.ValidFrom = o.ValidFrom.UTC()
	}
	if o.ValidUntil != nil {
		in.ValidUntil = o.ValidUntil.UTC()
	}
	switch {
	case o.Name != "" && o.Description != "":
		in.Description = o.Name + ": " + o.Description
	case o.Name != "":
		in.Description = o.Name
	default:
		in.Description = o.Description
	}
	tags := append(slices.Clone(o.Types), o.Labels...)
	best := relatedObject{}
	for _, target := range l.indicates[id] {
		r, ok := l.related[target]
		if !ok {
			continue
		}
		if r.c2 {
			tags = append(tags, "c2")
		}
		if r.name != "" && (best.rank == 0 || r.rank < best.rank) {
			best = r
		}
	}
	in.Threat = best.name
	if in.Threat == "" {
		in.Threat = o.Name
	}
	in.Tags = dedupe(tags)
	return in
}

// dedupe drops empty and repeated tags, keeping the first occurrence.
func dedupe(tags []string) []string {
	out := tags[:0]
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
