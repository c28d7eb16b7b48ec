package zeek

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// ecsBuilder derives ECS fields from a record's canonical fields. Both the
// TSV reader and the JSON mapper feed it the same (key, value) pairs, which
// is what makes their events equal.
type ecsBuilder struct {
	logType              string
	haveTS               bool
	localOrig, localResp string
	host, uri            string
	hasBytes, hasPkts    bool
}

func (b *ecsBuilder) reset(logType string) { *b = ecsBuilder{logType: logType} }

// begin resets ev for a new record of the builder's log type.
func (b *ecsBuilder) begin(ev *schema.Event, received time.Time, nfields int, original string) {
	*ev = schema.Event{
		Received: received,
		Input:    schema.InputZeek,
		Fields:   make(schema.Fields, 0, nfields),
		Original: original,
	}
	ev.Event.Kind = "event"
	ev.Event.Module = "zeek"
	if b.logType != "" {
		ev.Event.Dataset = "zeek." + b.logType
	} else {
		ev.Event.Dataset = "zeek"
	}
}

// add records one canonical field; elems are the elements of a set or
// vector value (nil otherwise).
func (b *ecsBuilder) add(ev *schema.Event, key, val string, elems []string) {
	ev.Fields = append(ev.Fields, schema.Field{Key: key, Value: val})
	switch key {
	case "ts":
		if us, ok := parseFixedMicros(val); ok {
			ev.Timestamp = timeFromMicros(us)
			b.haveTS = true
		}
		return
	case "community_id":
		ev.Network.CommunityID = val
		return
	case "id.orig_h":
		ev.Source.IP = val
		return
	case "id.orig_p":
		ev.Source.Port = atoi(val)
		return
	case "id.resp_h":
		ev.Destination.IP = val
		return
	case "id.resp_p":
		ev.Destination.Port = atoi(val)
		return
	case "proto":
		ev.Network.Transport = val
		return
	case "service":
		ev.Network.Protocol = val
		return
	}
	switch b.logType {
	case "conn", "open_conn":
		b.addConn(ev, key, val)
	case "dns":
		b.addDNS(ev, key, val, elems)
	case "http", "open_http":
		b.addHTTP(key, val)
	case "ssl", "open_ssl":
		if key == "server_name" {
			ev.Destination.Domain = val
		}
	case "ssh":
		if key == "auth_success" {
			ev.Event.Outcome = outcome(val)
		}
	case "notice":
		b.addNotice(ev, key, val)
	case "weird":
		if key == "name" {
			ev.Event.Action = val
		}
	case "files":
		b.addFiles(ev, key, val)
	}
}

func (b *ecsBuilder) addConn(ev *schema.Event, key, val string) {
	switch key {
	case "orig_bytes":
		ev.Source.Bytes = atoi64(val)
		b.hasBytes = true
	case "resp_bytes":
		ev.Destination.Bytes = atoi64(val)
		b.hasBytes = true
	case "orig_pkts":
		ev.Source.Packets = atoi64(val)
		b.hasPkts = true
	case "resp_pkts":
		ev.Destination.Packets = atoi64(val)
		b.hasPkts = true
	case "duration":
		if ns, ok := parseDecimalNanos(val); ok {
			ev.Event.Duration = ns
		}
	case "local_orig":
		b.localOrig = val
	case "local_resp":
		b.localResp = val
	case "orig_l2_addr":
		ev.Source.MAC = val
	case "resp_l2_addr":
		ev.Destination.MAC = val
	}
}

func (b *ecsBuilder) addDNS(ev *schema.Event, key, val string, elems []string) {
	switch key {
	case "query":
		ev.DNS.Question.Name = val
	case "qtype_name":
		ev.DNS.Question.Type = val
	case "rcode_name":
		ev.DNS.ResponseCode = val
	case "answers":
		if len(elems) > 0 {
			ev.DNS.Answers = append([]string(nil), elems...)
		}
	}
}

func (b *ecsBuilder) addHTTP(key, val string) {
	switch key {
	case "host":
		b.host = val
	case "uri":
		b.uri = val
	}
}

func (b *ecsBuilder) addNotice(ev *schema.Event, key, val string) {
	switch key {
	case "note":
		ev.Event.Action = val
	case "msg":
		ev.Message = val
	case "src":
		if ev.Source.IP == "" {
			ev.Source.IP = val
		}
	case "dst":
		if ev.Destination.IP == "" {
			ev.Destination.IP = val
		}
	case "p":
		if ev.Destination.Port == 0 {
			ev.Destination.Port = atoi(val)
		}
	}
}

func (b *ecsBuilder) addFiles(ev *schema.Event, key, val string) {
	switch key {
	case "filename":
		ev.File.Name = val
	case "md5":
		ev.File.Hash.MD5 = val
	case "sha1":
		ev.File.Hash.SHA1 = val
	case "sha256":
		ev.File.Hash.SHA256 = val
	}
}

// finish sets what depends on several fields or on the log type alone.
func (b *ecsBuilder) finish(ev *schema.Event) {
	if !b.haveTS {
		ev.Timestamp = ev.Received
	}
	if b.hasBytes {
		ev.Network.Bytes = ev.Source.Bytes + ev.Destination.Bytes
	}
	if b.hasPkts {
		ev.Network.Packets = ev.Source.Packets + ev.Destination.Packets
	}
	if b.localOrig != "" || b.localResp != "" {
		ev.Network.Direction = direction(b.localOrig == "T", b.localResp == "T")
	}
	if b.host != "" {
		ev.URL.Domain = b.host
	}
	if b.uri != "" {
		path, _, _ := strings.Cut(b.uri, "?")
		ev.URL.Path = path
		if b.host != "" {
			ev.URL.Full = "http://" + b.host + b.uri
		}
	}
	b.categorize(ev)
}

// categorize sets event.kind/category/type and a default network.protocol.
func (b *ecsBuilder) categorize(ev *schema.Event) {
	proto := ""
	switch b.logType {
	case "conn", "open_conn":
		ev.Event.Category, ev.Event.Type = []string{"network"}, []string{"connection"}
	case "dns":
		ev.Event.Category, ev.Event.Type = []string{"network"}, []string{"protocol"}
		proto = "dns"
	case "http", "open_http":
		ev.Event.Category, ev.Event.Type = []string{"network", "web"}, []string{"protocol"}
		proto = "http"
	case "ssl", "open_ssl":
		ev.Event.Category, ev.Event.Type = []string{"network"}, []string{"protocol"}
		proto = "tls"
	case "ssh":
		ev.Event.Category, ev.Event.Type = []string{"authentication", "network"}, []string{"info"}
		proto = "ssh"
	case "notice":
		ev.Event.Kind = "alert"
		ev.Event.Category, ev.Event.Type = []string{"intrusion_detection"}, []string{"info"}
	case "files":
		ev.Event.Category, ev.Event.Type = []string{"file"}, []string{"info"}
	case "x509":
		ev.Event.Category, ev.Event.Type = []string{"network"}, []string{"info"}
	default:
		if ev.Source.IP != "" {
			ev.Event.Category, ev.Event.Type = []string{"network"}, []string{"info"}
		}
	}
	if ev.Network.Protocol == "" {
		ev.Network.Protocol = proto
	}
}

func direction(localOrig, localResp bool) string {
	switch {
	case localOrig && localResp:
		return "internal"
	case localOrig:
		return "outbound"
	case localResp:
		return "inbound"
	}
	return "external"
}

func outcome(b string) string {
	switch b {
	case "T":
		return "success"
	case "F":
		return "failure"
	}
	return ""
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
