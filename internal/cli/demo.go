package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/client"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/simulate"
	demointel "github.com/vigil-soc/vigil/internal/simulate/intel"
	"github.com/vigil-soc/vigil/internal/simulate/netsim"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// runDemo starts a server on a temporary (or --data) directory and a
// simulated company sending telemetry through its real listeners.
func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("demo", env)
	var c common
	c.register(fs, env)
	speed := fs.Float64("speed", 60, "simulated seconds per real second until the simulation catches up with now")
	history := fs.Duration("history", 24*time.Hour, "how far in the past the simulation starts")
	netDays := fs.Int("network-days", 14, "days of network traffic (Zeek conn/dns/ssl) to play from midnight ten days ago (the first ten are sent at once as history); 0 turns the network feed off")
	dataSet := false
	for _, a := range args {
		if a == "-data" || a == "--data" || len(a) > 6 && (a[:7] == "--data=" || a[:6] == "-data=") {
			dataSet = true
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		return err
	}
	if !dataSet && env.Getenv("VIGIL_DATA") == "" {
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.data = dir
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	if *netDays > 0 {
		if err := describeDemoNetwork(cfg); err != nil {
			return err
		}
	}
	n, err := node.Open(ctx, cfg, node.Options{DataDir: c.data, Listen: true, Version: Version}, log)
	if err != nil {
		return err
	}
	defer n.Close()
	token := n.AdminToken
	if token == "" {
		token = readTokenFile(c.data)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	var tcp, udp string
	if n.Syslog != nil {
		select {
		case <-n.Syslog.Ready():
		case err := <-runErr:
			return err
		}
		u, t, _ := n.Syslog.Addrs()
		if t != nil {
			tcp = t.String()
		}
		if u != nil {
			udp = u.String()
		}
	}
	url := "http://" + n.HTTPAddr()
	login := "admin / " + n.AdminPassword
	if n.AdminPassword == "" {
		login = "admin / (see " + filepath.Join(c.data, "admin-password") + ")"
	}
	fmt.Fprintf(env.Stdout, "Vigil demo running.\n  console:     %s  (log in as %s)\n  API token:   %s\n"+
		"  data:        %s\n  try:         curl -H 'Authorization: Bearer %s' '%s/api/v1/alerts'\n  stop:        Ctrl-C\n",
		url, login, token, c.data, token, url)
	if err := loadDemoIntel(ctx, url, token, env); err != nil {
		log.Warn("demo threat feed not loaded", "err", err)
	}
	if *netDays > 0 {
		if err := loadDemoAssets(ctx, url, token, env); err != nil {
			log.Warn("demo asset inventory not loaded", "err", err)
		}
	}
	if err := loadDemoScans(ctx, url, token, env); err != nil {
		log.Warn("demo vulnerability scans not loaded", "err", err)
	}
	sim := simulate.New(simulate.Options{SyslogTCP: tcp, SyslogUDP: udp, HTTPURL: url, Token: token,
		Speed: *speed, Start: time.Now().Add(-*history), Seed: time.Now().UnixNano(), Log: log,
		SilentHost: "web-02", SilentAfter: *history / 8})
	go func() {
		if err := sim.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("simulator stopped", "err", err)
		}
	}()
	if *netDays > 0 {
		go func() {
			_, err := simulate.RunNetwork(ctx, simulate.NetworkOptions{HTTPURL: url, Token: token, Days: *netDays,
				Seed: uint64(time.Now().UnixNano()), Log: log})
			if err != nil && ctx.Err() == nil {
				log.Error("network feed stopped", "err", err)
			}
		}()
	}
	return <-runErr
}

// describeDemoNetwork adds the simulated network's servers to the network
// section: the sensitive ones as assets (new talkers are watched on them)
// and the administrators' workstations as admin hosts.
func describeDemoNetwork(cfg *config.Config) error {
	nw, err := simulate.NetworkLayout(0)
	if err != nil {
		return err
	}
	for _, h := range nw.Hosts {
		if h.Sensitive {
			cfg.Network.Assets = append(cfg.Network.Assets, config.AssetConfig{Address: h.IP.String(), Name: h.Name,
				Role: h.Role, Criticality: "high", Sensitive: true})
		}
		if h.Admin {
			cfg.Network.AdminHosts = append(cfg.Network.AdminHosts, h.IP.String())
		}
	}
	return nil
}

// loadDemoAssets imports the simulated network's hosts into the asset
// inventory through the API, as `vigil assets import` would: names, roles,
// and criticality by role (the domain controller critical, servers high,
// workstations medium).
func loadDemoAssets(ctx context.Context, url, token string, env *Env) error {
	nw, err := simulate.NetworkLayout(0)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("hostname,ip,role,criticality,expected_sources\n")
	for _, h := range nw.Hosts {
		crit := "high"
		switch h.Role {
		case netsim.RoleDC:
			crit = "critical"
		case netsim.RoleWorkstation:
			crit = "medium"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,zeek\n", h.Name, h.IP, h.Role, crit)
	}
	rep, err := client.New(url, token).ImportAssets(ctx, strings.NewReader(b.String()), statedb.ImportByHostname)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "  assets:      imported %d hosts of the simulated network into the inventory\n",
		rep.Created+rep.Updated+rep.Unchanged)
	return nil
}

// loadDemoScans imports the simulated company's last two weekly
// vulnerability scans through the API, as `vigil vulns import` would.
func loadDemoScans(ctx context.Context, url, token string, env *Env) error {
	c := client.New(url, token)
	var fixed, open int
	for i, rep := range simulate.ScanReports(time.Now()) {
		res, err := c.ImportVulns(ctx, fmt.Sprintf("weekly-scan-%d.nessus", i+1), "nessus", rep)
		if err != nil {
			return err
		}
		fixed += res.Counts.Fixed
		open = res.Findings
	}
	fmt.Fprintf(env.Stdout, "  vulns:       imported two weekly scans: %d open findings, %d fixed in between\n", open, fixed)
	return nil
}

// loadDemoIntel loads the demo's STIX feed through the API, as `vigil intel
// import` would: the simulated attacker's C2 server and domain, so that the
// host that beacons to them rises to the top of `vigil hosts`.
func loadDemoIntel(ctx context.Context, url, token string, env *Env) error {
	res, err := client.New(url, token).IntelImport(ctx, "demo-feed", "stix", demointel.DemoFeed())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "  intel:       loaded %d indicators from the demo STIX feed (%d skipped)\n",
		res.Indicators, len(res.Problems))
	return nil
}
