package simulate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The shape of a Winlogbeat 8.x document as it reaches Elasticsearch
// without an ingest pipeline: the winlog.* fields Winlogbeat reads from
// the event (event_id as a string, record_id as a number, event_data as
// strings), the event.* fields it derives, and the agent/host metadata of
// the default configuration.

const (
	winlogbeatVersion = "8.11.3"
	securityProvider  = "Microsoft-Windows-Security-Auditing"
	securityGUID      = "{54849625-5478-4994-a5ba-3e3b0328c30d}"
	sysmonProvider    = "Microsoft-Windows-Sysmon"
	sysmonGUID        = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
	chanSecurity      = "Security"
	chanSysmon        = "Microsoft-Windows-Sysmon/Operational"
)

// kv is one event_data value.
type kv struct{ k, v string }

// eventData is winlog.event_data in the order Windows defines the fields.
type eventData []kv

// MarshalJSON writes the fields as a JSON object in order.
func (d eventData) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range d {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(f.k)
		v, _ := json.Marshal(f.v)
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

type winDoc struct {
	Timestamp string     `json:"@timestamp"`
	Agent     winAgent   `json:"agent"`
	ECS       winECS     `json:"ecs"`
	Host      winHost    `json:"host"`
	Log       winLog     `json:"log"`
	Message   string     `json:"message"`
	Event     winEvent   `json:"event"`
	Winlog    winlogData `json:"winlog"`
}

type winAgent struct {
	Type        string `json:"type"`
	Version     string `json:"version"`
	Name        string `json:"name"`
	ID          string `json:"id"`
	EphemeralID string `json:"ephemeral_id"`
}

type winECS struct {
	Version string `json:"version"`
}

type winHost struct {
	Name         string   `json:"name"`
	Hostname     string   `json:"hostname"`
	Architecture string   `json:"architecture"`
	ID           string   `json:"id"`
	IP           []string `json:"ip"`
	OS           winOS    `json:"os"`
}

type winOS struct {
	Family   string `json:"family"`
	Name     string `json:"name"`
	Kernel   string `json:"kernel"`
	Build    string `json:"build"`
	Platform string `json:"platform"`
	Version  string `json:"version"`
	Type     string `json:"type"`
}

type winLog struct {
	Level string `json:"level"`
}

type winEvent struct {
	Code     string `json:"code"`
	Kind     string `json:"kind"`
	Provider string `json:"provider"`
	Action   string `json:"action"`
	Outcome  string `json:"outcome,omitempty"`
	Created  string `json:"created"`
}

type winlogData struct {
	Channel      string    `json:"channel"`
	EventID      string    `json:"event_id"`
	ProviderName string    `json:"provider_name"`
	ProviderGUID string    `json:"provider_guid"`
	RecordID     uint64    `json:"record_id"`
	ComputerName string    `json:"computer_name"`
	API          string    `json:"api"`
	Task         string    `json:"task"`
	Opcode       string    `json:"opcode"`
	Keywords     []string  `json:"keywords,omitempty"`
	Version      int       `json:"version,omitempty"`
	Process      winProc   `json:"process"`
	User         *winUser  `json:"user,omitempty"`
	EventData    eventData `json:"event_data"`
}

type winProc struct {
	PID    int       `json:"pid"`
	Thread winThread `json:"thread"`
}

type winThread struct {
	ID int `json:"id"`
}

type winUser struct {
	Identifier string `json:"identifier"`
	Domain     string `json:"domain"`
	Name       string `json:"name"`
	Type       string `json:"type"`
}

// winMeta is what Windows knows about an event id: its channel, task,
// version and the first line of its message.
type winMeta struct {
	channel, task, title string
	version              int
}

// metaFor returns the metadata of the event ids the simulator writes.
func metaFor(id int) winMeta {
	switch id {
	case 1:
		return winMeta{chanSysmon, "Process Create (rule: ProcessCreate)", "Process Create:", 5}
	case 3:
		return winMeta{chanSysmon, "Network connection detected (rule: NetworkConnect)", "Network connection detected:", 5}
	case 22:
		return winMeta{chanSysmon, "Dns query (rule: DnsQuery)", "Dns query:", 5}
	case 4624:
		return winMeta{chanSecurity, "Logon", "An account was successfully logged on.", 2}
	case 4625:
		return winMeta{chanSecurity, "Logon", "An account failed to log on.", 0}
	case 4634:
		return winMeta{chanSecurity, "Logoff", "An account was logged off.", 0}
	case 4672:
		return winMeta{chanSecurity, "Special Logon", "Special privileges assigned to new logon.", 0}
	case 4688:
		return winMeta{chanSecurity, "Process Creation", "A new process has been created.", 2}
	case 4720:
		return winMeta{chanSecurity, "User Account Management", "A user account was created.", 0}
	case 4722:
		return winMeta{chanSecurity, "User Account Management", "A user account was enabled.", 0}
	case 4732:
		return winMeta{chanSecurity, "Security Group Management", "A member was added to a security-enabled local group.", 0}
	}
	return winMeta{chanSecurity, "", fmt.Sprintf("Event %d.", id), 0}
}

// stableID returns a GUID-shaped id derived from s.
func stableID(s string) string {
	h := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// newWinDoc builds the document of event id on host h at t with data.
// failure marks a Security audit failure.
func newWinDoc(h *host, at time.Time, id int, recordID uint64, data eventData, failure bool) *winDoc {
	m := metaFor(id)
	d := &winDoc{
		Timestamp: at.UTC().Format("2006-01-02T15:04:05.000Z"),
		Agent: winAgent{Type: "winlogbeat", Version: winlogbeatVersion, Name: h.name,
			ID: stableID("agent " + h.name), EphemeralID: stableID("ephemeral " + h.name)},
		ECS:  winECS{Version: "8.0.0"},
		Host: winHost{Name: h.name, Hostname: h.name, Architecture: "x86_64", ID: stableID("host " + h.name), IP: []string{h.ip}, OS: osOf(h)},
		Log:  winLog{Level: "information"},
		Event: winEvent{Code: fmt.Sprint(id), Kind: "event", Action: m.task,
			Created: at.Add(1500 * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")},
		Winlog: winlogData{Channel: m.channel, EventID: fmt.Sprint(id), RecordID: recordID,
			ComputerName: strings.ToUpper(h.name) + "." + dnsDomain, API: "wineventlog",
			Task: m.task, Opcode: "Info", Version: m.version, EventData: data},
	}
	if m.channel == chanSysmon {
		d.Event.Provider, d.Winlog.ProviderName, d.Winlog.ProviderGUID = sysmonProvider, sysmonProvider, sysmonGUID
		d.Winlog.Process = winProc{PID: 3124, Thread: winThread{ID: 4012}}
		d.Winlog.User = &winUser{Identifier: "S-1-5-18", Domain: "NT AUTHORITY", Name: "SYSTEM", Type: "User"}
		d.Message = renderMessage(m.title, data, ": ")
		return d
	}
	d.Event.Provider, d.Winlog.ProviderName, d.Winlog.ProviderGUID = securityProvider, securityProvider, securityGUID
	d.Winlog.Process = winProc{PID: 668, Thread: winThread{ID: 712 + int(recordID%200)*4}}
	d.Winlog.Keywords, d.Event.Outcome = []string{"Audit Success"}, "success"
	if failure {
		d.Winlog.Keywords, d.Event.Outcome = []string{"Audit Failure"}, "failure"
	}
	d.Message = m.title + "\n\n" + renderMessage("", data, ":\t")
	return d
}

// renderMessage lists the data under title, one "Name<sep>Value" a line,
// as Sysmon renders its messages.
func renderMessage(title string, data eventData, sep string) string {
	var b strings.Builder
	b.WriteString(title)
	for i, f := range data {
		if i > 0 || title != "" {
			b.WriteByte('\n')
		}
		b.WriteString(f.k + sep + f.v)
	}
	return b.String()
}

func osOf(h *host) winOS {
	o := winOS{Family: "windows", Platform: "windows", Version: "10.0", Type: "windows",
		Name: "Windows 10 Pro", Build: "19045.4291", Kernel: "10.0.19041.4291 (WinBuild.160101.0800)"}
	if h.role != "workstation" {
		o.Name, o.Build, o.Kernel = "Windows Server 2022 Standard", "20348.2402", "10.0.20348.2402 (WinBuild.160101.0800)"
	}
	return o
}

// encode renders a document as one line of JSON.
func (d *winDoc) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encoding a Winlogbeat document: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// win sends event id of host h at time at with data to the bulk sender.
// The record id is taken when the record leaves, so that it grows with
// time on every host and channel.
func (w *world) win(h *host, at time.Time, id int, data eventData, failure bool) {
	if w.out.bulk == nil {
		return
	}
	w.when(at, func() {
		rec := w.recordID(h.name, metaFor(id).channel)
		b, err := newWinDoc(h, at, id, rec, data, failure).encode()
		if err != nil {
			w.c.errs.Add(1)
			w.log.Error("simulator could not encode a document", "err", err)
			return
		}
		w.out.bulk.send(b)
	})
}
