package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect/rules"
	"github.com/vigil-soc/vigil/internal/importer"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
)

// runRules serves `vigil rules list|lint|test`.
func runRules(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("usage: vigil rules list|lint|test [flags]")
	}
	switch args[0] {
	case "list":
		return rulesList(env, args[1:])
	case "lint":
		return rulesLint(env, args[1:])
	case "test":
		return rulesTest(ctx, env, args[1:])
	}
	return usagef("unknown rules command %q (want list, lint or test)", args[0])
}

// ruleSource are the flags that choose rules: the configuration's rules
// section, or --rules folders (with --builtin to add the SigmaHQ pack).
type ruleSource struct {
	config  string
	dirs    multiFlag
	builtin bool
	json    bool
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (rsrc *ruleSource) register(fsName string, env *Env) *flag.FlagSet {
	fs := newFlagSet("rules "+fsName, env)
	fs.StringVar(&rsrc.config, "config", env.Getenv("VIGIL_CONFIG"), "configuration file whose rules section to use")
	fs.Var(&rsrc.dirs, "rules", "rule folder (repeatable); replaces the configuration's rules")
	fs.BoolVar(&rsrc.builtin, "builtin", false, "with --rules: also load the built-in SigmaHQ pack")
	fs.BoolVar(&rsrc.json, "json", !env.IsTerminal, "JSON lines output")
	return fs
}

func (rsrc *ruleSource) manager(env *Env) (*rules.Manager, error) {
	var rc rules.Config
	if len(rsrc.dirs) > 0 {
		rc = rules.Config{Builtin: rsrc.builtin, Dirs: rsrc.dirs}
	} else {
		cfg, err := config.Load(rsrc.config)
		if err != nil {
			return nil, err
		}
		c := cfg.Rules
		rc = rules.Config{Builtin: c.Builtin, Dirs: c.Dirs, MappingDirs: c.MappingDirs, Placeholders: c.Placeholders,
			Disable: rules.Filter{IDs: c.Disable.IDs, Tags: c.Disable.Tags, Levels: c.Disable.Levels, Paths: c.Disable.Paths}}
	}
	return rules.NewManager(rc, newLogger(env.Stderr, "error"))
}

func rulesList(env *Env, args []string) error {
	var rsrc ruleSource
	fs := rsrc.register("list", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := rsrc.manager(env)
	if err != nil {
		return err
	}
	rs := m.Rules()
	if rsrc.json {
		enc := json.NewEncoder(env.Stdout)
		for _, r := range rs {
			_ = enc.Encode(map[string]any{"id": r.ID, "title": r.Title, "level": r.Level, "status": r.Status,
				"logsource": r.Logsource.String(), "tags": r.Tags, "path": r.Path})
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tLOGSOURCE\tTITLE\tID")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Level, r.Logsource, clip(r.Title, 80), r.ID)
	}
	st := m.Status()
	fmt.Fprintf(tw, "\n%d rules loaded, %d disabled, %d without a mapped logsource, %d failed to load\n",
		st.Loaded, st.Disabled, st.Unrouted, len(st.Errors))
	return tw.Flush()
}

func rulesLint(env *Env, args []string) error {
	var rsrc ruleSource
	fs := rsrc.register("lint", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := rsrc.manager(env)
	if err != nil {
		return err
	}
	st := m.Status()
	for _, e := range st.Errors {
		if rsrc.json {
			_ = json.NewEncoder(env.Stdout).Encode(map[string]any{"file": e.File, "line": e.Line, "reason": e.Reason})
		} else {
			fmt.Fprintln(env.Stdout, e.Error())
		}
	}
	if !rsrc.json {
		fmt.Fprintf(env.Stdout, "%d rules loaded, %d failed\n", st.Loaded, len(st.Errors))
	}
	if len(st.Errors) > 0 {
		return fmt.Errorf("%d rule(s) failed to load", len(st.Errors))
	}
	return nil
}

// testMatch is one line of `vigil rules test` output.
type testMatch struct {
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	Event  int    `json:"event"` // 0-based index in input order
	File   string `json:"file"`
	Time   string `json:"time"`
}

// rulesTest evaluates rules on event files without a data directory, like
// promtool test: it prints every match and, with --expect, checks counts.
func rulesTest(ctx context.Context, env *Env, args []string) error {
	var rsrc ruleSource
	fs := rsrc.register("test", env)
	var events multiFlag
	fs.Var(&events, "events", "event file or folder (repeatable), any format vigil import reads")
	format := fs.String("format", "auto", "event format")
	expect := fs.String("expect", "", "YAML file of expected match counts: {rule id or title: count}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(events) == 0 {
		return usagef("usage: vigil rules test --rules DIR --events FILE|DIR [--expect FILE]")
	}
	f, err := auto.ParseFormat(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	m, err := rsrc.manager(env)
	if err != nil {
		return err
	}
	if st := m.Status(); len(st.Errors) > 0 {
		for _, e := range st.Errors {
			fmt.Fprintln(env.Stderr, e.Error())
		}
	}
	sink := &memorySink{}
	sum, err := importer.New(sink, nil, importer.Options{Format: f}, newLogger(io.Discard, "error")).Run(ctx, events)
	if err != nil {
		return err
	}
	if sum.Rejected > 0 {
		fmt.Fprintf(env.Stderr, "%d record(s) could not be read: %v\n", sum.Rejected, sum.ByReason)
	}
	counts := printMatches(env, rsrc.json, m, sink.evs)
	if *expect == "" {
		return nil
	}
	return checkExpect(env, *expect, counts)
}

func printMatches(env *Env, asJSON bool, m *rules.Manager, evs []schema.Event) map[string]int {
	counts := map[string]int{}
	enc := json.NewEncoder(env.Stdout)
	for i := range evs {
		ev := &evs[i]
		m.Detect(evs[i:i+1], func(a schema.Alert) {
			counts[a.RuleID]++
			counts[a.Title]++
			tm := testMatch{RuleID: a.RuleID, Title: a.Title, Level: a.Severity.String(), Event: i,
				File: ev.Log.File.Path, Time: ev.Timestamp.UTC().Format(time.RFC3339Nano)}
			if asJSON {
				_ = enc.Encode(tm)
			} else {
				fmt.Fprintf(env.Stdout, "event %d (%s): %s [%s] %s\n", i, tm.File, tm.Title, tm.Level, tm.RuleID)
			}
		})
	}
	return counts
}

func checkExpect(env *Env, path string, counts map[string]int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var want map[string]int
	if err := yaml.Unmarshal(data, &want); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	failed := 0
	for _, k := range keys {
		status := "ok"
		if counts[k] != want[k] {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(env.Stderr, "%-4s %s: %d match(es), expected %d\n", status, k, counts[k], want[k])
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d expectation(s) failed", failed, len(keys))
	}
	return nil
}

// memorySink keeps imported events in memory for `rules test`.
type memorySink struct {
	mu  sync.Mutex
	evs []schema.Event
}

func (s *memorySink) Submit(_ context.Context, evs []schema.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, evs...)
	return nil
}
