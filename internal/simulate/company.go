package simulate

// The simulated company, as data: its hosts, people, external parties and
// what they run. The behaviour that reads these tables lives in linux.go,
// windows.go and attacks.go.

// Transports a host's telemetry takes.
const (
	viaTCP  = "tcp"  // RFC 5424 over TCP, RFC 6587 octet counting
	viaUDP  = "udp"  // RFC 3164 over UDP
	viaBulk = "bulk" // Winlogbeat documents over POST /_bulk
)

// The company's Windows domain.
const (
	netbiosDomain = "CORP"
	dnsDomain     = "corp.example.com"
	domainSID     = "S-1-5-21-3623811015-3361044348-30300820"
)

// Attack infrastructure. All addresses are from the documentation ranges.
const (
	sprayIP      = "198.51.100.23"
	sprayWinner  = "erin" // the account whose password the spray guesses
	beaconIP     = "203.0.113.200"
	beaconDomain = "update-check.example.org"
	beaconHost   = "ws-03"
	newAdmin     = "svc_backup2"
)

// host is one machine of the company.
type host struct {
	name  string
	ip    string
	os    string // "linux" or "windows"
	role  string // "web", "db", "mail", "bastion", "dc", "fs", "workstation"
	via   string // viaTCP, viaUDP or viaBulk
	owner string // the user of a workstation
}

// person is one employee, with a Linux account and a domain account.
type person struct {
	name string
	uid  int    // Linux uid
	rid  int    // domain relative id
	unix bool   // has shell accounts on the Linux servers
	sudo bool   // may sudo on the Linux servers
	adm  string // separate domain admin account, if any
}

type sudoCommand struct{ role, cmd string }

type cronJob struct {
	role, user, cmd string
	everyMin        int // period in minutes
	atMin           int // minute offset inside the period
}

type systemdUnit struct{ unit, desc string }

// peer is an Internet party: a name, an address and, for mail, a sender.
type peer struct{ name, ip, from string }

// process is a program a Windows host starts, with a relative weight.
type process struct {
	image, parent, cmdline string
	weight                 int
}

// company is everything the simulator knows about the business it plays.
// It is built by defaultCompany and never modified afterwards.
type company struct {
	hosts        []host
	people       []person
	adminRIDs    map[string]int // relative ids of the domain admin accounts
	sudoCommands []sudoCommand  // by host role, "" = any
	cronJobs     []cronJob      // by host role, "" = every Linux host
	systemdUnits []systemdUnit
	mailPeers    []peer // deliver mail to mail-01
	webSites     []peer // what the workstations browse
	scanners     []string
	scanUsers    []string
	bruteForcers []string // one source per brute-force repetition, cycled
	wsProcesses  []process
	srvProcesses []process // 4688 on the Windows servers
	sprayUsers   []string
}

