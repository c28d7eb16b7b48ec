package syslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// goldenReceived is the receipt time of every golden input line.
var goldenReceived = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// TestGolden parses every line of testdata/*.log and compares the events
// (or rejections) with testdata/*.golden. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{})
	golden.CheckFiles(t, filepath.Join("testdata", "*.log"), func(t *testing.T, path string) []byte {
		return golden.MapLines(t, path, func(line []byte) (*schema.Event, error) {
			var ev schema.Event
			err := p.Parse(line, goldenReceived, &ev)
			return &ev, err
		})
	})
}

func TestRejects(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{MaxBytes: 64})
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"empty", "", parse.ReasonEmpty},
		{"only newline", "\r\n", parse.ReasonEmpty},
		{"oversized", "<13>Nov 20 10:00:00 host app: " + strings.Repeat("x", 64), parse.ReasonOversized},
		{"invalid utf8", "<13>Nov 20 10:00:00 host app: \xff\xfe", parse.ReasonInvalidUTF8},
		{"pri out of range", "<192>Nov 20 10:00:00 host app: x", parse.ReasonBadSyslog},
		{"pri not closed", "<13 Nov 20 10:00:00 host app: x", parse.ReasonBadSyslog},
		{"pri leading zero", "<013>Nov 20 10:00:00 host app: x", parse.ReasonBadSyslog},
		{"no pri no stamp", "hello world", parse.ReasonBadSyslog},
		{"bad 5424 stamp", "<13>1 2026-13-45T99:00:00Z h a - - - m", parse.ReasonBadSyslog},
		{"bad 5424 sd", "<13>1 2026-11-20T10:00:00Z h a - - [x", parse.ReasonBadSyslog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := schema.Event{Message: "stale", Fields: schema.Fields{{Key: "k", Value: "v"}}}
			err := p.Parse([]byte(tc.in), goldenReceived, &ev)
			var pe *parse.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *parse.Error", tc.in, err)
			}
			if pe.Reason != tc.reason {
				t.Errorf("Parse(%q) reason = %q (%v), want %q", tc.in, pe.Reason, err, tc.reason)
			}
			if ev.Message != "" || len(ev.Fields) != 0 {
				t.Errorf("Parse(%q) left a stale event behind: %+v", tc.in, ev)
			}
		})
	}
}

func TestYearInference(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	tests := []struct {
		name     string
		loc      *time.Location
		line     string
		received time.Time
		want     time.Time
	}{
		{"same year", nil, "Nov 20 10:00:00 h app: x",
			time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"december read in january", nil, "<13>Dec 31 23:59:58 h app: x",
			time.Date(2027, 1, 1, 0, 0, 5, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)},
		{"january read in december (clock skew)", nil, "Jan  1 00:00:01 h app: x",
			time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)},
		{"february line of a file imported in november", nil, "Feb  5 17:32:18 h app: x",
			time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 5, 17, 32, 18, 0, time.UTC)},
		{"three days ahead is skew, not last year", nil, "Nov 24 00:00:00 h app: x",
			time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"eight days ahead is last year", nil, "Nov 29 00:00:00 h app: x",
			time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 29, 0, 0, 0, 0, time.UTC)},
		{"leap day", nil, "Feb 29 12:00:00 h app: x",
			time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"leap day, no leap year near", nil, "Feb 29 12:00:00 h app: x",
			time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"location", berlin, "<13>Jul  4 12:00:00.250 h app: x",
			time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 4, 10, 0, 0, 250e6, time.UTC)},
		{"iso ignores location", berlin, "2026-07-04T12:00:00Z h app: x",
			time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC)},
		{"iso without zone uses location", berlin, "2026-07-04 12:00:00 h app: x",
			time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 4, 10, 0, 0, 0, time.UTC)},
		{"no stamp uses received", nil, "<13>message",
			time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := NewParser(Options{Location: tc.loc})
			var ev schema.Event
			if err := p.Parse([]byte(tc.line), tc.received, &ev); err != nil {
				t.Fatal(err)
			}
			if !ev.Timestamp.Equal(tc.want) {
				t.Errorf("Timestamp = %v, want %v", ev.Timestamp, tc.want)
			}
			if !ev.Received.Equal(tc.received) {
				t.Errorf("Received = %v, want %v", ev.Received, tc.received)
			}
		})
	}
}

