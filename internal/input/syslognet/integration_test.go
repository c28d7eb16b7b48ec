package syslognet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// needBinary returns the path of a client program, skipping the test when
// it is missing, or failing it when env CI is set (CI installs it).
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found (install the %s package): %v", name, pkg, err)
	}
	t.Skipf("%s not found; install the %s package to run this test", name, pkg)
	return ""
}

// TestLoggerClient sends with util-linux logger over UDP and TCP, in RFC
// 5424 and RFC 3164, with and without octet counting.
func TestLoggerClient(t *testing.T) {
	t.Parallel()
	logger := needBinary(t, "logger", "bsdutils")
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"first line from logger", "second line: ünïcödé", "third line"}
	tests := []struct {
		name   string
		args   []string
		micros bool // RFC 5424 stamps carry microseconds; RFC 3164 whole seconds
	}{
		{"udp rfc5424", []string{"--udp", "--rfc5424"}, true},
		{"udp rfc3164", []string{"--udp", "--rfc3164"}, false},
		{"tcp rfc5424", []string{"--tcp", "--rfc5424"}, true},
		{"tcp rfc3164", []string{"--tcp", "--rfc3164"}, false},
		{"tcp rfc5424 octet-count", []string{"--tcp", "--rfc5424", "--octet-count"}, true},
		{"tcp rfc3164 octet-count", []string{"--tcp", "--rfc3164", "--octet-count"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &collectSink{}
			rec := &rejectLog{}
			r := startServer(t, localCfg(), sink, rec)
			addr := r.tcp
			if tc.args[0] == "--udp" {
				addr = r.udp
			}
			_, port, _ := strings.Cut(addr.String(), "127.0.0.1:")
			args := append([]string{"--server", "127.0.0.1", "--port", port, "-t", "vigiltest", "-i",
				"-p", "local3.warning", "--msgid", "M1"}, tc.args...)
			cmd := exec.Command(logger, args...)
			cmd.Env = append(os.Environ(), "TZ=UTC") // RFC 3164 stamps are local time
			cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
			before := time.Now().Truncate(time.Second)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("logger: %v: %s", err, out)
			}
			after := time.Now()
			st := waitSettled(t, r.s, uint64(len(lines)))
			if st.Accepted != uint64(len(lines)) {
				t.Fatalf("stats %+v, rejects %+v", st, rec.all())
			}
			evs := sink.events()
			if tc.args[0] == "--udp" {
				// Datagrams are parsed by several workers: any order.
				slices.SortFunc(evs, func(a, b schema.Event) int {
					return slices.Index(lines, a.Message) - slices.Index(lines, b.Message)
				})
			}
			for i, ev := range evs {
				checkLoggerEvent(t, ev, host, lines[i], before, after, tc.micros)
			}
		})
	}
}

func checkLoggerEvent(t *testing.T, ev schema.Event, host, line string, before, after time.Time, micros bool) {
	t.Helper()
	if ev.Host.Name != host || ev.Log.Logger != "vigiltest" || ev.Message != line {
		t.Errorf("event host %q app %q message %q; want %q, vigiltest, %q", ev.Host.Name, ev.Log.Logger, ev.Message, host, line)
	}
	if ev.Log.Syslog.Facility != 19 || ev.Log.Syslog.Severity != 4 || ev.Process.PID <= 0 {
		t.Errorf("facility %d severity %d pid %d; want 19, 4 and logger's pid",
			ev.Log.Syslog.Facility, ev.Log.Syslog.Severity, ev.Process.PID)
	}
	ts := ev.Timestamp
	if ts.Before(before) || ts.After(after) {
		t.Errorf("timestamp %v outside [%v, %v]", ts, before, after)
	}
	if ns := ts.Nanosecond(); (ns%1000 != 0) || (!micros && ns != 0) {
		t.Errorf("timestamp %v has the wrong precision (want microseconds: %v)", ts, micros)
	}
}

