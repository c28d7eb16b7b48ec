package simulate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows Security log records (4624, 4625, 4634, 4672, 4688, 4720,
// 4722, 4732) with the event_data fields Windows Server 2022 and Windows
// 10 write.

// account is a Windows account as events name it.
type account struct{ name, domain, sid string }

// domainAccount returns a domain account of the company; names it does
// not know get the null SID, as failed logons show them.
func (w *world) domainAccount(name string) account {
	if p := w.co.person(name); p != nil {
		return account{name, netbiosDomain, fmt.Sprintf("%s-%d", domainSID, p.rid)}
	}
	if rid, ok := w.co.adminRIDs[name]; ok {
		return account{name, netbiosDomain, fmt.Sprintf("%s-%d", domainSID, rid)}
	}
	return account{name, netbiosDomain, "S-1-0-0"}
}

// machineAccount is the computer account that reports interactive logons.
func machineAccount(h *host) account {
	return account{strings.ToUpper(h.name) + "$", netbiosDomain, "S-1-5-18"}
}

// logon describes one logon session for 4624/4625/4634/4672.
type logon struct {
	acct account
	typ  int    // LogonType: 2 interactive, 3 network, 10 remote interactive
	ip   string // client address ("" for a local logon)
	port int
	wks  string // WorkstationName
	ntlm bool   // a network logon by NTLM instead of Kerberos
	id   string // TargetLogonId
}

const privileges = "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\t" +
	"SeDebugPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeImpersonatePrivilege\n\t\t\t" +
	"SeDelegateSessionUserImpersonatePrivilege\n\t\t\tSeEnableDelegationPrivilege"

// logonCommon returns the subject, process and package fields that
// depend on the logon type, in the order 4624 and 4625 share.
func (w *world) logonCommon(h *host, l logon) (subj account, subjLogon, lproc, pkg, procID, procName, ip, port string) {
	subj, subjLogon = account{"-", "-", "S-1-0-0"}, "0x0"
	lproc, pkg, procID, procName = "Kerberos", "Kerberos", "0x0", "-"
	ip, port = l.ip, strconv.Itoa(l.port)
	switch {
	case l.typ == 2 || l.typ == 10:
		subj, subjLogon = machineAccount(h), "0x3e7"
		lproc, pkg = "User32 ", "Negotiate"
		procID, procName = "0x"+strconv.FormatInt(int64(400+len(h.name)*4), 16), `C:\Windows\System32\svchost.exe`
		if l.typ == 2 {
			ip, port = "127.0.0.1", "0"
		}
	case l.ntlm:
		lproc, pkg = "NtLmSsp ", "NTLM"
	}
	return
}

// logonOK writes 4624, and 4672 for an administrator.
func (w *world) logonOK(h *host, at time.Time, l logon) {
	subj, subjLogon, lproc, pkg, procID, procName, ip, port := w.logonCommon(h, l)
	guid, lm, key := "{00000000-0000-0000-0000-000000000000}", "-", "0"
	if pkg == "Kerberos" {
		guid = w.guid()
	}
	if l.ntlm {
		lm, key = "NTLM V2", "128"
	}
	_, admin := w.co.adminRIDs[l.acct.name]
	elevated, restricted := "%%1843", "-"
	if admin {
		elevated = "%%1842"
	}
	if l.typ == 10 {
		restricted = "%%1843"
	}
	w.win(h, at, 4624, eventData{
		{"SubjectUserSid", subj.sid}, {"SubjectUserName", subj.name}, {"SubjectDomainName", subj.domain},
		{"SubjectLogonId", subjLogon}, {"TargetUserSid", l.acct.sid}, {"TargetUserName", l.acct.name},
		{"TargetDomainName", l.acct.domain}, {"TargetLogonId", l.id}, {"LogonType", strconv.Itoa(l.typ)},
		{"LogonProcessName", lproc}, {"AuthenticationPackageName", pkg}, {"WorkstationName", l.wks},
		{"LogonGuid", guid}, {"TransmittedServices", "-"}, {"LmPackageName", lm}, {"KeyLength", key},
		{"ProcessId", procID}, {"ProcessName", procName}, {"IpAddress", ip}, {"IpPort", port},
		{"ImpersonationLevel", "%%1833"}, {"RestrictedAdminMode", restricted}, {"TargetOutboundUserName", "-"},
		{"TargetOutboundDomainName", "-"}, {"VirtualAccount", "%%1843"}, {"TargetLinkedLogonId", "0x0"},
		{"ElevatedToken", elevated},
	}, false)
	if admin {
		w.win(h, at, 4672, eventData{{"SubjectUserSid", l.acct.sid}, {"SubjectUserName", l.acct.name},
			{"SubjectDomainName", l.acct.domain}, {"SubjectLogonId", l.id}, {"PrivilegeList", privileges}}, false)
	}
}

// Failed logon sub-statuses.
const (
	subBadPassword = "0xc000006a"
	subNoSuchUser  = "0xc0000064"
)

// logonFail writes 4625 with sub-status sub.
func (w *world) logonFail(h *host, at time.Time, l logon, sub string) {
	subj, subjLogon, lproc, pkg, procID, procName, ip, port := w.logonCommon(h, l)
	if l.typ == 3 {
		lproc, pkg = "NtLmSsp ", "NTLM"
	}
	w.win(h, at, 4625, eventData{
		{"SubjectUserSid", subj.sid}, {"SubjectUserName", subj.name}, {"SubjectDomainName", subj.domain},
		{"SubjectLogonId", subjLogon}, {"TargetUserSid", "S-1-0-0"}, {"TargetUserName", l.acct.name},
		{"TargetDomainName", l.acct.domain}, {"Status", "0xc000006d"}, {"FailureReason", "%%2313"},
		{"SubStatus", sub}, {"LogonType", strconv.Itoa(l.typ)}, {"LogonProcessName", lproc},
		{"AuthenticationPackageName", pkg}, {"WorkstationName", l.wks}, {"TransmittedServices", "-"},
		{"LmPackageName", "-"}, {"KeyLength", "0"}, {"ProcessId", procID}, {"ProcessName", procName},
		{"IpAddress", ip}, {"IpPort", port},
	}, true)
}

// logoff writes 4634 at t.
func (w *world) logoff(h *host, t time.Time, l logon) {
	w.win(h, t, 4634, eventData{{"TargetUserSid", l.acct.sid}, {"TargetUserName", l.acct.name},
		{"TargetDomainName", l.acct.domain}, {"TargetLogonId", l.id}, {"LogonType", strconv.Itoa(l.typ)}}, false)
}

// processCreated writes 4688 on a server for a process SYSTEM started.
func (w *world) processCreated(h *host, at time.Time, p process) {
	m := machineAccount(h)
	w.win(h, at, 4688, eventData{
		{"SubjectUserSid", m.sid}, {"SubjectUserName", m.name}, {"SubjectDomainName", m.domain},
		{"SubjectLogonId", "0x3e7"}, {"NewProcessId", hexPID(w.pid(h.name))}, {"NewProcessName", p.image},
		{"TokenElevationType", "%%1936"}, {"ProcessId", hexPID(w.daemonPID(h.name, p.parent))},
		{"CommandLine", p.cmdline}, {"TargetUserSid", "S-1-0-0"}, {"TargetUserName", "-"},
		{"TargetDomainName", "-"}, {"TargetLogonId", "0x0"}, {"ParentProcessName", p.parent},
		{"MandatoryLabel", "S-1-16-16384"},
	}, false)
}

// localUserCreated writes 4720 and 4722 for a new local account on h,
// created by subj in logon session subjLogon; it returns the new SID.
func (w *world) localUserCreated(h *host, at time.Time, subj account, subjLogon, name string) string {
	sid := fmt.Sprintf("S-1-5-21-1987316744-2360584452-3012781290-%d", 1000+w.rng.IntN(20))
	dom := strings.ToUpper(h.name)
	subject := eventData{{"SubjectUserSid", subj.sid}, {"SubjectUserName", subj.name},
		{"SubjectDomainName", subj.domain}, {"SubjectLogonId", subjLogon}}
	data := append(eventData{{"TargetUserName", name}, {"TargetDomainName", dom}, {"TargetSid", sid}}, subject...)
	data = append(data, eventData{{"PrivilegeList", "-"}, {"SamAccountName", name}, {"DisplayName", "%%1793"},
		{"UserPrincipalName", "-"}, {"HomeDirectory", "%%1793"}, {"HomePath", "%%1793"}, {"ScriptPath", "%%1793"},
		{"ProfilePath", "%%1793"}, {"UserWorkstations", "%%1793"}, {"PasswordLastSet", "%%1794"},
		{"AccountExpires", "%%1794"}, {"PrimaryGroupId", "513"}, {"AllowedToDelegateTo", "-"},
		{"OldUacValue", "0x0"}, {"NewUacValue", "0x15"}, {"UserAccountControl", "\n\t\t%%2080\n\t\t%%2082\n\t\t%%2084"},
		{"UserParameters", "%%1793"}, {"SidHistory", "-"}, {"LogonHours", "%%1797"}}...)
	w.win(h, at, 4720, data, false)
	enabled := append(eventData{{"TargetUserName", name}, {"TargetDomainName", dom}, {"TargetSid", sid}}, subject...)
	w.win(h, at.Add(15*time.Millisecond), 4722, enabled, false)
	return sid
}

// addedToAdministrators writes 4732 for member sid joining the local
// Administrators group of h.
func (w *world) addedToAdministrators(h *host, at time.Time, subj account, subjLogon, memberSID string) {
	w.win(h, at, 4732, eventData{{"MemberName", "-"}, {"MemberSid", memberSID}, {"TargetUserName", "Administrators"},
		{"TargetDomainName", "Builtin"}, {"TargetSid", "S-1-5-32-544"}, {"SubjectUserSid", subj.sid},
		{"SubjectUserName", subj.name}, {"SubjectDomainName", subj.domain}, {"SubjectLogonId", subjLogon},
		{"PrivilegeList", "-"}}, false)
}

// hexPID renders a process id as the Security log does.
func hexPID(pid int) string { return "0x" + strconv.FormatInt(int64(pid), 16) }

// guid returns a random GUID in braces.
func (w *world) guid() string {
	return fmt.Sprintf("{%08x-%04x-%04x-%04x-%012x}", w.rng.Uint32(), w.rng.IntN(1<<16), w.rng.IntN(1<<16),
		w.rng.IntN(1<<16), w.rng.Uint64N(1<<48))
}
