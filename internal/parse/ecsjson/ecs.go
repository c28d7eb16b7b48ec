package ecsjson

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/schema"
)

// setECS sets the schema field named by an ECS leaf key. It reports
// whether the key is an ECS field of schema.Event. Values of the wrong
// type are left out of the ECS fields (they stay in Fields).
func setECS(ev *schema.Event, l *Leaf) bool {
	v := l.Value
	if l.V != nil && l.V.Type() == fastjson.TypeArray {
		v = firstText(l)
	}
	if setEventMeta(ev, l, v) || setEndpoint(ev, l.Key, v) || setProcess(ev, l.Key, v) {
		return true
	}
	switch l.Key {
	case "host.name":
		ev.Host.Name = v
	case "host.hostname":
		ev.Host.Hostname = v
	case "host.ip":
		ev.Host.IP = v
	case "host.os.family":
		ev.Host.OS = v
	case "user.name":
		ev.User.Name = v
	case "user.domain":
		ev.User.Domain = v
	case "user.id":
		ev.User.ID = v
	case "file.path":
		ev.File.Path = v
	case "file.name":
		ev.File.Name = v
	case "file.hash.md5":
		ev.File.Hash.MD5 = v
	case "file.hash.sha1":
		ev.File.Hash.SHA1 = v
	case "file.hash.sha256":
		ev.File.Hash.SHA256 = v
	case "dns.question.name":
		ev.DNS.Question.Name = v
	case "dns.question.type":
		ev.DNS.Question.Type = v
	case "dns.response_code":
		ev.DNS.ResponseCode = v
	case "dns.answers":
		ev.DNS.Answers = answers(l)
	case "url.full":
		ev.URL.Full = v
	case "url.domain":
		ev.URL.Domain = v
	case "url.path":
		ev.URL.Path = v
	case "observer.name":
		ev.Observer.Name = v
	case "observer.type":
		ev.Observer.Type = v
	case "observer.ip":
		ev.Observer.IP = v
	default:
		return setLog(ev, l.Key, v)
	}
	return true
}

func setEventMeta(ev *schema.Event, l *Leaf, v string) bool {
	switch l.Key {
	case "event.kind":
		ev.Event.Kind = v
	case "event.category":
		ev.Event.Category = list(l)
	case "event.type":
		ev.Event.Type = list(l)
	case "event.action":
		ev.Event.Action = v
	case "event.outcome":
		ev.Event.Outcome = v
	case "event.dataset":
		ev.Event.Dataset = v
	case "event.module":
		ev.Event.Module = v
	case "event.provider":
		ev.Event.Provider = v
	case "event.code":
		ev.Event.Code = v
	case "event.severity":
		ev.Event.Severity = int(integer(v))
	case "event.duration":
		ev.Event.Duration = integer(v)
	default:
		return false
	}
	return true
}

func setEndpoint(ev *schema.Event, key, v string) bool {
	var e *schema.Endpoint
	var field string
	switch {
	case len(key) > 7 && key[:7] == "source.":
		e, field = &ev.Source, key[7:]
	case len(key) > 12 && key[:12] == "destination.":
		e, field = &ev.Destination, key[12:]
	case len(key) > 8 && key[:8] == "network.":
		return setNetwork(ev, key[8:], v)
	default:
		return false
	}
	switch field {
	case "ip":
		e.IP = v
	case "port":
		e.Port = int(integer(v))
	case "domain":
		e.Domain = v
	case "mac":
		e.MAC = v
	case "bytes":
		e.Bytes = integer(v)
	case "packets":
		e.Packets = integer(v)
	default:
		return false
	}
	return true
}

func setNetwork(ev *schema.Event, field, v string) bool {
	switch field {
	case "transport":
		ev.Network.Transport = v
	case "protocol":
		ev.Network.Protocol = v
	case "direction":
		ev.Network.Direction = v
	case "bytes":
		ev.Network.Bytes = integer(v)
	case "packets":
		ev.Network.Packets = integer(v)
	case "community_id":
		ev.Network.CommunityID = v
	default:
		return false
	}
	return true
}

func setProcess(ev *schema.Event, key, v string) bool {
	switch key {
	case "process.pid":
		ev.Process.PID = integer(v)
	case "process.name":
		ev.Process.Name = v
	case "process.executable":
		ev.Process.Executable = v
	case "process.command_line":
		ev.Process.CommandLine = v
	case "process.parent.pid":
		ev.Process.Parent.PID = integer(v)
	case "process.parent.name":
		ev.Process.Parent.Name = v
	case "process.parent.executable":
		ev.Process.Parent.Executable = v
	case "process.parent.command_line":
		ev.Process.Parent.CommandLine = v
	default:
		return false
	}
	return true
}

func setLog(ev *schema.Event, key, v string) bool {
	switch key {
	case "log.level":
		ev.Log.Level = v
	case "log.logger":
		ev.Log.Logger = v
	case "log.file.path":
		ev.Log.File.Path = v
	case "log.syslog.facility.code":
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 24 {
			ev.Log.Syslog.Facility, ev.Log.Syslog.Present = n, true
		}
	case "log.syslog.severity.code":
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 8 {
			ev.Log.Syslog.Severity, ev.Log.Syslog.Present = n, true
		}
	case "message":
		ev.Message = v
	default:
		return false
	}
	return true
}

