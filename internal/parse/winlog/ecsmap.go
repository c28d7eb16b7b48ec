package winlog

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Providers and channels the mapping table names.
const (
	provSecurity = "Microsoft-Windows-Security-Auditing"
	provEventlog = "Microsoft-Windows-Eventlog"
	provSysmon   = "Microsoft-Windows-Sysmon"
	chanSecurity = "Security"
	chanSysmon   = "Microsoft-Windows-Sysmon/Operational"
)

// userSource names the data fields an event's user comes from.
type userSource int

const (
	userNone    userSource = iota
	userTarget             // TargetUserName, TargetDomainName, TargetUserSid
	userSubject            // SubjectUserName, SubjectDomainName, SubjectUserSid
	userSysmon             // User: DOMAIN\name
)

// outcomeSource says how event.outcome is decided.
type outcomeSource int

const (
	outcomeKeywords outcomeSource = iota // audit success/failure keyword bits
	outcomeSuccess
	outcomeFailure
	outcomeStatus // Status 0x0 is success, anything else failure
	outcomeNone
)

// ecsRule is the ECS mapping of one event id of one provider.
type ecsRule struct {
	action   string
	category []string
	typ      []string
	outcome  outcomeSource
	user     userSource
	task     string // numeric task, to read Winlogbeat's task names
	taskName string // the task's name as Winlogbeat renders it
	apply    func(ev *schema.Event, d schema.Fields)
}

// ruleKey keys the mapping table: provider name and event id.
type ruleKey struct{ provider, id string }

// channelInfo describes a channel.
type channelInfo struct {
	dataset, module string
	keywordBit      uint64 // the channel's own keyword bit, set on all its events
}

// channels is read-only after package initialisation.
var channels = map[string]channelInfo{
	chanSecurity:         {"windows.security", "windows", 1 << 63},
	chanSysmon:           {"windows.sysmon_operational", "sysmon", 1 << 63},
	"System":             {"windows.system", "windows", 0},
	"Application":        {"windows.application", "windows", 0},
	"Windows PowerShell": {"windows.powershell", "windows", 0},
	"Microsoft-Windows-PowerShell/Operational": {"windows.powershell_operational", "windows", 0},
	"ForwardedEvents":                          {"windows.forwarded", "windows", 0},
}

// Task categories of the Security auditing provider.
const (
	taskLogon        = "12544"
	taskLogoff       = "12545"
	taskSpecialLogon = "12548"
	taskProcCreate   = "13312"
	taskProcExit     = "13313"
	taskUserMgmt     = "13824"
	taskGroupMgmt    = "13826"
	taskCredVal      = "14336"
	taskKerbTicket   = "14337"
	taskKerbAuth     = "14339"
)

func sec(action, cat, typ string, out outcomeSource, user userSource, task, taskName string,
	apply func(*schema.Event, schema.Fields)) ecsRule {
	return ecsRule{action: action, category: strings.Split(cat, ","), typ: strings.Split(typ, ","),
		outcome: out, user: user, task: task, taskName: taskName, apply: apply}
}

func sysmon(action, cat, typ string, apply func(*schema.Event, schema.Fields)) ecsRule {
	return ecsRule{action: action, category: strings.Split(cat, ","), typ: strings.Split(typ, ","),
		outcome: outcomeNone, user: userSysmon, apply: apply}
}

