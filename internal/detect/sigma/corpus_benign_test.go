package sigma

import (
	"fmt"
	"strings"
)

// Everyday Windows activity for the benchmark corpus.

const (
	sysmonChannel  = "Microsoft-Windows-Sysmon/Operational"
	sysmonProvider = "Microsoft-Windows-Sysmon"
	secProvider    = "Microsoft-Windows-Security-Auditing"
)

// procTemplate is a program as it is started on a Windows host.
type procTemplate struct {
	image, cmd, parent, parentCmd string
	ofn, desc, product, company   string
	system                        bool // runs as SYSTEM in session 0
}

const (
	msWin  = "Microsoft® Windows® Operating System"
	msCorp = "Microsoft Corporation"
	sys32  = `C:\Windows\System32\`
)

// benignProcs() are everyday programs, their command lines and parents.
func benignProcs() []procTemplate {
	return []procTemplate{
		{sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s Schedule", sys32 + "services.exe", sys32 + "services.exe", "svchost.exe", "Host Process for Windows Services", msWin, msCorp, true},
		{sys32 + "svchost.exe", sys32 + "svchost.exe -k LocalServiceNetworkRestricted -p -s EventLog", sys32 + "services.exe", sys32 + "services.exe", "svchost.exe", "Host Process for Windows Services", msWin, msCorp, true},
		{sys32 + "svchost.exe", sys32 + "svchost.exe -k wsappx -p -s AppXSvc", sys32 + "services.exe", sys32 + "services.exe", "svchost.exe", "Host Process for Windows Services", msWin, msCorp, true},
		{sys32 + "conhost.exe", `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "CONHOST.EXE", "Console Window Host", msWin, msCorp, false},
		{sys32 + "RuntimeBroker.exe", sys32 + "RuntimeBroker.exe -Embedding", sys32 + "svchost.exe", sys32 + "svchost.exe -k DcomLaunch -p", "RuntimeBroker.exe", "Runtime Broker", msWin, msCorp, false},
		{sys32 + "taskhostw.exe", "taskhostw.exe {hex}", sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s Schedule", "taskhostw.exe", "Host Process for Windows Tasks", msWin, msCorp, false},
		{sys32 + "backgroundTaskHost.exe", `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider`, sys32 + "svchost.exe", sys32 + "svchost.exe -k DcomLaunch -p", "backgroundTaskHost.exe", "Background Task Host", msWin, msCorp, false},
		{sys32 + "SearchProtocolHost.exe", `"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe{n}_ Global\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon"`, sys32 + "SearchIndexer.exe", sys32 + "SearchIndexer.exe /Embedding", "SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host", msWin, msCorp, true},
		{sys32 + "dllhost.exe", sys32 + "DllHost.exe /Processid:{guid}", sys32 + "svchost.exe", sys32 + "svchost.exe -k DcomLaunch -p", "dllhost.exe", "COM Surrogate", msWin, msCorp, false},
		{sys32 + "wbem\\WmiPrvSE.exe", sys32 + "wbem\\wmiprvse.exe -secured -Embedding", sys32 + "svchost.exe", sys32 + "svchost.exe -k DcomLaunch -p", "Wmiprvse.exe", "WMI Provider Host", msWin, msCorp, true},
		{sys32 + "notepad.exe", `"C:\Windows\system32\notepad.exe" C:\Users\{user}\Documents\{doc}.txt`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "NOTEPAD.EXE", "Notepad", msWin, msCorp, false},
		{sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "Cmd.Exe", "Windows Command Processor", msWin, msCorp, false},
		{sys32 + "cmd.exe", `C:\Windows\system32\cmd.exe /c ""C:\Program Files\Git\cmd\git.exe" status --porcelain"`, `C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe`, `"C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe"`, "Cmd.Exe", "Windows Command Processor", msWin, msCorp, false},
		{`C:\Program Files\Git\cmd\git.exe`, `"C:\Program Files\Git\cmd\git.exe" fetch --all --prune`, `C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe`, `"C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe" --type=utility`, "git.exe", "Git for Windows", "Git", "The Git Development Community", false},
		{`C:\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id={n} --time-ticks-at-unix-epoch=-{n} --launch-time-ticks={n} --field-trial-handle=1900,i,{n},{n},262144 --variations-seed-version /prefetch:1`, `C:\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe"`, "chrome.exe", "Google Chrome", "Google Chrome", "Google LLC", false},
		{`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle=2176 --field-trial-handle=2020,i,{n},{n},262144 /prefetch:3`, `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --profile-directory=Default`, "msedge.exe", "Microsoft Edge", "Microsoft Edge", msCorp, false},
		{`C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" `, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "Outlook.exe", "Microsoft Outlook", "Microsoft Outlook", msCorp, false},
		{`C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" "C:\Users\{user}\OneDrive - Example Corp\{doc}.xlsx"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "Excel.exe", "Microsoft Excel", "Microsoft Office", msCorp, false},
		{`C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\{user}\Documents\{doc}.docx" /o ""`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "WinWord.exe", "Microsoft Word", "Microsoft Office", msCorp, false},
		{`C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe`, `"C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "OneDrive.exe", "Microsoft OneDrive", "Microsoft OneDrive", msCorp, false},
		{`C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe`, `"C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe" --type=renderer --autoplay-policy=no-user-gesture-required --field-trial-handle=2048,{n} /prefetch:1`, `C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe`, `"C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe"`, "Teams.exe", "Microsoft Teams", "Microsoft Teams", msCorp, false},
		{`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe`, `"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe"`, sys32 + "services.exe", sys32 + "services.exe", "MsMpEng.exe", "Antimalware Service Executable", msWin, msCorp, true},
		{`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe`, `"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate`, sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s Schedule", "MpCmdRun.exe", "Microsoft Malware Protection Command Line Utility", msWin, msCorp, true},
		{sys32 + "wuauclt.exe", `"C:\Windows\system32\wuauclt.exe" /RunHandlerComServer`, sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s wuauserv", "wuauclt.exe", "Windows Update", msWin, msCorp, true},
		{sys32 + "msiexec.exe", sys32 + "MsiExec.exe -Embedding {hex} C", sys32 + "msiexec.exe", sys32 + "msiexec.exe /V", "msiexec.exe", "Windows® installer", msWin, msCorp, true},
		{sys32 + "consent.exe", "consent.exe {n} 346 000001B2{hex}", sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s Appinfo", "consent.exe", "Consent UI for administrative applications", msWin, msCorp, true},
		{sys32 + "WindowsPowerShell\\v1.0\\powershell.exe", `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -File "C:\Users\{user}\scripts\sync-calendar.ps1"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "PowerShell.EXE", "Windows PowerShell", msWin, msCorp, false},
		{`C:\Program Files\Python312\python.exe`, `"C:\Program Files\Python312\python.exe" -m pytest tests\ -q`, sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "python.exe", "Python", "Python", "Python Software Foundation", false},
		{`C:\Program Files\nodejs\node.exe`, `"C:\Program Files\nodejs\node.exe" "C:\Users\{user}\src\web\node_modules\.bin\..\vite\bin\vite.js" build`, sys32 + "cmd.exe", `C:\Windows\system32\cmd.exe /d /s /c "vite build"`, "node.exe", "Node.js JavaScript Runtime", "Node.js", "Node.js", false},
		{`C:\Program Files\7-Zip\7zFM.exe`, `"C:\Program Files\7-Zip\7zFM.exe" "C:\Users\{user}\Downloads\{doc}.zip"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "7zFM.exe", "7-Zip File Manager", "7-Zip", "Igor Pavlov", false},
		{`C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe`, `"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe" "C:\Users\{user}\Downloads\{doc}.pdf"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, "Acrobat.exe", "Adobe Acrobat", "Adobe Acrobat", "Adobe Inc.", false},
		{`C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe`, `"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe" -sMSSQLSERVER`, sys32 + "services.exe", sys32 + "services.exe", "sqlservr.exe", "SQL Server Windows NT - 64 Bit", "Microsoft SQL Server", msCorp, true},
		{sys32 + "gpupdate.exe", "gpupdate.exe /target:computer", sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s gpsvc", "GPUpdate.exe", "Microsoft® Windows Group Policy Update Utility", msWin, msCorp, true},
		{sys32 + "sppsvc.exe", sys32 + "sppsvc.exe", sys32 + "services.exe", sys32 + "services.exe", "sppsvc.exe", "Microsoft Software Protection Platform Service", msWin, msCorp, true},
		{sys32 + "smartscreen.exe", sys32 + "smartscreen.exe -Embedding", sys32 + "svchost.exe", sys32 + "svchost.exe -k DcomLaunch -p", "smartscreen.exe", "Windows Defender SmartScreen", msWin, msCorp, false},
		{sys32 + "ctfmon.exe", `"ctfmon.exe"`, sys32 + "svchost.exe", sys32 + "svchost.exe -k netsvcs -p -s TabletInputService", "CTFMON.EXE", "CTF Loader", msWin, msCorp, false},
		{`C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, sys32 + "userinit.exe", sys32 + "userinit.exe", "EXPLORER.EXE", "Windows Explorer", msWin, msCorp, false},
		{sys32 + "ipconfig.exe", "ipconfig /all", sys32 + "cmd.exe", `"C:\Windows\system32\cmd.exe"`, "ipconfig.exe", "IP Configuration Utility", msWin, msCorp, false},
		{`C:\Program Files\Java\jdk-21\bin\java.exe`, `"C:\Program Files\Java\jdk-21\bin\java.exe" -Xmx2g -jar C:\Tools\build-agent\agent.jar --config C:\Tools\build-agent\agent.yml`, sys32 + "services.exe", sys32 + "services.exe", "java.exe", "OpenJDK Platform binary", "OpenJDK Platform 21", "Oracle Corporation", true},
	}
}

// benign returns one everyday event, by a fixed mix of kinds.
func (g *corpusGen) benign() *winDoc {
	switch k := g.r.IntN(100); {
	case k < 18:
		return g.sysmonProcess(pick(g, benignProcs()))
	case k < 30:
		return g.sysmonNetwork()
	case k < 45:
		return g.sysmonImageLoad()
	case k < 50:
		return g.sysmonAccess(pick(g, benignProcs()).image, `C:\Windows\system32\svchost.exe`, "0x1000", "")
	case k < 60:
		return g.sysmonFile()
	case k < 71:
		return g.sysmonRegistry()
	case k < 78:
		return g.sysmonDNS()
	case k < 84:
		return g.sec4624(pick(g, []string{"2", "3", "3", "3", "5", "7", "10", "11"}), "", "")
	case k < 85:
		return g.sec4625(pick(g, g.users), g.ip())
	case k < 87:
		return g.sec4634()
	case k < 92:
		return g.sec4672()
	case k < 97:
		return g.sec4688(pick(g, benignProcs()))
	default:
		return g.sec4689()
	}
}

// user returns a user of the process: SYSTEM or a domain user.
func (g *corpusGen) user(system bool) (string, string) {
	if system {
		return `NT AUTHORITY\SYSTEM`, "System"
	}
	return `CORP\` + pick(g, g.users), pick(g, []string{"Medium", "Medium", "Medium", "High"})
}

// sysmonProcess renders a Sysmon process creation (event 1).
func (g *corpusGen) sysmonProcess(p procTemplate) *winDoc {
	at, host := g.next()
	user, integrity := g.user(p.system)
	name := user[strings.IndexByte(user, '\\')+1:]
	image := g.fill(p.image, name)
	dir := `C:\Windows\system32\`
	if !p.system {
		dir = `C:\Users\` + name + `\`
	}
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 1, at: at, host: host,
		task: "Process Create (rule: ProcessCreate)", message: "Process Create:", data: [][2]string{
			{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")}, {"ProcessGuid", g.guid()},
			{"ProcessId", g.pid()}, {"Image", image}, {"FileVersion", "10.0.22621.1 (WinBuild.160101.0800)"},
			{"Description", p.desc}, {"Product", p.product}, {"Company", p.company}, {"OriginalFileName", p.ofn},
			{"CommandLine", g.fill(p.cmd, name)}, {"CurrentDirectory", dir}, {"User", user},
			{"LogonGuid", g.guid()}, {"LogonId", "0x" + strings.ToLower(g.hexN(6))}, {"TerminalSessionId", "1"},
			{"IntegrityLevel", integrity}, {"Hashes", hashes(image)}, {"ParentProcessGuid", g.guid()},
			{"ParentProcessId", g.pid()}, {"ParentImage", g.fill(p.parent, name)},
			{"ParentCommandLine", g.fill(p.parentCmd, name)}, {"ParentUser", user}}}
}

func benignDomains() []string {
	return []string{"www.microsoft.com", "login.microsoftonline.com", "outlook.office365.com",
		"clients2.google.com", "update.googleapis.com", "github.com", "api.github.com", "slack.com",
		"teams.microsoft.com", "ctldl.windowsupdate.com", "settings-win.data.microsoft.com", "fs.corp.example.com",
		"dc01.corp.example.com", "wpad.corp.example.com", "cdn.jsdelivr.net", "registry.npmjs.org", "pypi.org"}
}

// netProcs() are the programs that talk to the network, with the ports
// they use.
func netProcs() []struct{ image, ports string } {
	return []struct{ image, ports string }{
		{`C:\Program Files\Google\Chrome\Application\chrome.exe`, "443 443 443 80"},
		{`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, "443 443 80"},
		{`C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe`, "443 3478"},
		{`C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe`, "443"},
		{sys32 + "svchost.exe", "443 80 53 135"},
		{`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe`, "443"},
		{`C:\Program Files\Git\mingw64\bin\git-remote-https.exe`, "443"},
		{sys32 + "lsass.exe", "88 389 88"},
	}
}

