package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

func runSearch(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("search", env)
	var c common
	c.register(fs, env)
	from := fs.String("from", "", "start of the time range (RFC 3339, date, epoch, or now-1h); default: the beginning")
	to := fs.String("to", "", "end of the time range; default: now")
	limit := fs.Int("limit", 100, "most events to print (0 = all pages)")
	asc := fs.Bool("asc", false, "oldest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	enc := json.NewEncoder(env.Stdout)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	if !c.json {
		fmt.Fprintln(tw, "TIME\tHOST\tINPUT\tDATASET\tMESSAGE")
	}
	printed, cursor := 0, ""
	for {
		page := 1000
		if *limit > 0 {
			page = min(1000, *limit-printed)
		}
		res, err := b.search(ctx, *from, *to, q, page, cursor, *asc)
		if err != nil {
			return err
		}
		for i := range res.Events {
			ev := &res.Events[i]
			if c.json {
				_ = enc.Encode(ev)
				continue
			}
			msg := ev.Message
			if msg == "" {
				msg = ev.Original
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ev.Timestamp.UTC().Format(time.RFC3339), ev.SourceHost(),
				ev.Input, ev.Event.Dataset, clip(msg, 120))
		}
		printed += len(res.Events)
		cursor = res.Next
		if cursor == "" || (*limit > 0 && printed >= *limit) {
			break
		}
	}
	return tw.Flush()
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func runAlerts(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("alerts", env)
	var c common
	c.register(fs, env)
	p := url.Values{}
	for _, name := range []string{"from", "to", "status", "kind", "host", "rule_id"} {
		fs.Func(name, "filter by "+name, func(v string) error { p.Set(name, v); return nil })
	}
	limit := fs.Int("limit", 100, "most alerts to list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p.Set("limit", fmt.Sprint(*limit))
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	alerts, err := b.alerts(ctx, p)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(env.Stdout)
		for i := range alerts {
			_ = enc.Encode(&alerts[i])
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST SEEN\tSEVERITY\tSTATUS\tCOUNT\tHOST\tSOURCE\tTITLE")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.LastSeen.UTC().Format(time.RFC3339), a.Severity,
			a.Status, a.Count, a.Host, a.SourceIP, clip(a.Title, 100))
	}
	return tw.Flush()
}

func runSources(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("sources", env)
	var c common
	c.register(fs, env)
	dead := fs.Int("dead-letters", 0, "also list this many recent rejected records")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	srcs, err := b.sources(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	if c.json {
		for i := range srcs {
			_ = enc.Encode(&srcs[i])
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tINPUT\tEVENTS\tRATE/S\tPARSE ERRORS\tFIRST SEEN\tLAST SEEN")
		for _, s := range srcs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%d\t%s\t%s\n", s.Host, s.Input, s.Events, s.Rate, s.ParseErrors,
				s.FirstSeen.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if *dead > 0 {
		dls, err := b.deadLetters(ctx, *dead)
		if err != nil {
			return err
		}
		if !c.json {
			fmt.Fprintln(env.Stdout, "\nRecent rejected records:")
		}
		for i := range dls {
			if c.json {
				_ = enc.Encode(&dls[i])
				continue
			}
			d := dls[i]
			fmt.Fprintf(env.Stdout, "  %s %s/%s %s: %s\n", d.Time.UTC().Format(time.RFC3339), d.Input, d.Source, d.Reason, clip(d.Detail, 100))
		}
	}
	return nil
}

func runToken(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("usage: vigil token create|list|revoke [flags]")
	}
	sub := args[0]
	fs := newFlagSet("token "+sub, env)
	var c common
	c.register(fs, env)
	name := fs.String("name", "", "token name (create)")
	role := fs.String("role", "ingest", "role: admin, analyst, viewer or ingest (create)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	switch sub {
	case "create":
		if *name == "" {
			return usagef("token create needs --name")
		}
		plain, tok, err := b.createToken(ctx, *name, *role)
		if err != nil {
			return err
		}
		if c.json {
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"token": plain, "info": tok})
		}
		fmt.Fprintf(env.Stdout, "%s\n(id %s, role %s; shown once, keep it safe)\n", plain, tok.ID, tok.Role)
	case "list":
		toks, err := b.listTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tPREFIX\tCREATED\tREVOKED")
		for _, t := range toks {
			if c.json {
				_ = json.NewEncoder(env.Stdout).Encode(t)
				continue
			}
			rev := ""
			if !t.Revoked.IsZero() {
				rev = t.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Prefix, t.Created.Format(time.RFC3339), rev)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usagef("usage: vigil token revoke ID")
		}
		return b.revokeToken(ctx, fs.Arg(0))
	default:
		return usagef("unknown token command %q (want create, list or revoke)", sub)
	}
	return nil
}
