// Package schema holds Vigil's normalised event and alert types: the one
// shape every input maps into and every later stage (storage, detection,
// search, API) reads.
//
// Common fields use Elastic Common Schema (ECS) names. The fields of the
// original record are kept beside them, under their own names, so that Sigma
// rules written against the source format (Image, CommandLine, EventID, ...)
// still find them.
package schema

import (
	"strconv"
	"time"
)

// Input names the kind of input an event arrived through. It is half of a
// source's identity (host × input).
const (
	InputSyslog     = "syslog"
	InputNDJSON     = "ndjson"
	InputBulk       = "bulk"
	InputZeek       = "zeek"
	InputSuricata   = "suricata"
	InputWinlogbeat = "winlogbeat"
	InputEVTX       = "evtx"
	InputNetflow    = "netflow" // NetFlow v5/v9, IPFIX and sFlow collector
)

// Event is one normalised event. The zero value is an empty event; inputs
// fill what they know. Timestamp is the event's own time (event time);
// Received is when Vigil received it.
type Event struct {
	// ID is assigned by the ingest log when the event becomes durable: the
	// stream sequence of its batch shifted left by IDBatchBits, plus its index
	// inside the batch. It is stable across replays.
	ID        uint64    `json:"id,omitempty"`
	Timestamp time.Time `json:"@timestamp"`
	Received  time.Time `json:"received"`
	// Input is the kind of input (InputSyslog, InputZeek, ...).
	Input string `json:"input,omitempty"`

	Event       EventMeta `json:"event,omitzero"`
	Host        Host      `json:"host,omitzero"`
	Source      Endpoint  `json:"source,omitzero"`
	Destination Endpoint  `json:"destination,omitzero"`
	Network     Network   `json:"network,omitzero"`
	User        User      `json:"user,omitzero"`
	Process     Process   `json:"process,omitzero"`
	File        File      `json:"file,omitzero"`
	DNS         DNS       `json:"dns,omitzero"`
	URL         URL       `json:"url,omitzero"`
	Observer    Observer  `json:"observer,omitzero"`
	Log         Log       `json:"log,omitzero"`

	// Message is the human-readable message (syslog MSG, Windows message).
	Message string `json:"message,omitempty"`
	// Fields are the original record's fields under their own names,
	// flattened with dots for nested objects, in input order.
	Fields Fields `json:"fields,omitempty"`
	// Original is the raw record as received (size-capped by the input).
	Original string `json:"original,omitempty"`
}

// IDBatchBits is how many low bits of an event ID hold the event's index in
// its ingest batch; a batch holds at most 1<<IDBatchBits events.
const IDBatchBits = 16

// MaxBatchEvents is the largest number of events in one ingest batch.
const MaxBatchEvents = 1 << IDBatchBits

// MakeID builds an event ID from the ingest log sequence of its batch and its
// index in the batch.
func MakeID(seq uint64, idx int) uint64 { return seq<<IDBatchBits | uint64(idx) }

// SplitID returns the ingest log sequence and batch index of an event ID.
func SplitID(id uint64) (seq uint64, idx int) {
	return id >> IDBatchBits, int(id & (MaxBatchEvents - 1))
}

// EventMeta holds ECS event.* fields.
type EventMeta struct {
	Kind     string   `json:"kind,omitempty"`     // event, alert, metric, state
	Category []string `json:"category,omitempty"` // authentication, process, network, ...
	Type     []string `json:"type,omitempty"`     // start, end, info, connection, ...
	Action   string   `json:"action,omitempty"`
	Outcome  string   `json:"outcome,omitempty"` // success, failure, unknown
	Dataset  string   `json:"dataset,omitempty"` // zeek.conn, suricata.eve, windows.security, ...
	Module   string   `json:"module,omitempty"`  // zeek, suricata, windows, system, ...
	Provider string   `json:"provider,omitempty"`
	Code     string   `json:"code,omitempty"`     // Windows EventID, Suricata signature id
	Severity int      `json:"severity,omitempty"` // numeric severity as the source gives it
	Duration int64    `json:"duration,omitempty"` // nanoseconds
}

