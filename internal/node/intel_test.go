package node

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/shareddata"
	demointel "github.com/vigil-soc/vigil/internal/simulate/intel"
)

func flowLine(ts time.Time, src, dst string, dport int) string {
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["network"],"dataset":"zeek.conn"},`+
		`"source":{"ip":%q,"port":51000},"destination":{"ip":%q,"port":%d},"network":{"transport":"tcp"}}`,
		ts.UTC().Format(time.RFC3339Nano), src, dst, dport)
}

// TestIntelRiskEndToEnd drives the node through its API: a contact with the
// demo C2 made before the feed is loaded is found by the retro-hunt, new
// contacts alert inline, events are enriched with the asset and GeoIP
// data, and GET /api/v1/hosts ranks the C2 host first with its reasons.
func TestIntelRiskEndToEnd(t *testing.T) {
	t.Parallel()
	city := shareddata.Path(t, "geoip/GeoIP2-City-Test.mmdb")
	tn := startNode(t, t.TempDir(), func(c *config.Config) {
		c.Enrich.GeoIP.City = city
		c.Network.Assets = []config.AssetConfig{{Address: "10.0.0.23", Name: "ws-03", Role: "workstation", Criticality: "high"}}
	})
	now := time.Now().UTC()
	early := flowLine(now.Add(-2*time.Hour), "10.0.0.23", "203.0.113.200", 443) + "\n" +
		flowLine(now.Add(-2*time.Hour), "10.0.0.31", "81.2.69.160", 443) + "\n"
	if code, body := tn.do(t, "POST", "/api/v1/events", tn.token, []byte(early), nil); code != 200 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	tn.search(t, `destination.ip:"203.0.113.200"`, 1)
	if got := tn.search(t, `destination.geo.country_iso_code:GB`, 1); got[0].Destination.IP != "81.2.69.160" {
		t.Fatalf("GeoIP enrichment: %+v", got[0])
	}
	if got := tn.search(t, `source.asset.name:"ws-03"`, 1); got[0].Source.Asset.Criticality != "high" {
		t.Fatalf("asset enrichment: %+v", got[0].Source.Asset)
	}

	code, body := tn.do(t, "POST", "/api/v1/intel/import?name=demo-feed&format=stix", tn.token, demointel.DemoFeed(), nil)
	if code != 200 {
		t.Fatalf("intel import: %d %s", code, body)
	}
	var imp api.IntelImport
	if err := json.Unmarshal(body, &imp); err != nil || imp.Indicators != 5 || imp.New != 5 || imp.RetroAlerts != 1 {
		t.Fatalf("import = %+v, %v (body %s)", imp, err, body)
	}

	later := flowLine(now, "10.0.0.23", "203.0.113.200", 443) + "\n" +
		flowLine(now, "203.0.113.97", "10.0.0.30", 22) + "\n" +
		flowLine(now, "10.0.0.30", "198.51.100.9", 443) + "\n" // expired indicator: no alert
	if code, body := tn.do(t, "POST", "/api/v1/events", tn.token, []byte(later), nil); code != 200 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	hosts := waitHosts(t, tn, 2)
	if hosts[0].Host != "ws-03" || !hosts[0].C2 || hosts[0].Level != "high" || hosts[0].Criticality != "high" {
		t.Errorf("first host = %+v", hosts[0])
	}
	if hosts[1].Host != "10.0.0.30" || hosts[1].Level != "low" {
		t.Errorf("second host = %+v", hosts[1])
	}
	code, body = tn.do(t, "GET", "/api/v1/hosts/"+url.PathEscape("10.0.0.23"), tn.token, nil, nil)
	var d api.HostDetail
	if code != 200 || json.Unmarshal(body, &d) != nil || d.Host != "ws-03" || len(d.Open) == 0 {
		t.Fatalf("host detail: %d %s", code, body)
	}
	retro := false
	for _, a := range d.Open {
		retro = retro || a.Details["retrospective"] == "true"
		if a.Priority < 1 || a.Priority > 2 || !strings.Contains(a.Details["priority.why"], "asset criticality high") {
			t.Errorf("C2 alert priority %d (%s)", a.Priority, a.Details["priority.why"])
		}
	}
	if !retro {
		t.Error("the retro-hunt alert is not among the host's open alerts")
	}
}

// waitHosts polls GET /api/v1/hosts until it lists n hosts.
func waitHosts(t *testing.T, tn *testNode, n int) []risk.HostRisk {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := tn.do(t, "GET", "/api/v1/hosts?sort=risk", tn.token, nil, nil)
		var out struct {
			Hosts []risk.HostRisk `json:"hosts"`
		}
		if code != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("hosts: %d %s", code, body)
		}
		if len(out.Hosts) >= n {
			return out.Hosts
		}
		if time.Now().After(deadline) {
			t.Fatalf("hosts: got %d, want %d: %s", len(out.Hosts), n, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
