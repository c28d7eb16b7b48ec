package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/vuln"
)

// vulnService imports scan reports and raises alerts for overdue findings.
type vulnService struct {
	n *Node
	// mu guards alerted, the findings an overdue alert was raised for, and
	// counts, the open critical/high findings per asset id.
	mu      sync.Mutex
	alerted map[string]bool
	counts  map[string][2]int
}

var _ api.VulnService = (*vulnService)(nil)

func newVulnService(n *Node) *vulnService {
	return &vulnService{n: n, counts: map[string][2]int{}}
}

// SLA returns the configured deadlines.
func (v *vulnService) SLA() vuln.SLA { return v.n.Cfg.Vulns.SLA() }

// Import parses a report, maps targets to inventory assets and records the
// scan; then it refreshes the overdue alerts and the per-asset counts.
func (v *vulnService) Import(ctx context.Context, name, format string, data []byte) (api.VulnImport, error) {
	rep, err := vuln.Parse(name, data, vuln.Format(format))
	if err != nil {
		return api.VulnImport{}, err
	}
	res := api.VulnImport{Scan: rep.Scan, Findings: len(rep.Findings), Problems: rep.Problems}
	if res.Problems == nil {
		res.Problems = []vuln.Problem{}
	}
	idx := v.n.Enricher.Assets()
	res.Counts, err = v.n.State.ImportScan(ctx, rep.Scan, rep.Findings, func(target string) string {
		if e, ok := lookupAsset(idx, target); ok && e.Record != nil {
			return e.Record.ID
		}
		return ""
	})
	if err != nil {
		return res, err
	}
	if err := v.check(ctx); err != nil {
		v.n.Log.Warn("overdue vulnerability check failed", "err", err)
	}
	return res, nil
}

// lookupAsset finds an inventory entry by address or host name.
func lookupAsset(idx *asset.Index, target string) (*asset.Entry, bool) {
	if idx == nil || target == "" {
		return nil, false
	}
	if a, ok := asset.ParseAddr(target); ok {
		return idx.LookupAddr(a)
	}
	return idx.LookupHost(target)
}

