package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/client"
	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/report"
)

// reportUsage is the synopsis of `vigil report`.
const reportUsage = "usage: vigil report blindspots [--format md|html|json] [--days 7] [--out FILE]"

// coverageBackend is what `vigil coverage` and `vigil report` need.
type coverageBackend interface {
	coverage(ctx context.Context, silentAfter time.Duration) (coverage.Report, error)
	// blindSpots writes the report of the last days days in format to w.
	blindSpots(ctx context.Context, days int, format string, w io.Writer) error
}

var (
	_ coverageBackend = (*local)(nil)
	_ coverageBackend = (*remote)(nil)
)

func (l *local) coverage(ctx context.Context, silentAfter time.Duration) (coverage.Report, error) {
	return coverage.Load(ctx, l.n.State, time.Now().UTC(), silentAfter)
}

func (l *local) blindSpots(ctx context.Context, days int, format string, w io.Writer) error {
	o := report.Options{Days: days, SLA: l.n.Cfg.Vulns.SLA(), IntelIntervals: map[string]time.Duration{}}
	for _, s := range l.n.Cfg.Intel.Sources {
		o.IntelIntervals[s.Name] = cmp.Or(s.Interval.Duration, l.n.Cfg.Intel.DefaultInterval.Duration)
	}
	if l.n.Intel != nil {
		o.IntelStatus = l.n.Intel.Status
	}
	if l.n.Rules != nil {
		o.RuleErrors = api.RuleErrors(l.n.Rules.Status())
	}
	b, err := report.Gather(ctx, l.n.State, o)
	if err != nil {
		return err
	}
	if format == "json" {
		return json.NewEncoder(w).Encode(b)
	}
	return b.Render(w, format)
}

func (r *remote) coverage(ctx context.Context, silentAfter time.Duration) (coverage.Report, error) {
	var rep coverage.Report
	q := url.Values{"silent_after": {silentAfter.String()}}
	var buf strings.Builder
	if err := apiGet(ctx, r.c, "/api/v1/coverage", q, &buf); err != nil {
		return rep, err
	}
	if err := json.Unmarshal([]byte(buf.String()), &rep); err != nil {
		return rep, fmt.Errorf("decode the coverage: %w", err)
	}
	return rep, nil
}

func (r *remote) blindSpots(ctx context.Context, days int, format string, w io.Writer) error {
	q := url.Values{"format": {format}, "days": {strconv.Itoa(days)}}
	return apiGet(ctx, r.c, "/api/v1/reports/blindspots", q, w)
}

// apiGet calls GET path?q on c's server and copies a 2xx body to w.
func apiGet(ctx context.Context, c *client.Client, path string, q url.Values, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		return &client.Error{Status: resp.StatusCode, Message: eb.Error}
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// openCoverageBackend opens the backend for a coverage or report command.
func openCoverageBackend(ctx context.Context, c *common, env *Env) (backend, coverageBackend, error) {
	b, err := openBackend(ctx, c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return nil, nil, err
	}
	cb, ok := b.(coverageBackend)
	if !ok {
		b.close()
		return nil, nil, errors.New("this backend cannot compute coverage")
	}
	return b, cb, nil
}

// runCoverage runs `vigil coverage`: the inventory's expected log sources
// against what arrives, gaps first.
func runCoverage(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("coverage", env)
	var c common
	c.register(fs, env)
	after := fs.Duration("silent-after", coverage.DefaultSilentAfter, "a source quiet this long counts as silent")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("vigil coverage takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	if *after <= 0 {
		return usagef("--silent-after must be positive")
	}
	b, cb, err := openCoverageBackend(ctx, &c, env)
	if err != nil {
		return err
	}
	defer b.close()
	rep, err := cb.coverage(ctx, *after)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	return printCoverage(env.Stdout, rep)
}

// printCoverage writes the summary, the gaps, every asset and the hosts
// not in the inventory as tables.
func printCoverage(w io.Writer, rep coverage.Report) error {
	for _, l := range rep.Summary {
		fmt.Fprintln(w, l)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.Gaps) > 0 {
		fmt.Fprintln(tw, "\nGAP\tASSET\tCRITICALITY\tROLE\tSOURCE\tSILENT FOR\tLAST SEEN")
		for _, g := range rep.Gaps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", strings.ReplaceAll(g.Kind, "_", " "), g.Asset, g.Criticality,
				dash(g.Role), dash(g.Expected), dash(g.SilentFor), stamp(g.LastSeen))
		}
	}
	fmt.Fprintln(tw, "\nASSET\tCRITICALITY\tSTATUS\tEXPECTED SOURCES\tALSO SENDS\tLAST SEEN")
	for _, a := range rep.Assets {
		var ex []string
		for _, s := range a.Expected {
			ex = append(ex, s.Expected+"="+s.State)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Criticality, strings.ReplaceAll(a.Status, "_", " "),
			dash(strings.Join(ex, ", ")), dash(strings.Join(a.Other, ", ")), stamp(a.LastSeen))
	}
	if len(rep.Unknown) > 0 {
		fmt.Fprintln(tw, "\nNOT IN THE INVENTORY\tINPUTS\tEVENTS\tLAST SEEN")
		for _, u := range rep.Unknown {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", u.Host+u.Address, strings.Join(u.SeenAs, ", "), u.Events, stamp(u.LastSeen))
		}
	}
	return tw.Flush()
}

func dash(s string) string { return cmp.Or(s, "-") }

// runReport runs `vigil report blindspots`: the blind-spot report of the
// last --days days as Markdown, HTML or JSON, to stdout or --out.
func runReport(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "blindspots" {
		return usagef(reportUsage)
	}
	fs := newFlagSet("report blindspots", env)
	var c common
	c.register(fs, env)
	format := fs.String("format", report.FormatMarkdown, "md, html or json")
	days := fs.Int("days", report.DefaultDays, "length of the period in days, ending now")
	out := fs.String("out", "", "write the report to this file instead of standard output")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("vigil report blindspots takes no arguments, got %q", strings.Join(fs.Args(), " "))
	case *format != report.FormatMarkdown && *format != report.FormatHTML && *format != "json":
		return usagef("--format %q: want md, html or json", *format)
	case *days < 1 || *days > report.MaxDays:
		return usagef("--days must be 1 to %d", report.MaxDays)
	}
	b, cb, err := openCoverageBackend(ctx, &c, env)
	if err != nil {
		return err
	}
	defer b.close()
	if *out == "" {
		return cb.blindSpots(ctx, *days, *format, env.Stdout)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := cb.blindSpots(ctx, *days, *format, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "wrote", *out)
	return nil
}
