package syslog

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// sudoLine is one parsed sudo log line.
type sudoLine struct {
	user, errText, tty, pwd, runas, command string
}

// parseSudo reads "alice : [error ; ]TTY=pts/0 ; PWD=/home/alice ;
// USER=root ; [KEY=value ; ...]COMMAND=/bin/ls -la". COMMAND is last and
// may itself contain " ; ".
func parseSudo(msg string) (sudoLine, bool) {
	var l sudoLine
	user, rest, ok := strings.Cut(strings.TrimLeft(msg, " "), " : ")
	if !ok || user == "" || strings.IndexByte(user, ' ') >= 0 {
		return l, false
	}
	l.user = user
	seen := false
	for rest != "" {
		if cmd, ok := strings.CutPrefix(rest, "COMMAND="); ok {
			l.command, seen = cmd, true
			break
		}
		var seg string
		seg, rest, _ = strings.Cut(rest, " ; ")
		k, v, isKV := strings.Cut(seg, "=")
		if !isKV || strings.IndexByte(k, ' ') >= 0 {
			if l.errText == "" {
				l.errText = seg
			}
			continue
		}
		switch k {
		case "TTY":
			l.tty, seen = v, true
		case "PWD":
			l.pwd, seen = v, true
		case "USER":
			l.runas, seen = v, true
		}
	}
	return l, seen
}

// enrichSudo reads sudo's command log lines.
func enrichSudo(_ *enricher, ev *schema.Event, msg string) {
	l, ok := parseSudo(msg)
	if !ok {
		return
	}
	ev.User.Name = l.user
	ev.Process.CommandLine = l.command
	addNonEmpty(&ev.Fields, fSudoError, l.errText)
	addNonEmpty(&ev.Fields, fSudoTTY, l.tty)
	addNonEmpty(&ev.Fields, fSudoPWD, l.pwd)
	addNonEmpty(&ev.Fields, fSudoUser, l.runas)
	addNonEmpty(&ev.Fields, fSudoCommand, l.command)
	addNonEmpty(&ev.Fields, fEffectiveUser, l.runas)
	switch {
	case l.errText == "":
		mark(ev, []string{"process"}, []string{"start"}, "sudo_command", "success")
	case strings.Contains(l.errText, "incorrect password") || strings.Contains(l.errText, "password is required"):
		mark(ev, []string{"authentication", "process"}, []string{"info"}, "sudo_command", "failure")
	default: // user NOT in sudoers, command not allowed, ...
		mark(ev, []string{"process"}, []string{"denied"}, "sudo_command", "failure")
	}
}

// enrichSu reads su's own lines (PAM lines are read by enrichPAM):
//
//	(to root) alice on pts/0            Debian, util-linux
//	FAILED SU (to root) alice on pts/0
//	Successful su for root by alice     shadow
//	FAILED su for root by alice
//	+ pts/0 alice:root                  shadow, success
//	- pts/0 alice:root                  shadow, failure
func enrichSu(_ *enricher, ev *schema.Event, msg string) {
	var user, target, tty, outcome string
	switch {
	case strings.HasPrefix(msg, "(to ") || strings.HasPrefix(msg, "FAILED SU (to "):
		outcome = "success"
		if strings.HasPrefix(msg, "FAILED") {
			outcome, msg = "failure", msg[len("FAILED SU "):]
		}
		t, rest, ok := strings.Cut(msg[len("(to "):], ") ")
		if !ok {
			return
		}
		target = t
		user, tty, _ = strings.Cut(rest, " on ")
	case strings.HasPrefix(msg, "Successful su for "), strings.HasPrefix(msg, "FAILED su for "):
		outcome = "success"
		if msg[0] == 'F' {
			outcome = "failure"
		}
		_, rest, _ := strings.Cut(msg, " su for ")
		var ok bool
		if target, user, ok = strings.Cut(rest, " by "); !ok {
			return
		}
	case strings.HasPrefix(msg, "+ ") || strings.HasPrefix(msg, "- "):
		outcome = "success"
		if msg[0] == '-' {
			outcome = "failure"
		}
		var pair string
		var ok bool
		if tty, pair, ok = strings.Cut(msg[2:], " "); !ok {
			return
		}
		if user, target, ok = strings.Cut(pair, ":"); !ok {
			return
		}
	default:
		return
	}
	ev.User.Name = user
	addNonEmpty(&ev.Fields, fEffectiveUser, target)
	addNonEmpty(&ev.Fields, fTTY, tty)
	mark(ev, []string{"authentication"}, []string{"info"}, "su", outcome)
}
