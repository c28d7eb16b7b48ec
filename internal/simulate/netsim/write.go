package netsim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ctxCheckEvery is how many records the writers produce between looks at
// their context.
const ctxCheckEvery = 1 << 14

// Write writes the generator's remaining records to w, one JSON record per
// line, in event-time order, and returns the generator's counts. Set
// Options.WritePath so a reader can tell the logs apart.
func Write(ctx context.Context, g *Generator, w io.Writer) (Counts, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return g.Counts(), fmt.Errorf("netsim: write: %w", err)
			}
		}
		r, ok := g.Next()
		if !ok {
			break
		}
		_, _ = bw.Write(r.JSON) // bufio.Writer errors are sticky: WriteByte reports them
		if err := bw.WriteByte('\n'); err != nil {
			return g.Counts(), fmt.Errorf("netsim: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return g.Counts(), fmt.Errorf("netsim: write: %w", err)
	}
	return g.Counts(), nil
}

// WriteDir writes the generator's remaining records into dir (created when
// missing) as Zeek JSON logs: conn.log, dns.log and ssl.log, one record per
// line, each in event-time order. It returns the generator's counts.
func WriteDir(ctx context.Context, g *Generator, dir string) (counts Counts, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return g.Counts(), fmt.Errorf("netsim: %w", err)
	}
	files := map[string]*os.File{}
	bufs := map[string]*bufio.Writer{}
	defer func() {
		for _, f := range files {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("netsim: %w", cerr)
			}
		}
	}()
	for _, name := range []string{LogConn, LogDNS, LogSSL} {
		f, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return g.Counts(), fmt.Errorf("netsim: %w", err)
		}
		files[name], bufs[name] = f, bufio.NewWriterSize(f, 1<<20)
	}
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return g.Counts(), fmt.Errorf("netsim: write %s: %w", dir, err)
			}
		}
		r, ok := g.Next()
		if !ok {
			break
		}
		// bufio.Writer errors are sticky: WriteByte reports a failed Write.
		w := bufs[r.Log]
		_, _ = w.Write(r.JSON)
		if err := w.WriteByte('\n'); err != nil {
			return g.Counts(), fmt.Errorf("netsim: write %s: %w", dir, err)
		}
	}
	for _, w := range bufs {
		if err := w.Flush(); err != nil {
			return g.Counts(), fmt.Errorf("netsim: write %s: %w", dir, err)
		}
	}
	return g.Counts(), nil
}
