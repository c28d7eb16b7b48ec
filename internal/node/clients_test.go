package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/input/syslognet"
)

// needTool finds a Debian-packaged client; CI installs them (.ci/run), so a
// missing one fails there and skips elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found: CI must install the Debian package %s", name, pkg)
	}
	t.Skipf("%s not found; install the Debian package %s to run this test", name, pkg)
	return ""
}

// TestLoggerThroughTheWholePipeline sends with util-linux logger over TCP
// (RFC 5424, octet counting) and UDP (RFC 3164) and finds every message by
// search, with its fields.
func TestLoggerThroughTheWholePipeline(t *testing.T) {
	t.Parallel()
	logger := needTool(t, "logger", "bsdutils")
	tn := startNode(t, t.TempDir(), nil)
	udp, tcp, _ := tn.Syslog.Addrs()
	cases := []struct {
		tag  string
		args []string
		port string
	}{
		{"tcp", []string{"--tcp", "--rfc5424", "--octet-count"}, portOf(tcp.String())},
		{"udp", []string{"--udp", "--rfc3164"}, portOf(udp.String())},
	}
	const n = 20
	for _, c := range cases {
		for i := 0; i < n; i++ {
			args := append([]string{"--server", "127.0.0.1", "--port", c.port, "-t", "sshd", "-p", "auth.warning"}, c.args...)
			args = append(args, fmt.Sprintf("Failed password for invalid user %sguest%d from 198.51.100.7 port %d ssh2", c.tag, i, 50000+i))
			if out, err := exec.Command(logger, args...).CombinedOutput(); err != nil {
				t.Fatalf("logger: %v %s", err, out)
			}
		}
	}
	host, _ := os.Hostname()
	for _, c := range cases {
		evs := tn.search(t, "log.logger:sshd AND user.name:"+c.tag+"guest*", n)
		if len(evs) != n {
			t.Fatalf("%s: found %d events, want %d", c.tag, len(evs), n)
		}
		for _, ev := range evs {
			if !strings.HasPrefix(ev.Message, "Failed password for invalid user "+c.tag+"guest") || ev.Source.IP != "198.51.100.7" ||
				ev.Event.Outcome != "failure" || !strings.HasPrefix(ev.User.Name, c.tag+"guest") || !ev.Log.Syslog.Present ||
				ev.Log.Syslog.Facility != 4 || ev.Log.Syslog.Severity != 4 || !strings.EqualFold(ev.Host.Name, strings.Split(host, ".")[0]) && ev.Host.Name != host {
				t.Fatalf("%s: event %+v", c.tag, ev)
			}
		}
	}
	// 20 failures from one source against one host inside 5 minutes: the
	// built-in detector fires twice, grouped into one alert.
	waitFor(t, func() bool {
		_, b := tn.do(t, "GET", "/api/v1/alerts?kind=builtin", tn.token, nil, nil)
		return strings.Contains(string(b), `"source_ip":"198.51.100.7"`)
	})
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// TestRsyslogOverTLSThroughTheWholePipeline has a real rsyslogd read a file
// and forward it over TLS (gtls, verifying Vigil's self-signed certificate);
// every line is found by search.
func TestRsyslogOverTLSThroughTheWholePipeline(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "rsyslogd", "rsyslog")
	if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
		needTool(t, "lmnsd_gtls.so-is-missing", "rsyslog-gnutls")
	}
	dataDir := t.TempDir()
	tn := startNode(t, dataDir, nil)
	_, _, tlsAddr := tn.Syslog.Addrs()
	dir := t.TempDir()
	const n = 300
	var lines strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&lines, "rsyslog tls line %04d user=alice action=login\n", i)
	}
	input := filepath.Join(dir, "input.log")
	if err := os.WriteFile(input, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	_ = os.Mkdir(work, 0o755)
	conf := fmt.Sprintf(`global(workDirectory="%s" localHostName="rsyslog-tls-e2e" DefaultNetstreamDriverCAFile="%s")
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" file="%s" tag="tlsapp:" facility="local4" severity="info" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1"
         StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost" template="RSYSLOG_SyslogProtocol23Format"
         TCP_Framing="octet-counted")
}
`, work, filepath.Join(dataDir, syslognet.SelfSignedCertName), input, portOf(tlsAddr.String()))
	confFile := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", confFile, "-i", filepath.Join(dir, "pid"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", out.String())
		}
	}()
	evs := tn.search(t, "host.name:rsyslog-tls-e2e AND log.logger:tlsapp", n)
	if len(evs) != n {
		t.Fatalf("found %d events, want %d", len(evs), n)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.Message] = true
		if ev.Log.Syslog.Facility != 20 || ev.Log.Syslog.Severity != 6 || ev.Input != "syslog" {
			t.Fatalf("event %+v", ev)
		}
	}
	if len(seen) != n || !seen["rsyslog tls line 0000 user=alice action=login"] {
		t.Fatalf("%d distinct messages", len(seen))
	}
}
