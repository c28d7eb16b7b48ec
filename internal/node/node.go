// Package node assembles a running Vigil: the ingest log, the storage and
// detection stages, the dead-letter writer, the syslog listeners and the
// HTTP API, each a start/stop pair in one run group, over one data
// directory that the node locks.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/auth"
	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/detect/bruteforce"
	"github.com/vigil-soc/vigil/internal/detect/netflow"
	"github.com/vigil-soc/vigil/internal/detect/rules"
	"github.com/vigil-soc/vigil/internal/detect/silence"
	"github.com/vigil-soc/vigil/internal/enrich"
	"github.com/vigil-soc/vigil/internal/importer"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/input/flowcollect"
	"github.com/vigil-soc/vigil/internal/input/syslognet"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/parse/syslog"
	"github.com/vigil-soc/vigil/internal/pipeline"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Options select what a node runs.
type Options struct {
	// DataDir holds every file the node writes.
	DataDir string
	// Listen starts the syslog listeners and the HTTP API; without it the
	// node only runs the pipeline (direct-mode import).
	Listen  bool
	Version string
}

// Node is an assembled Vigil.
type Node struct {
	Cfg     *config.Config
	Opts    Options
	Log     *slog.Logger
	Reg     *prometheus.Registry
	Ingest  *ingest.Log
	Events  *eventstore.Store
	State   *statedb.DB
	Rejects *statedb.RejectWriter
	Inputs  *ingest.InputMetrics
	Store   *pipeline.StoreStage
	Detect  *pipeline.DetectStage
	// Flows is the NetFlow/IPFIX/sFlow collector (nil when disabled).
	Flows *flowcollect.Collector
	// Network is the network analytics engine (nil when disabled).
	Network *netflow.Engine
	Rules   *rules.Manager
	Syslog  *syslognet.Server
	API     *api.Server
	// Intel is the threat-intel manager; IntelMetrics its metrics.
	Intel        *intel.Manager
	IntelMetrics *intel.Metrics
	// Enricher adds asset, GeoIP and ASN context to events before they
	// enter the ingest log; Sink is the ingest log behind it, which every
	// input submits to.
	Enricher *enrich.Enricher
	Sink     enrichingSink
	// Risk ranks hosts by their open alerts.
	Risk *risk.Service
	// Vulns imports vulnerability scans and raises overdue alerts.
	Vulns *vulnService
	// Auth authenticates API tokens and console sessions.
	Auth *auth.Authenticator
	// AdminPassword is set when this start created the first admin user.
	AdminPassword string

	recorder ingest.RejectRecorder
	geo      *enrich.GeoIP
	prio     *risk.Prioritizer
	silence  *silence.Detector
	lock     *dirLock
	httpLn   net.Listener
	// AdminToken is set when this start created the first admin token.
	AdminToken string
}