// defaultCompany returns the demo company: five Linux servers, two Windows
// servers, eight workstations and five people.
func defaultCompany() *company {
	return &company{
		hosts: []host{
			{name: "web-01", ip: "10.10.1.11", os: "linux", role: "web", via: viaTCP},
			{name: "web-02", ip: "10.10.1.12", os: "linux", role: "web", via: viaTCP},
			{name: "db-01", ip: "10.10.1.21", os: "linux", role: "db", via: viaUDP},
			{name: "mail-01", ip: "10.10.1.25", os: "linux", role: "mail", via: viaUDP},
			{name: "bastion-01", ip: "10.10.1.5", os: "linux", role: "bastion", via: viaTCP},
			{name: "dc-01", ip: "10.10.2.10", os: "windows", role: "dc", via: viaBulk},
			{name: "fs-01", ip: "10.10.2.20", os: "windows", role: "fs", via: viaBulk},
			{name: "ws-01", ip: "10.10.3.101", os: "windows", role: "workstation", via: viaBulk, owner: "alice"},
			{name: "ws-02", ip: "10.10.3.102", os: "windows", role: "workstation", via: viaBulk, owner: "bob"},
			{name: "ws-03", ip: "10.10.3.103", os: "windows", role: "workstation", via: viaBulk, owner: "dave"},
			{name: "ws-04", ip: "10.10.3.104", os: "windows", role: "workstation", via: viaBulk, owner: "carol"},
			{name: "ws-05", ip: "10.10.3.105", os: "windows", role: "workstation", via: viaBulk, owner: "erin"},
			{name: "ws-06", ip: "10.10.3.106", os: "windows", role: "workstation", via: viaBulk, owner: "alice"},
			{name: "ws-07", ip: "10.10.3.107", os: "windows", role: "workstation", via: viaBulk, owner: "bob"},
			{name: "ws-08", ip: "10.10.3.108", os: "windows", role: "workstation", via: viaBulk, owner: "carol"},
		},
		// alice and bob run the servers; carol is the DBA.
		people: []person{
			{name: "alice", uid: 1000, rid: 1104, unix: true, sudo: true, adm: "adm_alice"},
			{name: "bob", uid: 1001, rid: 1105, unix: true, sudo: true, adm: "adm_bob"},
			{name: "carol", uid: 1002, rid: 1106, unix: true},
			{name: "dave", uid: 1003, rid: 1107},
			{name: "erin", uid: 1004, rid: 1108},
		},
		adminRIDs: map[string]int{"adm_alice": 1110, "adm_bob": 1111, "Administrator": 500},
		sudoCommands: []sudoCommand{
			{"", "/usr/bin/apt-get update"},
			{"", "/usr/bin/journalctl -u ssh --since today"},
			{"", "/usr/bin/systemctl status cron"},
			{"web", "/usr/bin/systemctl reload nginx"},
			{"web", "/usr/bin/tail -n 200 /var/log/nginx/error.log"},
			{"db", "/usr/bin/systemctl restart postgresql"},
			{"db", "/usr/bin/du -sh /var/lib/postgresql/15/main"},
			{"mail", "/usr/sbin/postqueue -p"},
			{"bastion", "/usr/sbin/sshd -T"},
		},
		cronJobs: []cronJob{
			{"", "root", "cd / && run-parts --report /etc/cron.hourly", 60, 17},
			{"", "root", "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi", 30, 9},
			{"db", "postgres", "/usr/local/bin/pg_backup.sh >/dev/null 2>&1", 60, 5},
			{"web", "www-data", "php /var/www/app/artisan schedule:run >> /dev/null 2>&1", 10, 0},
		},
		systemdUnits: []systemdUnit{
			{"apt-daily.service", "Daily apt download activities"},
			{"man-db.service", "Daily man-db regeneration"},
			{"logrotate.service", "Rotate log files"},
			{"sysstat-collect.service", "system activity accounting tool"},
			{"fstrim.service", "Discard unused blocks on filesystems from /etc/fstab"},
		},
		mailPeers: []peer{
			{"mail.example.net", "198.51.100.25", "orders@example.net"},
			{"mx1.example.org", "198.51.100.26", "newsletter@example.org"},
			{"smtp.example.com", "203.0.113.25", "billing@example.com"},
		},
		webSites: []peer{
			{name: "www.example.com", ip: "203.0.113.10"},
			{name: "outlook.example.net", ip: "198.51.100.40"},
			{name: "cdn.example.org", ip: "203.0.113.80"},
			{name: "docs.example.net", ip: "198.51.100.60"},
			{name: "intranet.corp.example.com", ip: "10.10.1.11"},
		},
		scanners:     []string{"198.51.100.201", "203.0.113.97", "198.51.100.150", "203.0.113.211"},
		scanUsers:    []string{"oracle", "test", "ubuntu", "pi", "git", "postgres", "user"},
		bruteForcers: []string{"203.0.113.50", "198.51.100.66", "203.0.113.133", "198.51.100.9"},
		wsProcesses: []process{
			{`C:\Program Files\Google\Chrome\Application\chrome.exe`, `C:\Windows\explorer.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe"`, 40},
			{`C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, `C:\Windows\explorer.exe`, `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"`, 15},
			{`C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `C:\Windows\explorer.exe`, `"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n`, 10},
			{`C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, `C:\Windows\explorer.exe`, `"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"`, 10},
			{`C:\Windows\System32\notepad.exe`, `C:\Windows\explorer.exe`, `"C:\Windows\system32\notepad.exe"`, 5},
			{`C:\Windows\System32\svchost.exe`, `C:\Windows\System32\services.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, 10},
			{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\explorer.exe`, `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoLogo Get-ChildItem \\fs-01\share`, 1},
		},
		srvProcesses: []process{
			{`C:\Windows\System32\taskhostw.exe`, `C:\Windows\System32\svchost.exe`, `taskhostw.exe`, 1},
			{`C:\Windows\System32\wbem\WmiPrvSE.exe`, `C:\Windows\System32\svchost.exe`, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, 1},
			{`C:\Windows\System32\conhost.exe`, `C:\Windows\System32\cmd.exe`, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, 1},
			{`C:\Windows\System32\gpupdate.exe`, `C:\Windows\System32\svchost.exe`, `gpupdate.exe /target:computer`, 1},
			{`C:\Windows\System32\backgroundTaskHost.exe`, `C:\Windows\System32\svchost.exe`, `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:App.AppXmtcan0h2tfbfy7k9kmq0ph.mca`, 1},
		},
		sprayUsers: []string{"administrator", "alice", "bob", "carol", "dave", "erin", "admin", "backup",
			"svc_sql", "helpdesk", "guest", "scanner", "test", "reception", "it-support", "training"},
	}
}

// host returns the host with the given name, or nil.
func (c *company) host(name string) *host {
	for i := range c.hosts {
		if c.hosts[i].name == name {
			return &c.hosts[i]
		}
	}
	return nil
}

// person returns the person with the given name, or nil.
func (c *company) person(name string) *person {
	for i := range c.people {
		if c.people[i].name == name {
			return &c.people[i]
		}
	}
	return nil
}

// hostsWhere returns the hosts that pass keep.
func (c *company) hostsWhere(keep func(*host) bool) []*host {
	var out []*host
	for i := range c.hosts {
		if keep(&c.hosts[i]) {
			out = append(out, &c.hosts[i])
		}
	}
	return out
}
