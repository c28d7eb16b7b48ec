// Package importer reads log files and folders (NDJSON, Zeek TSV/JSON,
// Suricata EVE, Winlogbeat JSON, EVTX, plain syslog), recognising each
// file's format, and submits the events to the ingest log in batches. Bad
// records are counted by reason and kept as dead letters; they never stop
// the import or lose the good records beside them.
package importer

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/parse/syslog"
)

// Options tune an import.
type Options struct {
	// Format forces a format for every file; FormatAuto detects per file.
	Format auto.Format
	// BatchSize is the number of events per submission to the ingest log.
	BatchSize int
	// MaxRecordBytes caps one record (line or JSON object).
	MaxRecordBytes int
	// Progress, when set, is called after every batch and file.
	Progress func(Progress)
	// Syslog parses syslog files; nil uses a default parser (UTC).
	Syslog *syslog.Parser
	// Now returns the receipt time stamped on imported events.
	Now func() time.Time
}

// Progress reports how far an import got.
type Progress struct {
	File                   string
	FilesDone, FilesTotal  int
	BytesDone, BytesTotal  int64
	Read, Stored, Rejected int64
}

// Summary is the outcome of an import.
type Summary struct {
	Files    int              `json:"files"`
	Read     int64            `json:"read"`
	Stored   int64            `json:"stored"`
	Rejected int64            `json:"rejected"`
	ByReason map[string]int64 `json:"rejected_by_reason"`
	ByFormat map[string]int64 `json:"stored_by_format"`
	// FileErrors are files that could not be read at all.
	FileErrors []string `json:"file_errors,omitempty"`
}

// Importer runs imports into a sink.
type Importer struct {
	sink    ingest.Sink
	rejects ingest.RejectRecorder
	opts    Options
	log     *slog.Logger

	mu        sync.Mutex
	sum       Summary
	prog      Progress
	bytesRead atomic.Int64
}

// New returns an importer.
func New(sink ingest.Sink, rejects ingest.RejectRecorder, o Options, log *slog.Logger) *Importer {
	if o.BatchSize <= 0 {
		o.BatchSize = 4096
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = parse.MaxRecordBytes
	}
	if o.Format == "" {
		o.Format = auto.FormatAuto
	}
	if o.Syslog == nil {
		o.Syslog = syslog.NewParser(syslog.Options{})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Importer{sink: sink, rejects: rejects, opts: o, log: log,
		sum: Summary{ByReason: map[string]int64{}, ByFormat: map[string]int64{}}}
}

// Run imports every file under paths (files or folders, walked
// recursively, hidden files skipped) and returns the summary. It stops
// early only when ctx ends or the ingest log fails.
func (im *Importer) Run(ctx context.Context, paths []string) (Summary, error) {
	files, total, err := listFiles(paths)
	if err != nil {
		return im.summary(), err
	}
	im.prog.FilesTotal, im.prog.BytesTotal = len(files), total
	for _, f := range files {
		if err := im.importFile(ctx, f); err != nil {
			var fe *fileError
			if !errors.As(err, &fe) {
				return im.summary(), err
			}
			im.mu.Lock()
			im.sum.FileErrors = append(im.sum.FileErrors, fe.Error())
			im.mu.Unlock()
			im.log.Warn("import: file skipped", "err", fe)
		}
		im.mu.Lock()
		im.sum.Files++
		im.prog.FilesDone++
		im.mu.Unlock()
		im.report()
	}
	return im.summary(), nil
}

func (im *Importer) summary() Summary {
	im.mu.Lock()
	defer im.mu.Unlock()
	s := im.sum
	return s
}

func (im *Importer) report() {
	if im.opts.Progress == nil {
		return
	}
	im.mu.Lock()
	p := im.prog
	p.Read, p.Stored, p.Rejected = im.sum.Read, im.sum.Stored, im.sum.Rejected
	p.BytesDone = im.bytesRead.Load()
	im.mu.Unlock()
	im.opts.Progress(p)
}

// fileError is a file that cannot be imported at all; the import goes on.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }

// ListFiles returns the files an import of paths would read, in order.
func ListFiles(paths []string) ([]string, error) {
	f, _, err := listFiles(paths)
	return f, err
}

// Add adds another summary's counts to s.
func (s *Summary) Add(o Summary) {
	s.Files += o.Files
	s.Read += o.Read
	s.Stored += o.Stored
	s.Rejected += o.Rejected
	if s.ByReason == nil {
		s.ByReason = map[string]int64{}
	}
	if s.ByFormat == nil {
		s.ByFormat = map[string]int64{}
	}
	for k, v := range o.ByReason {
		s.ByReason[k] += v
	}
	for k, v := range o.ByFormat {
		s.ByFormat[k] += v
	}
	s.FileErrors = append(s.FileErrors, o.FileErrors...)
}

func listFiles(paths []string) ([]string, int64, error) {
	var files []string
	var total int64
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && len(name) > 0 && name[0] == '.' {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				info, err := d.Info()
				if err == nil {
					total += info.Size()
				}
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("import: %w", err)
		}
	}
	sort.Strings(files)
	return files, total, nil
}

// countingReader counts the bytes read from a file for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openFile opens path, transparently gunzipping, and returns a buffered
// reader with the first bytes available to Peek.
func (im *Importer) openFile(path string) (*os.File, *bufio.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(&countingReader{r: f, n: &im.bytesRead}, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, parse.Errorf(parse.ReasonBadGzip, "%v", err)
		}
		br = bufio.NewReaderSize(zr, 256<<10)
	}
	return f, br, nil
}

func (im *Importer) importFile(ctx context.Context, path string) error {
	f, br, err := im.openFile(path)
	if err != nil {
		return &fileError{path, err}
	}
	defer f.Close()
	head, _ := br.Peek(64 << 10)
	format := im.opts.Format
	if format == auto.FormatAuto {
		format = auto.DetectFile(path, head)
	}
	im.mu.Lock()
	im.prog.File = path
	im.mu.Unlock()
	b := im.newBatcher(ctx, path, format)
	switch format {
	case auto.FormatEVTX:
		err = im.readEVTX(ctx, f, b)
	case auto.FormatZeekTSV:
		err = im.readZeekTSV(br, b)
	case auto.FormatEVTXJSON:
		err = im.readJSONObjects(br, b)
	case auto.FormatSyslog:
		err = im.readLines(br, b, im.syslogLine)
	default:
		err = im.readLines(br, b, im.jsonLine(path, format))
	}
	if ferr := b.flush(); err == nil {
		err = ferr
	}
	var rerr *readError
	if errors.As(err, &rerr) {
		return &fileError{path, rerr.err}
	}
	return err
}

// readError is an I/O or decompression failure part-way through a file:
// what was read before it is kept.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
