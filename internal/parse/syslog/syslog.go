// Package syslog parses syslog messages (RFC 5424, RFC 3164 and the
// PRI-less lines of /var/log/auth.log, /var/log/secure and rsyslog's file
// formats) into schema events, and enriches the messages of well-known
// system programs (sshd, sudo, su, PAM, login, systemd-logind, the shadow
// user tools and cron) with ECS authentication, session, IAM and process
// fields.
package syslog

import (
	"bytes"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Options configure a Parser. The zero value is ready to use.
type Options struct {
	// Location is the time zone of RFC 3164 stamps, which carry none.
	// Nil means UTC.
	Location *time.Location
	// MaxBytes is the largest message accepted; 0 means
	// parse.MaxRecordBytes.
	MaxBytes int
}

// Parser parses syslog messages. It is safe for concurrent use: the
// go-syslog state machines it drives are pooled, one per concurrent call.
type Parser struct {
	loc      *time.Location
	maxBytes int
	m5424    sync.Pool
	m3164    sync.Pool
	enr      *enricher
}

// NewParser returns a Parser configured by o.
func NewParser(o Options) *Parser {
	p := &Parser{loc: o.Location, maxBytes: o.MaxBytes, enr: newEnricher()}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.maxBytes <= 0 {
		p.maxBytes = parse.MaxRecordBytes
	}
	p.m5424.New = func() any { return rfc5424.NewMachine() }
	p.m3164.New = func() any {
		return rfc3164.NewMachine(rfc3164.WithRFC3339(), rfc3164.WithSecondFractions())
	}
	return p
}

// severityNames are the log.level names of the syslog severities 0..7.
var severityNames = [8]string{
	"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug",
}

// header is what the framing layers of one message yield, whichever
// format carried it. Strings are substrings of the event's Original or
// strings the go-syslog machines produced.
type header struct {
	hasPRI bool
	pri    int
	ts     time.Time
	hasTS  bool
	host   string
	app    string
	procid string
	msgid  string
	msg    string
	sd     map[string]map[string]string
}

// Parse parses one syslog message (without transport framing; a trailing
// "\n" or "\r\n" is tolerated) into ev, detecting RFC 5424, RFC 3164 and
// PRI-less file lines. received is when the message arrived; it becomes
// the event time when the message has no time stamp, and it anchors the
// year of RFC 3164 stamps. Parse overwrites ev, reusing the capacity of
// ev.Fields. On error ev holds no event.
func (p *Parser) Parse(msg []byte, received time.Time, ev *schema.Event) error {
	fields := ev.Fields[:0]
	*ev = schema.Event{}
	if err := parse.CheckRecord(msg, p.maxBytes); err != nil {
		return err
	}
	msg = trimEOL(msg)
	if len(msg) == 0 {
		return parse.Errorf(parse.ReasonEmpty, "syslog message holds only line endings")
	}
	raw := string(msg)
	h, err := p.readHeader(msg, raw, received)
	if err != nil {
		return err
	}
	ev.Fields = fields
	p.fill(ev, &h, raw, received)
	p.enr.enrich(ev, h.app, h.msg)
	return nil
}

// trimEOL drops trailing line endings and NUL padding.
func trimEOL(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

// readHeader detects the format of msg and splits it into its parts.
func (p *Parser) readHeader(msg []byte, raw string, received time.Time) (header, error) {
	pri, n, ok := readPRI(msg)
	if !ok {
		if msg[0] == '<' {
			return header{}, parse.Errorf(parse.ReasonBadSyslog, "malformed PRI %q", prefix(raw, 6))
		}
		return p.readFileLine(raw, received, true)
	}
	if isVersion(msg[n:]) {
		return p.read5424(msg)
	}
	if h, ok := p.read3164(msg, received); ok {
		return h, nil
	}
	h, err := p.readFileLine(raw[n:], received, false)
	if err != nil {
		return h, err
	}
	h.hasPRI, h.pri = true, pri
	return h, nil
}

// readPRI reads a leading "<N>" with N in 0..191, returning N and the
// length of the PRI part.
func readPRI(b []byte) (pri, n int, ok bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, 0, false
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		c := b[i]
		if c == '>' {
			if i == 1 || pri > 191 || (b[1] == '0' && i > 2) {
				return 0, 0, false
			}
			return pri, i + 1, true
		}
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		pri = pri*10 + int(c-'0')
	}
	return 0, 0, false
}

// isVersion reports whether b starts with an RFC 5424 VERSION: one to
// three digits, the first not zero, then a space.
func isVersion(b []byte) bool {
	if len(b) < 2 || b[0] < '1' || b[0] > '9' {
		return false
	}
	for i := 1; i < len(b) && i <= 3; i++ {
		if b[i] == ' ' {
			return true
		}
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return false
}

// read5424 parses an RFC 5424 message with go-syslog.
func (p *Parser) read5424(msg []byte) (header, error) {
	m := p.m5424.Get().(gosyslog.Machine)
	out, err := m.Parse(msg)
	p.m5424.Put(m)
	if err != nil || out == nil {
		if err == nil {
			err = fmt.Errorf("not an RFC 5424 message")
		}
		return header{}, parse.Errorf(parse.ReasonBadSyslog, "rfc5424: %w", err)
	}
	sm := out.(*rfc5424.SyslogMessage)
	h := header{hasPRI: sm.Priority != nil}
	if h.hasPRI {
		h.pri = int(*sm.Priority)
	}
	if sm.Timestamp != nil {
		h.ts, h.hasTS = sm.Timestamp.UTC(), true
	}
	h.host, h.app, h.procid, h.msgid = deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID), deref(sm.MsgID)
	if sm.Message != nil {
		h.msg = trimBOM(*sm.Message)
	}
	if sm.StructuredData != nil {
		h.sd = *sm.StructuredData
	}
	return h, nil
}

// read3164 parses an RFC 3164 message with go-syslog. ok is false when
// go-syslog rejects it; the caller then falls back to the hand parser.
func (p *Parser) read3164(msg []byte, received time.Time) (header, bool) {
	m := p.m3164.Get().(gosyslog.Machine)
	out, err := m.Parse(msg)
	p.m3164.Put(m)
	if err != nil || out == nil {
		return header{}, false
	}
	sm := out.(*rfc3164.SyslogMessage)
	if sm.Priority == nil || sm.Message == nil || misreadTag(sm) {
		return header{}, false
	}
	h := header{hasPRI: true, pri: int(*sm.Priority)}
	if t := sm.Timestamp; t != nil {
		h.hasTS = true
		if t.Year() == 0 {
			mo, d := t.Month(), t.Day()
			hh, mm, ss := t.Clock()
			h.ts = p.nearestYear(mo, d, hh, mm, ss, t.Nanosecond(), received)
		} else {
			h.ts = t.UTC()
		}
	}
	h.host, h.app, h.procid, h.msg = deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID), *sm.Message
	return h, true
}

