package eve

import (
	"net/netip"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

// state collects what one record says that is mapped only once the whole
// record has been read.
type state struct {
	eventType, appProto, inIface          string
	alertAction, signature, sid, category string
	httpHost, httpURL, httpPort           string
	httpUA, httpMethod, httpStatus        string
	tlsSNI, ja3, ja3s                     string
	start, end                            string
	rdata, anomaly, fileName              string
	answers, queries                      *fastjson.Value
	grouped                               []string
	hasFlowCounters                       bool
}

// read maps one leaf of the record.
func (st *state) read(ev *schema.Event, l *ecsjson.Leaf) error {
	v := l.Value
	switch l.Key {
	case "timestamp":
		t, err := ecsjson.ParseTime(*l)
		if err != nil {
			return parse.Errorf(parse.ReasonBadTimestamp, "eve: %w", err)
		}
		ev.Timestamp = t
	case "event_type":
		st.eventType = v
	case "src_ip":
		ev.Source.IP = v
	case "src_port":
		ev.Source.Port = int(integer(v))
	case "dest_ip":
		ev.Destination.IP = v
	case "dest_port":
		ev.Destination.Port = int(integer(v))
	case "proto":
		ev.Network.Transport = transport(v)
	case "app_proto":
		st.appProto = v
	case "community_id":
		ev.Network.CommunityID = v
	case "host":
		ev.Observer.Name = v
	case "in_iface":
		st.inIface = v
	default:
		st.readApp(ev, l)
	}
	return nil
}

// readApp maps the leaves of the per-event-type objects.
func (st *state) readApp(ev *schema.Event, l *ecsjson.Leaf) {
	v := l.Value
	switch l.Key {
	case "flow.bytes_toserver", "netflow.bytes":
		ev.Source.Bytes, st.hasFlowCounters = integer(v), true
	case "flow.bytes_toclient":
		ev.Destination.Bytes, st.hasFlowCounters = integer(v), true
	case "flow.pkts_toserver", "netflow.pkts":
		ev.Source.Packets, st.hasFlowCounters = integer(v), true
	case "flow.pkts_toclient":
		ev.Destination.Packets, st.hasFlowCounters = integer(v), true
	case "flow.start", "netflow.start":
		st.start = v
	case "flow.end", "netflow.end":
		st.end = v
	case "alert.signature":
		st.signature = v
	case "alert.signature_id":
		st.sid = v
	case "alert.category":
		st.category = v
	case "alert.action":
		st.alertAction = v
	case "alert.severity":
		ev.Event.Severity = int(integer(v))
	default:
		st.readProto(ev, l)
	}
}

// readProto maps the leaves of the application-protocol objects.
func (st *state) readProto(ev *schema.Event, l *ecsjson.Leaf) {
	v := l.Value
	switch l.Key {
	case "dns.rrname":
		ev.DNS.Question.Name = v
	case "dns.rrtype":
		ev.DNS.Question.Type = v
	case "dns.rcode":
		ev.DNS.ResponseCode = v
	case "dns.rdata":
		st.rdata = v
	case "dns.answers":
		st.answers = l.V
	case "dns.queries", "dns.query": // v3; v2 alerts carry "query"
		st.queries = l.V
	case "http.hostname":
		st.httpHost = v
	case "http.url":
		st.httpURL = v
	case "http.http_port":
		st.httpPort = v
	case "http.http_user_agent":
		st.httpUA = v
	case "http.http_method":
		st.httpMethod = v
	case "http.status":
		st.httpStatus = v
	case "tls.sni":
		st.tlsSNI = v
	case "tls.ja3.hash":
		st.ja3 = v
	case "tls.ja3s.hash":
		st.ja3s = v
	case "fileinfo.filename":
		st.fileName = v
	case "fileinfo.md5":
		ev.File.Hash.MD5 = v
	case "fileinfo.sha1":
		ev.File.Hash.SHA1 = v
	case "fileinfo.sha256":
		ev.File.Hash.SHA256 = v
	case "anomaly.event":
		st.anomaly = v
	case "anomaly.type":
		if st.anomaly == "" {
			st.anomaly = v
		}
	default:
		if strings.HasPrefix(l.Key, "dns.grouped.") {
			st.grouped = appendStrings(st.grouped, l.V)
		}
	}
}

// finish sets what depends on the whole record and returns fields with
// the ECS-named copies of EVE values added.
func (st *state) finish(ev *schema.Event, fields schema.Fields) schema.Fields {
	st.categorise(ev)
	if ev.Network.Protocol == "" && st.appProto != "" && st.appProto != "failed" {
		ev.Network.Protocol = st.appProto
	}
	if st.hasFlowCounters {
		ev.Network.Bytes = ev.Source.Bytes + ev.Destination.Bytes
		ev.Network.Packets = ev.Source.Packets + ev.Destination.Packets
	}
	if st.start != "" && st.end != "" {
		s, ok1 := ecsjson.ParseTimeString(st.start)
		e, ok2 := ecsjson.ParseTimeString(st.end)
		if ok1 && ok2 && !e.Before(s) {
			ev.Event.Duration = int64(e.Sub(s) / time.Nanosecond)
		}
	}
	st.mapDNS(ev)
	st.mapHTTP(ev)
	if st.tlsSNI != "" {
		setDomain(ev, st.tlsSNI)
	}
	if st.fileName != "" {
		ev.File.Path = st.fileName
		ev.File.Name = st.fileName[strings.LastIndexByte(st.fileName, '/')+1:]
	}
	if st.inIface != "" || ev.Observer.Name != "" {
		ev.Observer.Type = "ids"
	}
	return st.ecsFields(fields)
}

// categorise sets event.kind, category, type, action and code.
func (st *state) categorise(ev *schema.Event) {
	ev.Event.Kind = "event"
	switch st.eventType {
	case "alert":
		ev.Event.Kind = "alert"
		ev.Event.Category = []string{"network", "intrusion_detection"}
		ev.Event.Type = []string{"allowed"}
		if st.alertAction == "blocked" {
			ev.Event.Type = []string{"denied"}
		}
		ev.Event.Action = st.signature
		ev.Event.Code = st.sid
		ev.Message = st.signature
	case "flow", "netflow":
		ev.Event.Category = []string{"network"}
		ev.Event.Type = []string{"connection", "end"}
	case "fileinfo":
		ev.Event.Category = []string{"network", "file"}
		ev.Event.Type = []string{"info"}
	case "anomaly":
		ev.Event.Category = []string{"network"}
		ev.Event.Type = []string{"info"}
		ev.Event.Action = st.anomaly
		ev.Message = st.anomaly
	case "stats":
		ev.Event.Kind = "metric"
	default:
		ev.Event.Category = []string{"network"}
		if isAppProto(st.eventType) {
			ev.Event.Type = []string{"protocol"}
			ev.Network.Protocol = st.eventType
		} else {
			ev.Event.Type = []string{"info"}
		}
	}
}

// mapDNS sets the answers and, for v3 records, the question.
func (st *state) mapDNS(ev *schema.Event) {
	if st.queries != nil && ev.DNS.Question.Name == "" {
		if qs := st.queries.GetArray(); len(qs) > 0 {
			ev.DNS.Question.Name = string(qs[0].GetStringBytes("rrname"))
			ev.DNS.Question.Type = string(qs[0].GetStringBytes("rrtype"))
		}
	}
	if st.answers != nil {
		for _, a := range st.answers.GetArray() {
			if b := a.GetStringBytes("rdata"); b != nil {
				ev.DNS.Answers = append(ev.DNS.Answers, string(b))
			}
		}
	}
	if len(ev.DNS.Answers) == 0 && len(st.grouped) > 0 {
		ev.DNS.Answers = st.grouped
	}
	if len(ev.DNS.Answers) == 0 && st.rdata != "" {
		ev.DNS.Answers = []string{st.rdata}
	}
}

// mapHTTP sets url.* and destination.domain of HTTP records.
func (st *state) mapHTTP(ev *schema.Event) {
	if st.httpHost == "" && st.httpURL == "" {
		return
	}
	u := st.httpURL
	ev.URL.Domain = st.httpHost
	if i := strings.Index(u, "://"); i >= 0 { // proxy requests carry the full URL
		ev.URL.Full = u
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			u = u[i+3+j:]
		} else {
			u = ""
		}
	} else if st.httpHost != "" {
		port := ""
		if st.httpPort != "" && st.httpPort != "80" {
			port = ":" + st.httpPort
		}
		ev.URL.Full = "http://" + st.httpHost + port + u
	}
	if q := strings.IndexAny(u, "?#"); q >= 0 {
		u = u[:q]
	}
	ev.URL.Path = u
	setDomain(ev, st.httpHost)
}

