package simulate

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Syslog priorities (facility × 8 + severity) the Debian daemons use.
const (
	priAuthInfo     = 4*8 + 6  // sshd, systemd-logind, useradd
	priAuthErr      = 4*8 + 3  // sshd "error: ..."
	priAuthprivInfo = 10*8 + 6 // pam_unix
	priAuthprivNote = 10*8 + 5 // sudo
	priCronInfo     = 9*8 + 6
	priDaemonInfo   = 3*8 + 6
	priMailInfo     = 2*8 + 6
)

// stamp5424 is the RFC 5424 timestamp rsyslog writes (RFC 3339, µs).
const stamp5424 = "2006-01-02T15:04:05.000000Z07:00"

// The servers keep their clocks in UTC, as servers usually do: RFC 3164
// stamps carry no zone, and Vigil reads them as UTC unless told otherwise.
// Office hours still follow the simulated time's own zone.

// format5424 renders an RFC 5424 message without structured data, as
// rsyslog's RSYSLOG_SyslogProtocol23Format forwards it.
func format5424(pri int, at time.Time, hostname, app string, pid int, msg string) []byte {
	procID := "-"
	if pid > 0 {
		procID = strconv.Itoa(pid)
	}
	return fmt.Appendf(nil, "<%d>1 %s %s %s %s - - %s", pri, at.UTC().Format(stamp5424), hostname, app, procID, msg)
}

// format3164 renders a BSD syslog (RFC 3164) message as a Debian host's
// rsyslog forwards it over UDP by default.
func format3164(pri int, at time.Time, hostname, app string, pid int, msg string) []byte {
	if pid > 0 {
		return fmt.Appendf(nil, "<%d>%s %s %s[%d]: %s", pri, at.UTC().Format(time.Stamp), hostname, app, pid, msg)
	}
	return fmt.Appendf(nil, "<%d>%s %s %s: %s", pri, at.UTC().Format(time.Stamp), hostname, app, msg)
}

// syslog sends one message from host h, in the host's transport's format.
// Hosts without a configured transport are skipped.
func (w *world) syslog(h *host, at time.Time, pri int, app string, pid int, msg string) {
	l := w.out.syslog[h.name]
	if l == nil || (h.name == w.silentHost && !at.Before(w.silentFrom)) {
		return
	}
	w.when(at, func() {
		if l.via == viaUDP {
			l.send(format3164(pri, at, h.name, app, pid, msg))
			return
		}
		l.send(format5424(pri, at, h.name, app, pid, msg))
	})
}

// scheduleLinux starts the Linux servers' background activity.
func (w *world) scheduleLinux(start time.Time) {
	for _, a := range []activity{
		{"ssh-login", 8, officeLoad, func(at time.Time) { w.sshSession(at, false) }},
		{"ssh-typo", 0.6, officeLoad, func(at time.Time) { w.sshSession(at, true) }},
		{"sudo", 6, officeLoad, w.sudoCommand},
		{"systemd", 4, always, w.systemdUnit},
		{"postfix", 20, officeLoad, w.mailDelivery},
		{"ssh-scanner", 3, always, w.sshScanner},
	} {
		w.poisson(a, start)
	}
	for _, h := range w.co.hostsWhere(func(h *host) bool { return h.os == "linux" }) {
		for _, j := range w.co.cronJobs {
			if j.role == "" || j.role == h.role {
				w.cron(h, j, firstTick(start, time.Duration(j.everyMin)*time.Minute, time.Duration(j.atMin)*time.Minute))
			}
		}
	}
}

// firstTick returns the first time at or after start that is offset past
// a multiple of period (periods divide an hour, so this is wall-clock
// alignment as cron does it).
func firstTick(start time.Time, period, offset time.Duration) time.Time {
	t := start.Truncate(period).Add(offset)
	for t.Before(start) {
		t = t.Add(period)
	}
	return t
}

// cron runs job j on h at t and schedules the next run.
func (w *world) cron(h *host, j cronJob, t time.Time) {
	w.at(t, func(at time.Time) {
		pid := w.pid(h.name)
		uid := map[string]int{"root": 0, "www-data": 33, "postgres": 110}[j.user]
		w.syslog(h, at, priAuthprivInfo, "CRON", pid, fmt.Sprintf("pam_unix(cron:session): session opened for user %s(uid=%d) by (uid=0)", j.user, uid))
		w.syslog(h, at, priCronInfo, "CRON", pid, fmt.Sprintf("(%s) CMD (%s)", j.user, j.cmd))
		w.at(at.Add(w.between(200*time.Millisecond, 3*time.Second)), func(end time.Time) {
			w.syslog(h, end, priAuthprivInfo, "CRON", pid, "pam_unix(cron:session): session closed for user "+j.user)
		})
		w.cron(h, j, at.Add(time.Duration(j.everyMin)*time.Minute))
	})
}