// aliases are fields of common shippers that stand for an ECS field when
// the record has no ECS field of its own: Vector's "host", "hostname",
// "appname" and "file", Fluent Bit's "log", "ident" and "pid", journald's
// MESSAGE and _HOSTNAME, ... Where several may stand for one field the
// better one wins whatever the order of the record.
type aliases struct {
	message, procName, procPID, level, filePath string
	hostName                                    [3]string // hostname/_HOSTNAME, host, agent.hostname
	srcAddr, dstAddr, urlOriginal, observerHost string
}

func (a *aliases) note(l *Leaf) {
	if l.V != nil && l.V.Type() != fastjson.TypeString && l.V.Type() != fastjson.TypeNumber {
		return
	}
	v := l.Value
	switch l.Key {
	case "log", "msg", "MESSAGE":
		fill(&a.message, strings.TrimRight(v, "\r\n")) // container runtimes keep the newline
	case "hostname", "_HOSTNAME":
		fill(&a.hostName[0], v)
	case "host":
		fill(&a.hostName[1], v)
	case "agent.hostname":
		fill(&a.hostName[2], v)
	case "appname", "ident", "SYSLOG_IDENTIFIER", "program":
		fill(&a.procName, v)
	case "procid", "pid", "_PID":
		fill(&a.procPID, v)
	case "level", "severity":
		fill(&a.level, v)
	case "file":
		fill(&a.filePath, v)
	case "source.address":
		a.srcAddr = v
	case "destination.address":
		a.dstAddr = v
	case "url.original":
		a.urlOriginal = v
	case "observer.hostname":
		a.observerHost = v
	}
}

// apply fills the ECS fields the record left empty.
func (a *aliases) apply(ev *schema.Event) {
	fill(&ev.Message, a.message)
	fill(&ev.Host.Name, ev.Host.Hostname)
	for _, h := range a.hostName {
		fill(&ev.Host.Name, h)
	}
	fill(&ev.Process.Name, a.procName)
	if ev.Process.PID == 0 {
		ev.Process.PID = integer(a.procPID)
	}
	fill(&ev.Log.Level, a.level)
	fill(&ev.Log.File.Path, a.filePath)
	fill(&ev.URL.Full, a.urlOriginal)
	fill(&ev.Observer.Name, a.observerHost)
	address(&ev.Source, a.srcAddr)
	address(&ev.Destination, a.dstAddr)
}

// address sets an endpoint's ip (or domain) from its ECS address.
func address(e *schema.Endpoint, addr string) {
	if addr == "" || e.IP != "" {
		return
	}
	if _, err := netip.ParseAddr(addr); err == nil {
		e.IP = addr
		return
	}
	fill(&e.Domain, addr)
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// integer reads a JSON number's text as an int64; fractions are dropped
// and non-numbers read as 0.
func integer(s string) int64 {
	if s == "" {
		return 0
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			if i > 0 && (c == '.' || c == 'e' || c == 'E') {
				return floatInt(s, neg)
			}
			return 0
		}
		if n > (1<<63-1-9)/10 {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// floatInt reads a number with a fraction or exponent, truncated.
func floatInt(s string, neg bool) int64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f >= 9.2e18 {
		return 0
	}
	if neg {
		f = -f
	}
	return int64(f)
}

// list reads a string or an array of strings.
func list(l *Leaf) []string {
	if l.V == nil || l.V.Type() != fastjson.TypeArray {
		if l.Value == "" {
			return nil
		}
		return []string{l.Value}
	}
	arr := l.V.GetArray()
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if b, err := e.StringBytes(); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// firstText returns the first element of an array leaf as text: a string
// unquoted, a number as is; "" for an empty array or a nested one.
func firstText(l *Leaf) string {
	s := l.Value
	if len(s) < 3 || s[0] != '[' {
		return ""
	}
	s = s[1:]
	switch s[0] {
	case '"':
		end := strings.IndexByte(s[1:], '"')
		if end >= 0 && strings.IndexByte(s[1:1+end], '\\') < 0 {
			return s[1 : 1+end]
		}
		if b, err := l.V.GetArray()[0].StringBytes(); err == nil { // escaped
			return string(b)
		}
		return ""
	case '[', '{':
		return ""
	}
	if end := strings.IndexAny(s, ",]"); end >= 0 {
		return s[:end]
	}
	return ""
}

// answers reads ECS dns.answers: an array of objects with "data", or of
// strings.
func answers(l *Leaf) []string {
	if l.V == nil || l.V.Type() != fastjson.TypeArray {
		return list(l)
	}
	arr := l.V.GetArray()
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if b, err := e.StringBytes(); err == nil {
			out = append(out, string(b))
		} else if d := e.GetStringBytes("data"); d != nil {
			out = append(out, string(d))
		}
	}
	return out
}
