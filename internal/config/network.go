package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/netflow/baseline"
	"github.com/vigil-soc/vigil/internal/detect/netflow/beacon"
	"github.com/vigil-soc/vigil/internal/detect/netflow/dnsanomaly"
	"github.com/vigil-soc/vigil/internal/detect/netflow/newtalker"
	"github.com/vigil-soc/vigil/internal/detect/netflow/scan"
	"github.com/vigil-soc/vigil/internal/flow"
)

// FlowsConfig configures the flow collector's UDP listeners. An empty
// address disables that listener.
type FlowsConfig struct {
	NetFlow string `yaml:"netflow"` // NetFlow v5 and v9
	IPFIX   string `yaml:"ipfix"`
	SFlow   string `yaml:"sflow"`
}

// NetworkConfig configures the network analytics (baselines, beacons, DNS,
// exfiltration, new talkers, scans) and their phase-two context.
type NetworkConfig struct {
	Enabled bool `yaml:"enabled"`
	// InternalNetworks are the CIDRs of the organisation's own hosts
	// (default RFC 1918, CGNAT, link-local and IPv6 ULA).
	InternalNetworks []string `yaml:"internal_networks"`
	// Lateness is how far a flow may arrive behind the newest one.
	Lateness Duration `yaml:"lateness"`
	// PrevalenceDays is the period over which destination prevalence is
	// counted.
	PrevalenceDays int `yaml:"prevalence_days"`
	// Assets describe important addresses until the asset inventory
	// exists: name, role, criticality, and whether they are sensitive (new
	// talkers are watched on sensitive assets).
	Assets []AssetConfig `yaml:"assets"`
	// AdminHosts may use admin protocols without raising the priority.
	AdminHosts []string `yaml:"admin_hosts"`
	// AdminPorts are the admin protocols' ports.
	AdminPorts    []int               `yaml:"admin_ports"`
	BusinessHours BusinessHoursConfig `yaml:"business_hours"`

	// The analyzers' own settings (see docs/network.md).
	Baseline        baseline.Config   `yaml:"baseline"`
	Beacon          beacon.Config     `yaml:"beacon"`
	DNS             dnsanomaly.Config `yaml:"dns"`
	Scan            scan.Config       `yaml:"scan"`
	LongConnections scan.LongConfig   `yaml:"long_connections"`
	NewTalkers      newtalker.Config  `yaml:"new_talkers"`
}

// AssetConfig is one asset of the network section.
type AssetConfig struct {
	Address     string `yaml:"address"` // an address or CIDR
	Name        string `yaml:"name"`
	Role        string `yaml:"role"`
	Criticality string `yaml:"criticality"` // low, medium, high, critical
	Sensitive   bool   `yaml:"sensitive"`
}

// BusinessHoursConfig bounds working time; outside it is off-hours.
type BusinessHoursConfig struct {
	Start    int      `yaml:"start"` // hour of day, inclusive
	End      int      `yaml:"end"`   // hour of day, exclusive
	Days     []string `yaml:"days"`  // mon, tue, ...
	Timezone string   `yaml:"timezone"`
}

func defaultFlows() FlowsConfig {
	return FlowsConfig{NetFlow: "127.0.0.1:2055", IPFIX: "127.0.0.1:4739", SFlow: "127.0.0.1:6343"}
}

func defaultNetwork() NetworkConfig {
	return NetworkConfig{Enabled: true, InternalNetworks: flow.DefaultInternal(), Lateness: Duration{2 * time.Minute},
		PrevalenceDays: 7, AdminPorts: []int{22, 23, 135, 445, 3389, 5900, 5985, 5986},
		BusinessHours: BusinessHoursConfig{Start: 7, End: 19, Days: []string{"mon", "tue", "wed", "thu", "fri"},
			Timezone: "UTC"},
		Baseline: baseline.DefaultConfig(), Beacon: beacon.DefaultConfig(), DNS: dnsanomaly.DefaultConfig(),
		Scan: scan.DefaultConfig(), LongConnections: scan.DefaultLongConfig(), NewTalkers: newtalker.DefaultConfig()}
}

// weekday reads a three-letter day name.
func weekday(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(name, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// Weekdays returns the business days.
func (b BusinessHoursConfig) Weekdays() []time.Weekday {
	var out []time.Weekday
	for _, d := range b.Days {
		if w, ok := weekday(d); ok {
			out = append(out, w)
		}
	}
	return out
}

// validateNetwork reports the flows and network sections' problems.
func (c *Config) validateNetwork(bad func(key, format string, args ...any)) {
	for _, l := range [][2]string{{"flows.netflow", c.Flows.NetFlow}, {"flows.ipfix", c.Flows.IPFIX},
		{"flows.sflow", c.Flows.SFlow}} {
		key, addr := l[0], l[1]
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "invalid listen address %q: want host:port", addr)
		}
	}
	n := c.Network
	if _, err := flow.NewSet(n.InternalNetworks); err != nil {
		bad("network.internal_networks", "%v", err)
	}
	if _, err := flow.NewSet(n.AdminHosts); err != nil {
		bad("network.admin_hosts", "%v", err)
	}
	if n.Lateness.Duration < 0 {
		bad("network.lateness", "must not be negative")
	}
	if n.PrevalenceDays < 1 {
		bad("network.prevalence_days", "must be at least 1")
	}
	for i, p := range n.AdminPorts {
		if p < 1 || p > 65535 {
			bad(fmt.Sprintf("network.admin_ports.%d", i), "%d is not a port", p)
		}
	}
	for i, a := range n.Assets {
		key := fmt.Sprintf("network.assets.%d", i)
		if _, err := flow.ParsePrefix(a.Address); err != nil {
			bad(key, "address: %v", err)
		}
		switch a.Criticality {
		case "", "low", "medium", "high", "critical":
		default:
			bad(key, "criticality %q must be low, medium, high or critical", a.Criticality)
		}
	}
	b := n.BusinessHours
	if b.Start < 0 || b.Start > 23 || b.End < 1 || b.End > 24 || b.End <= b.Start {
		bad("network.business_hours", "start %d and end %d must satisfy 0 <= start < end <= 24", b.Start, b.End)
	}
	for i, d := range b.Days {
		if _, ok := weekday(d); !ok {
			bad(fmt.Sprintf("network.business_hours.days.%d", i), "%q is not a day (mon, tue, ...)", d)
		}
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil {
		bad("network.business_hours.timezone", "unknown time zone %q", b.Timezone)
	}
	for _, v := range []struct {
		key string
		err error
	}{{"network.baseline", n.Baseline.Validate()}, {"network.beacon", n.Beacon.Validate()},
		{"network.dns", n.DNS.Validate()}, {"network.scan", n.Scan.Validate()},
		{"network.long_connections", n.LongConnections.Validate()}, {"network.new_talkers", n.NewTalkers.Validate()}} {
		if v.err != nil {
			for _, line := range strings.Split(v.err.Error(), "\n") {
				bad(v.key, "%s", line)
			}
		}
	}
}
