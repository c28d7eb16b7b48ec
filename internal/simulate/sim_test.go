package simulate

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/valyala/fastjson"
)

// runSim runs a simulator against the given outputs until done holds (or
// the timeout), then stops it and returns it with its log.
func runSim(t *testing.T, o Options, timeout time.Duration, what string, done func(*Sim) bool) (*Sim, string) {
	t.Helper()
	var logs lockedBuffer
	o.Log = testLogger(&logs)
	s := New(o)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor(t, timeout, what, func() bool { return done(s) })
	return s, logs.String()
}

func TestSimulatorEndToEnd(t *testing.T) {
	t.Parallel()
	tcp, udp, bulk := startFakeTCP(t, 0), startFakeUDP(t), startFakeBulk(t, "test-token")
	start := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	s, logs := runSim(t, Options{SyslogTCP: tcp.addr(), SyslogUDP: udp.addr(), HTTPURL: bulk.srv.URL,
		Token: "test-token", Speed: 10000, Start: start, Seed: 7}, 15*time.Second,
		"catch-up, the brute-force success and a bulk batch accepted after 429", func(s *Sim) bool {
			st := s.Stats() // Bulk counts once the client has read the 200
			return st.CaughtUp && st.Bulk > 0 && bulk.acceptedAfter429() && tcp.contains("Accepted password for root from 203.0.113.50")
		})
	end := time.Now().Add(time.Second)
	st := s.Stats()
	if st.SyslogTCP == 0 || st.SyslogUDP == 0 || st.Bulk == 0 || st.BulkRetries == 0 || st.AttacksStarted == 0 {
		t.Errorf("stats %+v: want every channel used, a bulk retry and an attack", st)
	}
	if st.Dropped != 0 {
		t.Errorf("dropped %d records", st.Dropped)
	}
	for _, want := range []string{"simulated attack scheduled", "attack=ssh-brute-force", "simulated attack started",
		"look_for=", "now running at 1x"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	t.Run("rfc5424 over tcp", func(t *testing.T) { checkTCP(t, tcp, start, end) })
	t.Run("rfc3164 over udp", func(t *testing.T) { checkUDP(t, udp, start, end) })
	t.Run("bulk", func(t *testing.T) { checkBulk(t, bulk, start, end) })
	t.Run("ssh brute force", func(t *testing.T) { checkBruteForce(t, tcp) })
}

// checkTCP: every frame is RFC 5424, each connection carries one host,
// and timestamps never go back on a connection.
func checkTCP(t *testing.T, f *fakeTCP, start, end time.Time) {
	frames, errs, hosts := f.snapshot()
	for _, err := range errs {
		t.Errorf("framing: %v", err)
	}
	p := rfc5424.NewParser()
	last := map[int]time.Time{}
	hostOf := map[int]string{}
	for _, fr := range frames {
		m, err := p.Parse([]byte(fr.data))
		if err != nil {
			t.Fatalf("not RFC 5424: %v: %q", err, fr.data)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if sm.Timestamp == nil || sm.Hostname == nil || sm.Appname == nil || sm.Message == nil {
			t.Fatalf("missing header field: %q", fr.data)
		}
		ts := *sm.Timestamp
		if ts.Before(start) || ts.After(end) {
			t.Errorf("timestamp %s outside [%s, %s]: %q", ts, start, end, fr.data)
		}
		if ts.Before(last[fr.conn]) {
			t.Errorf("connection %d went back in time: %s after %s: %q", fr.conn, ts, last[fr.conn], fr.data)
		}
		last[fr.conn] = ts
		if h, ok := hostOf[fr.conn]; ok && h != *sm.Hostname {
			t.Errorf("connection %d carries %s and %s", fr.conn, h, *sm.Hostname)
		}
		hostOf[fr.conn] = *sm.Hostname
	}
	for _, h := range []string{"web-01", "web-02", "bastion-01"} {
		if len(hosts[h]) != 1 {
			t.Errorf("host %s used connections %v, want one persistent connection", h, hosts[h])
		}
	}
	if len(hosts) != 3 {
		t.Errorf("TCP hosts %v, want web-01, web-02, bastion-01", hosts)
	}
}

// checkUDP: every datagram is RFC 3164 with a known host, and each
// host's timestamps never go back.
func checkUDP(t *testing.T, f *fakeUDP, start, end time.Time) {
	msgs := f.snapshot()
	if len(msgs) == 0 {
		t.Fatal("no datagrams")
	}
	p := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: start.Year()}), rfc3164.WithTimezone(time.UTC))
	last := map[string]time.Time{}
	stamp := regexp.MustCompile(`^<\d{1,3}>[A-Z][a-z]{2} [ 1-3]\d \d{2}:\d{2}:\d{2} (db-01|mail-01) [a-zA-Z/-]+(\[\d+\])?: `)
	for _, d := range msgs {
		if !stamp.MatchString(d.data) {
			t.Errorf("not a BSD syslog line from db-01 or mail-01: %q", d.data)
		}
		m, err := p.Parse([]byte(d.data))
		if err != nil {
			t.Fatalf("not RFC 3164: %v: %q", err, d.data)
		}
		sm := m.(*rfc3164.SyslogMessage)
		ts := *sm.Timestamp
		if start.Sub(ts) > 180*24*time.Hour {
			ts = ts.AddDate(1, 0, 0) // the year turned during the run
		}
		if ts.Before(start.Truncate(time.Second)) || ts.After(end) {
			t.Errorf("timestamp %s outside [%s, %s]: %q", ts, start, end, d.data)
		}
		key := *sm.Hostname + " " + d.from
		if ts.Before(last[key]) {
			t.Errorf("%s went back in time: %s after %s", key, ts, last[key])
		}
		last[key] = ts
	}
}

