package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
)

// vulnBackend is what `vigil vulns` needs.
type vulnBackend interface {
	importVulns(ctx context.Context, name, format string, data []byte) (api.VulnImport, error)
	vulns(ctx context.Context, q url.Values) ([]api.FindingView, error)
}

var (
	_ vulnBackend = (*local)(nil)
	_ vulnBackend = (*remote)(nil)
)

func (l *local) importVulns(ctx context.Context, name, format string, data []byte) (api.VulnImport, error) {
	return l.n.Vulns.Import(ctx, name, format, data)
}

func (l *local) vulns(ctx context.Context, q url.Values) ([]api.FindingView, error) {
	sla, now := l.n.Vulns.SLA(), time.Now().UTC()
	f, err := api.VulnFilterFrom(q, sla, now)
	if err != nil {
		return nil, err
	}
	fs, err := l.n.State.Findings(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ViewFindings(fs, sla, now), nil
}

func (r *remote) importVulns(ctx context.Context, name, format string, data []byte) (api.VulnImport, error) {
	return r.c.ImportVulns(ctx, name, format, data)
}
func (r *remote) vulns(ctx context.Context, q url.Values) ([]api.FindingView, error) {
	return r.c.Vulns(ctx, q)
}

func runVulns(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "list") {
		return usagef("usage: vigil vulns import FILE [--format F] | vigil vulns list [--overdue] [--status open|fixed] [--severity critical,high]")
	}
	fs := newFlagSet("vulns "+args[0], env)
	var c common
	c.register(fs, env)
	format := fs.String("format", "", "report format: trivy, grype, openvas-xml, openvas-csv, nessus, tenable-csv (default: recognised)")
	overdue := fs.Bool("overdue", false, "only open findings past their SLA")
	status := fs.String("status", "open", "open or fixed (empty: both)")
	severity := fs.String("severity", "", "comma list of severities")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	vb, ok := b.(vulnBackend)
	if !ok {
		return errors.New("this backend cannot track vulnerabilities")
	}
	if args[0] == "import" {
		return importVulnsCmd(ctx, env, c.json, vb, fs.Args(), *format)
	}
	list, err := vb.vulns(ctx, url.Values{"status": {*status}, "overdue": {fmt.Sprint(*overdue)}, "severity": {*severity}})
	if err != nil {
		return err
	}
	if c.json {
		writeJSONLines(env.Stdout, list)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tID\tTARGET\tPACKAGE\tSTATUS\tAGE (DAYS)\tDUE\tOVERDUE")
	for _, v := range list {
		due := "-"
		if !v.Due.IsZero() {
			due = v.Due.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%v\n", v.Severity, v.VulnID, v.Target, orDash(v.Package), v.Status,
			v.AgeDays, due, v.Overdue)
	}
	return tw.Flush()
}

func importVulnsCmd(ctx context.Context, env *Env, asJSON bool, vb vulnBackend, files []string, format string) error {
	if len(files) == 0 {
		return usagef("vigil vulns import takes one or more report files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		res, err := vb.importVulns(ctx, filepath.Base(f), format, data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if asJSON {
			writeJSONLines(env.Stdout, []api.VulnImport{res})
			continue
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d findings: %d new, %d still open, %d fixed, %d reopened; %d skipped\n", f,
			res.Scan.Scanner, res.Findings, res.Counts.New, res.Counts.StillOpen, res.Counts.Fixed, res.Counts.Reopened,
			len(res.Problems))
	}
	return nil
}
