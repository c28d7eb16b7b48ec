package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/timeexpr"
)

// assetBackend is what `vigil assets` needs of a backend.
type assetBackend interface {
	listAssets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error)
	importAssets(ctx context.Context, csv io.Reader, key statedb.ImportKey) (asset.ImportReport, error)
	unknownAssets(ctx context.Context, since string) ([]asset.UnknownAsset, error)
}

// assetsUsage is the synopsis of `vigil assets`.
const assetsUsage = "usage: vigil assets list [--q TEXT] [--role R] [--criticality C] [--tag T] | " +
	"import [--by hostname|address] FILE.csv | unknown [--since now-7d]"

// defaultUnknownSince is how far back `vigil assets unknown` looks.
const defaultUnknownSince = "now-7d"

// maxUnknownEdges caps the traffic edges discovery reads in direct mode,
// as the API does.
const maxUnknownEdges = 50_000

// runAssets runs `vigil assets list|import|unknown`: list the inventory,
// import a CSV file into it (exit status 1 when lines had problems; the
// good lines are still imported), or list hosts and addresses seen but not
// inventoried.
func runAssets(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(env.Stderr, assetsUsage)
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef(assetsUsage)
	}
	sub := args[0]
	fs := newFlagSet("assets "+sub, env)
	var c common
	c.register(fs, env)
	var f statedb.AssetFilter
	by := fs.String("by", string(statedb.ImportByHostname), "import: match existing assets by hostname or by address (first ip)")
	since := fs.String("since", defaultUnknownSince, "unknown: how far back to look (RFC 3339, date, or now-7d)")
	fs.StringVar(&f.Query, "q", "", "list: text to find in host names, addresses, owner, role, tags or notes")
	fs.StringVar(&f.Role, "role", "", "list: only this role")
	fs.StringVar(&f.Criticality, "criticality", "", "list: only this criticality (low, medium, high, critical)")
	fs.StringVar(&f.Tag, "tag", "", "list: only assets with this tag")
	fs.IntVar(&f.Limit, "limit", 0, "list: most assets to list (0: all)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub != "list" && sub != "import" && sub != "unknown":
		return usagef("unknown assets command %q (want list, import or unknown)", sub)
	case sub == "import" && len(pos) != 1:
		return usagef("usage: vigil assets import [--by hostname|address] FILE.csv")
	case sub != "import" && len(pos) != 0:
		return usagef("vigil assets %s takes no arguments, got %q", sub, strings.Join(pos, " "))
	case *by != string(statedb.ImportByHostname) && *by != string(statedb.ImportByAddress):
		return usagef("--by %q must be hostname or address", *by)
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	ab, ok := b.(assetBackend)
	if !ok {
		return fmt.Errorf("this backend (%T) cannot manage assets", b)
	}
	switch sub {
	case "list":
		return listAssetsCmd(ctx, env, c.json, ab, f)
	case "import":
		return importAssetsCmd(ctx, env, c.json, ab, pos[0], statedb.ImportKey(*by))
	}
	return unknownAssetsCmd(ctx, env, c.json, ab, *since)
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// listAssetsCmd prints the inventory.
func listAssetsCmd(ctx context.Context, env *Env, asJSON bool, ab assetBackend, f statedb.AssetFilter) error {
	list, err := ab.listAssets(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		writeJSONLines(env.Stdout, list)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOSTNAME\tADDRESSES\tCRITICALITY\tROLE\tOWNER\tTAGS\tEXPECTED SOURCES\tID")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(a.Hostname), orDash(strings.Join(a.Addresses, ",")),
			a.Criticality, orDash(clip(a.Role, 40)), orDash(clip(a.Owner, 30)), orDash(strings.Join(a.Tags, ",")),
			orDash(strings.Join(a.ExpectedSources, ",")), a.ID)
	}
	return tw.Flush()
}