// misreadTag reports go-syslog's reading of "host app: " (a tag and an
// empty message) as tag "app" with message "app: "; the hand parser reads
// such lines correctly.
func misreadTag(sm *rfc3164.SyslogMessage) bool {
	if sm.Appname == nil {
		return false
	}
	app, msg := *sm.Appname, *sm.Message
	return len(msg) > len(app) && msg[len(app)] == ':' && msg[:len(app)] == app
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func trimBOM(s string) string {
	if len(s) >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF {
		return s[3:]
	}
	return s
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// fill copies the header into ev and records the original fields.
func (p *Parser) fill(ev *schema.Event, h *header, raw string, received time.Time) {
	ev.Received = received
	ev.Timestamp = received
	if h.hasTS {
		ev.Timestamp = h.ts
	}
	ev.Input = schema.InputSyslog
	ev.Original = raw
	ev.Message = h.msg
	ev.Host.Name = h.host
	if h.host != "" && (isDigit(h.host[0]) || strings.IndexByte(h.host, ':') >= 0) {
		if _, err := netip.ParseAddr(h.host); err == nil {
			ev.Host.IP = h.host
		}
	}
	ev.Log.Logger = h.app
	ev.Process.Name = h.app
	if pid, err := strconv.ParseInt(h.procid, 10, 64); err == nil && pid > 0 {
		ev.Process.PID = pid
	}
	ev.Event.Kind = "event"
	ev.Event.Module = "system"
	ev.Event.Dataset = "syslog"
	if h.hasPRI {
		fac, sev := h.pri/8, h.pri%8
		ev.Log.Syslog = schema.LogSyslog{Facility: fac, Severity: sev, Present: true}
		ev.Log.Level = severityNames[sev]
		ev.Fields.Add("facility", strconv.Itoa(fac))
		ev.Fields.Add("severity", strconv.Itoa(sev))
	}
	addNonEmpty(&ev.Fields, "hostname", h.host)
	addNonEmpty(&ev.Fields, "appname", h.app)
	addNonEmpty(&ev.Fields, "procid", h.procid)
	addNonEmpty(&ev.Fields, "msgid", h.msgid)
	addSD(&ev.Fields, h.sd)
}

func addNonEmpty(f *schema.Fields, k, v string) {
	if v != "" {
		f.Add(k, v)
	}
}

// addSD adds RFC 5424 structured data as sd.<id>.<param> fields, sorted
// by id and parameter name so the output is stable.
func addSD(f *schema.Fields, sd map[string]map[string]string) {
	if len(sd) == 0 {
		return
	}
	ids := make([]string, 0, len(sd))
	for id := range sd {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var names []string
	var key bytes.Buffer
	for _, id := range ids {
		params := sd[id]
		names = names[:0]
		for n := range params {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			f.Add("sd."+id, "")
		}
		for _, n := range names {
			key.Reset()
			key.WriteString("sd.")
			key.WriteString(id)
			key.WriteByte('.')
			key.WriteString(n)
			f.Add(key.String(), params[n])
		}
	}
}
