package syslog

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// enrichSSHD reads OpenSSH sshd (and sshd-session) messages.
func enrichSSHD(_ *enricher, ev *schema.Event, msg string) {
	msg = strings.TrimPrefix(msg, "error: ")
	if rest, ok := strings.CutPrefix(msg, "Accepted "); ok {
		sshLogin(ev, rest, "Accepted")
		return
	}
	if rest, ok := strings.CutPrefix(msg, "Failed "); ok {
		sshLogin(ev, rest, "Failed")
		return
	}
	if rest, ok := strings.CutPrefix(msg, "Invalid user "); ok {
		sshInvalidUser(ev, rest)
		return
	}
	for _, p := range [...]string{"Connection closed by ", "Disconnected from ", "Received disconnect from ", "Connection reset by ", "Disconnecting "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			sshDisconnect(ev, rest)
			return
		}
	}
	if rest, ok := strings.CutPrefix(msg, "maximum authentication attempts exceeded for "); ok {
		sshMaxAuth(ev, rest)
		return
	}
	if rest, ok := strings.CutPrefix(msg, "Did not receive identification string from "); ok {
		addr, port, _ := readAddrPort(rest)
		ev.Fields.Add(fSSHDroppedIP, addr)
		setSource(ev, addr)
		ev.Source.Port = port
		mark(ev, []string{"network"}, []string{"connection"}, "ssh_dropped_connection", "failure")
		return
	}
	if strings.HasPrefix(msg, "PAM ") && strings.Contains(msg, " more authentication failure") {
		pamFailure(ev, msg)
	}
}

// sshLogin reads "<method> for [invalid user ]<user> from <ip> port <n>
// ssh2[: <signature>]" after "Accepted " or "Failed ".
func sshLogin(ev *schema.Event, s, event string) {
	method, rest, ok := strings.Cut(s, " for ")
	if !ok || method == "" || strings.IndexByte(method, ' ') >= 0 {
		return
	}
	rest = strings.TrimPrefix(rest, "invalid user ")
	user, addrPart, ok := lastCut(rest, " from ")
	if !ok {
		return
	}
	addr, port, tail := readAddrPort(addrPart)
	ev.User.Name = user
	setSource(ev, addr)
	ev.Source.Port = port
	ev.Fields.Add(fSSHEvent, event)
	ev.Fields.Add(fSSHMethod, method)
	if _, sig, ok := strings.Cut(tail, ": "); ok && sig != "" {
		ev.Fields.Add(fSSHSignature, sig)
	}
	if event == "Accepted" {
		mark(ev, []string{"authentication", "session"}, []string{"info"}, "ssh_login", "success")
		return
	}
	mark(ev, []string{"authentication"}, []string{"info"}, "ssh_login", "failure")
}

// sshInvalidUser reads "<user> from <ip>[ port <n>]" after "Invalid user ".
func sshInvalidUser(ev *schema.Event, s string) {
	user, addrPart, ok := lastCut(s, " from ")
	if !ok {
		return
	}
	addr, port, _ := readAddrPort(addrPart)
	ev.User.Name = user
	setSource(ev, addr)
	ev.Source.Port = port
	ev.Fields.Add(fSSHEvent, "Invalid")
	mark(ev, []string{"authentication"}, []string{"info"}, "ssh_login", "failure")
}

// sshDisconnect reads "[authenticating user |invalid user |user ]<user>
// <ip> port <n>[...]" or "<ip> port <n>[...]".
func sshDisconnect(ev *schema.Event, s string) {
	i := strings.LastIndex(s, " port ")
	if i < 0 {
		return
	}
	left := s[:i]
	addr := left
	user := ""
	if j := strings.LastIndexByte(left, ' '); j >= 0 {
		addr, user = left[j+1:], left[:j]
		for _, p := range [...]string{"authenticating user ", "invalid user ", "user "} {
			if u, ok := strings.CutPrefix(user, p); ok {
				user = u
				break
			}
		}
	}
	ev.User.Name = user
	setSource(ev, addr)
	if n, _, ok := readInt(s[i+len(" port "):], 1, 5); ok && n <= 65535 {
		ev.Source.Port = n
	}
	mark(ev, []string{"session"}, []string{"end"}, "ssh_disconnect", "")
}

// sshMaxAuth reads "[invalid user ]<user> from <ip> port <n> ssh2 [preauth]".
func sshMaxAuth(ev *schema.Event, s string) {
	s = strings.TrimPrefix(s, "invalid user ")
	user, addrPart, ok := lastCut(s, " from ")
	if !ok {
		return
	}
	addr, port, _ := readAddrPort(addrPart)
	ev.User.Name = user
	setSource(ev, addr)
	ev.Source.Port = port
	mark(ev, []string{"authentication"}, []string{"info"}, "ssh_max_auth_attempts", "failure")
}
