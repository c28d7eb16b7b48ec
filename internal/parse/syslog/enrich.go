package syslog

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Datasets of syslog events.
const (
	datasetSyslog = "syslog"
	datasetAuth   = "system.auth"
)

// Field names the enrichment adds. They follow Filebeat's system module
// (system.auth.*) and ECS where the schema has no field of its own.
const (
	fSSHEvent      = "system.auth.ssh.event"
	fSSHMethod     = "system.auth.ssh.method"
	fSSHSignature  = "system.auth.ssh.signature"
	fSSHDroppedIP  = "system.auth.ssh.dropped_ip"
	fSudoError     = "system.auth.sudo.error"
	fSudoTTY       = "system.auth.sudo.tty"
	fSudoPWD       = "system.auth.sudo.pwd"
	fSudoUser      = "system.auth.sudo.user"
	fSudoCommand   = "system.auth.sudo.command"
	fPAMModule     = "system.auth.pam.module"
	fPAMService    = "system.auth.pam.service"
	fPAMType       = "system.auth.pam.type"
	fUseraddHome   = "system.auth.useradd.home"
	fUseraddShell  = "system.auth.useradd.shell"
	fLogindSession = "system.auth.logind.session_id"
	fTTY           = "system.auth.tty"
	fEffectiveUser = "user.effective.name"
	fGroupName     = "group.name"
	fGroupID       = "group.id"
)

// enrichFunc adds what one program's message says to ev.
type enrichFunc func(e *enricher, ev *schema.Event, msg string)

// appRule is how the messages of one program (syslog app-name) are read.
type appRule struct {
	dataset string
	fn      enrichFunc
}

// enricher holds the per-program table and the few regular expressions
// for rare lines. It is read-only after construction.
type enricher struct {
	apps        map[string]appRule
	failedLogin *regexp.Regexp
}

func newEnricher() *enricher {
	e := &enricher{
		apps: map[string]appRule{
			"sshd":           {datasetAuth, enrichSSHD},
			"sshd-session":   {datasetAuth, enrichSSHD},
			"sudo":           {datasetAuth, enrichSudo},
			"su":             {datasetAuth, enrichSu},
			"login":          {datasetAuth, enrichLogin},
			"systemd-logind": {datasetAuth, enrichLogind},
			"useradd":        {datasetAuth, enrichIAM},
			"userdel":        {datasetAuth, enrichIAM},
			"usermod":        {datasetAuth, enrichIAM},
			"groupadd":       {datasetAuth, enrichIAM},
			"groupdel":       {datasetAuth, enrichIAM},
			"groupmod":       {datasetAuth, enrichIAM},
			"passwd":         {datasetAuth, enrichIAM},
			"chpasswd":       {datasetAuth, enrichIAM},
			"chage":          {datasetAuth, enrichIAM},
			"gpasswd":        {datasetAuth, enrichIAM},
			"unix_chkpwd":    {datasetAuth, enrichChkpwd},
			"CRON":           {"", enrichCron},
			"cron":           {"", enrichCron},
			"crond":          {"", enrichCron},
			"CROND":          {"", enrichCron},
		},
		// shadow: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure
		// util-linux: FAILED LOGIN 1 FROM tty1 FOR root, Authentication failure
		failedLogin: regexp.MustCompile(`^FAILED LOGIN (?:\(?\d+\)? |SESSION )?(?:on|ON|FROM|from) '?([^' ]*)'? FOR '?([^',]*)'?, (.*)$`),
	}
	return e
}

// enrich reads the message of a known program. PAM module lines
// ("pam_unix(sshd:auth): ...") are read whichever program logged them.
func (e *enricher) enrich(ev *schema.Event, app, msg string) {
	if strings.HasPrefix(msg, "pam_") {
		ev.Event.Dataset = datasetAuth
		enrichPAM(ev, msg)
		return
	}
	r, ok := e.apps[app]
	if !ok {
		return
	}
	if r.dataset != "" {
		ev.Event.Dataset = r.dataset
	}
	r.fn(e, ev, msg)
}