// sysmonNetwork renders a Sysmon network connection (event 3).
func (g *corpusGen) sysmonNetwork() *winDoc {
	at, host := g.next()
	p := pick(g, netProcs())
	user, _ := g.user(strings.HasPrefix(p.image, sys32))
	port := pick(g, strings.Fields(p.ports))
	dst, name := fmt.Sprintf("%d.%d.%d.%d", 13+g.r.IntN(150), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254)), pick(g, benignDomains())
	if port == "88" || port == "389" || port == "135" {
		dst, name = "10.20.0.5", "dc01.corp.example.com"
	}
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 3, at: at, host: host,
		task: "Network connection detected (rule: NetworkConnect)", message: "Network connection detected:",
		data: [][2]string{{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"Image", g.fill(p.image, pick(g, g.users))},
			{"User", user}, {"Protocol", "tcp"}, {"Initiated", "true"}, {"SourceIsIpv6", "false"},
			{"SourceIp", g.ip()}, {"SourceHostname", host}, {"SourcePort", fmt.Sprint(49152 + g.r.IntN(16000))},
			{"SourcePortName", "-"}, {"DestinationIsIpv6", "false"}, {"DestinationIp", dst},
			{"DestinationHostname", name}, {"DestinationPort", port},
			{"DestinationPortName", map[string]string{"443": "https", "80": "http", "53": "domain", "88": "kerberos"}[port]}}}
}

