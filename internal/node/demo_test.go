package node

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/simulate"
)

// TestDemoAttacksRaiseAlerts runs the demo simulator through the real
// listeners and pipeline over ten simulated hours and requires alerts for
// the attacks it stages: SigmaHQ rules for the hands-on-keyboard commands
// and the built-in detector for the SSH brute force.
func TestDemoAttacksRaiseAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("demo run skipped in -short mode")
	}
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	udp, tcp, _ := tn.Syslog.Addrs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := simulate.New(simulate.Options{SyslogTCP: tcp.String(), SyslogUDP: udp.String(), HTTPURL: tn.url,
		Token: tn.token, Speed: 20000, Start: time.Now().Add(-10 * time.Hour), Seed: 7,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go func() { _ = sim.Run(ctx) }()
	want := []string{"certutil", "comsvcs", "shadow", "whoami", "base64"}
	var titles []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, b := tn.do(t, "GET", "/api/v1/alerts?limit=1000", tn.token, nil, nil)
		var out struct{ Alerts []schema.Alert }
		_ = json.Unmarshal(b, &out)
		titles = titles[:0]
		builtin := false
		for _, a := range out.Alerts {
			titles = append(titles, strings.ToLower(a.Title))
			builtin = builtin || (a.Kind == schema.KindBuiltin && a.Host == "bastion-01")
		}
		missing := []string{}
		for _, w := range want {
			found := false
			for _, ti := range titles {
				found = found || strings.Contains(ti, w)
			}
			if !found {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 && builtin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alerts for %v (builtin brute force: %v); alerts: %q", missing, builtin, titles)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d alerts, including the staged attacks", len(titles))
}