// rsyslogd is a child rsyslogd with its own configuration and work
// directory.
type rsyslogd struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// startRsyslog runs rsyslogd in the foreground with config conf (in dir).
func startRsyslog(t *testing.T, bin, dir, conf string) *rsyslogd {
	t.Helper()
	confFile := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &rsyslogd{}
	r.cmd = exec.Command(bin, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	r.cmd.Dir = dir
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends rsyslogd with SIGTERM and waits for it; safe to call twice.
func (r *rsyslogd) stop(t *testing.T) {
	if r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		r.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("rsyslogd output:\n%s", r.out.String())
	}
}

// TestRsyslogForwarding has a real rsyslogd read a file with imfile and
// forward it with omfwd: over TCP with octet counting and the RFC 5424
// template, and over TLS (gtls, verifying the listener's self-signed
// certificate) with non-transparent framing and the forward template.
func TestRsyslogForwarding(t *testing.T) {
	t.Parallel()
	bin := needBinary(t, "rsyslogd", "rsyslog")
	const n = 1000
	tests := []struct {
		name string
		tls  bool
		fwd  string // omfwd parameters after target and port
	}{
		{"tcp octet-counted rfc5424", false,
			`protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"`},
		{"tls traditional framing", true,
			`protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" ` +
				`StreamDriverPermittedPeers="localhost" template="RSYSLOG_ForwardFormat"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.tls {
				if matches, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(matches) == 0 {
					if os.Getenv("CI") != "" {
						t.Fatal("rsyslog's gtls driver (lmnsd_gtls.so) not found: install rsyslog-gnutls")
					}
					t.Skip("rsyslog's gtls driver not found; install rsyslog-gnutls to run this test")
				}
			}
			runRsyslogCase(t, bin, n, tc.tls, tc.fwd)
		})
	}
}

func runRsyslogCase(t *testing.T, bin string, n int, useTLS bool, fwd string) {
	dir := t.TempDir()
	sink := &collectSink{}
	rec := &rejectLog{}
	cfg := localCfg()
	cfg.BatchSize = 64
	if useTLS {
		cfg = Config{TLS: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), BatchSize: 64, FlushInterval: 20 * time.Millisecond}
	}
	r := startServer(t, cfg, sink, rec)
	addr := r.tcp
	caLine := ""
	if useTLS {
		addr = r.tls
		caLine = fmt.Sprintf(` DefaultNetstreamDriverCAFile="%s"`, filepath.Join(dir, "data", SelfSignedCertName))
	}
	_, port, _ := strings.Cut(addr.String(), "127.0.0.1:")

	input := filepath.Join(dir, "input.log")
	var lines []string
	var file bytes.Buffer
	for i := range n {
		l := fmt.Sprintf("line %04d of the forwarded file: user=alice action=login status=ok", i)
		lines = append(lines, l)
		file.WriteString(l + "\n")
	}
	if err := os.WriteFile(input, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global(workDirectory="%s" localHostName="vigil-rsyslog-test"%s)
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" file="%s" tag="fileapp:" facility="local4" severity="info" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%s" %s)
}
`, work, caLine, input, port, fwd)
	before := time.Now()
	rs := startRsyslog(t, bin, dir, conf)
	waitFor(t, fmt.Sprintf("%d forwarded messages", n), 60*time.Second, func() bool {
		return r.s.Stats().Received >= uint64(n)
	})
	t0 := time.Now()
	rs.stop(t)
	after := time.Now()
	r.stop()
	t.Logf("received after %v; rsyslogd stopped in %v, listener in %v", t0.Sub(before), after.Sub(t0), time.Since(after))
	st := r.s.Stats()
	if st.Received != uint64(n) || st.Accepted != uint64(n) || st.Rejected != 0 {
		t.Fatalf("stats %+v, rejects %+v", st, rec.all())
	}
	for i, ev := range sink.events() {
		if ev.Host.Name != "vigil-rsyslog-test" || ev.Log.Logger != "fileapp" || ev.Message != lines[i] {
			t.Fatalf("event %d: host %q app %q message %q; want vigil-rsyslog-test, fileapp, %q",
				i, ev.Host.Name, ev.Log.Logger, ev.Message, lines[i])
		}
		if ev.Log.Syslog.Facility != 20 || ev.Log.Syslog.Severity != 6 {
			t.Fatalf("event %d: facility %d severity %d, want 20 and 6", i, ev.Log.Syslog.Facility, ev.Log.Syslog.Severity)
		}
		if ts := ev.Timestamp; ts.Before(before.Truncate(time.Second)) || ts.After(after) || ts.Nanosecond()%1000 != 0 {
			t.Fatalf("event %d: timestamp %v not a microsecond stamp in [%v, %v]", i, ts, before, after)
		}
	}
	t.Logf("%d events over %s; %s", n, addr.Network(), strconv.Quote(sink.events()[0].Original))
}
