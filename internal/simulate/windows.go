package simulate

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"
	"strings"
	"time"
)

// Sysmon records (1 process create, 3 network connection, 22 DNS query)
// and the Windows hosts' background activity.

// proc is a running Windows process as Sysmon identifies it.
type proc struct {
	guid    string
	pid     int
	image   string
	cmdline string
	user    string // DOMAIN\name
	logonID string
	parent  *proc
}

// newProc starts a process on h: it writes Sysmon 1 at at (workstations
// only run Sysmon) and returns the process.
func (w *world) newProc(h *host, at time.Time, image, cmdline, user string, parent *proc) *proc {
	p := &proc{guid: w.guid(), pid: w.pid(h.name), image: image, cmdline: cmdline, user: user, parent: parent}
	p.logonID = w.sessionLogonID(h, user)
	if parent == nil {
		parent = &proc{guid: w.guid(), pid: w.daemonPID(h.name, "userinit"), image: `C:\Windows\System32\userinit.exe`,
			cmdline: `C:\Windows\system32\userinit.exe`, user: user}
	}
	version, desc, product, company, original := fileInfo(image)
	w.win(h, at, 1, eventData{
		{"RuleName", "-"}, {"UtcTime", utcTime(at)}, {"ProcessGuid", p.guid}, {"ProcessId", strconv.Itoa(p.pid)},
		{"Image", image}, {"FileVersion", version}, {"Description", desc}, {"Product", product},
		{"Company", company}, {"OriginalFileName", original}, {"CommandLine", cmdline},
		{"CurrentDirectory", `C:\Users\` + userName(user) + `\`}, {"User", user},
		{"LogonGuid", w.guid()}, {"LogonId", p.logonID}, {"TerminalSessionId", "1"}, {"IntegrityLevel", "Medium"},
		{"Hashes", hashesOf(image)}, {"ParentProcessGuid", parent.guid}, {"ParentProcessId", strconv.Itoa(parent.pid)},
		{"ParentImage", parent.image}, {"ParentCommandLine", parent.cmdline}, {"ParentUser", parent.user},
	}, false)
	return p
}

// sessionLogonID returns the logon id of user's desktop session on h.
func (w *world) sessionLogonID(h *host, user string) string {
	return "0x" + strconv.FormatInt(int64(w.daemonPID(h.name, "logon "+user))*97, 16)
}

// connect writes Sysmon 3 for p connecting from h to ip:port over TCP.
func (w *world) connect(h *host, at time.Time, p *proc, ip string, port int) {
	portName := map[int]string{443: "https", 80: "http", 445: "microsoft-ds"}[port]
	if portName == "" {
		portName = "-"
	}
	w.win(h, at, 3, eventData{
		{"RuleName", "-"}, {"UtcTime", utcTime(at)}, {"ProcessGuid", p.guid}, {"ProcessId", strconv.Itoa(p.pid)},
		{"Image", p.image}, {"User", p.user}, {"Protocol", "tcp"}, {"Initiated", "true"},
		{"SourceIsIpv6", "false"}, {"SourceIp", h.ip}, {"SourceHostname", strings.ToUpper(h.name) + "." + dnsDomain},
		{"SourcePort", strconv.Itoa(w.port())}, {"SourcePortName", "-"}, {"DestinationIsIpv6", "false"},
		{"DestinationIp", ip}, {"DestinationHostname", "-"}, {"DestinationPort", strconv.Itoa(port)},
		{"DestinationPortName", portName},
	}, false)
}

// resolve writes Sysmon 22 for p looking up name, answered with ip.
func (w *world) resolve(h *host, at time.Time, p *proc, name, ip string) {
	w.win(h, at, 22, eventData{
		{"RuleName", "-"}, {"UtcTime", utcTime(at)}, {"ProcessGuid", p.guid}, {"ProcessId", strconv.Itoa(p.pid)},
		{"QueryName", name}, {"QueryStatus", "0"}, {"QueryResults", "::ffff:" + ip + ";"},
		{"Image", p.image}, {"User", p.user},
	}, false)
}

// utcTime is Sysmon's UtcTime format.
func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

func userName(user string) string {
	_, name, _ := strings.Cut(user, `\`)
	return name
}

// fileInfo returns the version resource Sysmon reports for an image.
func fileInfo(image string) (version, desc, product, company, original string) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(image, `\`, "/")))
	const office, msft, win = "16.0.17029.20108", "Microsoft Corporation", "Microsoft® Windows® Operating System"
	switch base {
	case "chrome.exe":
		return "120.0.6099.130", "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe"
	case "outlook.exe":
		return office, "Microsoft Outlook", "Microsoft Outlook", msft, "Outlook.exe"
	case "winword.exe":
		return office, "Microsoft Word", "Microsoft Office", msft, "WinWord.exe"
	case "excel.exe":
		return office, "Microsoft Excel", "Microsoft Office", msft, "Excel.exe"
	case "powershell.exe":
		return "10.0.19041.3996 (WinBuild.160101.0800)", "Windows PowerShell", win, msft, "PowerShell.EXE"
	}
	return "10.0.19041.4291 (WinBuild.160101.0800)", strings.TrimSuffix(base, ".exe"), win, msft, base
}

// hashesOf returns stable Sysmon Hashes for an image.
func hashesOf(image string) string {
	s := sha256.Sum256([]byte(strings.ToLower(image)))
	m := md5.Sum([]byte(strings.ToLower(image)))
	return "SHA256=" + strings.ToUpper(hex.EncodeToString(s[:])) + ",IMPHASH=" + strings.ToUpper(hex.EncodeToString(m[:]))
}

// scheduleWindows starts the Windows hosts' background activity.
func (w *world) scheduleWindows(start time.Time) {
	for _, a := range []activity{
		{"desktop-logon", 6, officeLoad, func(at time.Time) { w.desktopLogon(at, false) }},
		{"desktop-typo", 0.7, officeLoad, func(at time.Time) { w.desktopLogon(at, true) }},
		{"fileshare", 30, officeLoad, func(at time.Time) { w.networkLogon(at, "fs-01") }},
		{"dc-logon", 20, officeLoad, func(at time.Time) { w.networkLogon(at, "dc-01") }},
		{"admin-rdp", 0.5, officeLoad, w.adminRDP},
		{"server-process", 12, always, w.serverProcess},
		{"ws-process", 30, officeLoad, w.workstationProcess},
		{"ws-browse", 50, officeLoad, w.browse},
	} {
		w.poisson(a, start)
	}
}

// workstation picks a workstation and its owner's account.
func (w *world) workstation() (*host, account) {
	h := pick(w, w.co.hostsWhere(func(h *host) bool { return h.role == "workstation" }))
	return h, w.domainAccount(h.owner)
}

// desktopLogon is a user sitting down at their workstation: an
// interactive logon (after a typo with typo), a Kerberos logon at the
// domain controller, and the logoff hours later.
func (w *world) desktopLogon(at time.Time, typo bool) {
	h, acct := w.workstation()
	l := logon{acct: acct, typ: 2, wks: strings.ToUpper(h.name), id: w.newLogonID()}
	if typo {
		w.logonFail(h, at, l, subBadPassword)
		at = at.Add(w.between(4*time.Second, 15*time.Second))
	}
	w.logonOK(h, at, l)
	dc := w.co.host("dc-01")
	k := logon{acct: acct, typ: 3, ip: h.ip, port: w.port(), wks: "-", id: w.newLogonID()}
	w.logonOK(dc, at.Add(300*time.Millisecond), k)
	w.logoff(dc, at.Add(w.between(2*time.Second, 8*time.Second)), k)
	w.logoff(h, at.Add(w.between(time.Hour, 8*time.Hour)), l)
}

// networkLogon is a workstation user reaching a server (a share, LDAP).
func (w *world) networkLogon(at time.Time, server string) {
	ws, acct := w.workstation()
	h := w.co.host(server)
	l := logon{acct: acct, typ: 3, ip: ws.ip, port: w.port(), wks: "-", id: w.newLogonID()}
	w.logonOK(h, at, l)
	w.logoff(h, at.Add(w.between(time.Second, 90*time.Second)), l)
}

// adminRDP is an administrator working on a server over RDP.
func (w *world) adminRDP(at time.Time) {
	who := pick(w, []string{"alice", "bob"})
	from := w.co.host(map[string]string{"alice": "ws-01", "bob": "ws-02"}[who])
	h := w.co.host(pick(w, []string{"dc-01", "fs-01"}))
	l := logon{acct: w.domainAccount(w.co.person(who).adm), typ: 10, ip: from.ip,
		wks: strings.ToUpper(from.name), id: w.newLogonID()}
	w.logonOK(h, at, l)
	w.logoff(h, at.Add(w.between(10*time.Minute, 40*time.Minute)), l)
}

func (w *world) serverProcess(at time.Time) {
	h := w.co.host(pick(w, []string{"dc-01", "fs-01"}))
	w.processCreated(h, at, pick(w, w.co.srvProcesses))
}

// weightedProcess picks a workstation program by weight.
func (w *world) weightedProcess() process {
	total := 0
	for _, p := range w.co.wsProcesses {
		total += p.weight
	}
	n := w.rng.IntN(total)
	for _, p := range w.co.wsProcesses {
		if n -= p.weight; n < 0 {
			return p
		}
	}
	return w.co.wsProcesses[0]
}

// explorer returns the desktop shell of a workstation's owner, starting
// it when it is not running yet.
func (w *world) explorer(h *host, at time.Time) *proc {
	k := h.name + "|explorer"
	if p := w.procs[k]; p != nil {
		return p
	}
	user := netbiosDomain + `\` + h.owner
	p := w.newProc(h, at, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, user, nil)
	w.procs[k] = p
	return p
}

func (w *world) workstationProcess(at time.Time) {
	h, _ := w.workstation()
	sp := w.weightedProcess()
	parent := w.explorer(h, at)
	user := parent.user
	if !strings.HasSuffix(sp.parent, "explorer.exe") {
		parent = &proc{guid: w.guid(), pid: w.daemonPID(h.name, sp.parent), image: sp.parent,
			cmdline: sp.parent, user: `NT AUTHORITY\SYSTEM`}
		user = `NT AUTHORITY\SYSTEM`
	}
	p := w.newProc(h, at.Add(time.Millisecond), sp.image, sp.cmdline, user, parent)
	base := strings.ToLower(path.Base(strings.ReplaceAll(sp.image, `\`, "/")))
	if base == "chrome.exe" || base == "outlook.exe" {
		w.procs[h.name+"|"+base] = p
	}
}

// browse is a browser or mail client on a workstation looking a site up
// and connecting to it.
func (w *world) browse(at time.Time) {
	h, _ := w.workstation()
	app := pick(w, []string{"chrome.exe", "chrome.exe", "outlook.exe"})
	p := w.procs[h.name+"|"+app]
	if p == nil {
		image := `C:\Program Files\Google\Chrome\Application\chrome.exe`
		if app == "outlook.exe" {
			image = `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`
		}
		ex := w.explorer(h, at)
		p = w.newProc(h, at, image, `"`+image+`"`, ex.user, ex)
		w.procs[h.name+"|"+app] = p
	}
	site := pick(w, w.co.webSites)
	w.resolve(h, at.Add(5*time.Millisecond), p, site.name, site.ip)
	w.connect(h, at.Add(40*time.Millisecond), p, site.ip, 443)
}