// ecsFields adds ECS-named copies of EVE values, so ECS-written rules
// find them.
func (st *state) ecsFields(f schema.Fields) schema.Fields {
	add := func(k, v string) {
		if v != "" {
			f = append(f, schema.Field{Key: k, Value: v})
		}
	}
	if st.eventType == "alert" {
		add("rule.name", st.signature)
		add("rule.id", st.sid)
		add("rule.category", st.category)
	}
	add("http.request.method", st.httpMethod)
	add("http.response.status_code", st.httpStatus)
	add("user_agent.original", st.httpUA)
	add("tls.client.server_name", st.tlsSNI)
	add("tls.client.ja3", st.ja3)
	add("tls.server.ja3s", st.ja3s)
	add("observer.ingress.interface.name", st.inIface)
	return f
}

// setDomain sets destination.domain unless it is set or name is an IP.
func setDomain(ev *schema.Event, name string) {
	if ev.Destination.Domain != "" || name == "" {
		return
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return
	}
	ev.Destination.Domain = name
}

// transport lower-cases an EVE proto without allocating for the common
// ones.
func transport(p string) string {
	switch p {
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "ICMP":
		return "icmp"
	case "IPv6-ICMP":
		return "ipv6-icmp"
	case "SCTP":
		return "sctp"
	}
	return strings.ToLower(p)
}

// isAppProto reports whether an EVE event type names an application
// protocol.
func isAppProto(t string) bool {
	switch t {
	case "dns", "http", "http2", "tls", "ssh", "smb", "smtp", "ftp", "ftp_data", "rdp", "dhcp", "krb5",
		"nfs", "sip", "snmp", "tftp", "ike", "mqtt", "quic", "dnp3", "modbus", "rfb", "pgsql", "bittorrent-dht",
		"dcerpc", "enip", "pop3", "imap", "ldap", "websocket":
		return true
	}
	return false
}

// appendStrings appends the strings of a JSON array.
func appendStrings(dst []string, v *fastjson.Value) []string {
	if v == nil {
		return dst
	}
	for _, e := range v.GetArray() {
		if b, err := e.StringBytes(); err == nil {
			dst = append(dst, string(b))
		}
	}
	return dst
}

// integer reads a JSON integer's text; anything else reads as 0.
func integer(s string) int64 {
	if s == "" || len(s) > 18 {
		return 0
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