// mark sets the ECS categorisation of ev.
func mark(ev *schema.Event, cat, typ []string, action, outcome string) {
	ev.Event.Category = cat
	ev.Event.Type = typ
	ev.Event.Action = action
	ev.Event.Outcome = outcome
}

// setSource sets source.ip, or source.domain when addr is not an IP.
func setSource(ev *schema.Event, addr string) {
	if addr == "" {
		return
	}
	if _, err := netip.ParseAddr(addr); err == nil {
		ev.Source.IP = addr
		return
	}
	ev.Source.Domain = addr
}

// readAddrPort reads "IP port N" at the start of s, returning the address,
// the port (0 if absent) and what follows the port number.
func readAddrPort(s string) (addr string, port int, rest string) {
	addr, rest = s, ""
	if i := strings.IndexByte(s, ' '); i >= 0 {
		addr, rest = s[:i], s[i:]
	}
	if after, ok := strings.CutPrefix(rest, " port "); ok {
		n, r, ok := readInt(after, 1, 5)
		if ok && n <= 65535 {
			port, rest = n, r
		}
	}
	return addr, port, rest
}

// lastCut splits s around the last sep.
func lastCut(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// quoted returns the text inside the first pair of single quotes of s and
// what follows the closing quote.
func quoted(s string) (inner, rest string, ok bool) {
	i := strings.IndexByte(s, '\'')
	if i < 0 {
		return "", s, false
	}
	j := strings.IndexByte(s[i+1:], '\'')
	if j < 0 {
		return "", s, false
	}
	return s[i+1 : i+1+j], s[i+2+j:], true
}

// enrichCron reads "(user) CMD (command)".
func enrichCron(_ *enricher, ev *schema.Event, msg string) {
	if len(msg) < 2 || msg[0] != '(' {
		return
	}
	user, rest, ok := strings.Cut(msg[1:], ") CMD (")
	if !ok || strings.IndexByte(user, ' ') >= 0 || !strings.HasSuffix(rest, ")") {
		return
	}
	ev.User.Name = user
	ev.Process.CommandLine = rest[:len(rest)-1]
	mark(ev, []string{"process"}, []string{"start"}, "cron_command", "")
}

// enrichChkpwd reads "password check failed for user (root)".
func enrichChkpwd(_ *enricher, ev *schema.Event, msg string) {
	rest, ok := strings.CutPrefix(msg, "password check failed for user (")
	if !ok || !strings.HasSuffix(rest, ")") {
		return
	}
	ev.User.Name = rest[:len(rest)-1]
	mark(ev, []string{"authentication"}, []string{"info"}, "authentication_failure", "failure")
}

// enrichLogind reads systemd-logind session lines.
func enrichLogind(_ *enricher, ev *schema.Event, msg string) {
	msg = strings.TrimSuffix(msg, ".")
	if rest, ok := strings.CutPrefix(msg, "New session "); ok {
		id, user, ok := strings.Cut(rest, " of user ")
		if !ok {
			return
		}
		ev.User.Name = user
		ev.Fields.Add(fLogindSession, id)
		mark(ev, []string{"session"}, []string{"start"}, "new_session", "success")
		return
	}
	if id, ok := strings.CutPrefix(msg, "Removed session "); ok {
		ev.Fields.Add(fLogindSession, id)
		mark(ev, []string{"session"}, []string{"end"}, "session_removed", "success")
	}
}

// enrichLogin reads login(1) lines.
func enrichLogin(e *enricher, ev *schema.Event, msg string) {
	switch {
	case strings.HasPrefix(msg, "FAILED LOGIN "):
		m := e.failedLogin.FindStringSubmatch(msg)
		if m == nil {
			return
		}
		ev.User.Name = m[2]
		ev.Fields.Add(fTTY, m[1])
		mark(ev, []string{"authentication"}, []string{"info"}, "login", "failure")
	case strings.HasPrefix(msg, "ROOT LOGIN "):
		tty := strings.TrimLeft(msg[len("ROOT LOGIN "):], " ")
		tty = strings.TrimPrefix(strings.TrimPrefix(tty, "on "), "ON ")
		ev.User.Name = "root"
		ev.Fields.Add(fTTY, strings.Trim(tty, "'"))
		mark(ev, []string{"authentication"}, []string{"info"}, "login", "success")
	case strings.HasPrefix(msg, "LOGIN ON "):
		tty, user, ok := strings.Cut(msg[len("LOGIN ON "):], " BY ")
		if !ok {
			return
		}
		if i := strings.IndexByte(user, ' '); i >= 0 {
			user = user[:i]
		}
		ev.User.Name = user
		ev.Fields.Add(fTTY, tty)
		mark(ev, []string{"authentication"}, []string{"info"}, "login", "success")
	}
}

// enrichPAM reads "module(service:type): text" lines of PAM modules.
func enrichPAM(ev *schema.Event, msg string) {
	open := strings.IndexByte(msg, '(')
	end := strings.Index(msg, "): ")
	if open < 0 || end < open {
		return
	}
	svc, typ, _ := strings.Cut(msg[open+1:end], ":")
	ev.Fields.Add(fPAMModule, msg[:open])
	ev.Fields.Add(fPAMService, svc)
	if typ != "" {
		ev.Fields.Add(fPAMType, typ)
	}
	rest := msg[end+3:]
	switch {
	case strings.HasPrefix(rest, "authentication failure"):
		pamFailure(ev, rest)
	case strings.HasPrefix(rest, "session opened for user "):
		pamSession(ev, rest[len("session opened for user "):], "start", "session_opened")
	case strings.HasPrefix(rest, "session closed for user "):
		pamSession(ev, rest[len("session closed for user "):], "end", "session_closed")
	case strings.HasPrefix(rest, "password changed for "):
		ev.User.Name = strings.TrimSpace(rest[len("password changed for "):])
		mark(ev, []string{"iam"}, []string{"user", "change"}, "password_changed", "success")
	case strings.HasPrefix(rest, "check pass; user unknown"):
		mark(ev, []string{"authentication"}, []string{"info"}, "authentication_failure", "failure")
	}
}

// pamFailure reads the key=value list of a PAM authentication failure:
// "...; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root".
func pamFailure(ev *schema.Event, s string) {
	if _, kv, ok := strings.Cut(s, "; "); ok {
		var user, ruser, logname string
		for kv != "" {
			var tok string
			tok, kv, _ = strings.Cut(kv, " ")
			k, v, _ := strings.Cut(tok, "=")
			switch k {
			case "user":
				user = v
			case "ruser":
				ruser = v
			case "logname":
				logname = v
			case "rhost":
				setSource(ev, v)
			case "tty":
				if v != "" {
					ev.Fields.Add(fTTY, v)
				}
			}
		}
		ev.User.Name = firstNonEmpty(user, ruser, logname)
	}
	mark(ev, []string{"authentication"}, []string{"info"}, "authentication_failure", "failure")
}

// pamSession reads "alice(uid=1000) by (uid=0)" or "root by alice(uid=1000)":
// the by-user, when named, is the acting user and the for-user the
// effective one.
func pamSession(ev *schema.Event, s, typ, action string) {
	forPart, byPart, _ := strings.Cut(s, " by ")
	forUser, forUID := splitUID(strings.TrimSpace(forPart))
	byUser, byUID := splitUID(strings.TrimSpace(byPart))
	// "by (uid=0)", "by LOGIN(uid=0)" and "ubuntu(uid=1000) by ubuntu(uid=0)"
	// name the service's own credentials, not another acting user.
	if byUser != "" && byUser != "LOGIN" && byUser != forUser {
		ev.User.Name, ev.User.ID = byUser, byUID
		ev.Fields.Add(fEffectiveUser, forUser)
	} else {
		ev.User.Name, ev.User.ID = forUser, forUID
	}
	mark(ev, []string{"session"}, []string{typ}, action, "success")
}

// splitUID splits "alice(uid=1000)" into "alice" and "1000".
func splitUID(s string) (name, uid string) {
	name, rest, ok := strings.Cut(s, "(uid=")
	if ok {
		uid, _, _ = strings.Cut(rest, ")")
	}
	return name, uid
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
