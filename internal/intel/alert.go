package intel

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/vigil-soc/vigil/internal/schema"
)

// RuleID returns the alert rule id of matches on indicators of type t.
func RuleID(t Type) string { return "vigil.intel." + string(t) }

// Severity rates a hit: contact with command-and-control infrastructure
// and known-bad files are high (critical when the source is at least 90%
// confident), other matches medium; an inbound contact from a listed
// address that is not C2 (scanners, spam sources) is low, and a confidence
// below 40 lowers any of these by one step.
func Severity(h Hit) schema.Severity {
	sev := schema.SeverityMedium
	switch {
	case h.C2, h.Direction == DirObserved && h.Type != TypeEmail:
		sev = schema.SeverityHigh
		if h.Confidence >= 90 {
			sev = schema.SeverityCritical
		}
	case h.Direction == DirContactedBy:
		sev = schema.SeverityLow
	}
	if h.Confidence >= 0 && h.Confidence < 40 && sev > schema.SeverityLow {
		sev--
	}
	return sev
}

// HostOf names the event's host for a hit: the internal side of the
// contact, by asset name when enrichment found one, else by address; for
// hits that are not about an address, the event's own host.
func HostOf(ev *schema.Event, h Hit) string {
	var ep *schema.Endpoint
	switch h.Field {
	case "source.ip":
		ep = &ev.Destination
	case "destination.ip", "destination.domain", "dns.question.name", "dns.answers", "url.domain", "url.full":
		ep = &ev.Source
	}
	switch {
	case ep != nil && ep.Asset.Name != "":
		return ep.Asset.Name
	case ev.Host.Name != "":
		return ev.Host.Name
	case ep != nil && ep.IP != "":
		return ep.IP
	}
	return ev.SourceHost()
}

// AlertFor builds the alert of a hit on ev. retro marks alerts found by a
// retro-hunt over stored events.
func AlertFor(ev *schema.Event, h Hit, retro bool) schema.Alert {
	sev := Severity(h)
	host := HostOf(ev, h)
	what := "listed " + string(h.Type)
	if h.C2 {
		what = "known C2 " + string(h.Type)
	}
	about := h.Source
	if h.Threat != "" {
		about = h.Threat + ", " + h.Source
	}
	verb := map[string]string{DirContacted: "contacted", DirContactedBy: "was contacted by", DirResolved: "resolved a name to",
		DirObserved: "has"}[h.Direction]
	a := schema.Alert{
		RuleID: RuleID(h.Type), RuleName: "Threat intelligence match", Kind: schema.KindIOC,
		Title:    fmt.Sprintf("%s %s %s %s (%s)", host, verb, what, h.Value, about),
		Severity: sev, Priority: schema.PriorityFromSeverity(sev), FirstSeen: ev.Timestamp, LastSeen: ev.Timestamp,
		Host: host, SourceIP: ev.Source.IP, DestinationIP: ev.Destination.IP,
		DestinationDomain: cmp.Or(ev.Destination.Domain, ev.DNS.Question.Name, ev.URL.Domain),
		User:              ev.User.Name, Status: schema.StatusNew, Count: 1,
		DedupKey: "ioc|" + h.Source + "|" + string(h.Type) + "|" + h.Value + "|" + host,
		Details: map[string]string{
			"indicator": h.Value, "indicator.type": string(h.Type), "indicator.source": h.Source,
			"indicator.confidence": strconv.Itoa(h.Confidence), "indicator.threat": h.Threat,
			"indicator.c2": strconv.FormatBool(h.C2), "direction": h.Direction,
			"matched.field": h.Field, "matched.value": h.Matched, "retrospective": strconv.FormatBool(retro),
		},
	}
	if ev.ID != 0 {
		a.EvidenceIDs = []uint64{ev.ID}
	}
	if h.C2 {
		a.Tags = []string{"attack.command_and_control", "attack.t1071"}
	}
	if retro {
		a.Title = "Retro-hunt: " + a.Title
	}
	return a
}
