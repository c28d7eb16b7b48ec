package node

import (
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect/silence"
	"github.com/vigil-soc/vigil/internal/schema"
)

// silenceTestConfig judges sources after 20 events over 2 s, silent after
// 2 s, every 200 ms: small enough to run in seconds.
func silenceTestConfig(c *config.Config) {
	c.Silence = config.SilenceConfig{Enabled: true, K: 3, Floor: config.Duration{Duration: 2 * time.Second},
		MinEvents: 20, MinHistory: config.Duration{Duration: 2 * time.Second}, DropRatio: 0.1, MinHourly: 30,
		MinHours: 24, ErrorRate: 0.05, ErrorFactor: 5, ErrorMinRecords: 50,
		LiveSkew: config.Duration{Duration: time.Minute}, MaxSources: 100,
		EvictAfter:    config.Duration{Duration: time.Hour},
		CheckInterval: config.Duration{Duration: 200 * time.Millisecond}}
}

// sendSyslog writes one RFC 5424 line (octet-counted) stamped now and
// returns the stamp.
func sendSyslog(t *testing.T, conn net.Conn, host string, i int) time.Time {
	t.Helper()
	ts := time.Now().UTC().Truncate(time.Microsecond)
	msg := fmt.Sprintf("<134>1 %s %s app 77 - - heartbeat %d", ts.Format("2006-01-02T15:04:05.000000Z07:00"), host, i)
	if _, err := fmt.Fprintf(conn, "%d %s", len(msg), msg); err != nil {
		t.Fatal(err)
	}
	return ts
}

// A live TCP syslog sender that stops: the wall clock raises the silence
// alert although no event arrives, with the last event's time; when the
// sender resumes, the same alert records how long it was silent.
func TestLiveSyslogSenderStops(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), silenceTestConfig)
	_, tcp, _ := tn.Syslog.Addrs()
	conn, err := net.Dial("tcp", tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var last time.Time
	for i := range 40 { // 4 s at 10 per second
		last = sendSyslog(t, conn, "app-07", i)
		time.Sleep(100 * time.Millisecond)
	}
	stopped := time.Now()
	alert := func() (schema.Alert, bool) {
		_, b := tn.do(t, "GET", "/api/v1/alerts?kind="+schema.KindSourceSilent, tn.token, nil, nil)
		var out struct{ Alerts []schema.Alert }
		_ = json.Unmarshal(b, &out)
		for _, a := range out.Alerts {
			if a.Host == "app-07" && a.RuleID == silence.RuleSilent {
				return a, true
			}
		}
		return schema.Alert{}, false
	}
	var a schema.Alert
	waitFor(t, func() bool {
		var ok bool
		a, ok = alert()
		return ok && a.Details["state"] == silence.StateSilent
	})
	if took := time.Since(stopped); took < 2*time.Second {
		t.Fatalf("alert %v after the sender stopped, before the 2 s threshold", took)
	}
	if !a.FirstSeen.Equal(last) || a.Details["last_event"] != last.Format(time.RFC3339Nano) ||
		a.Details["clock"] != "wall" || a.Details["source.input"] != schema.InputSyslog || a.Status != "new" ||
		a.Priority == 0 || a.Details["priority.why"] == "" {
		t.Fatalf("alert %+v, want last event %v", a, last)
	}
	time.Sleep(time.Second)
	back := sendSyslog(t, conn, "app-07", 40)
	waitFor(t, func() bool {
		var ok bool
		a, ok = alert()
		return ok && a.Details["state"] == silence.StateRecovered
	})
	gap := back.Sub(last).Round(time.Second) // details carry whole seconds
	if a.Details["silent_for"] != gap.String() || a.Details["recovered_at"] != back.Format(time.RFC3339Nano) ||
		a.Count != 2 || !a.FirstSeen.Equal(last) {
		t.Fatalf("recovered alert %+v, want silent_for %v", a, gap)
	}
}