// TestGoSyslogMatchesHandParser checks that the two RFC 3164 readers agree:
// each line with a PRI goes through go-syslog, and the same line with the
// PRI stripped goes through the hand parser.
func TestGoSyslogMatchesHandParser(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{})
	lines := []string{
		"Nov 20 10:00:05 web01 sshd[2390]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2",
		"Nov 20 10:02:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
		"Nov  2 10:17:01 web01 CRON[3100]: (root) CMD (run-parts /etc/cron.hourly)",
		"Nov 20 10:22:00 web01 postfix/smtpd[123]: connect from unknown[192.0.2.1]",
		"Nov 20 10:22:00.123 web01 app[1]: fraction",
		"2026-11-20T10:00:05+02:00 web01 sshd[2390]: Invalid user guest from 203.0.113.9 port 40100",
		"Nov 20 10:00:00 sshd[1]: no host",
	}
	for _, line := range lines {
		var viaLib, viaHand schema.Event
		if err := p.Parse([]byte("<38>"+line), goldenReceived, &viaLib); err != nil {
			t.Fatalf("go-syslog path: %v", err)
		}
		h, ok := p.read3164([]byte("<38>"+line), goldenReceived)
		if !ok {
			t.Fatalf("go-syslog rejected %q; the test needs lines it reads", line)
		}
		if err := p.Parse([]byte(line), goldenReceived, &viaHand); err != nil {
			t.Fatalf("hand path: %v", err)
		}
		viaHand.Log, viaLib.Log = schema.Log{}, schema.Log{}
		viaHand.Original, viaLib.Original = "", ""
		viaLib.Fields = viaLib.Fields[2:] // facility, severity
		a, _ := json.Marshal(viaLib)
		b, _ := json.Marshal(viaHand)
		if !bytes.Equal(a, b) {
			t.Errorf("readers disagree on %q (go-syslog host %q app %q):\n go-syslog: %s\n hand:      %s", line, h.host, h.app, a, b)
		}
	}
}

func TestReuseEvent(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{})
	var ev schema.Event
	first := "<38>1 2026-11-20T10:00:06Z web01 sshd 2390 ID1 [a@1 x=\"1\"] Invalid user guest from 203.0.113.9 port 40100"
	if err := p.Parse([]byte(first), goldenReceived, &ev); err != nil {
		t.Fatal(err)
	}
	if err := p.Parse([]byte("Nov 20 10:00:00 h cron: plain"), goldenReceived, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.User.Name != "" || ev.Source.IP != "" || ev.Log.Syslog.Present || ev.Event.Action != "" {
		t.Errorf("fields of the previous message leaked: %+v", ev)
	}
	if _, ok := ev.Fields.Get("msgid"); ok {
		t.Errorf("msgid of the previous message leaked into Fields: %v", ev.Fields)
	}
}

func TestConcurrentParse(t *testing.T) {
	t.Parallel()
	p := NewParser(Options{})
	lines := [][]byte{
		[]byte("<38>Nov 20 10:00:05 web01 sshd[2390]: Failed password for root from 203.0.113.7 port 40022 ssh2"),
		[]byte("<13>1 2026-11-20T10:30:00Z web01 alice - - [timeQuality tzKnown=\"1\"] hello"),
		[]byte("Nov 20 10:00:05 web01 sshd[2390]: Accepted password for alice from 192.0.2.10 port 1 ssh2"),
	}
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			var ev schema.Event
			for i := 0; i < 200; i++ {
				l := lines[i%len(lines)]
				if err := p.Parse(l, goldenReceived, &ev); err != nil {
					done <- err
					return
				}
				if ev.Original != string(l) {
					done <- errors.New("event does not belong to its line: " + ev.Original)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
