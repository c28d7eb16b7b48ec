package newtalker

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := Config{Learning: -time.Hour, Sensitive: []Asset{{Address: "10.0.0.300", Name: "broken"}},
		AdminPorts: []uint16{22, 0}, DynamicPortMin: 80, NewServiceGrace: -1}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, n := range []string{"learning", "sensitive[0] (broken)", "admin_ports", "dynamic_port_min",
		"new_service_grace", "max_pairs_per_asset", "max_services_per_asset", "max_assets"} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error does not name %q: %v", n, err)
		}
	}
	if _, err := New(bad, nil); err == nil {
		t.Error("New accepted a bad config")
	}
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	src := `
learning: 72h
sensitive:
  - address: 10.0.0.10
    name: dc01
    role: domain_controller
  - address: 10.0.2.0/24
    role: scada
admin_ports: [22, 3389]
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if c.Learning != 72*time.Hour || len(c.Sensitive) != 2 || c.Sensitive[0].Name != "dc01" ||
		c.Sensitive[1].Role != "scada" || len(c.AdminPorts) != 2 || c.DynamicPortMin != 49152 {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
