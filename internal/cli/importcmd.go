package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/importer"
	"github.com/vigil-soc/vigil/internal/parse/auto"
)

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("import", env)
	var c common
	c.register(fs, env)
	formats := make([]string, 0)
	for _, f := range auto.Formats() {
		formats = append(formats, string(f))
	}
	format := fs.String("format", "auto", "input format: "+strings.Join(formats, ", "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("usage: vigil import [flags] FILE|DIR ...")
	}
	if _, err := auto.ParseFormat(*format); err != nil {
		return usagef("--format: %v", err)
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	var bar *progressBar
	var progress func(importer.Progress)
	if env.IsTerminal {
		bar = &progressBar{w: env.Stderr}
		progress = bar.update
	}
	start := time.Now()
	sum, err := b.importFiles(ctx, fs.Args(), *format, progress)
	if bar != nil {
		bar.finish()
	}
	printSummary(env, c.json, sum, time.Since(start))
	return err
}

func printSummary(env *Env, asJSON bool, s importer.Summary, took time.Duration) {
	if asJSON {
		_ = json.NewEncoder(env.Stdout).Encode(s)
		return
	}
	w := env.Stdout
	fmt.Fprintf(w, "Imported %d file(s) in %s\n", s.Files, took.Round(time.Millisecond))
	fmt.Fprintf(w, "  read      %d\n  stored    %d\n  rejected  %d\n", s.Read, s.Stored, s.Rejected)
	printCounts(w, "  stored by format:", s.ByFormat)
	printCounts(w, "  rejected by reason:", s.ByReason)
	for _, fe := range s.FileErrors {
		fmt.Fprintf(w, "  file error: %s\n", fe)
	}
}

func printCounts(w io.Writer, title string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "    %-18s %d\n", k, m[k])
	}
}

// progressBar draws a one-line progress bar on a terminal.
type progressBar struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
}

func (p *progressBar) update(pr importer.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && pr.FilesDone < pr.FilesTotal {
		return
	}
	p.last = time.Now()
	frac := 0.0
	if pr.FilesTotal > 0 {
		frac = float64(pr.FilesDone) / float64(pr.FilesTotal)
	}
	if pr.BytesTotal > 0 && pr.BytesDone > 0 {
		frac = float64(pr.BytesDone) / float64(pr.BytesTotal)
	}
	const width = 30
	done := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  files %d/%d  events %d  rejected %d ",
		strings.Repeat("=", done), strings.Repeat(" ", width-done), frac*100,
		pr.FilesDone, pr.FilesTotal, pr.Stored, pr.Rejected)
}

func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w)
}
