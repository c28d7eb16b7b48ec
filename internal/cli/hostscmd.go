package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/risk"
)

// riskBackend is what `vigil hosts` and `vigil intel` need.
type riskBackend interface {
	hosts(ctx context.Context, sort string, limit int) ([]risk.HostRisk, error)
	host(ctx context.Context, id string) (api.HostDetail, error)
	intelSources(ctx context.Context) ([]intel.SourceStatus, error)
	intelImport(ctx context.Context, name, format string, data []byte) (api.IntelImport, error)
}

var (
	_ riskBackend = (*local)(nil)
	_ riskBackend = (*remote)(nil)
)

func (l *local) hosts(ctx context.Context, sort string, limit int) ([]risk.HostRisk, error) {
	hs, err := l.n.Risk.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	if err := risk.SortHosts(hs, sort); err != nil {
		return nil, err
	}
	if limit > 0 {
		hs = hs[:min(limit, len(hs))]
	}
	return hs, nil
}

func (l *local) host(ctx context.Context, id string) (api.HostDetail, error) {
	d, ok, err := api.HostDetailOf(ctx, api.Deps{Risk: l.n.Risk, State: l.n.State, Events: l.n.Events}, id)
	if err == nil && !ok {
		err = fmt.Errorf("no host %q with open alerts", id)
	}
	return d, err
}

func (l *local) intelSources(ctx context.Context) ([]intel.SourceStatus, error) {
	return l.n.Intel.Status(ctx)
}

func (l *local) intelImport(ctx context.Context, name, format string, data []byte) (api.IntelImport, error) {
	return node.IntelService(l.n).Import(ctx, name, format, data)
}

func (r *remote) hosts(ctx context.Context, sort string, limit int) ([]risk.HostRisk, error) {
	return r.c.Hosts(ctx, sort, limit)
}
func (r *remote) host(ctx context.Context, id string) (api.HostDetail, error) {
	return r.c.Host(ctx, id)
}
func (r *remote) intelSources(ctx context.Context) ([]intel.SourceStatus, error) {
	return r.c.IntelSources(ctx)
}
func (r *remote) intelImport(ctx context.Context, name, format string, data []byte) (api.IntelImport, error) {
	return r.c.IntelImport(ctx, name, format, data)
}

// openRiskBackend opens the backend for a hosts or intel command.
func openRiskBackend(ctx context.Context, c *common, env *Env) (backend, riskBackend, error) {
	b, err := openBackend(ctx, c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return nil, nil, err
	}
	rb, ok := b.(riskBackend)
	if !ok {
		b.close()
		return nil, nil, errors.New("this backend cannot rank hosts")
	}
	return b, rb, nil
}

func runHosts(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("hosts", env)
	var c common
	c.register(fs, env)
	sort := fs.String("sort", "risk", "order: risk, name or last_seen")
	limit := fs.Int("limit", 20, "show at most this many hosts (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, rb, err := openRiskBackend(ctx, &c, env)
	if err != nil {
		return err
	}
	defer b.close()
	if id := fs.Arg(0); id != "" {
		d, err := rb.host(ctx, id)
		if err != nil {
			return err
		}
		return printHost(env, c.json, d)
	}
	hs, err := rb.hosts(ctx, *sort, *limit)
	if err != nil {
		return err
	}
	if c.json {
		writeJSONLines(env.Stdout, hs)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tRISK\tLEVEL\tDETECTIONS\tALERTS\tCRITICALITY\tLAST SEEN\tWHY")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%d\t%d\t%s\t%s\t%s\n", h.Host, h.Score, h.Level, len(h.Detections), h.Alerts,
			cmp.Or(h.Criticality, "-"), h.LastSeen.UTC().Format(time.RFC3339), strings.Join(h.Why, "; "))
	}
	return tw.Flush()
}

func printHost(env *Env, asJSON bool, d api.HostDetail) error {
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(d)
	}
	w := env.Stdout
	fmt.Fprintf(w, "%s  risk %.1f (%s)\n", d.Host, d.Score, d.Level)
	for _, why := range d.Why {
		fmt.Fprintln(w, "  why:", why)
	}
	if d.Asset != nil {
		fmt.Fprintf(w, "  asset: %s role %s criticality %s\n", d.Asset.Name, cmp.Or(d.Asset.Role, "-"), cmp.Or(d.Asset.Criticality, "-"))
	}
	fmt.Fprintln(w, "  aliases:", strings.Join(d.Aliases, ", "))
	fmt.Fprintln(w, "\nDetections:")
	for _, det := range d.Detections {
		fmt.Fprintf(w, "  %-8s %3d× %s  (%s)\n", det.Severity, det.Alerts, det.Title, det.RuleID)
	}
	if len(d.Peers) > 0 {
		fmt.Fprintf(w, "\nTop peers (last %s):\n", d.Window)
		for _, p := range d.Peers {
			fmt.Fprintf(w, "  %s → %s  %d B out, %d B in, %d connections\n", p.Src, p.Dst, p.BytesOut, p.BytesIn, p.Conns)
		}
	}
	return nil
}

func runIntel(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "sources") {
		return usagef("usage: vigil intel import FILE [--name N] [--format stix|misp-event|list|csv] | vigil intel sources")
	}
	fs := newFlagSet("intel "+args[0], env)
	var c common
	c.register(fs, env)
	name := fs.String("name", "", "source name of the import (default: the file's base name)")
	format := fs.String("format", "", "file format (default: recognised from the content)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	b, rb, err := openRiskBackend(ctx, &c, env)
	if err != nil {
		return err
	}
	defer b.close()
	if args[0] == "sources" {
		return printIntelSources(ctx, env, c.json, rb)
	}
	if fs.NArg() != 1 {
		return usagef("vigil intel import takes one FILE")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	n := cmp.Or(*name, "import:"+filepath.Base(fs.Arg(0)))
	res, err := rb.intelImport(ctx, n, *format, data)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	fmt.Fprintf(env.Stdout, "%s (%s): %d indicators, %d new, %d problems, %d retro-hunt alerts\n", res.Source, res.Format,
		res.Indicators, res.New, len(res.Problems), res.RetroAlerts)
	for _, p := range res.Problems[:min(20, len(res.Problems))] {
		fmt.Fprintln(env.Stdout, "  skipped:", p.String())
	}
	return nil
}

func printIntelSources(ctx context.Context, env *Env, asJSON bool, rb riskBackend) error {
	st, err := rb.intelSources(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		writeJSONLines(env.Stdout, st)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tINDICATORS\tPROBLEMS\tLAST SUCCESS\tFAILURES\tLAST ERROR")
	for _, s := range st {
		last := "never"
		if !s.LastSuccess.IsZero() {
			last = s.LastSuccess.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%s\n", s.Name, s.Kind, s.Indicators, s.Problems, last, s.Failures, s.LastError)
	}
	return tw.Flush()
}