// importAssetsCmd imports a CSV file and prints the report.
func importAssetsCmd(ctx context.Context, env *Env, asJSON bool, ab assetBackend, path string, key statedb.ImportKey) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := ab.importAssets(ctx, f, key)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if asJSON {
		_ = json.NewEncoder(env.Stdout).Encode(rep)
	} else {
		fmt.Fprintf(env.Stdout, "Imported %s: %d created, %d updated, %d unchanged, %d skipped\n", path, rep.Created,
			rep.Updated, rep.Unchanged, rep.Skipped)
		for _, e := range rep.Errors {
			fmt.Fprintf(env.Stdout, "  %s:%s\n", path, e.Error())
		}
	}
	if len(rep.Errors) > 0 {
		return fmt.Errorf("%s: %d problem(s); the other lines were imported", path, len(rep.Errors))
	}
	return nil
}

// unknownAssetsCmd lists what was seen but is not inventoried.
func unknownAssetsCmd(ctx context.Context, env *Env, asJSON bool, ab assetBackend, since string) error {
	list, err := ab.unknownAssets(ctx, since)
	if err != nil {
		return err
	}
	if asJSON {
		writeJSONLines(env.Stdout, list)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST SEEN\tFIRST SEEN\tHOST\tADDRESS\tSEEN AS\tEVENTS\tCONNECTIONS")
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", stamp(u.LastSeen), stamp(u.FirstSeen), orDash(u.Host),
			orDash(u.Address), strings.Join(u.SeenAs, ","), u.Events, u.Connections)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (r *remote) listAssets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error) {
	return r.c.Assets(ctx, f)
}

func (r *remote) importAssets(ctx context.Context, csv io.Reader, key statedb.ImportKey) (asset.ImportReport, error) {
	return r.c.ImportAssets(ctx, csv, key)
}

func (r *remote) unknownAssets(ctx context.Context, since string) ([]asset.UnknownAsset, error) {
	return r.c.UnknownAssets(ctx, since)
}

func (l *local) listAssets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error) {
	return l.n.State.Assets(ctx, f)
}

func (l *local) importAssets(ctx context.Context, csv io.Reader, key statedb.ImportKey) (asset.ImportReport, error) {
	return asset.ImportCSV(ctx, l.n.State, csv, key)
}

// unknownAssets is discovery on the data directory: the inventory with the
// configuration's network assets, the sources, and the flow rollup.
func (l *local) unknownAssets(ctx context.Context, since string) ([]asset.UnknownAsset, error) {
	now := time.Now().UTC()
	from, err := timeexpr.Parse(since, now)
	if err != nil {
		return nil, usagef("--since: %v", err)
	}
	if from.IsZero() {
		from, _ = timeexpr.Parse(defaultUnknownSince, now)
	}
	idx, err := asset.Load(ctx, l.n.State, staticAssets(l.n.Cfg.Network.Assets))
	if idx == nil {
		return nil, err
	}
	if err != nil {
		l.n.Log.Warn("configured network assets skipped", "err", err)
	}
	sources, err := l.n.State.Sources(ctx)
	if err != nil {
		return nil, err
	}
	internal, err := flow.NewSet(l.n.Cfg.Network.InternalNetworks)
	if err != nil {
		return nil, fmt.Errorf("network.internal_networks: %w", err)
	}
	if internal.Len() == 0 {
		internal = nil // the defaults
	}
	peers := func(ctx context.Context, since time.Time) ([]asset.Peer, error) {
		edges, err := l.n.Events.Graph(ctx, eventstore.GraphRequest{From: since, To: now.Add(time.Hour), Limit: maxUnknownEdges})
		if err != nil {
			return nil, err
		}
		pc := asset.NewPeerCollector(internal)
		for _, e := range edges {
			pc.Add(e.Src, e.Dst, e.FirstSeen, e.LastSeen, e.Conns)
		}
		return pc.Peers(), nil
	}
	return asset.Unknown(ctx, idx, sources, peers, from)
}

// staticAssets converts the configuration's network assets.
func staticAssets(list []config.AssetConfig) []asset.Static {
	out := make([]asset.Static, len(list))
	for i, a := range list {
		out[i] = asset.Static{Address: a.Address, Name: a.Name, Role: a.Role, Criticality: a.Criticality, Sensitive: a.Sensitive}
	}
	return out
}