func loadedDLLs() []string {
	return []string{"ntdll.dll", "kernel32.dll", "KernelBase.dll", "user32.dll", "advapi32.dll",
		"combase.dll", "ole32.dll", "oleaut32.dll", "ws2_32.dll", "crypt32.dll", "bcrypt.dll", "sechost.dll",
		"rpcrt4.dll", "shell32.dll", "windows.storage.dll", "msvcp_win.dll", "ucrtbase.dll", "gdi32.dll",
		"wintrust.dll", "profapi.dll", "dnsapi.dll", "iphlpapi.dll", "winhttp.dll", "mswsock.dll"}
}

// sysmonImageLoad renders a Sysmon image load (event 7).
func (g *corpusGen) sysmonImageLoad() *winDoc {
	at, host := g.next()
	p := pick(g, benignProcs())
	user, _ := g.user(p.system)
	dll := sys32 + pick(g, loadedDLLs())
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 7, at: at, host: host,
		task: "Image loaded (rule: ImageLoad)", message: "Image loaded:",
		data: [][2]string{{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"Image", g.fill(p.image, "jsmith")},
			{"ImageLoaded", dll}, {"FileVersion", "10.0.22621.3527 (WinBuild.160101.0800)"},
			{"Description", "Windows NT BASE API Client DLL"}, {"Product", msWin}, {"Company", msCorp},
			{"OriginalFileName", dll[len(sys32):]}, {"Hashes", hashes(dll)}, {"Signed", "true"},
			{"Signature", "Microsoft Windows"}, {"SignatureStatus", "Valid"}, {"User", user}}}
}

