package syslog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// enrichWant is what one line's enrichment must yield.
type enrichWant struct {
	dataset, category, typ, action, outcome string
	user, ip, domain                        string
	port                                    int
	cmd                                     string
	fields                                  map[string]string
}

type enrichCase struct {
	line string
	want enrichWant
}

// enrichCases are real-world message shapes of each enriched program.
func enrichCases() []enrichCase {
	type want = enrichWant
	return []enrichCase{
		{"Nov 20 10:00:00 h sshd[1]: Accepted password for alice from 192.0.2.1 port 2222 ssh2",
			want{datasetAuth, "authentication,session", "info", "ssh_login", "success", "alice", "192.0.2.1", "", 2222, "",
				map[string]string{fSSHEvent: "Accepted", fSSHMethod: "password"}}},
		{"Nov 20 10:00:00 h sshd[1]: Accepted publickey for git from 2001:db8::1 port 22 ssh2: RSA SHA256:x",
			want{datasetAuth, "authentication,session", "info", "ssh_login", "success", "git", "2001:db8::1", "", 22, "",
				map[string]string{fSSHMethod: "publickey", fSSHSignature: "RSA SHA256:x"}}},
		{"Nov 20 10:00:00 h sshd[1]: Failed keyboard-interactive/pam for invalid user a b from 192.0.2.1 port 5 ssh2",
			want{datasetAuth, "authentication", "info", "ssh_login", "failure", "a b", "192.0.2.1", "", 5, "",
				map[string]string{fSSHMethod: "keyboard-interactive/pam"}}},
		{"Nov 20 10:00:00 h sshd[1]: Failed password for user from from 192.0.2.1 port 5 ssh2",
			want{datasetAuth, "authentication", "info", "ssh_login", "failure", "user from", "192.0.2.1", "", 5, "", nil}},
		{"Nov 20 10:00:00 h sshd[1]: Invalid user admin from 192.0.2.1",
			want{datasetAuth, "authentication", "info", "ssh_login", "failure", "admin", "192.0.2.1", "", 0, "",
				map[string]string{fSSHEvent: "Invalid"}}},
		{"Nov 20 10:00:00 h sshd[1]: Connection closed by 192.0.2.1 port 22 [preauth]",
			want{datasetAuth, "session", "end", "ssh_disconnect", "", "", "192.0.2.1", "", 22, "", nil}},
		{"Nov 20 10:00:00 h sshd[1]: Disconnected from invalid user x 192.0.2.1 port 22 [preauth]",
			want{datasetAuth, "session", "end", "ssh_disconnect", "", "x", "192.0.2.1", "", 22, "", nil}},
		{"Nov 20 10:00:00 h sshd[1]: error: maximum authentication attempts exceeded for invalid user pi from 192.0.2.1 port 9 ssh2 [preauth]",
			want{datasetAuth, "authentication", "info", "ssh_max_auth_attempts", "failure", "pi", "192.0.2.1", "", 9, "", nil}},
		{"Nov 20 10:00:00 h sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=bad.example  user=root",
			want{datasetAuth, "authentication", "info", "authentication_failure", "failure", "root", "", "bad.example", 0, "",
				map[string]string{fPAMModule: "pam_unix", fPAMService: "sshd", fPAMType: "auth"}}},
		{"Nov 20 10:00:00 h sshd[1]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
			want{datasetAuth, "session", "start", "session_opened", "success", "alice", "", "", 0, "", nil}},
		{"Nov 20 10:00:00 h sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -la",
			want{datasetAuth, "process", "start", "sudo_command", "success", "alice", "", "", 0, "/bin/ls -la",
				map[string]string{fEffectiveUser: "root", fSudoTTY: "pts/0", fSudoPWD: "/home/alice"}}},
		{"Nov 20 10:00:00 h sudo: alice : TTY=pts/0 ; PWD=/ ; USER=root ; TSID=000001 ; COMMAND=/bin/sh -c a ; b",
			want{datasetAuth, "process", "start", "sudo_command", "success", "alice", "", "", 0, "/bin/sh -c a ; b", nil}},
		{"Nov 20 10:00:00 h sudo: bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
			want{datasetAuth, "authentication,process", "info", "sudo_command", "failure", "bob", "", "", 0, "/bin/id",
				map[string]string{fSudoError: "3 incorrect password attempts"}}},
		{"Nov 20 10:00:00 h sudo: eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
			want{datasetAuth, "process", "denied", "sudo_command", "failure", "eve", "", "", 0, "/bin/id", nil}},
		{"Nov 20 10:00:00 h sudo: eve : unable to resolve host h",
			want{datasetAuth, "", "", "", "", "", "", "", 0, "", nil}},
		{"Nov 20 10:00:00 h su: (to root) alice on pts/0",
			want{datasetAuth, "authentication", "info", "su", "success", "alice", "", "", 0, "", map[string]string{fEffectiveUser: "root"}}},
		{"Nov 20 10:00:00 h su[9]: FAILED su for root by bob",
			want{datasetAuth, "authentication", "info", "su", "failure", "bob", "", "", 0, "", map[string]string{fEffectiveUser: "root"}}},
		{"Nov 20 10:00:00 h su[9]: - pts/3 bob:root",
			want{datasetAuth, "authentication", "info", "su", "failure", "bob", "", "", 0, "", map[string]string{fTTY: "pts/3"}}},
		{"Nov 20 10:00:00 h login[9]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure",
			want{datasetAuth, "authentication", "info", "login", "failure", "root", "", "", 0, "", map[string]string{fTTY: "/dev/tty1"}}},
		{"Nov 20 10:00:00 h login[9]: LOGIN ON tty2 BY alice",
			want{datasetAuth, "authentication", "info", "login", "success", "alice", "", "", 0, "", nil}},
		{"Nov 20 10:00:00 h systemd-logind[9]: New session c1 of user lightdm.",
			want{datasetAuth, "session", "start", "new_session", "success", "lightdm", "", "", 0, "", map[string]string{fLogindSession: "c1"}}},
		{"Nov 20 10:00:00 h useradd[9]: new user: name=eve, UID=1500, GID=1500, home=/home/eve, shell=/bin/sh, from=none",
			want{datasetAuth, "iam", "user,creation", "user_created", "success", "eve", "", "", 0, "",
				map[string]string{fGroupID: "1500", fUseraddShell: "/bin/sh"}}},
		{"Nov 20 10:00:00 h usermod[9]: add 'eve' to group 'wheel'",
			want{datasetAuth, "iam", "group,change", "user_added_to_group", "success", "eve", "", "", 0, "",
				map[string]string{fGroupName: "wheel"}}},
		{"Nov 20 10:00:00 h passwd[9]: password for 'eve' changed by 'root'",
			want{datasetAuth, "iam", "user,change", "password_changed", "success", "eve", "", "", 0, "", nil}},
		{"Nov 20 10:00:00 h useradd[9]: failed adding user 'x', data deleted",
			want{datasetAuth, "iam", "user,creation", "", "failure", "", "", "", 0, "", nil}},
		{"Nov 20 10:00:00 h CRON[9]: (www-data) CMD (php /var/www/cron.php)",
			want{datasetSyslog, "process", "start", "cron_command", "", "www-data", "", "", 0, "php /var/www/cron.php", nil}},
		{"Nov 20 10:00:00 h nginx[9]: Accepted password for alice from 192.0.2.1 port 2222 ssh2",
			want{datasetSyslog, "", "", "", "", "", "", "", 0, "", nil}},
	}
}

func TestEnrich(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{})
	for _, tc := range enrichCases() {
		t.Run(tc.line[18:], func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			if err := p.Parse([]byte(tc.line), goldenReceived, &ev); err != nil {
				t.Fatal(err)
			}
			w := tc.want
			got := enrichWant{ev.Event.Dataset, strings.Join(ev.Event.Category, ","), strings.Join(ev.Event.Type, ","),
				ev.Event.Action, ev.Event.Outcome, ev.User.Name, ev.Source.IP, ev.Source.Domain, ev.Source.Port,
				ev.Process.CommandLine, nil}
			w.fields = nil
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			for k, v := range tc.want.fields {
				if g, _ := ev.Fields.Get(k); g != v {
					t.Errorf("field %s = %q, want %q (fields %v)", k, g, v, ev.Fields)
				}
			}
		})
	}
}
