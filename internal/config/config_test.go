package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "# nothing\n", "{}\n"} {
		c, err := Parse("vigil.yaml", []byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if c.HTTP.Listen != "127.0.0.1:8080" || c.Syslog.TLS != "127.0.0.1:6514" || c.Storage.RetentionDays != 30 {
			t.Fatalf("defaults not applied: %+v", c)
		}
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	c, err := Parse("v.yaml", []byte("http:\n  listen: 0.0.0.0:9090\nsyslog:\n  udp: \"\"\nalerts:\n  group_window: 15m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "0.0.0.0:9090" || c.Syslog.UDP != "" || c.Syslog.TCP != "127.0.0.1:5514" ||
		c.Alerts.GroupWindow.Duration != 15*time.Minute {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestAllProblemsReportedWithLines(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"log_level: loud",         // 1
		"http:",                   // 2
		"  listen: nowhere",       // 3
		"  bogus_key: 1",          // 4
		"syslog:",                 // 5
		"  tls_cert: /x.pem",      // 6
		"storage:",                // 7
		"  retention_days: -1",    // 8
		"alerts:",                 // 9
		"  group_window: forever", // 10
	}, "\n")
	_, err := Parse("vigil.yaml", []byte(in))
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"vigil.yaml:4", "bogus_key", "vigil.yaml:10", "invalid duration",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestValidationProblemsNameLines(t *testing.T) {
	t.Parallel()
	in := "log_level: loud\nhttp:\n  listen: nowhere\nsyslog:\n  tls_cert: /x.pem\nstorage:\n  retention_days: -1\n"
	_, err := Parse("vigil.yaml", []byte(in))
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"vigil.yaml:1: log_level", "vigil.yaml:3: http.listen", "vigil.yaml:5: syslog.tls_cert",
		"vigil.yaml:7: storage.retention_days",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := len(err.(*Error).Problems); n != 4 {
		t.Errorf("got %d problems, want 4:\n%s", n, msg)
	}
}

func TestNetworkConfigProblems(t *testing.T) {
	t.Parallel()
	in := `flows:
  netflow: "nope"
network:
  internal_networks: ["10.0.0.0/8", "300.1.1.0/24"]
  prevalence_days: 0
  admin_ports: [22, 70000]
  assets:
    - address: 10.0.0.5
      name: dc01
      criticality: extreme
  business_hours:
    start: 19
    end: 7
    days: [mon, funday]
    timezone: Mars/Olympus
`
	_, err := Parse("vigil.yml", []byte(in))
	if err == nil {
		t.Fatal("bad network config accepted")
	}
	for _, want := range []string{"vigil.yml:2: flows.netflow", "vigil.yml:4: network.internal_networks", "300.1.1.0/24",
		"vigil.yml:5: network.prevalence_days", "vigil.yml:6: network.admin_ports.1", "vigil.yml:8: network.assets.0",
		"extreme", "vigil.yml:11: network.business_hours", "network.business_hours.days.1", "Mars/Olympus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	c := Default()
	if got := c.Network.BusinessHours.Weekdays(); len(got) != 5 || got[0] != time.Monday {
		t.Errorf("weekdays = %v", got)
	}
}