// keyFingerprint returns a stable OpenSSH SHA256 key fingerprint for a user.
func keyFingerprint(user string) string {
	sum := sha256.Sum256([]byte("ssh-ed25519 key of " + user))
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// sshTarget picks a person with a shell account, a server they log in to
// and the address they come from: their workstation for the bastion, the
// bastion for the other servers.
func (w *world) sshTarget() (*person, *host, string) {
	var staff []*person
	for i := range w.co.people {
		if w.co.people[i].unix {
			staff = append(staff, &w.co.people[i])
		}
	}
	p := pick(w, staff)
	servers := w.co.hostsWhere(func(h *host) bool {
		return h.os == "linux" && (p.sudo || h.role == "db" || h.role == "web" || h.role == "bastion")
	})
	h := pick(w, servers)
	bastion := w.co.host("bastion-01")
	if h != bastion {
		return p, h, bastion.ip
	}
	for _, ws := range w.co.hosts {
		if ws.owner == p.name {
			return p, h, ws.ip
		}
	}
	return p, h, bastion.ip
}

// sshSession plays a login and, later, its logout. With typo the user
// first mistypes the password.
func (w *world) sshSession(at time.Time, typo bool) {
	p, h, from := w.sshTarget()
	pid, port := w.pid(h.name), w.port()
	auth := fmt.Sprintf("publickey for %s from %s port %d ssh2: ED25519 %s", p.name, from, port, keyFingerprint(p.name))
	if typo || w.rng.IntN(5) == 0 {
		auth = fmt.Sprintf("password for %s from %s port %d ssh2", p.name, from, port)
	}
	if typo {
		w.syslog(h, at, priAuthprivInfo, "sshd", pid, fmt.Sprintf("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s", from, p.name))
		w.syslog(h, at.Add(2*time.Second), priAuthInfo, "sshd", pid, "Failed "+auth)
		at = at.Add(w.between(4*time.Second, 12*time.Second))
	}
	w.at(at, func(at time.Time) {
		sess := w.sshOpen(h, at, pid, p.name, p.uid, auth)
		w.sshClose(h, at.Add(w.between(5*time.Minute, 90*time.Minute)), pid, sess, p.name, from, port)
	})
}

// sshOpen logs an accepted login and its session; it returns the logind
// session number.
func (w *world) sshOpen(h *host, at time.Time, pid int, user string, uid int, auth string) int {
	sess := w.session(h.name)
	w.syslog(h, at, priAuthInfo, "sshd", pid, "Accepted "+auth)
	w.syslog(h, at, priAuthprivInfo, "sshd", pid, fmt.Sprintf("pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)", user, uid))
	w.syslog(h, at.Add(20*time.Millisecond), priAuthInfo, "systemd-logind", w.daemonPID(h.name, "logind"), fmt.Sprintf("New session %d of user %s.", sess, user))
	return sess
}

// sshClose schedules the end of an SSH session at t.
func (w *world) sshClose(h *host, t time.Time, pid, sess int, user, from string, port int) {
	w.at(t, func(at time.Time) {
		logind := w.daemonPID(h.name, "logind")
		w.syslog(h, at, priAuthInfo, "sshd", pid, fmt.Sprintf("Received disconnect from %s port %d:11: disconnected by user", from, port))
		w.syslog(h, at, priAuthInfo, "sshd", pid, fmt.Sprintf("Disconnected from user %s %s port %d", user, from, port))
		w.syslog(h, at, priAuthprivInfo, "sshd", pid, "pam_unix(sshd:session): session closed for user "+user)
		w.syslog(h, at.Add(10*time.Millisecond), priAuthInfo, "systemd-logind", logind, fmt.Sprintf("Session %d logged out. Waiting for processes to exit.", sess))
		w.syslog(h, at.Add(15*time.Millisecond), priAuthInfo, "systemd-logind", logind, fmt.Sprintf("Removed session %d.", sess))
	})
}

// sudoLine renders sudo's log line; sudo right-aligns the user name.
func sudoLine(user, pwd, cmd string) string {
	return fmt.Sprintf("%8s : TTY=pts/%d ; PWD=%s ; USER=root ; COMMAND=%s", user, len(user)%4, pwd, cmd)
}

// sudo logs a sudo command with its PAM session of length d.
func (w *world) sudo(h *host, at time.Time, user string, uid int, pwd, cmd string, d time.Duration) {
	w.syslog(h, at, priAuthprivNote, "sudo", 0, sudoLine(user, pwd, cmd))
	w.syslog(h, at, priAuthprivInfo, "sudo", 0, fmt.Sprintf("pam_unix(sudo:session): session opened for user root(uid=0) by %s(uid=%d)", user, uid))
	w.at(at.Add(d), func(end time.Time) {
		w.syslog(h, end, priAuthprivInfo, "sudo", 0, "pam_unix(sudo:session): session closed for user root")
	})
}

func (w *world) sudoCommand(at time.Time) {
	var admins []*person
	for i := range w.co.people {
		if w.co.people[i].sudo {
			admins = append(admins, &w.co.people[i])
		}
	}
	p := pick(w, admins)
	h := pick(w, w.co.hostsWhere(func(h *host) bool { return h.os == "linux" }))
	var cmds []string
	for _, c := range w.co.sudoCommands {
		if c.role == "" || c.role == h.role {
			cmds = append(cmds, c.cmd)
		}
	}
	w.sudo(h, at, p.name, p.uid, "/home/"+p.name, pick(w, cmds), w.between(time.Second, 20*time.Second))
}

func (w *world) systemdUnit(at time.Time) {
	h := pick(w, w.co.hostsWhere(func(h *host) bool { return h.os == "linux" }))
	u := pick(w, w.co.systemdUnits)
	w.syslog(h, at, priDaemonInfo, "systemd", 1, fmt.Sprintf("Starting %s - %s...", u.unit, u.desc))
	w.at(at.Add(w.between(time.Second, 40*time.Second)), func(end time.Time) {
		w.syslog(h, end, priDaemonInfo, "systemd", 1, u.unit+": Deactivated successfully.")
		w.syslog(h, end, priDaemonInfo, "systemd", 1, fmt.Sprintf("Finished %s - %s.", u.unit, u.desc))
	})
}

// mailDelivery plays one inbound mail through postfix on mail-01.
func (w *world) mailDelivery(at time.Time) {
	h := w.co.host("mail-01")
	pr := pick(w, w.co.mailPeers)
	to := pick(w, w.co.people).name
	qid := strings.ToUpper(strconv.FormatUint(0x100000000+w.rng.Uint64N(0xeffffffff), 16))
	smtpd, cleanup, local := w.pid(h.name), w.pid(h.name), w.pid(h.name)
	qmgr := w.daemonPID(h.name, "qmgr")
	peer := fmt.Sprintf("%s[%s]", pr.name, pr.ip)
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	size := 2000 + w.rng.IntN(60000)
	w.syslog(h, ms(0), priMailInfo, "postfix/smtpd", smtpd, "connect from "+peer)
	w.syslog(h, ms(180), priMailInfo, "postfix/smtpd", smtpd, qid+": client="+peer)
	w.syslog(h, ms(240), priMailInfo, "postfix/cleanup", cleanup, fmt.Sprintf("%s: message-id=<%d.%s>", qid, at.Unix(), pr.from))
	w.syslog(h, ms(260), priMailInfo, "postfix/qmgr", qmgr, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=1 (queue active)", qid, pr.from, size))
	w.syslog(h, ms(300), priMailInfo, "postfix/smtpd", smtpd, "disconnect from "+peer+" ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7")
	w.syslog(h, ms(340), priMailInfo, "postfix/local", local, fmt.Sprintf("%s: to=<%s@%s>, relay=local, delay=0.34, delays=0.26/0.01/0/0.07, dsn=2.0.0, status=sent (delivered to mailbox)", qid, to, dnsDomain))
	w.syslog(h, ms(341), priMailInfo, "postfix/qmgr", qmgr, qid+": removed")
}

// sshScanner is Internet background noise against the bastion.
func (w *world) sshScanner(at time.Time) {
	h := w.co.host("bastion-01")
	ip, pid, port := pick(w, w.co.scanners), w.pid(h.name), w.port()
	if w.rng.IntN(3) == 0 {
		w.syslog(h, at, priAuthInfo, "sshd", pid, fmt.Sprintf("Did not receive identification string from %s port %d", ip, port))
		return
	}
	user := pick(w, w.co.scanUsers)
	w.syslog(h, at, priAuthInfo, "sshd", pid, fmt.Sprintf("Invalid user %s from %s port %d", user, ip, port))
	w.syslog(h, at.Add(2*time.Second), priAuthInfo, "sshd", pid, fmt.Sprintf("Failed password for invalid user %s from %s port %d ssh2", user, ip, port))
	w.syslog(h, at.Add(3*time.Second), priAuthInfo, "sshd", pid, fmt.Sprintf("Connection closed by invalid user %s %s port %d [preauth]", user, ip, port))
}
