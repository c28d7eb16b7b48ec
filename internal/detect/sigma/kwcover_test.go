package sigma

import (
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// TestKeywordCoverage checks keyword rules on events where the keyword is
// in a field a field group covers (so only the group's scan or memo finds
// it), in a field no group reads, in the message only, in the second of two
// fields of one name (which no group reads), and nowhere, with and without
// the prefilter, over many events so that the memo replays covered values.
func TestKeywordCoverage(t *testing.T) {
	t.Parallel()
	rules := []*Rule{
		loadOne(t, ruleYAML("keywords:\n  - 'sekurlsa::'\n  - 'kerberos::golden'\ncondition: keywords"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  Image|endswith: '\\cmd.exe'\n  CommandLine|contains: ' /c '\ncondition: sel"), LoadOptions{}),
		loadOne(t, ruleYAML("sel:\n  CommandLine|contains: 'whoami'\nkw:\n  - 'lsadump::sam'\ncondition: sel and kw"), LoadOptions{}),
	}
	fast, naive := fastAndNaive(t, rules, newTestMapping(t))
	events := []*schema.Event{
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "CommandLine", "m.exe sekurlsa::logonpasswords"),
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "CommandLine", "m.exe whoami lsadump::sam"),
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "CommandLine", "whoami", "Other", "lsadump::sam"),
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "Unread", "x kerberos::golden y"),
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "message", "ran SEKURLSA::LOGONPASSWORDS"),
		testEvent("EventID", "1", "CommandLine", "plain", "CommandLine", "second sekurlsa:: copy"),
		testEvent("EventID", "1", "Image", `C:\Windows\cmd.exe`, "CommandLine", "cmd /c echo"),
		testEvent("EventID", "1", "Image", "\u212aERBEROS::GOLDEN", "CommandLine", "benign"),
		testEvent("EventID", "1", "Image", `C:\Tools\m.exe`, "CommandLine", "nothing here", "message", "sekurl"+"sa:"),
		testEvent("EventID", "1", "CommandLine", "kerberos:", "Other", ":golden", "message", "kerberos:\n:golden"),
	}
	for round := range 3 {
		for i, ev := range events {
			var a, b []string
			fast.Match(ev, func(r *Rule) { a = append(a, r.Title) })
			naive.Match(ev, func(r *Rule) { b = append(b, r.Title) })
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("round %d, event %d %v (message %q): prefilter matched %v, every rule %v",
					round, i, ev.Fields, ev.Message, a, b)
			}
			if round == 0 && i < 5 && len(a) == 0 {
				t.Errorf("event %d %v: no rule matched", i, ev.Fields)
			}
		}
	}
}