// Host holds ECS host.* fields: the host the event is about or came from.
type Host struct {
	Name     string `json:"name,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
	OS       string `json:"os,omitempty"` // host.os.family
	// Asset is the inventory's entry for the host (enrichment).
	Asset Asset `json:"asset,omitzero"`
}

// Asset is what the asset inventory says about an address or host, added
// by enrichment as host.asset.*, source.asset.* and destination.asset.*.
type Asset struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Role        string `json:"role,omitempty"`
	Criticality string `json:"criticality,omitempty"` // low, medium, high, critical
}

// Geo holds ECS *.geo.* fields for an external address (enrichment).
type Geo struct {
	CountryISOCode string `json:"country_iso_code,omitempty"`
	CountryName    string `json:"country_name,omitempty"`
	CityName       string `json:"city_name,omitempty"`
}

// AS holds ECS *.as.* fields: the autonomous system of an address.
type AS struct {
	Number       int64 `json:"number,omitempty"`
	Organization ASOrg `json:"organization,omitzero"`
}

// ASOrg holds ECS *.as.organization.* fields.
type ASOrg struct {
	Name string `json:"name,omitempty"`
}

// Endpoint holds ECS source.* or destination.* fields.
type Endpoint struct {
	IP      string `json:"ip,omitempty"`
	Port    int    `json:"port,omitempty"`
	Domain  string `json:"domain,omitempty"`
	MAC     string `json:"mac,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Packets int64  `json:"packets,omitempty"`
	// Geo, AS and Asset are added by enrichment.
	Geo   Geo   `json:"geo,omitzero"`
	AS    AS    `json:"as,omitzero"`
	Asset Asset `json:"asset,omitzero"`
}

// Network holds ECS network.* fields.
type Network struct {
	Transport   string `json:"transport,omitempty"` // tcp, udp, icmp
	Protocol    string `json:"protocol,omitempty"`  // application protocol: dns, http, tls
	Direction   string `json:"direction,omitempty"`
	Bytes       int64  `json:"bytes,omitempty"`
	Packets     int64  `json:"packets,omitempty"`
	CommunityID string `json:"community_id,omitempty"`
}

// User holds ECS user.* fields.
type User struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	ID     string `json:"id,omitempty"`
}

// Process holds ECS process.* fields, including the parent.
type Process struct {
	PID         int64         `json:"pid,omitempty"`
	Name        string        `json:"name,omitempty"`
	Executable  string        `json:"executable,omitempty"`
	CommandLine string        `json:"command_line,omitempty"`
	Parent      ParentProcess `json:"parent,omitzero"`
}

// ParentProcess holds ECS process.parent.* fields.
type ParentProcess struct {
	PID         int64  `json:"pid,omitempty"`
	Name        string `json:"name,omitempty"`
	Executable  string `json:"executable,omitempty"`
	CommandLine string `json:"command_line,omitempty"`
}

// File holds ECS file.* fields.
type File struct {
	Path string `json:"path,omitempty"`
	Name string `json:"name,omitempty"`
	Hash Hashes `json:"hash,omitzero"`
}

