package zeek

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Options configure a TSVReader.
type Options struct {
	// MaxLine is the longest line accepted, in bytes; longer lines are
	// rejected with parse.ReasonOversized. Zero means parse.MaxRecordBytes.
	MaxLine int
	// Received is stored as every event's Received time.
	Received time.Time
}

// TSVReader reads a Zeek TSV log (#separator, #set_separator, #empty_field,
// #unset_field, #path, #fields, #types, #open/#close headers; several header
// blocks in one file are allowed).
type TSVReader struct {
	br   *bufio.Reader
	opts Options

	sep           []byte
	setSep        string
	empty, unset  string
	path          string
	fields        []string
	types         []colType
	line, recLine int
	eof           bool

	acc   []byte   // accumulates lines longer than the bufio buffer
	cols  [][2]int // column offsets in the current line
	elems []string
	tmp   []byte
	b     ecsBuilder
}

// NewTSVReader returns a reader of the Zeek TSV log in r.
func NewTSVReader(r io.Reader, o Options) *TSVReader {
	if o.MaxLine <= 0 {
		o.MaxLine = parse.MaxRecordBytes
	}
	t := &TSVReader{br: bufio.NewReaderSize(r, 64<<10), opts: o}
	t.resetHeader()
	return t
}

func (r *TSVReader) resetHeader() {
	r.sep, r.setSep = []byte{'\t'}, ","
	r.empty, r.unset = "(empty)", "-"
	r.fields, r.types = nil, nil
}

// Path returns the log type named by the #path header, e.g. "conn".
func (r *TSVReader) Path() string { return r.path }

// Line returns the line number of the last record returned or rejected.
func (r *TSVReader) Line() int { return r.recLine }

// Next fills ev with the next record. It returns io.EOF at the end, a
// *parse.Error (reason parse.ReasonBadZeek or another parse reason) for a
// bad record — the caller counts it and calls Next again — and other errors
// for I/O failures.
func (r *TSVReader) Next(ev *schema.Event) error {
	for {
		line, err := r.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			r.header(line)
			continue
		}
		r.recLine = r.line
		return r.record(line, ev)
	}
}

// readLine returns the next line without its line ending. A line longer
// than MaxLine is consumed and reported as a *parse.Error.
func (r *TSVReader) readLine() ([]byte, error) {
	if r.eof {
		return nil, io.EOF
	}
	r.acc = r.acc[:0]
	tooLong := false
	var line []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		switch {
		case tooLong:
		case len(r.acc)+len(chunk) > r.opts.MaxLine+2:
			tooLong = true
			r.acc = r.acc[:0]
		case err == bufio.ErrBufferFull || len(r.acc) > 0:
			r.acc = append(r.acc, chunk...)
			line = r.acc
		default:
			line = chunk
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("zeek: read line %d: %w", r.line+1, err)
		}
		if errors.Is(err, io.EOF) {
			r.eof = true
			if len(line) == 0 && !tooLong {
				return nil, io.EOF
			}
		}
		break
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if tooLong || len(line) > r.opts.MaxLine {
		r.recLine = r.line
		return nil, parse.Errorf(parse.ReasonOversized, "zeek %s line %d: longer than %d bytes", r.path, r.line, r.opts.MaxLine)
	}
	return line, nil
}

// header applies one header line.
func (r *TSVReader) header(line []byte) {
	if rest, ok := bytes.CutPrefix(line, []byte("#separator")); ok {
		r.resetHeader()
		sep := unescapeTSV(nil, string(bytes.TrimLeft(rest, " \t")))
		if len(sep) > 0 {
			r.sep = sep
		}
		return
	}
	name, value, ok := bytes.Cut(line, r.sep)
	if !ok {
		name, value, _ = bytes.Cut(line, []byte{' '})
	}
	switch string(name) {
	case "#set_separator":
		if v := unescapeTSV(nil, string(value)); len(v) > 0 {
			r.setSep = string(v)
		}
	case "#empty_field":
		r.empty = string(unescapeTSV(nil, string(value)))
	case "#unset_field":
		r.unset = string(unescapeTSV(nil, string(value)))
	case "#path":
		r.path = string(unescapeTSV(nil, string(value)))
	case "#fields":
		r.fields = splitStrings(value, r.sep)
		r.types = nil
	case "#types":
		names := splitStrings(value, r.sep)
		r.types = make([]colType, len(names))
		for i, n := range names {
			r.types[i] = parseColType(n)
		}
	}
}