// rules is the mapping table, keyed by provider and event id. It is
// read-only after package initialisation.
var rules = map[ruleKey]ecsRule{
	{provSecurity, "4624"}: sec("logged-in", "authentication", "start", outcomeSuccess, userTarget, taskLogon, "Logon", applyLogon),
	{provSecurity, "4625"}: sec("logon-failed", "authentication", "start", outcomeFailure, userTarget, taskLogon, "Logon", applyLogon),
	{provSecurity, "4634"}: sec("logged-out", "authentication", "end", outcomeSuccess, userTarget, taskLogoff, "Logoff", nil),
	{provSecurity, "4647"}: sec("logged-out", "authentication", "end", outcomeSuccess, userTarget, taskLogoff, "Logoff", nil),
	{provSecurity, "4648"}: sec("logged-in-explicit", "authentication", "start", outcomeKeywords, userSubject, taskLogon, "Logon", applyLogon),
	{provSecurity, "4672"}: sec("logged-in-special", "iam", "admin", outcomeKeywords, userSubject, taskSpecialLogon, "Special Logon", nil),
	{provSecurity, "4688"}: sec("created-process", "process", "start", outcomeKeywords, userSubject, taskProcCreate, "Process Creation", applyProcCreate4688),
	{provSecurity, "4689"}: sec("exited-process", "process", "end", outcomeKeywords, userSubject, taskProcExit, "Process Termination", applyProcess4689),
	{provSecurity, "4720"}: sec("added-user-account", "iam", "user,creation", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4722"}: sec("enabled-user-account", "iam", "user,change", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4724"}: sec("reset-password", "iam", "user,change", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4725"}: sec("disabled-user-account", "iam", "user,change", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4726"}: sec("deleted-user-account", "iam", "user,deletion", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4728"}: sec("added-member-to-group", "iam", "group,change", outcomeKeywords, userSubject, taskGroupMgmt, "Security Group Management", nil),
	{provSecurity, "4732"}: sec("added-member-to-group", "iam", "group,change", outcomeKeywords, userSubject, taskGroupMgmt, "Security Group Management", nil),
	{provSecurity, "4756"}: sec("added-member-to-group", "iam", "group,change", outcomeKeywords, userSubject, taskGroupMgmt, "Security Group Management", nil),
	{provSecurity, "4738"}: sec("modified-user-account", "iam", "user,change", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4740"}: sec("locked-out-user-account", "iam", "user,change", outcomeKeywords, userTarget, taskUserMgmt, "User Account Management", nil),
	{provSecurity, "4768"}: sec("kerberos-authentication-ticket-requested", "authentication", "start", outcomeStatus, userTarget, taskKerbAuth, "Kerberos Authentication Service", applyLogon),
	{provSecurity, "4769"}: sec("kerberos-service-ticket-requested", "authentication", "start", outcomeStatus, userTarget, taskKerbTicket, "Kerberos Service Ticket Operations", applyLogon),
	{provSecurity, "4771"}: sec("kerberos-preauth-failed", "authentication", "start", outcomeFailure, userTarget, taskKerbAuth, "Kerberos Authentication Service", applyLogon),
	{provSecurity, "4776"}: sec("credential-validated", "authentication", "start", outcomeStatus, userTarget, taskCredVal, "Credential Validation", applyLogon),
	{provEventlog, "1102"}: sec("audit-log-cleared", "iam", "admin,change", outcomeSuccess, userSubject, "104", "Log clear", nil),

	{provSysmon, "1"}:  sysmon("process-created", "process", "start", applySysmonProcess),
	{provSysmon, "3"}:  sysmon("network-connection", "network", "connection,start", applySysmonNetwork),
	{provSysmon, "5"}:  sysmon("process-terminated", "process", "end", nil),
	{provSysmon, "7"}:  sysmon("image-loaded", "process", "change", applySysmonImageLoad),
	{provSysmon, "11"}: sysmon("file-created", "file", "creation", applySysmonFile),
	{provSysmon, "12"}: sysmon("registry-key-created-or-deleted", "registry", "change", nil),
	{provSysmon, "13"}: sysmon("registry-value-set", "registry", "change", nil),
	{provSysmon, "14"}: sysmon("registry-key-renamed", "registry", "change", nil),
	{provSysmon, "15"}: sysmon("file-stream-created", "file", "creation", applySysmonFile),
	{provSysmon, "22"}: sysmon("dns-query", "network", "protocol,info", applySysmonDNS),
	{provSysmon, "23"}: sysmon("file-deleted", "file", "deletion", applySysmonFile),
	{provSysmon, "26"}: sysmon("file-deleted", "file", "deletion", applySysmonFile),
}

// lookupRule returns the mapping of an event, if the table has one.
func lookupRule(provider, id string) (ecsRule, bool) {
	r, ok := rules[ruleKey{provider, id}]
	return r, ok
}

// mapECS sets the ECS fields of ev from its record.
func mapECS(ev *schema.Event, r *winRecord) {
	s := &r.sys
	ev.Event.Kind = "event"
	ev.Event.Code = s[sysEventID]
	ev.Event.Provider = s[sysProvider]
	ev.Log.Logger = s[sysChannel]
	ev.Log.Level = levelName(s[sysLevel])
	ev.Host.Name = s[sysComputer]
	ev.Host.OS = "windows"
	ch := channelOf(s[sysChannel])
	ev.Event.Dataset, ev.Event.Module = ch.dataset, ch.module
	if s[sysProvider] == provSysmon {
		ev.Event.Module = "sysmon"
	}
	ev.User.ID = s[sysUserID]
	rule, ok := lookupRule(s[sysProvider], s[sysEventID])
	if !ok {
		if s[sysProvider] == provSysmon {
			applySysmonCommon(ev, r.data)
			setUser(ev, r.data, userSysmon)
		}
		return
	}
	ev.Event.Action = rule.action
	ev.Event.Category = append([]string(nil), rule.category...)
	ev.Event.Type = append([]string(nil), rule.typ...)
	ev.Event.Outcome = outcome(rule.outcome, s[sysKeywords], r.data)
	if s[sysProvider] == provSysmon {
		applySysmonCommon(ev, r.data)
	}
	setUser(ev, r.data, rule.user)
	if rule.apply != nil {
		rule.apply(ev, r.data)
	}
}

// channelOf returns what is known of a channel, deriving the dataset of an
// unknown one from its name.
func channelOf(name string) channelInfo {
	if c, ok := channels[name]; ok {
		return c
	}
	slug := strings.TrimPrefix(name, "Microsoft-Windows-")
	var b strings.Builder
	underscore := false
	for _, c := range strings.ToLower(slug) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			underscore = false
		} else if !underscore && b.Len() > 0 {
			b.WriteByte('_')
			underscore = true
		}
	}
	ds := strings.TrimSuffix(b.String(), "_")
	if ds == "" {
		return channelInfo{dataset: "windows", module: "windows"}
	}
	return channelInfo{dataset: "windows." + ds, module: "windows"}
}

// levelName is log.level for an event level.
func levelName(level string) string {
	switch level {
	case "":
		return ""
	case "0", "4":
		return "information"
	case "1":
		return "critical"
	case "2":
		return "error"
	case "3":
		return "warning"
	case "5":
		return "verbose"
	}
	return strings.ToLower(level)
}

// Audit keyword bits.
const (
	keywordAuditFailure = 0x10000000000000
	keywordAuditSuccess = 0x20000000000000
)

func outcome(src outcomeSource, keywords string, d schema.Fields) string {
	switch src {
	case outcomeSuccess:
		return "success"
	case outcomeFailure:
		return "failure"
	case outcomeStatus:
		st, _ := d.Get("Status")
		switch strings.ToLower(st) {
		case "":
			return ""
		case "0x0", "0":
			return "success"
		}
		return "failure"
	case outcomeKeywords:
		k, ok := parseHex(keywords)
		switch {
		case !ok:
		case k&keywordAuditFailure != 0:
			return "failure"
		case k&keywordAuditSuccess != 0:
			return "success"
		}
	}
	return ""
}
