package rules

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/detect/sigma"
	"github.com/vigil-soc/vigil/internal/schema"
)

// AlertFor builds the alert for rule matching ev: the rule's id, title and
// level (as severity), its ATT&CK tags, the event as evidence, and the
// event's host, user and addresses. Repeats on the same host group by the
// dedup key sigma|rule id|host.
func AlertFor(r *sigma.Rule, ev *schema.Event) schema.Alert {
	sev, err := schema.ParseSeverity(r.Level)
	if err != nil {
		sev = schema.SeverityMedium
	}
	var tags []string
	for _, t := range r.Tags {
		if strings.HasPrefix(t, "attack.") {
			tags = append(tags, t)
		}
	}
	host := ev.SourceHost()
	dst := ev.Destination.Domain
	if dst == "" {
		dst = ev.DNS.Question.Name
	}
	details := map[string]string{"rule_path": r.Path, "logsource": r.Logsource.String()}
	if r.Author != "" {
		details["rule_author"] = r.Author
	}
	if r.Status != "" {
		details["rule_status"] = r.Status
	}
	for _, f := range r.Fields {
		if v, ok := ev.Get(f); ok {
			details["field."+f] = v
		}
	}
	return schema.Alert{
		RuleID: r.ID, RuleName: r.Title, Kind: schema.KindSigma, Title: r.Title,
		Severity: sev, Priority: schema.PriorityFromSeverity(sev),
		FirstSeen: ev.Timestamp, LastSeen: ev.Timestamp,
		Host: host, SourceIP: ev.Source.IP, DestinationIP: ev.Destination.IP, DestinationDomain: dst,
		User: ev.User.Name, Tags: tags, EvidenceIDs: []uint64{ev.ID}, Status: schema.StatusNew, Count: 1,
		DedupKey: "sigma|" + r.ID + "|" + host, Details: details,
	}
}
