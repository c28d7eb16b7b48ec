// Package auto recognises which format a record or file is in and hands it
// to that format's parser: the dispatch that HTTP ingest and file import
// share.
package auto

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/parse/eve"
	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Format names an input format. The names are what `vigil import --format`
// takes.
type Format string

// Formats Vigil reads.
const (
	FormatAuto       Format = "auto"
	FormatNDJSON     Format = "ndjson"     // generic JSON lines / ECS documents
	FormatZeekTSV    Format = "zeek-tsv"   // Zeek TSV logs (#fields headers)
	FormatZeekJSON   Format = "zeek-json"  // Zeek JSON logs
	FormatEVE        Format = "eve"        // Suricata EVE JSON
	FormatWinlogbeat Format = "winlogbeat" // Winlogbeat-shaped JSON documents
	FormatEVTX       Format = "evtx"       // binary Windows .evtx files
	FormatEVTXJSON   Format = "evtx-json"  // evtx_dump-style JSON ({"Event":{...}})
	FormatSyslog     Format = "syslog"     // plain syslog files, one message per line
)

// Formats lists every format name, for help texts and validation.
func Formats() []Format {
	return []Format{FormatAuto, FormatNDJSON, FormatZeekTSV, FormatZeekJSON, FormatEVE,
		FormatWinlogbeat, FormatEVTX, FormatEVTXJSON, FormatSyslog}
}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want one of %v)", s, Formats())
}

// DetectFile guesses a file's format from its name and its first bytes
// (after decompression).
func DetectFile(name string, head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return FormatEVTX
	case bytes.HasPrefix(head, []byte("#separator")):
		return FormatZeekTSV
	}
	line := firstLine(head)
	if len(line) > 0 && line[0] == '{' {
		switch JSONShape(line, head) {
		case FormatZeekJSON:
			return FormatZeekJSON
		case FormatAuto:
			if zeek.LogTypeFromFilename(filepath.Base(name)) != "" && looksZeekJSON(line) {
				return FormatZeekJSON
			}
			return FormatNDJSON
		default:
			return JSONShape(line, head)
		}
	}
	if strings.HasSuffix(strings.ToLower(name), ".evtx") {
		return FormatEVTX
	}
	return FormatSyslog
}

func firstLine(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func looksZeekJSON(line []byte) bool {
	return bytes.Contains(line, []byte(`"ts"`)) && (bytes.Contains(line, []byte(`"uid"`)) ||
		bytes.Contains(line, []byte(`"id.orig_h"`)) || bytes.Contains(line, []byte(`"_path"`)))
}

// JSONShape recognises a JSON record's format from its keys, or returns
// FormatAuto for a generic document. whole is used when the record is a
// pretty-printed object spanning lines (evtx_dump output).
func JSONShape(line, whole []byte) Format {
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil {
		if bytes.Contains(whole, []byte(`"Event"`)) && bytes.Contains(whole, []byte(`"System"`)) {
			return FormatEVTXJSON
		}
		return FormatAuto
	}
	return shapeOf(v)
}

func shapeOf(v *fastjson.Value) Format {
	if v.Type() != fastjson.TypeObject {
		return FormatAuto
	}
	switch {
	case v.Exists("winlog"):
		return FormatWinlogbeat
	case v.Exists("Event", "System"):
		return FormatEVTXJSON
	case v.Exists("event_type") && v.Exists("timestamp"):
		return FormatEVE
	case v.Exists("_path") || (v.Exists("ts") && (v.Exists("uid") || v.Exists("id.orig_h"))):
		return FormatZeekJSON
	}
	return FormatAuto
}

// Mapper maps JSON records of any recognised shape. It is not safe for
// concurrent use: give each goroutine its own.
type Mapper struct {
	p    fastjson.Parser
	ecs  ecsjson.Mapper
	eve  eve.Mapper
	zeek zeek.Mapper
	win  winlog.Mapper
}

// MapJSON maps one JSON record. format forces a format; FormatAuto (or
// FormatNDJSON with a recognised shape) dispatches by the record's keys.
// input is the schema.Input* for generic documents; logType is the Zeek log
// type when known from a file name.
func (m *Mapper) MapJSON(rec []byte, format Format, input, logType string, received time.Time, ev *schema.Event) error {
	v, err := m.p.ParseBytes(rec)
	if err != nil {
		return parse.Errorf(parse.ReasonInvalidJSON, "%v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return parse.Errorf(parse.ReasonInvalidJSON, "record is a JSON %s, not an object", v.Type())
	}
	if format == FormatAuto || format == FormatNDJSON {
		if s := shapeOf(v); s != FormatAuto {
			format = s
		}
	}
	switch format {
	case FormatWinlogbeat:
		return m.win.MapWinlogbeat(rec, received, ev)
	case FormatEVTXJSON:
		return m.win.MapEvtxJSON(rec, received, ev)
	case FormatEVE:
		return m.eve.MapValue(v, rec, received, ev)
	case FormatZeekJSON:
		return m.zeek.Map(rec, logType, received, ev)
	}
	return m.ecs.MapValue(v, rec, input, received, ev)
}
