package syslog

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// enrichIAM reads the account-management lines of the shadow tools
// (useradd, userdel, usermod, groupadd, groupdel, groupmod, passwd,
// chpasswd, chage, gpasswd).
func enrichIAM(_ *enricher, ev *schema.Event, msg string) {
	outcome := "success"
	if strings.Contains(msg, "fail") {
		outcome = "failure"
	}
	iam := []string{"iam"}
	switch {
	case strings.HasPrefix(msg, "new user: "):
		kv := msg[len("new user: "):]
		ev.User.Name = commaKV(kv, "name")
		ev.User.ID = commaKV(kv, "UID")
		addNonEmpty(&ev.Fields, fGroupID, commaKV(kv, "GID"))
		addNonEmpty(&ev.Fields, fUseraddHome, commaKV(kv, "home"))
		addNonEmpty(&ev.Fields, fUseraddShell, commaKV(kv, "shell"))
		mark(ev, iam, []string{"user", "creation"}, "user_created", outcome)
	case strings.HasPrefix(msg, "new group: "), strings.HasPrefix(msg, "group added to "):
		_, kv, _ := strings.Cut(msg, ": ")
		addNonEmpty(&ev.Fields, fGroupName, commaKV(kv, "name"))
		addNonEmpty(&ev.Fields, fGroupID, commaKV(kv, "GID"))
		mark(ev, iam, []string{"group", "creation"}, "group_created", outcome)
	case strings.HasPrefix(msg, "delete user '"):
		ev.User.Name, _, _ = quoted(msg)
		mark(ev, iam, []string{"user", "deletion"}, "user_deleted", outcome)
	case strings.HasPrefix(msg, "removed group '"), strings.HasPrefix(msg, "removed shadow group '"),
		strings.HasPrefix(msg, "group '") && strings.Contains(msg, "' removed"):
		g, _, _ := quoted(msg)
		addNonEmpty(&ev.Fields, fGroupName, g)
		mark(ev, iam, []string{"group", "deletion"}, "group_deleted", outcome)
	case strings.HasPrefix(msg, "add '"):
		u, rest, _ := quoted(msg)
		g, _, _ := quoted(rest)
		ev.User.Name = u
		addNonEmpty(&ev.Fields, fGroupName, g)
		mark(ev, iam, []string{"group", "change"}, "user_added_to_group", outcome)
	case strings.HasPrefix(msg, "password for '"),
		strings.HasPrefix(msg, "change user '") && strings.HasSuffix(msg, "' password"):
		ev.User.Name, _, _ = quoted(msg)
		mark(ev, iam, []string{"user", "change"}, "password_changed", outcome)
	default:
		iamDefault(ev, outcome)
	}
}

// iamDefault categorises other lines of the account tools by program, as
// Filebeat's system module does.
func iamDefault(ev *schema.Event, outcome string) {
	var typ []string
	switch ev.Process.Name {
	case "useradd":
		typ = []string{"user", "creation"}
	case "userdel":
		typ = []string{"user", "deletion"}
	case "usermod", "passwd", "chpasswd", "chage":
		typ = []string{"user", "change"}
	case "groupadd":
		typ = []string{"group", "creation"}
	case "groupdel":
		typ = []string{"group", "deletion"}
	default:
		typ = []string{"group", "change"}
	}
	mark(ev, []string{"iam"}, typ, "", outcome)
}

// commaKV returns the value of key in "k1=v1, k2=v2, ...".
func commaKV(s, key string) string {
	for s != "" {
		var seg string
		seg, s, _ = strings.Cut(s, ", ")
		if k, v, ok := strings.Cut(seg, "="); ok && k == key {
			return v
		}
	}
	return ""
}
