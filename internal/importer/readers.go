package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

// batcher collects one file's events and submits them in batches.
type batcher struct {
	im     *Importer
	ctx    context.Context
	path   string
	format auto.Format
	evs    []schema.Event
	now    time.Time
}

func (im *Importer) newBatcher(ctx context.Context, path string, format auto.Format) *batcher {
	return &batcher{im: im, ctx: ctx, path: path, format: format,
		evs: make([]schema.Event, 0, im.opts.BatchSize), now: im.opts.Now().UTC()}
}

// next returns a zeroed event slot to fill; keep(true) keeps it.
func (b *batcher) next() *schema.Event {
	b.evs = append(b.evs, schema.Event{})
	return &b.evs[len(b.evs)-1]
}

func (b *batcher) drop() { b.evs = b.evs[:len(b.evs)-1] }

func (b *batcher) kept() error {
	b.im.mu.Lock()
	b.im.sum.Read++
	b.im.mu.Unlock()
	ev := &b.evs[len(b.evs)-1]
	if ev.Log.File.Path == "" {
		ev.Log.File.Path = b.path
	}
	if len(b.evs) >= b.im.opts.BatchSize {
		return b.flush()
	}
	return nil
}

// reject counts and records a bad record; line is 0 when unknown.
func (b *batcher) reject(raw []byte, line int, err error) {
	reason := parse.Reason(err)
	b.im.mu.Lock()
	b.im.sum.Read++
	b.im.sum.Rejected++
	b.im.sum.ByReason[reason]++
	b.im.mu.Unlock()
	if b.im.rejects == nil {
		return
	}
	detail := err.Error()
	if line > 0 {
		detail = fmt.Sprintf("%s:%d: %s", b.path, line, detail)
	}
	b.im.rejects.Record(ingest.Reject{Time: b.now, Input: "import:" + string(b.format),
		Source: filepath.Base(b.path), Reason: reason, Detail: detail, Raw: append([]byte(nil), raw...)})
}

// flush submits the batch, waiting out backpressure.
func (b *batcher) flush() error {
	if len(b.evs) == 0 {
		return nil
	}
	backoff := 50 * time.Millisecond
	for {
		err := b.im.sink.Submit(b.ctx, b.evs)
		if err == nil {
			break
		}
		if !errors.Is(err, ingest.ErrBackpressure) {
			return fmt.Errorf("import: %w", err)
		}
		select {
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
	b.im.mu.Lock()
	b.im.sum.Stored += int64(len(b.evs))
	b.im.sum.ByFormat[string(b.format)] += int64(len(b.evs))
	b.im.mu.Unlock()
	b.evs = b.evs[:0]
	b.im.report()
	return nil
}

// lineFunc parses one line into ev.
type lineFunc func(line []byte, received time.Time, ev *schema.Event) error

// readLines reads newline-separated records. Oversized lines are rejected
// and skipped; blank lines are ignored.
func (im *Importer) readLines(br *bufio.Reader, b *batcher, fn lineFunc) error {
	max := im.opts.MaxRecordBytes
	var long []byte
	for n := 1; ; n++ {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) <= max {
				long = append(long, chunk...)
			}
			n--
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if e := im.oneLine(line, n, b, fn); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readError{err}
		}
	}
}

func (im *Importer) oneLine(line []byte, n int, b *batcher, fn lineFunc) error {
	line = bytes.TrimRight(line, "\r\n")
	if err := parse.CheckRecord(line, im.opts.MaxRecordBytes); err != nil {
		b.reject(capRaw(line), n, err)
		return nil
	}
	ev := b.next()
	if err := fn(line, b.now, ev); err != nil {
		b.drop()
		b.reject(line, n, err)
		return nil
	}
	return b.kept()
}

func capRaw(b []byte) []byte {
	if len(b) > 8<<10 {
		return b[:8<<10]
	}
	return b
}

func (im *Importer) syslogLine(line []byte, received time.Time, ev *schema.Event) error {
	return im.opts.Syslog.Parse(line, received, ev)
}

func (im *Importer) jsonLine(path string, format auto.Format) lineFunc {
	var m auto.Mapper
	logType := zeek.LogTypeFromFilename(filepath.Base(path))
	return func(line []byte, received time.Time, ev *schema.Event) error {
		return m.MapJSON(line, format, schema.InputNDJSON, logType, received, ev)
	}
}

func (im *Importer) readZeekTSV(br *bufio.Reader, b *batcher) error {
	r := zeek.NewTSVReader(br, zeek.Options{MaxLine: im.opts.MaxRecordBytes, Received: b.now})
	for {
		ev := b.next()
		err := r.Next(ev)
		if err == io.EOF {
			b.drop()
			return nil
		}
		if err != nil {
			b.drop()
			var pe *parse.Error
			if !errors.As(err, &pe) {
				return &readError{err}
			}
			b.reject(nil, r.Line(), err)
			continue
		}
		if err := b.kept(); err != nil {
			return err
		}
	}
}

func (im *Importer) readEVTX(ctx context.Context, f *os.File, b *batcher) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return &readError{err}
	}
	var submitErr error
	err := winlog.ReadEVTX(ctx, f, b.now, func(ev *schema.Event) error {
		*b.next() = *ev
		submitErr = b.kept()
		return submitErr
	}, func(err error) { b.reject(nil, 0, err) })
	if submitErr != nil {
		return submitErr
	}
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			b.reject(nil, 0, err)
			return nil
		}
		return &readError{err}
	}
	return nil
}

// readJSONObjects reads a file of JSON objects written back to back and
// possibly pretty-printed (evtx_dump output).
func (im *Importer) readJSONObjects(br *bufio.Reader, b *batcher) error {
	data, err := io.ReadAll(io.LimitReader(br, 512<<20))
	if err != nil {
		return &readError{err}
	}
	objs, err := winlog.SplitJSONObjects(data)
	for i, obj := range objs {
		ev := b.next()
		if e := winlog.MapEvtxJSON(obj, b.now, ev); e != nil {
			b.drop()
			b.reject(capRaw(obj), i+1, e)
			continue
		}
		if e := b.kept(); e != nil {
			return e
		}
	}
	if err != nil {
		b.reject(nil, 0, parse.Errorf(parse.ReasonInvalidJSON, "%v", err))
	}
	return nil
}