// Hashes holds ECS *.hash.* fields.
type Hashes struct {
	MD5    string `json:"md5,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// DNS holds ECS dns.* fields.
type DNS struct {
	Question     DNSQuestion `json:"question,omitzero"`
	ResponseCode string      `json:"response_code,omitempty"`
	Answers      []string    `json:"answers,omitempty"`
}

// DNSQuestion holds ECS dns.question.* fields.
type DNSQuestion struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// URL holds ECS url.* fields.
type URL struct {
	Full   string `json:"full,omitempty"`
	Domain string `json:"domain,omitempty"`
	Path   string `json:"path,omitempty"`
}

// Observer holds ECS observer.* fields: the device or sensor that saw the
// event (a Zeek or Suricata sensor, a syslog relay, a flow exporter).
type Observer struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// Log holds ECS log.* fields.
type Log struct {
	Level  string    `json:"level,omitempty"`
	Logger string    `json:"logger,omitempty"` // syslog app-name, Windows channel
	File   LogFile   `json:"file,omitzero"`    // file an import read
	Syslog LogSyslog `json:"syslog,omitzero"`
}

// LogFile holds ECS log.file.* fields.
type LogFile struct {
	Path string `json:"path,omitempty"`
}

// LogSyslog holds the syslog priority parts (ECS log.syslog.*.code).
// Present is false when the record carried no priority.
type LogSyslog struct {
	Facility int  `json:"facility"`
	Severity int  `json:"severity"`
	Present  bool `json:"-"`
}

// Field is one original field of the source record.
type Field struct {
	Key   string
	Value string
}

// Fields are an event's original fields in input order.
type Fields []Field

// Get returns the value of the original field key.
func (f Fields) Get(key string) (string, bool) {
	for i := range f {
		if f[i].Key == key {
			return f[i].Value, true
		}
	}
	return "", false
}

// Add appends a field.
func (f *Fields) Add(key, value string) { *f = append(*f, Field{Key: key, Value: value}) }

// SourceHost returns the host name that identifies the event's source for
// source tracking: host.name, else observer.name, else host.ip, else
// observer.ip, else "unknown".
func (e *Event) SourceHost() string {
	switch {
	case e.Host.Name != "":
		return e.Host.Name
	case e.Observer.Name != "":
		return e.Observer.Name
	case e.Host.IP != "":
		return e.Host.IP
	case e.Observer.IP != "":
		return e.Observer.IP
	}
	return "unknown"
}

// Get returns the value of a field by its ECS name (for example
// "source.ip" or "event.category") or, failing that, by its original name.
// Multi-valued ECS fields are joined with commas. The boolean is false when
// the event has no such field or it is empty.
func (e *Event) Get(name string) (string, bool) {
	if g, ok := ecsGetters[name]; ok {
		v := g(e)
		return v, v != ""
	}
	return e.Fields.Get(name)
}

// ECSFieldNames lists the ECS field names Get understands, in a stable order.
func ECSFieldNames() []string { return append([]string(nil), ecsNames...) }

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func joinList(l []string) string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0]
	}
	n := len(l) - 1
	for _, s := range l {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	return string(b)
}

type getter func(*Event) string

var ecsNames = []string{
	"@timestamp", "event.kind", "event.category", "event.type", "event.action",
	"event.outcome", "event.dataset", "event.module", "event.provider", "event.code",
	"event.severity", "host.name", "host.hostname", "host.ip", "host.os.family",
	"source.ip", "source.port", "source.domain", "source.mac", "source.bytes", "source.packets",
	"destination.ip", "destination.port", "destination.domain", "destination.mac",
	"destination.bytes", "destination.packets",
	"network.transport", "network.protocol", "network.direction", "network.bytes",
	"network.packets", "network.community_id",
	"user.name", "user.domain", "user.id",
	"process.pid", "process.name", "process.executable", "process.command_line",
	"process.parent.pid", "process.parent.name", "process.parent.executable",
	"process.parent.command_line",
	"file.path", "file.name", "file.hash.md5", "file.hash.sha1", "file.hash.sha256",
	"dns.question.name", "dns.question.type", "dns.response_code", "dns.answers",
	"url.full", "url.domain", "url.path",
	"observer.name", "observer.type", "observer.ip",
	"log.level", "log.logger", "log.file.path", "log.syslog.facility.code",
	"log.syslog.severity.code", "message", "input",
	"host.asset.id", "host.asset.name", "host.asset.role", "host.asset.criticality",
	"source.geo.country_iso_code", "source.geo.country_name", "source.geo.city_name", "source.as.number",
	"source.as.organization.name", "source.asset.id", "source.asset.name", "source.asset.role",
	"source.asset.criticality",
	"destination.geo.country_iso_code", "destination.geo.country_name", "destination.geo.city_name",
	"destination.as.number", "destination.as.organization.name", "destination.asset.id", "destination.asset.name",
	"destination.asset.role", "destination.asset.criticality",
}

// ecsGetters is read-only after package initialisation.
var ecsGetters = map[string]getter{
	"@timestamp": func(e *Event) string {
		if e.Timestamp.IsZero() {
			return ""
		}
		return e.Timestamp.UTC().Format(time.RFC3339Nano)
	},
	"event.kind":                  func(e *Event) string { return e.Event.Kind },
	"event.category":              func(e *Event) string { return joinList(e.Event.Category) },
	"event.type":                  func(e *Event) string { return joinList(e.Event.Type) },
	"event.action":                func(e *Event) string { return e.Event.Action },
	"event.outcome":               func(e *Event) string { return e.Event.Outcome },
	"event.dataset":               func(e *Event) string { return e.Event.Dataset },
	"event.module":                func(e *Event) string { return e.Event.Module },
	"event.provider":              func(e *Event) string { return e.Event.Provider },
	"event.code":                  func(e *Event) string { return e.Event.Code },
	"event.severity":              func(e *Event) string { return itoa(int64(e.Event.Severity)) },
	"host.name":                   func(e *Event) string { return e.Host.Name },
	"host.hostname":               func(e *Event) string { return e.Host.Hostname },
	"host.ip":                     func(e *Event) string { return e.Host.IP },
	"host.os.family":              func(e *Event) string { return e.Host.OS },
	"source.ip":                   func(e *Event) string { return e.Source.IP },
	"source.port":                 func(e *Event) string { return itoa(int64(e.Source.Port)) },
	"source.domain":               func(e *Event) string { return e.Source.Domain },
	"source.mac":                  func(e *Event) string { return e.Source.MAC },
	"source.bytes":                func(e *Event) string { return itoa(e.Source.Bytes) },
	"source.packets":              func(e *Event) string { return itoa(e.Source.Packets) },
	"destination.ip":              func(e *Event) string { return e.Destination.IP },
	"destination.port":            func(e *Event) string { return itoa(int64(e.Destination.Port)) },
	"destination.domain":          func(e *Event) string { return e.Destination.Domain },
	"destination.mac":             func(e *Event) string { return e.Destination.MAC },
	"destination.bytes":           func(e *Event) string { return itoa(e.Destination.Bytes) },
	"destination.packets":         func(e *Event) string { return itoa(e.Destination.Packets) },
	"network.transport":           func(e *Event) string { return e.Network.Transport },
	"network.protocol":            func(e *Event) string { return e.Network.Protocol },
	"network.direction":           func(e *Event) string { return e.Network.Direction },
	"network.bytes":               func(e *Event) string { return itoa(e.Network.Bytes) },
	"network.packets":             func(e *Event) string { return itoa(e.Network.Packets) },
	"network.community_id":        func(e *Event) string { return e.Network.CommunityID },
	"user.name":                   func(e *Event) string { return e.User.Name },
	"user.domain":                 func(e *Event) string { return e.User.Domain },
	"user.id":                     func(e *Event) string { return e.User.ID },
	"process.pid":                 func(e *Event) string { return itoa(e.Process.PID) },
	"process.name":                func(e *Event) string { return e.Process.Name },
	"process.executable":          func(e *Event) string { return e.Process.Executable },
	"process.command_line":        func(e *Event) string { return e.Process.CommandLine },
	"process.parent.pid":          func(e *Event) string { return itoa(e.Process.Parent.PID) },
	"process.parent.name":         func(e *Event) string { return e.Process.Parent.Name },
	"process.parent.executable":   func(e *Event) string { return e.Process.Parent.Executable },
	"process.parent.command_line": func(e *Event) string { return e.Process.Parent.CommandLine },
	"file.path":                   func(e *Event) string { return e.File.Path },
	"file.name":                   func(e *Event) string { return e.File.Name },
	"file.hash.md5":               func(e *Event) string { return e.File.Hash.MD5 },
	"file.hash.sha1":              func(e *Event) string { return e.File.Hash.SHA1 },
	"file.hash.sha256":            func(e *Event) string { return e.File.Hash.SHA256 },
	"dns.question.name":           func(e *Event) string { return e.DNS.Question.Name },
	"dns.question.type":           func(e *Event) string { return e.DNS.Question.Type },
	"dns.response_code":           func(e *Event) string { return e.DNS.ResponseCode },
	"dns.answers":                 func(e *Event) string { return joinList(e.DNS.Answers) },
	"url.full":                    func(e *Event) string { return e.URL.Full },
	"url.domain":                  func(e *Event) string { return e.URL.Domain },
	"url.path":                    func(e *Event) string { return e.URL.Path },
	"observer.name":               func(e *Event) string { return e.Observer.Name },
	"observer.type":               func(e *Event) string { return e.Observer.Type },
	"observer.ip":                 func(e *Event) string { return e.Observer.IP },
	"log.level":                   func(e *Event) string { return e.Log.Level },
	"log.logger":                  func(e *Event) string { return e.Log.Logger },
	"log.file.path":               func(e *Event) string { return e.Log.File.Path },
	"log.syslog.facility.code": func(e *Event) string {
		if !e.Log.Syslog.Present {
			return ""
		}
		return strconv.Itoa(e.Log.Syslog.Facility)
	},
	"log.syslog.severity.code": func(e *Event) string {
		if !e.Log.Syslog.Present {
			return ""
		}
		return strconv.Itoa(e.Log.Syslog.Severity)
	},
	"message": func(e *Event) string { return e.Message },
	"input":   func(e *Event) string { return e.Input },

	"host.asset.id":          func(e *Event) string { return e.Host.Asset.ID },
	"host.asset.name":        func(e *Event) string { return e.Host.Asset.Name },
	"host.asset.role":        func(e *Event) string { return e.Host.Asset.Role },
	"host.asset.criticality": func(e *Event) string { return e.Host.Asset.Criticality },
}

func init() {
	for prefix, ep := range map[string]func(*Event) *Endpoint{
		"source":      func(e *Event) *Endpoint { return &e.Source },
		"destination": func(e *Event) *Endpoint { return &e.Destination },
	} {
		ecsGetters[prefix+".geo.country_iso_code"] = func(e *Event) string { return ep(e).Geo.CountryISOCode }
		ecsGetters[prefix+".geo.country_name"] = func(e *Event) string { return ep(e).Geo.CountryName }
		ecsGetters[prefix+".geo.city_name"] = func(e *Event) string { return ep(e).Geo.CityName }
		ecsGetters[prefix+".as.number"] = func(e *Event) string { return itoa(ep(e).AS.Number) }
		ecsGetters[prefix+".as.organization.name"] = func(e *Event) string { return ep(e).AS.Organization.Name }
		ecsGetters[prefix+".asset.id"] = func(e *Event) string { return ep(e).Asset.ID }
		ecsGetters[prefix+".asset.name"] = func(e *Event) string { return ep(e).Asset.Name }
		ecsGetters[prefix+".asset.role"] = func(e *Event) string { return ep(e).Asset.Role }
		ecsGetters[prefix+".asset.criticality"] = func(e *Event) string { return ep(e).Asset.Criticality }
	}
}
