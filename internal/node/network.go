package node

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect/netflow"
	"github.com/vigil-soc/vigil/internal/detect/netflow/baseline"
	"github.com/vigil-soc/vigil/internal/detect/netflow/beacon"
	"github.com/vigil-soc/vigil/internal/detect/netflow/dnsanomaly"
	"github.com/vigil-soc/vigil/internal/detect/netflow/newtalker"
	"github.com/vigil-soc/vigil/internal/detect/netflow/scan"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// NewNetworkEngine builds the network analytics engine from the network
// section: the analyzers with their settings, the shared prevalence
// tracker and the phase-two context.
func NewNetworkEngine(c config.NetworkConfig, hostAlerts netflow.HostAlerts, in netflow.Intel) (*netflow.Engine, error) {
	internal, err := flow.NewSet(c.InternalNetworks)
	if err != nil {
		return nil, fmt.Errorf("network.internal_networks: %w", err)
	}
	admins, err := flow.NewSet(c.AdminHosts)
	if err != nil {
		return nil, fmt.Errorf("network.admin_hosts: %w", err)
	}
	prev := flow.NewPrevalence(c.PrevalenceDays, 64)
	nt := c.NewTalkers
	for _, a := range c.Assets {
		if a.Sensitive {
			nt.Sensitive = append(nt.Sensitive, newtalker.Asset{Address: a.Address, Name: a.Name, Role: a.Role})
		}
	}
	var as []flow.Analyzer
	bl, err := baseline.New(c.Baseline, internal, prev, nil)
	if err != nil {
		return nil, err
	}
	bc, err := beacon.New(c.Beacon, internal, prev)
	if err != nil {
		return nil, err
	}
	dn, err := dnsanomaly.New(c.DNS, internal, prev)
	if err != nil {
		return nil, err
	}
	sc, err := scan.New(c.Scan, internal)
	if err != nil {
		return nil, err
	}
	lc, err := scan.NewLongConn(c.LongConnections, internal, prev)
	if err != nil {
		return nil, err
	}
	ta, err := newtalker.New(nt, internal)
	if err != nil {
		return nil, err
	}
	as = append(as, bl, bc, dn, sc, lc, ta)
	ports := make([]uint16, 0, len(c.AdminPorts))
	for _, p := range c.AdminPorts {
		ports = append(ports, uint16(p))
	}
	loc, err := time.LoadLocation(c.BusinessHours.Timezone)
	if err != nil {
		return nil, fmt.Errorf("network.business_hours.timezone: %w", err)
	}
	return netflow.New(netflow.Options{Internal: internal, Analyzers: as, Prevalence: prev, Lateness: c.Lateness.Duration,
		Assets: assetMap(c.Assets), AdminHosts: admins, AdminPorts: ports, HostAlerts: hostAlerts, Intel: in,
		Hours: netflow.Hours{Start: c.BusinessHours.Start, End: c.BusinessHours.End,
			Days: c.BusinessHours.Weekdays(), Loc: loc}}), nil
}

// assetMap expands the configured assets to single addresses (a CIDR
// entry describes each address in it, up to a /16).
func assetMap(list []config.AssetConfig) map[netip.Addr]netflow.Asset {
	m := map[netip.Addr]netflow.Asset{}
	for _, a := range list {
		p, err := flow.ParsePrefix(a.Address)
		if err != nil || p.Bits() < p.Addr().BitLen()-16 {
			continue
		}
		for ip := p.Addr(); p.Contains(ip); ip = ip.Next() {
			m[ip] = netflow.Asset{Name: a.Name, Role: a.Role, Criticality: a.Criticality}
		}
	}
	return m
}

// graphContext describes addresses for the graph API.
func graphContext(c config.NetworkConfig) api.GraphContext {
	internal, _ := flow.NewSet(c.InternalNetworks)
	g := api.GraphContext{Internal: internal, Assets: map[netip.Addr]api.GraphAsset{}}
	for ip, a := range assetMap(c.Assets) {
		g.Assets[ip] = api.GraphAsset{Name: a.Name, Role: a.Role, Criticality: a.Criticality}
	}
	return g
}

// openAlerts counts a host's open alerts in the state database for the
// network engine's corroboration context.
type openAlerts struct{ db *statedb.DB }

// OpenAlerts implements netflow.HostAlerts; a failed query counts none.
func (o openAlerts) OpenAlerts(host, exceptRule string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := o.db.OpenAlertCount(ctx, host, exceptRule)
	if err != nil {
		return 0
	}
	return n
}