// run checks for overdue findings every interval until ctx ends.
func (v *vulnService) run(ctx context.Context) error {
	t := time.NewTicker(v.n.Cfg.Vulns.CheckInterval.Duration)
	defer t.Stop()
	for {
		if err := v.check(ctx); err != nil && ctx.Err() == nil {
			v.n.Log.Warn("overdue vulnerability check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// check raises one alert per open finding past its SLA deadline (once per
// finding while the alert is open) and refreshes the per-asset counts.
func (v *vulnService) check(ctx context.Context) error {
	now := time.Now().UTC()
	if err := v.refreshCounts(ctx); err != nil {
		return err
	}
	over, err := v.n.State.Findings(ctx, statedb.VulnFilter{Status: statedb.VulnOpen, Overdue: true, SLA: v.SLA(), Now: now})
	if err != nil {
		return err
	}
	if err := v.loadAlerted(ctx); err != nil {
		return err
	}
	var alerts []schema.Alert
	for _, f := range over {
		key := "vuln-overdue|" + f.Key
		v.mu.Lock()
		done := v.alerted[key]
		v.alerted[key] = true
		v.mu.Unlock()
		if done {
			continue
		}
		a := v.overdueAlert(f, now)
		v.n.prio.Apply(&a)
		alerts = append(alerts, a)
	}
	if len(alerts) > 0 {
		if _, err := v.n.State.UpsertAlerts(ctx, alerts, v.n.Cfg.Alerts.GroupWindow.Duration); err != nil {
			return err
		}
	}
	return v.resolveFixed(ctx)
}

// resolveFixed resolves the open overdue alerts whose finding a later scan
// found fixed, as a true positive with the fix time as the reason.
func (v *vulnService) resolveFixed(ctx context.Context) error {
	open, err := v.n.State.OpenAlertsSince(ctx, time.Time{}, 0)
	if err != nil {
		return err
	}
	for _, a := range open {
		if a.Kind != KindVulnOverdue || a.Details["vuln.key"] == "" {
			continue
		}
		f, _, err := v.n.State.FindingHistory(ctx, a.Details["vuln.key"])
		if err != nil || f.Status != statedb.VulnFixed {
			continue
		}
		status, disp := schema.StatusResolved, schema.DispositionTruePositive
		reason := "fixed: absent from the scan of " + f.FixedAt.UTC().Format(time.RFC3339)
		if _, _, err := v.n.State.UpdateAlert(ctx, a.ID, "vigil", statedb.AlertPatch{Status: &status,
			Disposition: &disp, Reason: &reason}); err != nil {
			return err
		}
		v.mu.Lock()
		delete(v.alerted, a.DedupKey)
		v.mu.Unlock()
	}
	return nil
}

// displayID names a finding: its CVE when the scanner's id is not one.
func displayID(f statedb.VulnFinding) string {
	if strings.HasPrefix(f.VulnID, "CVE-") {
		return f.VulnID
	}
	for _, a := range f.Aliases {
		if strings.HasPrefix(a, "CVE-") {
			return a + " (" + f.Scanner + " " + f.VulnID + ")"
		}
	}
	return f.VulnID
}

// loadAlerted reads, once, which findings already have an open overdue
// alert.
func (v *vulnService) loadAlerted(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.alerted != nil {
		return nil
	}
	open, err := v.n.State.OpenAlertsSince(ctx, time.Time{}, 0)
	if err != nil {
		return err
	}
	v.alerted = map[string]bool{}
	for _, a := range open {
		if a.Kind == KindVulnOverdue {
			v.alerted[a.DedupKey] = true
		}
	}
	return nil
}

// KindVulnOverdue is the alert kind of findings past their SLA.
const KindVulnOverdue = "vuln_overdue"

func (v *vulnService) overdueAlert(f statedb.VulnFinding, now time.Time) schema.Alert {
	due, _ := v.SLA().Deadline(f.Severity, f.Opened)
	host := f.Target
	if e, ok := lookupAsset(v.n.Enricher.Assets(), f.Target); ok {
		host = e.Name
	} else if f.Hostname != "" {
		host = f.Hostname
	}
	sev := map[vuln.Severity]schema.Severity{vuln.SeverityCritical: schema.SeverityHigh, vuln.SeverityHigh: schema.SeverityMedium}[f.Severity]
	if sev == 0 {
		sev = schema.SeverityLow
	}
	days := int(now.Sub(f.Opened).Hours() / 24)
	return schema.Alert{RuleID: "vigil.vuln.overdue", RuleName: "Vulnerability past its SLA", Kind: KindVulnOverdue,
		Title: fmt.Sprintf("Overdue %s vulnerability %s on %s: open %d days, due %s", f.Severity, displayID(f), host, days,
			due.Format("2006-01-02")),
		Severity: sev, Priority: schema.PriorityFromSeverity(sev), FirstSeen: now, LastSeen: now, Host: host,
		Status: schema.StatusNew, Count: 1, DedupKey: "vuln-overdue|" + f.Key,
		Details: map[string]string{"vuln.id": f.VulnID, "vuln.severity": string(f.Severity), "vuln.package": f.Package,
			"vuln.installed": f.InstalledVersion, "vuln.fixed_version": f.FixedVersion, "vuln.opened": f.Opened.Format(time.RFC3339),
			"vuln.due": due.Format(time.RFC3339), "vuln.age_days": strconv.Itoa(days), "vuln.key": f.Key,
			"vuln.target": f.Target}}
}

// refreshCounts recounts open critical and high findings per asset.
func (v *vulnService) refreshCounts(ctx context.Context) error {
	fs, err := v.n.State.Findings(ctx, statedb.VulnFilter{Status: statedb.VulnOpen,
		Severities: []vuln.Severity{vuln.SeverityCritical, vuln.SeverityHigh}})
	if err != nil {
		return err
	}
	counts := map[string][2]int{}
	for _, f := range fs {
		if f.AssetID == "" {
			continue
		}
		c := counts[f.AssetID]
		if f.Severity == vuln.SeverityCritical {
			c[0]++
		} else {
			c[1]++
		}
		counts[f.AssetID] = c
	}
	v.mu.Lock()
	v.counts = counts
	v.mu.Unlock()
	return nil
}

// OpenVulns implements risk.VulnLookup: the open critical and high
// findings of the asset a host name or address belongs to.
func (v *vulnService) OpenVulns(host string) (critical, high int) {
	e, ok := lookupAsset(v.n.Enricher.Assets(), host)
	if !ok || e.Record == nil {
		return 0, 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.counts[e.Record.ID]
	return c[0], c[1]
}