// sysmonAccess renders a Sysmon process access (event 10).
func (g *corpusGen) sysmonAccess(source, target, access, trace string) *winDoc {
	at, host := g.next()
	if trace == "" {
		trace = `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e|` +
			`C:\Windows\System32\RPCRT4.dll+5d2a3|UNKNOWN(00007FF6C2A1B3C1)`
	}
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 10, at: at, host: host,
		task: "Process accessed (rule: ProcessAccess)", message: "Process accessed:",
		data: [][2]string{{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"SourceProcessGUID", g.guid()}, {"SourceProcessId", g.pid()}, {"SourceThreadId", g.pid()},
			{"SourceImage", g.fill(source, "jsmith")}, {"TargetProcessGUID", g.guid()},
			{"TargetProcessId", g.pid()}, {"TargetImage", target}, {"GrantedAccess", access},
			{"CallTrace", trace}, {"SourceUser", `NT AUTHORITY\SYSTEM`}, {"TargetUser", `NT AUTHORITY\SYSTEM`}}}
}

// sysmonFile renders a Sysmon file creation (event 11).
func (g *corpusGen) sysmonFile() *winDoc {
	at, host := g.next()
	p := pick(g, benignProcs())
	user := pick(g, g.users)
	target := g.fill(pick(g, []string{`C:\Users\{user}\AppData\Local\Temp\{hex}.tmp`,
		`C:\Users\{user}\AppData\Local\Microsoft\Edge\User Data\Default\Cache\Cache_Data\f_{n}`,
		`C:\Users\{user}\Documents\{doc}.docx`, `C:\Windows\Prefetch\SVCHOST.EXE-{hex}.pf`,
		`C:\ProgramData\Microsoft\Windows Defender\Scans\History\Service\DetectionHistory\{hex}`,
		`C:\Users\{user}\AppData\Roaming\Microsoft\Windows\Recent\{doc}.lnk`,
		`C:\Windows\SoftwareDistribution\Download\{hex}\update.cab`, `C:\Windows\Temp\MpSigStub.log`}), user)
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 11, at: at, host: host,
		task: "File created (rule: FileCreate)", message: "File created:",
		data: [][2]string{{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"Image", g.fill(p.image, user)},
			{"TargetFilename", target}, {"CreationUtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"User", `CORP\` + user}}}
}

func registryKeys() []string {
	return []string{
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\LastOnlineScanTimeForAppCategory\{guid}`,
		`HKU\S-1-5-21-1004336348-1177238915-682003330-{n}\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx\{n}`,
		`HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated`,
		`HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\S-1-5-21-1004336348-1177238915-682003330-{n}\\Device\HarddiskVolume3\Windows\System32\notepad.exe`,
		`HKU\S-1-5-21-1004336348-1177238915-682003330-{n}\Software\Microsoft\Office\16.0\Common\Roaming\Identities\{hex}_ADAL\Identity`,
		`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\NetworkList\Profiles\{guid}\DateLastConnected`,
		`HKLM\System\CurrentControlSet\Services\W32Time\Config\LastKnownGoodTime`,
		`HKU\S-1-5-21-1004336348-1177238915-682003330-{n}\Software\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\{guid}\Count\HRZR_PGYFRFFVBA`,
	}
}

// sysmonRegistry renders a Sysmon registry event (12 or 13).
func (g *corpusGen) sysmonRegistry() *winDoc {
	at, host := g.next()
	p := pick(g, benignProcs())
	key := g.fill(pick(g, registryKeys()), "jsmith")
	d := &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 13, at: at, host: host,
		task: "Registry value set (rule: RegistryEvent)", message: "Registry value set:"}
	d.data = [][2]string{{"RuleName", "-"}, {"EventType", "SetValue"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
		{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"Image", g.fill(p.image, "jsmith")}, {"TargetObject", key},
		{"Details", pick(g, []string{"DWORD (0x00000001)", "QWORD (0x01da6c3b-0x4f2a1e00)", "Binary Data", "-"})},
		{"User", `NT AUTHORITY\SYSTEM`}}
	if g.r.IntN(4) == 0 {
		d.eventID, d.task, d.message = 12, "Registry object added or deleted (rule: RegistryEvent)", "Registry object added or deleted:"
		d.data = append(d.data[:1:1], append([][2]string{{"EventType", "CreateKey"}}, d.data[2:7]...)...)
		d.data = append(d.data, [2]string{"User", `NT AUTHORITY\SYSTEM`})
	}
	return d
}

// sysmonDNS renders a Sysmon DNS query (event 22).
func (g *corpusGen) sysmonDNS() *winDoc {
	at, host := g.next()
	p := pick(g, benignProcs())
	return &winDoc{channel: sysmonChannel, provider: sysmonProvider, eventID: 22, at: at, host: host,
		task: "Dns query (rule: DnsQuery)", message: "Dns query:",
		data: [][2]string{{"RuleName", "-"}, {"UtcTime", at.Format("2006-01-02 15:04:05.000")},
			{"ProcessGuid", g.guid()}, {"ProcessId", g.pid()}, {"QueryName", pick(g, benignDomains())},
			{"QueryStatus", "0"}, {"QueryResults", fmt.Sprintf("type:  5 edge.example.net;::ffff:%s;", g.ip())},
			{"Image", g.fill(p.image, "jsmith")}, {"User", `CORP\` + pick(g, g.users)}}}
}
