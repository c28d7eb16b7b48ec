package sigma

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
)

// logsourcesOf lists the logsources the engine routes ev to.
func logsourcesOf(e *Engine, ev *schema.Event) []string {
	st := newEvalState(e)
	st.begin(ev)
	e.routeOf(st)
	var out []string
	for _, si := range st.matched {
		out = append(out, e.sources[si].src.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func defaultEngine(t testing.TB, rules ...*Rule) *Engine {
	t.Helper()
	m, err := DefaultMapping()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(rules, m)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func winEvent(channel, id string, kv ...string) *schema.Event {
	ev := &schema.Event{Input: schema.InputEVTX}
	ev.Fields.Add("EventID", id)
	ev.Fields.Add("Channel", channel)
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Fields.Add(kv[i], kv[i+1])
	}
	return ev
}

func TestDefaultMappingRouting(t *testing.T) {
	t.Parallel()
	e := defaultEngine(t)
	const sysmon = "Microsoft-Windows-Sysmon/Operational"
	tests := []struct {
		name string
		ev   *schema.Event
		want string
	}{
		{"sysmon process creation", winEvent(sysmon, "1"), "windows/-/sysmon windows/process_creation/-"},
		{"sysmon registry add", winEvent(sysmon, "12", "EventType", "CreateKey"),
			"windows/-/sysmon windows/registry_add/- windows/registry_event/-"},
		{"sysmon registry delete", winEvent(sysmon, "12", "EventType", "DeleteValue"),
			"windows/-/sysmon windows/registry_delete/- windows/registry_event/-"},
		{"sysmon registry set", winEvent(sysmon, "13"), "windows/-/sysmon windows/registry_event/- windows/registry_set/-"},
		{"sysmon status", winEvent(sysmon, "16"), "windows/-/sysmon windows/sysmon_status/-"},
		{"security 4688", winEvent("Security", "4688"), "windows/-/security windows/process_creation/-"},
		{"security 4624", winEvent("Security", "4624"), "windows/-/security"},
		{"process creation id on another channel", winEvent("System", "1"), "windows/-/system"},
		{"script block", winEvent("Microsoft-Windows-PowerShell/Operational", "4104"), "windows/-/powershell windows/ps_script/-"},
		{"powershell core", winEvent("PowerShellCore/Operational", "4103"), "windows/-/powershell windows/ps_module/-"},
		{"classic powershell", winEvent("Windows PowerShell", "400"), "windows/-/powershell-classic windows/ps_classic_start/-"},
		{"defender detection", winEvent("Microsoft-Windows-Windows Defender/Operational", "1116"),
			"windows/-/windefend windows/antivirus/-"},
		{"defender other", winEvent("Microsoft-Windows-Windows Defender/Operational", "1119"), "windows/-/windefend"},
		{"task scheduler", winEvent("Microsoft-Windows-TaskScheduler/Operational", "142"), "windows/-/taskscheduler"},
		{"wmi", winEvent("Microsoft-Windows-WMI-Activity/Operational", "5858"), "windows/-/wmi"},
		{"rpc firewall", winEvent("Application", "3", "Provider_Name", "RPCFW"), "rpc_firewall/application/- windows/-/application"},
		{"sysmon for linux", winEvent("Linux-Sysmon/Operational", "1"), "linux/-/sysmon linux/process_creation/-"},
		{"sshd syslog", &schema.Event{Event: schema.EventMeta{Module: "system", Dataset: "system.auth"},
			Log: schema.Log{Logger: "sshd"}}, "linux/-/auth linux/-/sshd linux/-/syslog"},
		{"zeek dns", &schema.Event{Event: schema.EventMeta{Module: "zeek", Dataset: "zeek.dns"}}, "zeek/-/dns zeek/dns/-"},
		{"zeek http", &schema.Event{Event: schema.EventMeta{Dataset: "zeek.http"}}, "zeek/-/http zeek/proxy/-"},
		{"suricata dns", &schema.Event{Event: schema.EventMeta{Module: "suricata"},
			Fields: schema.Fields{{Key: "event_type", Value: "dns"}}}, "suricata/dns/-"},
		{"nginx access", &schema.Event{Event: schema.EventMeta{Dataset: "nginx.access"}}, "-/-/nginx -/webserver/-"},
		{"unknown", &schema.Event{Message: "x"}, ""},
	}
	for _, tc := range tests {
		if got := strings.Join(logsourcesOf(e, tc.ev), " "); got != tc.want {
			t.Errorf("%s: logsources %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRulesOnlyOnTheirLogsource checks that a rule is evaluated only on
// events of its logsource, whatever fields other events carry.
func TestRulesOnlyOnTheirLogsource(t *testing.T) {
	t.Parallel()
	r := loadOne(t, `title: whoami
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
`, LoadOptions{})
	e := defaultEngine(t, r)
	tests := []struct {
		ev   *schema.Event
		want bool
	}{
		{winEvent("Microsoft-Windows-Sysmon/Operational", "1", "Image", `C:\Windows\System32\whoami.exe`), true},
		{winEvent("Microsoft-Windows-Sysmon/Operational", "7", "Image", `C:\Windows\System32\whoami.exe`), false},
		{winEvent("Security", "4624", "Image", `C:\Windows\System32\whoami.exe`), false},
		// Security 4688 names the image NewProcessName.
		{winEvent("Security", "4688", "NewProcessName", `C:\Windows\System32\whoami.exe`), true},
		{winEvent("Security", "4688", "Image", `C:\Windows\System32\whoami.exe`), false},
	}
	for i, tc := range tests {
		got := false
		e.Match(tc.ev, func(*Rule) { got = true })
		if got != tc.want {
			t.Errorf("event %d %v: match %v, want %v", i, tc.ev.Fields, got, tc.want)
		}
	}
}

// TestFieldMappingMerge checks a rule reached through two sources with
// different field mappings: each mapping is tried, in source order.
func TestFieldMappingMerge(t *testing.T) {
	t.Parallel()
	m := &Mapping{}
	if err := m.Add("m.yml", []byte(`logsources:
  - {product: p, service: a, when: {input: x}, fields: {User: first}}
  - {product: p, service: b, when: {input: x, kind: b}, fields: {User: [second, third]}}
`)); err != nil {
		t.Fatal(err)
	}
	r := loadOne(t, "title: t\nlogsource: {product: p}\ndetection: {s: {User: bob}, condition: s}\n", LoadOptions{})
	e, err := NewEngine([]*Rule{r}, m)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(kv ...string) *schema.Event { ev := testEvent(kv...); ev.Input = "x"; return ev }
	tests := []struct {
		ev   *schema.Event
		want bool
	}{
		{mk("first", "bob"), true},
		{mk("kind", "b", "third", "bob"), true},
		{mk("kind", "b", "first", "alice", "third", "bob"), false}, // first present wins
		{mk("third", "bob"), false},                                // source b does not apply
		{mk("User", "bob"), false},                                 // mapped fields are not read by their Sigma name
	}
	for i, tc := range tests {
		got := false
		e.Match(tc.ev, func(*Rule) { got = true })
		if got != tc.want {
			t.Errorf("event %d %v: match %v, want %v", i, tc.ev.Fields, got, tc.want)
		}
	}
}

func TestUserMappingAndUnrouted(t *testing.T) {
	t.Parallel()
	r := loadOne(t, "title: t\nlogsource: {product: acme, service: vpn}\ndetection: {s: {action: deny}, condition: s}\n", LoadOptions{})
	m, err := DefaultMapping()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine([]*Rule{r}, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Unrouted()) != 1 {
		t.Fatalf("unrouted = %d, want 1 before the acme mapping is added", len(e.Unrouted()))
	}
	if err := m.Add("acme.yml", []byte("logsources:\n  - {product: acme, service: vpn, when: {event.dataset: acme.vpn}}\n")); err != nil {
		t.Fatal(err)
	}
	if e, err = NewEngine([]*Rule{r}, m); err != nil {
		t.Fatal(err)
	}
	if len(e.Unrouted()) != 0 {
		t.Fatal("rule still unrouted")
	}
	ev := &schema.Event{Event: schema.EventMeta{Dataset: "acme.vpn"}, Fields: schema.Fields{{Key: "action", Value: "DENY"}}}
	hit := 0
	e.Match(ev, func(*Rule) { hit++ })
	if hit != 1 {
		t.Errorf("matches = %d, want 1", hit)
	}
}

func TestMappingErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, want string }{
		{"logsources: [", "m.yml"},
		{"", "empty mapping file"},
		{"other: 1", "needs a logsources list"},
		{"logsources:\n  - {when: {a: b}}", "needs a product, category or service"},
		{"logsources:\n  - {product: x}", "non-empty when map"},
		{"logsources:\n  - {product: x, when: {}}", "non-empty when map"},
		{"logsources:\n  - {product: x, when: {a: {b: c}}}", "when a"},
		{"logsources:\n  - {product: x, when: {a: b}, fields: [x]}", "fields must be a map"},
		{"logsources:\n  - {product: x, when: {a: b}, fields: {A: ''}}", "empty name"},
		{"logsources:\n  - 5", "must be a map"},
	}
	for _, tc := range tests {
		m := &Mapping{}
		err := m.Add("m.yml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
		if len(m.Sources()) != 0 {
			t.Errorf("%q: a failed file added sources", tc.text)
		}
	}
}

func TestNewEngineErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewEngine(nil, nil); err == nil {
		t.Error("nil mapping accepted")
	}
	m := newTestMapping(t)
	if _, err := NewEngine([]*Rule{{Title: "hand-made"}}, m); err == nil {
		t.Error("rule without compiled detection accepted")
	}
}

// readFixtureJSON maps an evtx_dump JSON file of the test data.
func readFixtureJSON(t *testing.T, path string) []schema.Event {
	t.Helper()
	return readJSONEvents(t, path)
}

// TestSigmaHQFixtures runs the SigmaHQ rules and samples kept in testdata
// (they need no shared data): each rule fires on its own sample and on no
// other.
func TestSigmaHQFixtures(t *testing.T) {
	t.Parallel()
	set, errs := LoadDir(os.DirFS("testdata"), "sigmahq", LoadOptions{})
	if len(errs) > 0 || len(set.Rules) != 5 {
		t.Fatalf("rules %d, errors %v", len(set.Rules), errs)
	}
	e := defaultEngine(t, set.Rules...)
	for _, r := range set.Rules {
		sample := strings.TrimSuffix(r.Path, ".yml") + ".json"
		for _, ev := range readFixtureJSON(t, filepath.Join("testdata", sample)) {
			var got []string
			e.Match(&ev, func(m *Rule) { got = append(got, m.Title) })
			if len(got) != 1 || got[0] != r.Title {
				t.Errorf("%s: matched %q, want only %q", sample, got, r.Title)
			}
		}
	}
}

// TestWinlogbeatAndEVTXAlike checks that the same Windows event read from
// a Winlogbeat document and from evtx_dump JSON fires the same rules.
func TestWinlogbeatAndEVTXAlike(t *testing.T) {
	t.Parallel()
	loaded, errs := LoadFile("r.yml", []byte(`title: notepad with a file
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\notepad.exe'
    CommandLine|contains: '.txt'
    ParentImage|endswith: '\explorer.exe'
    IntegrityLevel: Medium
    Hashes|contains: 'MD5=0E61079D3283687D2E279272966AE99D'
  condition: sel
---
title: successful network logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
    LogonType: [3, 10]
  filter:
    TargetUserName|endswith: '$'
  condition: sel and not filter
---
title: explorer anywhere
logsource: {product: windows}
detection:
  keywords: [explorer.exe]
  condition: keywords
`), LoadOptions{})
	rules := loaded.Rules
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := defaultEngine(t, rules...)
	dir := filepath.Join("..", "..", "parse", "winlog", "testdata")
	for _, name := range []string{"sysmon1", "4624", "4625"} {
		wb, err := os.ReadFile(filepath.Join(dir, "winlogbeat_"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var fromWB schema.Event
		if err := winlog.MapWinlogbeat(wb, time.Time{}, &fromWB); err != nil {
			t.Fatal(err)
		}
		fromEVTX := readFixtureJSON(t, filepath.Join(dir, "evtx_"+name+".json"))
		a, b := matchedTitles(e, &fromWB), matchedTitles(e, &fromEVTX[0])
		if a != b {
			t.Errorf("%s: Winlogbeat matched %q, evtx JSON %q", name, a, b)
		}
		t.Logf("%s: %q", name, a)
		if name != "4625" && a == "" {
			t.Errorf("%s: no rule matched", name)
		}
	}
}

func matchedTitles(e *Engine, ev *schema.Event) string {
	var got []string
	e.Match(ev, func(r *Rule) { got = append(got, r.Title) })
	return strings.Join(got, "; ")
}

// TestMatchDoesNotAllocate checks that evaluation allocates nothing once
// the event's route is known.
func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop states, so Match allocates")
	}
	set, errs := LoadDir(os.DirFS("testdata"), "sigmahq", LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := defaultEngine(t, set.Rules...)
	evs := readFixtureJSON(t, filepath.Join("testdata", "sigmahq", "proc_creation_win_amsi_registry_tampering.json"))
	evs = append(evs, readFixtureJSON(t, filepath.Join("testdata", "sigmahq", "win_defender_exploit_redsun_tiering_engine_detected_as_eicar.json"))...)
	n := 0
	fn := func(*Rule) { n++ }
	for i := range evs {
		e.Match(&evs[i], fn) // build the routes
	}
	allocs := testing.AllocsPerRun(200, func() {
		for i := range evs {
			e.Match(&evs[i], fn)
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per call", allocs)
	}
}

// TestMatchConcurrent evaluates from many goroutines at once (run with
// -race) and requires the same results as one goroutine.
func TestMatchConcurrent(t *testing.T) {
	t.Parallel()
	set, errs := LoadDir(os.DirFS("testdata"), "sigmahq", LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := defaultEngine(t, set.Rules...)
	var evs []schema.Event
	for _, r := range set.Rules {
		evs = append(evs, readFixtureJSON(t, filepath.Join("testdata", strings.TrimSuffix(r.Path, ".yml")+".json"))...)
	}
	var wg sync.WaitGroup
	counts := make([]int, 8)
	for g := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				for i := range evs {
					e.Match(&evs[i], func(*Rule) { counts[g]++ })
				}
			}
		}()
	}
	wg.Wait()
	for g, c := range counts {
		if c != 50*len(evs) {
			t.Errorf("goroutine %d: %d matches, want %d", g, c, 50*len(evs))
		}
	}
}

// TestNetworkCategories runs generic dns and proxy rules on Zeek and
// Suricata events through the built-in field mappings.
func TestNetworkCategories(t *testing.T) {
	t.Parallel()
	loaded, errs := LoadFile("n.yml", []byte(`title: evil dns
logsource: {category: dns}
detection: {sel: {query|endswith: '.evil.example'}, condition: sel}
---
title: curl agent
logsource: {category: proxy}
detection: {sel: {c-useragent|startswith: 'curl/', cs-method: POST}, condition: sel}
`), LoadOptions{})
	rules := loaded.Rules
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := defaultEngine(t, rules...)
	zeekDNS := &schema.Event{Event: schema.EventMeta{Module: "zeek", Dataset: "zeek.dns"},
		Fields: schema.Fields{{Key: "query", Value: "c2.EVIL.example"}}}
	suricataDNS := &schema.Event{Event: schema.EventMeta{Module: "suricata", Dataset: "suricata.eve"},
		DNS:    schema.DNS{Question: schema.DNSQuestion{Name: "c2.evil.example"}},
		Fields: schema.Fields{{Key: "event_type", Value: "dns"}}}
	zeekHTTP := &schema.Event{Event: schema.EventMeta{Module: "zeek", Dataset: "zeek.http"},
		Fields: schema.Fields{{Key: "method", Value: "POST"}, {Key: "user_agent", Value: "curl/8.5.0"}}}
	suricataHTTP := &schema.Event{Event: schema.EventMeta{Module: "suricata"},
		Fields: schema.Fields{{Key: "event_type", Value: "http"}, {Key: "http.http_method", Value: "POST"},
			{Key: "http.http_user_agent", Value: "curl/8.5.0"}}}
	benign := &schema.Event{Event: schema.EventMeta{Module: "zeek", Dataset: "zeek.dns"},
		Fields: schema.Fields{{Key: "query", Value: "www.example.org"}}}
	for _, tc := range []struct {
		name string
		ev   *schema.Event
		want string
	}{
		{"zeek dns", zeekDNS, "evil dns"}, {"suricata dns", suricataDNS, "evil dns"},
		{"zeek http", zeekHTTP, "curl agent"}, {"suricata http", suricataHTTP, "curl agent"},
		{"benign", benign, ""},
	} {
		if got := matchedTitles(e, tc.ev); got != tc.want {
			t.Errorf("%s: matched %q, want %q", tc.name, got, tc.want)
		}
	}
}
