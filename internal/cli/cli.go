// Package cli implements the vigil command line: serve, demo, import,
// search, alerts, sources, token, config check and version. Commands that
// read or write data work on the data directory directly when no server
// holds it, and through the running server's API when one does (or when
// --server is given).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Env is what a command runs with; tests substitute their own.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Getenv         func(string) string
	// IsTerminal reports whether stdout is a terminal (human output) or not
	// (JSON lines).
	IsTerminal bool
}

type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the server: listeners, pipeline, API", runServe},
		"demo":     {"run a server with a simulated network sending live telemetry", runDemo},
		"import":   {"import log files or folders (NDJSON, Zeek, EVE, Winlogbeat, EVTX, syslog)", runImport},
		"search":   {"search stored events", runSearch},
		"alerts":   {"list alerts", runAlerts},
		"sources":  {"list log sources with counts, rates and parse errors", runSources},
		"token":    {"create, list or revoke API tokens", runToken},
		"rules":    {"list, lint or test detection rules", runRules},
		"assets":   {"list, import or discover assets", runAssets},
		"hosts":    {"rank hosts by risk; `vigil hosts HOST` explains one", runHosts},
		"coverage": {"which assets send the logs they should: gaps first", runCoverage},
		"report":   {"report blindspots: the weekly blind-spot report (Markdown or HTML)", runReport},
		"vulns":    {"import vulnerability scans, list findings (overdue first)", runVulns},
		"user":     {"add, list or delete console users", runUser},
		"intel":    {"threat intel: import a file, list sources", runIntel},
		"config":   {"config check: validate a configuration file", runConfig},
		"version": {"print the version", func(_ context.Context, env *Env, _ []string) error {
			fmt.Fprintln(env.Stdout, "vigil", Version)
			return nil
		}},
	}
}

// Main runs the command line and returns the process exit code.
func Main(args []string) int {
	fi, _ := os.Stdout.Stat()
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv,
		IsTerminal: fi != nil && fi.Mode()&os.ModeCharDevice != 0}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, env, args)
}

// Run runs one command line (args without the program name).
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "vigil: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	if err := cmd.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.Stderr, "vigil %s: %v\n", args[0], ue.err)
			return 2
		}
		fmt.Fprintf(env.Stderr, "vigil %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: vigil <command> [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'vigil <command> -h' for a command's flags.")
}

// common are the flags every data command takes.
type common struct {
	data   string
	server string
	token  string
	json   bool
	config string
}

func (c *common) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&c.data, "data", defaultDataDir(env), "data directory (env VIGIL_DATA)")
	fs.StringVar(&c.server, "server", env.Getenv("VIGIL_SERVER"), "URL of a running server to use instead of the data directory (env VIGIL_SERVER)")
	fs.StringVar(&c.token, "token", env.Getenv("VIGIL_TOKEN"), "API token for --server (env VIGIL_TOKEN); default: DATA/admin-token")
	fs.BoolVar(&c.json, "json", !env.IsTerminal, "JSON lines output (default when stdout is not a terminal)")
	fs.StringVar(&c.config, "config", env.Getenv("VIGIL_CONFIG"), "configuration file (env VIGIL_CONFIG)")
}

func defaultDataDir(env *Env) string {
	if d := env.Getenv("VIGIL_DATA"); d != "" {
		return d
	}
	return "vigil-data"
}

func newFlagSet(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err}
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func readTokenFile(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeJSONLines writes each element of list as one JSON line.
func writeJSONLines[T any](w io.Writer, list []T) {
	enc := json.NewEncoder(w)
	for i := range list {
		_ = enc.Encode(&list[i])
	}
}
