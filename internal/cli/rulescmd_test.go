package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testRule = `title: Whoami Privileges
id: 99999999-2222-3333-4444-555555555555
status: test
level: medium
logsource: {category: process_creation, product: windows}
detection:
  selection: {Image|endswith: '\whoami.exe', CommandLine|contains: '/priv'}
  condition: selection
`

func winlogbeatDoc(image, cmd string) string {
	esc := func(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }
	return `{"@timestamp":"2026-11-19T10:00:00Z","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1",` +
		`"provider_name":"Microsoft-Windows-Sysmon","computer_name":"ws-01","event_data":{"Image":"` + esc(image) +
		`","CommandLine":"` + esc(cmd) + `"}}}` + "\n"
}

func TestRulesTestHarness(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ruleDir := filepath.Join(dir, "rules")
	_ = os.Mkdir(ruleDir, 0o755)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(ruleDir, "whoami.yml"), []byte(testRule), 0o644))
	events := filepath.Join(dir, "events.ndjson")
	must(os.WriteFile(events, []byte(winlogbeatDoc(`C:\Windows\System32\whoami.exe`, "whoami /all")+
		winlogbeatDoc(`C:\Windows\System32\whoami.exe`, "whoami /priv")), 0o644))
	expect := filepath.Join(dir, "expect.yml")
	must(os.WriteFile(expect, []byte("99999999-2222-3333-4444-555555555555: 1\n"), 0o644))

	env, out, errb := testEnv(nil)
	if code := run(t, env, "rules", "test", "--rules", ruleDir, "--events", events, "--expect", expect, "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if got := strings.TrimSpace(out.String()); !strings.Contains(got, `"rule_id":"99999999-2222-3333-4444-555555555555"`) ||
		!strings.Contains(got, `"event":1`) || strings.Count(got, "\n") != 0 {
		t.Fatalf("output %q", got)
	}
	must(os.WriteFile(expect, []byte("Whoami Privileges: 2\n"), 0o644))
	env, _, errb = testEnv(nil)
	if code := run(t, env, "rules", "test", "--rules", ruleDir, "--events", events, "--expect", expect); code != 1 ||
		!strings.Contains(errb.String(), "FAIL Whoami Privileges: 1 match(es), expected 2") {
		t.Fatalf("a wrong expectation must fail: exit %d %s", code, errb)
	}
}

func TestRulesLintNamesFileAndLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.yml"), []byte(testRule), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(testRule, "condition: selection", "condition: selection and nothere", 1)
	if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, _ := testEnv(nil)
	if code := run(t, env, "rules", "lint", "--rules", dir, "--json=false"); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), "bad.yml:") || !strings.Contains(out.String(), "nothere") {
		t.Fatalf("lint output %q", out)
	}
	env, out, _ = testEnv(nil)
	if code := run(t, env, "rules", "list", "--rules", dir, "--json"); code != 0 || !strings.Contains(out.String(), "Whoami Privileges") {
		t.Fatalf("list: %q", out)
	}
}
