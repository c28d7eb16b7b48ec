package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/client"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/importer"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/timeexpr"
)

// backend is where a data command gets its data: the data directory itself
// or a server's API.
type backend interface {
	search(ctx context.Context, from, to, q string, limit int, cursor string, asc bool) (client.SearchPage, error)
	alerts(ctx context.Context, params url.Values) ([]schema.Alert, error)
	sources(ctx context.Context) ([]statedb.Source, error)
	deadLetters(ctx context.Context, limit int) ([]statedb.DeadLetter, error)
	importFiles(ctx context.Context, paths []string, format string, progress func(importer.Progress)) (importer.Summary, error)
	createToken(ctx context.Context, name, role string) (string, statedb.Token, error)
	listTokens(ctx context.Context) ([]statedb.Token, error)
	revokeToken(ctx context.Context, id string) error
	close()
}

// openBackend picks the backend: --server when given; else the data
// directory when no server holds it; else the server that does.
func openBackend(ctx context.Context, c *common, log *slog.Logger) (backend, error) {
	if c.server != "" {
		tok := c.token
		if tok == "" {
			tok = readTokenFile(c.data)
		}
		if tok == "" {
			return nil, errors.New("--server needs --token (or VIGIL_TOKEN)")
		}
		return &remote{client.New(c.server, tok)}, nil
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		return nil, err
	}
	n, err := node.Open(ctx, cfg, node.Options{DataDir: c.data, Version: Version}, log)
	if err == nil {
		return &local{n: n}, nil
	}
	if !errors.Is(err, node.ErrLocked) {
		return nil, err
	}
	si, serr := node.ReadServerInfo(c.data)
	if serr != nil {
		return nil, fmt.Errorf("%w, and it advertises no API (%v)", err, serr)
	}
	tok := c.token
	if tok == "" {
		tok = readTokenFile(c.data)
	}
	return &remote{client.New(si.URL, tok)}, nil
}

type remote struct{ c *client.Client }

func (r *remote) search(ctx context.Context, from, to, q string, limit int, cursor string, asc bool) (client.SearchPage, error) {
	return r.c.Search(ctx, from, to, q, limit, cursor, asc)
}
func (r *remote) alerts(ctx context.Context, p url.Values) ([]schema.Alert, error) {
	return r.c.Alerts(ctx, p)
}
func (r *remote) sources(ctx context.Context) ([]statedb.Source, error) { return r.c.Sources(ctx) }
func (r *remote) deadLetters(ctx context.Context, limit int) ([]statedb.DeadLetter, error) {
	return r.c.DeadLetters(ctx, limit)
}
func (r *remote) createToken(ctx context.Context, name, role string) (string, statedb.Token, error) {
	return r.c.CreateToken(ctx, name, role)
}
func (r *remote) listTokens(ctx context.Context) ([]statedb.Token, error) { return r.c.ListTokens(ctx) }
func (r *remote) revokeToken(ctx context.Context, id string) error        { return r.c.RevokeToken(ctx, id) }
func (r *remote) close()                                                  {}

func (r *remote) importFiles(ctx context.Context, paths []string, format string, progress func(importer.Progress)) (importer.Summary, error) {
	total := importer.Summary{ByReason: map[string]int64{}, ByFormat: map[string]int64{}}
	files, err := importer.ListFiles(paths)
	if err != nil {
		return total, err
	}
	for i, f := range files {
		s, err := r.c.ImportFile(ctx, f, format)
		if err != nil {
			return total, fmt.Errorf("%s: %w", f, err)
		}
		total.Add(s)
		if progress != nil {
			progress(importer.Progress{File: f, FilesDone: i + 1, FilesTotal: len(files),
				Read: total.Read, Stored: total.Stored, Rejected: total.Rejected})
		}
	}
	return total, nil
}

// local works on the data directory with an in-process node.
type local struct{ n *node.Node }

func (l *local) close() { l.n.Close() }

func (l *local) search(ctx context.Context, from, to, q string, limit int, cursor string, asc bool) (client.SearchPage, error) {
	now := time.Now().UTC()
	f, err := timeexpr.Parse(from, now)
	if err != nil {
		return client.SearchPage{}, fmt.Errorf("--from: %w", err)
	}
	t, err := timeexpr.Parse(to, now)
	if err != nil {
		return client.SearchPage{}, fmt.Errorf("--to: %w", err)
	}
	if t.IsZero() {
		t = now.Add(time.Second)
	}
	res, err := l.n.Events.Search(ctx, eventstore.SearchRequest{From: f, To: t, Query: q, Limit: limit,
		Cursor: cursor, Ascending: asc})
	return client.SearchPage{Events: res.Events, Next: res.Next, TookMS: res.Took.Milliseconds()}, err
}

func (l *local) alerts(ctx context.Context, p url.Values) ([]schema.Alert, error) {
	now := time.Now().UTC()
	from, err := timeexpr.Parse(p.Get("from"), now)
	if err != nil {
		return nil, err
	}
	to, err := timeexpr.Parse(p.Get("to"), now)
	if err != nil {
		return nil, err
	}
	limit, _ := strconv.Atoi(p.Get("limit"))
	a, _, err := l.n.State.Alerts(ctx, statedb.AlertFilter{From: from, To: to, Status: p.Get("status"),
		Kind: p.Get("kind"), Host: p.Get("host"), RuleID: p.Get("rule_id"), Limit: limit})
	return a, err
}

func (l *local) sources(ctx context.Context) ([]statedb.Source, error) { return l.n.State.Sources(ctx) }
func (l *local) deadLetters(ctx context.Context, limit int) ([]statedb.DeadLetter, error) {
	return l.n.State.DeadLetters(ctx, statedb.DeadLetterFilter{Limit: limit})
}
func (l *local) createToken(ctx context.Context, name, role string) (string, statedb.Token, error) {
	return l.n.State.CreateToken(ctx, name, role)
}
func (l *local) listTokens(ctx context.Context) ([]statedb.Token, error) {
	return l.n.State.ListTokens(ctx)
}
func (l *local) revokeToken(ctx context.Context, id string) error {
	return l.n.State.RevokeToken(ctx, id)
}

// importFiles runs the whole pipeline in-process: the importer submits to
// the ingest log, the storage and detection stages consume, and the call
// returns once both have finished everything submitted.
func (l *local) importFiles(ctx context.Context, paths []string, format string, progress func(importer.Progress)) (importer.Summary, error) {
	f, err := auto.ParseFormat(format)
	if err != nil {
		return importer.Summary{}, usagef("--format: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.n.Run(runCtx) }()
	im := importer.New(l.n.Ingest, l.n.Recorder(), importer.Options{Format: f, Progress: progress}, l.n.Log)
	sum, err := im.Run(ctx, paths)
	if err == nil {
		err = l.n.WaitDrained(ctx)
	}
	stop()
	if rerr := <-done; err == nil {
		err = rerr
	}
	return sum, err
}