func splitStrings(b, sep []byte) []string {
	parts := bytes.Split(b, sep)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(unescapeTSV(nil, string(p)))
	}
	return out
}

// record converts one data line.
func (r *TSVReader) record(line []byte, ev *schema.Event) error {
	if r.fields == nil {
		return parse.Errorf(parse.ReasonBadZeek, "zeek line %d: record before any #fields header", r.line)
	}
	r.cols = splitOffsets(r.cols[:0], line, r.sep)
	if len(r.cols) != len(r.fields) {
		return parse.Errorf(parse.ReasonBadZeek, "zeek %s line %d: %d columns, the #fields header names %d",
			r.path, r.line, len(r.cols), len(r.fields))
	}
	orig := string(line)
	r.b.reset(r.path)
	r.b.begin(ev, r.opts.Received, len(r.fields), orig)
	for i, c := range r.cols {
		raw := orig[c[0]:c[1]]
		if raw == r.unset {
			continue
		}
		ct := colType{}
		if i < len(r.types) {
			ct = r.types[i]
		}
		val, elems, err := r.value(raw, ct)
		if err != nil {
			return parse.Errorf(parse.ReasonBadZeek, "zeek %s line %d: field %s: %v", r.path, r.line, r.fields[i], err)
		}
		r.b.add(ev, r.fields[i], val, elems)
	}
	r.b.finish(ev)
	return nil
}

// splitOffsets appends the [start, end) offsets of the sep-separated
// columns of line.
func splitOffsets(dst [][2]int, line, sep []byte) [][2]int {
	start := 0
	for {
		var i int
		if len(sep) == 1 {
			i = bytes.IndexByte(line[start:], sep[0])
		} else {
			i = bytes.Index(line[start:], sep)
		}
		if i < 0 {
			return append(dst, [2]int{start, len(line)})
		}
		dst = append(dst, [2]int{start, start + i})
		start += i + len(sep)
	}
}

// value returns the canonical form of one raw TSV value; elems are the
// canonical elements of a set or vector.
func (r *TSVReader) value(raw string, ct colType) (string, []string, error) {
	if !ct.container {
		if raw == r.empty {
			return "", nil, nil
		}
		return r.scalar(raw, ct.kind)
	}
	r.elems = r.elems[:0]
	if raw == r.empty {
		return "", r.elems, nil
	}
	rest := raw
	for {
		part, tail, more := strings.Cut(rest, r.setSep)
		v, _, err := r.scalar(part, ct.kind)
		if err != nil {
			return "", nil, err
		}
		r.elems = append(r.elems, v)
		if !more {
			break
		}
		rest = tail
	}
	if len(r.elems) == 1 {
		return r.elems[0], r.elems, nil
	}
	return strings.Join(r.elems, ","), r.elems, nil
}

// scalar returns the canonical form of one raw scalar TSV value.
func (r *TSVReader) scalar(raw string, k kind) (string, []string, error) {
	switch k {
	case kindTime:
		v, _, err := canonTime(raw)
		return v, nil, err
	case kindBool, kindInt, kindDouble:
		return raw, nil, nil
	}
	if strings.IndexByte(raw, '\\') < 0 {
		return canonString(raw), nil, nil
	}
	r.tmp = unescapeTSV(r.tmp[:0], raw)
	return canonString(string(r.tmp)), nil, nil
}

// kind is the canonicalisation class of a Zeek type.
type kind uint8

const (
	kindString kind = iota // string, enum, addr, subnet, pattern, ...
	kindBool
	kindInt // count, int, port
	kindDouble
	kindTime
)

// colType is a column's parsed #types entry.
type colType struct {
	kind      kind
	container bool
}

func parseColType(t string) colType {
	var ct colType
	if i := strings.IndexByte(t, '['); i >= 0 && strings.HasSuffix(t, "]") {
		ct.container = true
		t = t[i+1 : len(t)-1]
	}
	switch t {
	case "bool":
		ct.kind = kindBool
	case "count", "int", "port", "counter":
		ct.kind = kindInt
	case "double", "interval":
		ct.kind = kindDouble
	case "time":
		ct.kind = kindTime
	}
	return ct
}