// Open opens the data directory (locking it), the stores and the ingest
// log, and builds every stage. Close releases them; Run runs them.
func Open(ctx context.Context, cfg *config.Config, o Options, log *slog.Logger) (n *Node, err error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDir(o.DataDir)
	if err != nil {
		return nil, err
	}
	n = &Node{Cfg: cfg, Opts: o, Log: log, lock: lock, Reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	n.Reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if n.State, err = statedb.Open(ctx, filepath.Join(o.DataDir, "state.db"), log); err != nil {
		return nil, err
	}
	if n.Events, err = eventstore.Open(ctx, filepath.Join(o.DataDir, "events.duckdb"), eventstore.Options{
		Retention:   time.Duration(cfg.Storage.RetentionDays) * 24 * time.Hour,
		MemoryLimit: cfg.Storage.MemoryLimit}, log); err != nil {
		return nil, err
	}
	if n.Ingest, err = ingest.Open(ctx, ingest.Options{Dir: filepath.Join(o.DataDir, "ingest"),
		URL: cfg.Ingest.NATSURL, SyncAlways: cfg.Ingest.SyncAlways, MaxPendingBytes: cfg.Ingest.MaxPendingBytes,
		MaxStoreBytes: cfg.Ingest.MaxStoreBytes, Consumers: pipeline.Consumers()},
		ingest.NewMetrics(n.Reg), log); err != nil {
		return nil, err
	}
	if err := n.buildEnricher(ctx); err != nil {
		return nil, err
	}
	n.Sink = enrichingSink{log: n.Ingest, e: n.Enricher}
	n.Inputs = ingest.NewInputMetrics(n.Reg)
	n.Rejects = statedb.NewRejectWriter(n.State, log, statedb.RejectWriterOptions{})
	n.recorder = &ingest.CountingRecorder{Next: n.Rejects, Metrics: n.Inputs}
	n.Store = pipeline.NewStoreStage(n.Events, n.State, log)
	n.Vulns = newVulnService(n)
	n.prio = &risk.Prioritizer{Assets: indexLookupFunc(n), Open: openAlerts{n.State}.OpenAlerts, Vulns: n.Vulns}
	if err := n.buildIntel(ctx); err != nil {
		return nil, err
	}
	det, err := n.detectors()
	if err != nil {
		return nil, err
	}
	n.Detect = pipeline.NewDetectStage(det, n.State, cfg.Alerts.GroupWindow.Duration, log)
	n.Risk = n.riskService()
	n.Detect.SetPrioritizer(n.prio.Apply)
	if err := n.ensureAdminToken(ctx); err != nil {
		return nil, err
	}
	if err := n.ensureAdminUser(ctx); err != nil {
		return nil, err
	}
	if o.Listen {
		if err := n.buildListeners(); err != nil {
			return nil, err
		}
	}
	n.registerListenerMetrics()
	return n, nil
}

func (n *Node) detectors() (detect.Detector, error) {
	var set detect.Set
	if bf := n.Cfg.Detect.SSHBruteForce; bf.Enabled {
		set = append(set, bruteforce.New(bruteforce.Options{Threshold: bf.Threshold, Window: bf.Window.Duration}))
	}
	rc, err := rulesConfig(n.Cfg.Rules)
	if err != nil {
		return nil, err
	}
	rc.Disable.IDs = append(rc.Disable.IDs, n.disabledRules(context.Background())...)
	if n.Rules, err = rules.NewManager(rc, n.Log); err != nil {
		return nil, err
	}
	if st := n.Rules.Status(); len(st.Errors) > 0 {
		n.Log.Warn("some rules did not load; see `vigil rules lint`", "loaded", st.Loaded, "failed", len(st.Errors))
	}
	set = append(set, n.Rules)
	if n.Cfg.Intel.Enabled {
		set = append(set, intel.NewDetector(n.Intel, n.IntelMetrics))
	}
	sd, err := n.silenceDetector()
	if err != nil {
		return nil, err
	}
	if sd != nil {
		set = append(set, sd)
	}
	if n.Cfg.Network.Enabled {
		eng, err := NewNetworkEngine(n.Cfg.Network, openAlerts{n.State}, networkIntel{n.Intel})
		if err != nil {
			return nil, err
		}
		n.Network = eng
		n.Reg.MustRegister(eng.Collector())
		set = append(set, eng)
	}
	return set, nil
}

// rulesConfig turns the configuration's rules section into the manager's.
func rulesConfig(c config.RulesConfig) (rules.Config, error) {
	rc := rules.Config{Builtin: c.Builtin, Dirs: c.Dirs, MappingDirs: c.MappingDirs,
		ReloadInterval: c.ReloadInterval.Duration, Placeholders: c.Placeholders,
		Disable: rules.Filter{IDs: c.Disable.IDs, Tags: c.Disable.Tags, Levels: c.Disable.Levels, Paths: c.Disable.Paths}}
	for _, x := range c.Exceptions {
		exp, err := x.ExpiryTime()
		if err != nil {
			return rc, err
		}
		rc.Exceptions = append(rc.Exceptions, rules.Exception{Rule: x.Rule, Where: x.Where, Owner: x.Owner,
			Reason: x.Reason, Expires: exp})
	}
	return rc, nil
}

// ensureAdminToken creates the first admin token on first start and writes
// it to DATA/admin-token (0600); only its hash is stored.
func (n *Node) ensureAdminToken(ctx context.Context) error {
	has, err := n.State.HasAdminToken(ctx)
	if err != nil || has {
		return err
	}
	plain, _, err := n.State.CreateToken(ctx, "admin", statedb.RoleAdmin)
	if err != nil {
		return err
	}
	path := filepath.Join(n.Opts.DataDir, "admin-token")
	if err := os.WriteFile(path, []byte(plain+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing admin token: %w", err)
	}
	n.AdminToken = plain
	n.Log.Info("created the first admin API token", "file", path)
	return nil
}

// ensureAdminUser creates the console's first admin user, "admin", with a
// random password on first start and writes the password to
// DATA/admin-password (0600); only its hash is stored.
func (n *Node) ensureAdminUser(ctx context.Context) error {
	a, err := auth.New(n.State, n.Log, auth.Config{Credential: api.Credential})
	if err != nil {
		return err
	}
	n.Auth = a
	pw, created, err := auth.BootstrapAdmin(ctx, n.State, n.Log, "admin")
	if err != nil || !created {
		return err
	}
	path := filepath.Join(n.Opts.DataDir, "admin-password")
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing admin password: %w", err)
	}
	n.AdminPassword = pw
	n.Log.Info("created the console's first admin user", "user", "admin", "password_file", path)
	return nil
}

func (n *Node) buildListeners() error {
	cfg := n.Cfg
	loc, err := time.LoadLocation(cfg.Syslog.Timezone)
	if err != nil {
		return err
	}
	parser := syslog.NewParser(syslog.Options{Location: loc, MaxBytes: cfg.Syslog.MaxMessageBytes})
	if cfg.Syslog.UDP != "" || cfg.Syslog.TCP != "" || cfg.Syslog.TLS != "" {
		n.Syslog, err = syslognet.New(syslognet.Config{UDP: cfg.Syslog.UDP, TCP: cfg.Syslog.TCP, TLS: cfg.Syslog.TLS,
			CertFile: cfg.Syslog.Cert, KeyFile: cfg.Syslog.Key, DataDir: n.Opts.DataDir,
			MaxMessage: cfg.Syslog.MaxMessageBytes}, n.Sink, n.recorder, parser, n.Log)
		if err != nil {
			return err
		}
	}
	if cfg.Flows.NetFlow != "" || cfg.Flows.IPFIX != "" || cfg.Flows.SFlow != "" {
		n.Flows, err = flowcollect.New(flowcollect.Config{NetFlowAddr: cfg.Flows.NetFlow, IPFIXAddr: cfg.Flows.IPFIX,
			SFlowAddr: cfg.Flows.SFlow}, n.Sink, n.recorder, n.Log)
		if err != nil {
			return err
		}
		if err := n.Flows.RegisterMetrics(n.Reg); err != nil {
			return err
		}
	}
	n.API = api.New(api.Config{MaxBodyBytes: cfg.HTTP.MaxBodyBytes, MaxEventBytes: cfg.HTTP.MaxEventBytes,
		Version: n.Opts.Version}, api.Deps{
		Sink: n.Sink, Rejects: n.recorder, Inputs: n.Inputs, Events: n.Events, State: n.State,
		Registry: n.Reg, Ready: n.ready, Import: n.Import, Graph: graphContext(cfg.Network), Log: n.Log,
		Risk: n.Risk, Intel: intelService{n}, AssetsChanged: n.ReloadAssets, Auth: n.Auth,
		Rules: rulesService{n}, Vulns: n.Vulns})
	if err := n.mountConsole(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listener: %w", err)
	}
	n.httpLn = ln
	return nil
}

func (n *Node) ready() error {
	if n.Ingest.Overloaded() {
		return errors.New("ingest backlog over its bound")
	}
	return nil
}

// Recorder returns the reject recorder inputs use (counted, then kept as
// dead letters).
func (n *Node) Recorder() ingest.RejectRecorder { return n.recorder }

// HTTPAddr returns the API's bound address ("" without listeners).
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// Import imports files through this node's pipeline and returns once every
// event is durable in the ingest log.
func (n *Node) Import(ctx context.Context, paths []string, format string) (importer.Summary, error) {
	f, err := auto.ParseFormat(format)
	if err != nil {
		return importer.Summary{}, err
	}
	im := importer.New(n.Sink, n.recorder, importer.Options{Format: f}, n.Log)
	return im.Run(ctx, paths)
}

// Run runs every stage until ctx ends or one fails, then stops them all.
func (n *Node) Run(ctx context.Context) error {
	var g run.Group
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	add := func(name string, fn func(context.Context) error) {
		c, stop := context.WithCancel(ctx)
		g.Add(func() error {
			if err := fn(c); err != nil && c.Err() == nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}, func(error) { stop() })
	}
	add("store stage", func(c context.Context) error { return n.Store.Run(c, n.Ingest) })
	add("detect stage", func(c context.Context) error { return n.Detect.Run(c, n.Ingest) })
	add("dead letters", n.Rejects.Run)
	add("retention", n.retentionLoop)
	add("rules reload", n.Rules.Run)
	if n.Cfg.Intel.Enabled {
		add("threat intel", n.Intel.Run)
	}
	add("silent sources", n.silenceLoop)
	add("vulnerability SLAs", n.Vulns.run)
	if n.Syslog != nil {
		add("syslog", n.Syslog.Run)
	}
	if n.Flows != nil {
		add("flow collector", n.Flows.Run)
	}
	if n.API != nil {
		add("http", n.serveHTTP)
		add("server file", n.advertise)
	}
	g.Add(func() error { <-ctx.Done(); return nil }, func(error) { cancel() })
	return g.Run()
}

func (n *Node) serveHTTP(ctx context.Context) error {
	srv := &http.Server{Handler: n.API.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(n.Log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (n *Node) retentionLoop(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if dropped, err := n.Events.EnforceRetention(ctx, time.Now()); err != nil {
			n.Log.Warn("retention failed", "err", err)
		} else if dropped > 0 {
			n.Log.Info("retention dropped old partitions", "partitions", dropped)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close releases everything Open acquired.
func (n *Node) Close() {
	if n.httpLn != nil {
		n.httpLn.Close()
	}
	if n.Ingest != nil {
		n.Ingest.Close()
	}
	if n.Events != nil {
		_ = n.Events.Close()
	}
	if n.geo != nil {
		_ = n.geo.Close()
	}
	if n.State != nil {
		_ = n.State.Close()
	}
	if n.lock != nil {
		n.lock.release()
	}
}
