package config

import (
	"strings"
	"testing"
)

func TestSilenceConfig(t *testing.T) {
	t.Parallel()
	c, err := Parse("v.yaml", []byte(`silence:
  k: 5
  floor: 15m
  maintenance:
    - name: patch tuesday
      hosts: ["db-*"]
      weekly: [{days: [tue], from: "22:00", to: "02:00", timezone: UTC}]
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Silence.Options()
	if err != nil || c.Silence.K != 5 || len(c.Silence.Maintenance) != 1 || !c.Silence.Enabled {
		t.Fatalf("silence config %+v, options %+v, %v", c.Silence, o, err)
	}
	_, err = Parse("v.yaml", []byte("silence:\n  k: -1\n  maintenance:\n    - name: x\n      weekly: [{days: [funday], from: \"25:00\", to: \"01:00\"}]\n"))
	if err == nil || !strings.Contains(err.Error(), "v.yaml:2: silence.k") || !strings.Contains(err.Error(), "silence.maintenance.0") {
		t.Fatalf("bad silence config: %v", err)
	}
}