// checkBulk: the throttled batch is resent unchanged, every body is
// action/document NDJSON with the Winlogbeat fields, and record ids have
// no gaps (nothing was lost).
func checkBulk(t *testing.T, f *fakeBulk, start, end time.Time) {
	reqs, bad := f.snapshot()
	for _, b := range bad {
		t.Errorf("bulk protocol: %s", b)
	}
	if len(reqs) < 2 || !bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Fatalf("the batch refused with 429 was not resent unchanged (%d requests)", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 900*time.Millisecond {
		t.Errorf("resent after %s, want Retry-After: 1 honoured", gap)
	}
	next := map[string]uint64{}
	lastTS := map[string]time.Time{}
	ids := map[string]int{}
	var p fastjson.Parser
	for _, r := range reqs {
		if r.status != http.StatusOK {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
		if len(lines)%2 != 0 {
			t.Fatalf("odd number of NDJSON lines: %d", len(lines))
		}
		for i := 0; i < len(lines); i += 2 {
			a, err := p.Parse(lines[i])
			if err != nil || a.Get("create") == nil {
				t.Fatalf("action line %q: %v", lines[i], err)
			}
			key, ts, id := checkWinDoc(t, lines[i+1], start, end)
			ids[id]++
			if n, ok := next[key]; ok && n != recordOf(t, lines[i+1]) {
				t.Errorf("%s: record_id %d, want %d (a record was lost or repeated)", key, recordOf(t, lines[i+1]), n)
			}
			next[key] = recordOf(t, lines[i+1]) + 1
			if ts.Before(lastTS[key]) {
				t.Errorf("%s went back in time", key)
			}
			lastTS[key] = ts
		}
	}
	if len(ids) < 3 {
		t.Errorf("event ids seen %v, want a mix", ids)
	}
}

func recordOf(t *testing.T, doc string) uint64 {
	v, err := fastjson.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v.GetUint64("winlog", "record_id")
}

// checkWinDoc checks one Winlogbeat document and returns its host and
// channel, its time and its event id.
func checkWinDoc(t *testing.T, doc string, start, end time.Time) (string, time.Time, string) {
	v, err := fastjson.Parse(doc)
	if err != nil {
		t.Fatalf("document %q: %v", doc, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("@timestamp")))
	if err != nil || ts.Before(start) || ts.After(end) {
		t.Errorf("@timestamp %q: %v", v.GetStringBytes("@timestamp"), err)
	}
	id := string(v.GetStringBytes("winlog", "event_id"))
	channel := string(v.GetStringBytes("winlog", "channel"))
	for _, path := range [][]string{{"host", "name"}, {"winlog", "provider_name"}, {"winlog", "computer_name"},
		{"event", "code"}, {"message"}, {"agent", "type"}} {
		if len(v.GetStringBytes(path...)) == 0 {
			t.Errorf("%s missing in %s", strings.Join(path, "."), doc)
		}
	}
	if v.Get("winlog", "record_id").Type() != fastjson.TypeNumber || string(v.GetStringBytes("event", "code")) != id {
		t.Errorf("record_id must be a number and event.code equal winlog.event_id: %s", doc)
	}
	var want []string
	switch id {
	case "4624", "4625":
		want = []string{"TargetUserName", "TargetDomainName", "LogonType", "IpAddress", "IpPort"}
	case "1":
		want = []string{"Image", "CommandLine", "ParentImage", "User", "Hashes", "ProcessGuid"}
	case "3":
		want = []string{"Image", "DestinationIp", "DestinationPort", "SourceIp"}
	case "22":
		want = []string{"QueryName", "QueryResults", "Image"}
	case "4688":
		want = []string{"NewProcessName", "CommandLine", "ParentProcessName"}
	}
	wantChannel := map[bool]string{true: chanSysmon, false: chanSecurity}[len(id) <= 2]
	if channel != wantChannel {
		t.Errorf("event %s on channel %q, want %q", id, channel, wantChannel)
	}
	for _, k := range want {
		if !v.Exists("winlog", "event_data", k) {
			t.Errorf("event %s lacks event_data.%s: %s", id, k, doc)
		}
	}
	return string(v.GetStringBytes("host", "name")) + "|" + channel, ts, id
}

// checkBruteForce: the bastion shows at least 40 failed passwords from
// the attacker within three minutes, then the accepted root login and the
// intruder's sudo, in Debian OpenSSH and sudo formats.
func checkBruteForce(t *testing.T, f *fakeTCP) {
	frames, _, _ := f.snapshot()
	p := rfc5424.NewParser()
	failed := regexp.MustCompile(`^Failed password for (invalid user admin|root) from 203\.0\.113\.50 port \d{1,5} ssh2$`)
	accepted := regexp.MustCompile(`^Accepted password for root from 203\.0\.113\.50 port \d{1,5} ssh2$`)
	sudo := regexp.MustCompile(`^ {4}root : TTY=pts/\d+ ; PWD=/root ; USER=root ; COMMAND=/usr/bin/wget -q http://203\.0\.113\.50/`)
	var fails []time.Time
	var okAt time.Time
	sudoSeen := false
	for _, fr := range frames {
		m, err := p.Parse([]byte(fr.data))
		if err != nil {
			t.Fatal(err)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if *sm.Hostname != "bastion-01" {
			continue
		}
		msg := *sm.Message
		switch {
		case failed.MatchString(msg):
			if *sm.Appname != "sshd" || sm.ProcID == nil || !okAt.IsZero() {
				t.Errorf("failure out of place: %q", fr.data)
			}
			fails = append(fails, *sm.Timestamp)
		case accepted.MatchString(msg):
			okAt = *sm.Timestamp
		case sudo.MatchString(msg) && !okAt.IsZero():
			sudoSeen = *sm.Appname == "sudo"
		}
	}
	if len(fails) < bruteFailures {
		t.Fatalf("%d failures from the attacker, want >= %d", len(fails), bruteFailures)
	}
	if span := fails[bruteFailures-1].Sub(fails[0]); span > bruteWindow {
		t.Errorf("first %d failures span %s, want <= %s", bruteFailures, span, bruteWindow)
	}
	if okAt.IsZero() || okAt.Before(fails[len(fails)-1]) {
		t.Errorf("no accepted root login after the failures (at %s)", okAt)
	}
	if !sudoSeen {
		t.Error("no sudo wget after the intrusion")
	}
}

func TestClockSwitchesToRealTime(t *testing.T) {
	t.Parallel()
	udp := startFakeUDP(t)
	start := time.Now().Add(-3 * time.Second)
	began := time.Now()
	var a, b *clockReading
	var caughtAfter time.Duration
	runSim(t, Options{SyslogUDP: udp.addr(), Speed: 100, Start: start, Seed: 1}, 5*time.Second,
		"the clock to catch up and run 300ms", func(s *Sim) bool {
			if !s.Stats().CaughtUp {
				return false
			}
			cur := s.c.clock.Load()
			if a == nil {
				a, caughtAfter = cur, time.Since(began)
				return false
			}
			b = cur
			return b.real.Sub(a.real) >= 300*time.Millisecond
		})
	// 3 s behind at 100x is caught up after about 30 ms of real time.
	if caughtAfter > 2*time.Second {
		t.Errorf("caught up after %s, want about 30ms", caughtAfter)
	}
	// At 1x the simulated clock is the real clock of its step; at 100x the
	// 300 ms between the samples would have been 30 s.
	realD, simD := b.real.Sub(a.real), b.sim.Sub(a.sim)
	if d := simD - realD; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("after catch-up %s of real time moved the simulated clock %s; want 1x", realD, simD)
	}
}

func TestTCPReconnects(t *testing.T) {
	t.Parallel()
	tcp := startFakeTCP(t, 3)
	start := time.Now().Add(-6 * time.Hour)
	runSim(t, Options{SyslogTCP: tcp.addr(), Speed: 20000, Start: start, Seed: 3}, 10*time.Second,
		"web-01 to reconnect", func(*Sim) bool {
			_, _, hosts := tcp.snapshot()
			return len(hosts["web-01"]) >= 2
		})
	frames, errs, hosts := tcp.snapshot()
	if len(errs) != 0 {
		t.Errorf("framing errors: %v", errs)
	}
	second := 0
	for _, fr := range frames {
		if fr.conn == hosts["web-01"][1] {
			second++
		}
	}
	if second == 0 {
		t.Error("no frame arrived on web-01's new connection")
	}
}

func TestRunNeedsAnOutput(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{}, {HTTPURL: "ftp://example.org"}, {HTTPURL: "127.0.0.1:8080"}} {
		s := New(o)
		if err := s.Run(t.Context()); err == nil {
			t.Errorf("Run with %+v: want an error", o)
		}
	}
}
