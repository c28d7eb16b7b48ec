// Package config holds Vigil's configuration: decoded strictly from YAML,
// defaulted, then validated, with every problem reported at once and named
// by file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is Vigil's whole configuration. Every field has a default, so an
// empty file (or none) is a working configuration.
type Config struct {
	// LogLevel is debug, info, warn or error.
	LogLevel string        `yaml:"log_level"`
	HTTP     HTTPConfig    `yaml:"http"`
	Syslog   SyslogConfig  `yaml:"syslog"`
	Ingest   IngestConfig  `yaml:"ingest"`
	Storage  StorageConfig `yaml:"storage"`
	Alerts   AlertsConfig  `yaml:"alerts"`
	Detect   DetectConfig  `yaml:"detect"`
	Rules    RulesConfig   `yaml:"rules"`
	Flows    FlowsConfig   `yaml:"flows"`
	Network  NetworkConfig `yaml:"network"`
	Intel    IntelConfig   `yaml:"intel"`
	Enrich   EnrichConfig  `yaml:"enrich"`
	Risk     RiskConfig    `yaml:"risk"`
	Silence  SilenceConfig `yaml:"silence"`
	Vulns    VulnsConfig   `yaml:"vulns"`

	// lines maps a dotted key path to its line in the file, for messages.
	lines map[string]int
	file  string
}

// HTTPConfig configures the HTTP API and console listener.
type HTTPConfig struct {
	Listen string `yaml:"listen"`
	// MaxBodyBytes caps one ingest request body (after gunzip).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxEventBytes caps one event (NDJSON line or bulk document).
	MaxEventBytes int `yaml:"max_event_bytes"`
}

// SyslogConfig configures the syslog listeners. An empty address disables
// that listener.
type SyslogConfig struct {
	UDP  string `yaml:"udp"`
	TCP  string `yaml:"tcp"`
	TLS  string `yaml:"tls"`
	Cert string `yaml:"tls_cert"`
	Key  string `yaml:"tls_key"`
	// MaxMessageBytes caps one syslog message.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// Timezone is the zone of RFC 3164 timestamps, which carry none.
	Timezone string `yaml:"timezone"`
}

// IngestConfig configures the durable ingest log.
type IngestConfig struct {
	// NATSURL selects an external NATS server; empty embeds one.
	NATSURL string `yaml:"nats_url"`
	// SyncAlways fsyncs every batch before acknowledging it.
	SyncAlways bool `yaml:"sync_always"`
	// MaxPendingBytes is the backlog past which HTTP answers 429 and
	// stream inputs slow down.
	MaxPendingBytes int64 `yaml:"max_pending_bytes"`
	// MaxStoreBytes bounds the ingest log on disk.
	MaxStoreBytes int64 `yaml:"max_store_bytes"`
}

// StorageConfig configures the event store.
type StorageConfig struct {
	// RetentionDays is how long events are kept; 0 keeps them forever.
	RetentionDays int `yaml:"retention_days"`
	// MemoryLimit caps DuckDB's memory, e.g. "2GB".
	MemoryLimit string `yaml:"memory_limit"`
}

// AlertsConfig configures the alert store.
type AlertsConfig struct {
	// GroupWindow is how close in event time a repeat must be to be grouped
	// into the existing alert instead of opening a new one.
	GroupWindow Duration `yaml:"group_window"`
}

// DetectConfig configures the built-in detectors.
type DetectConfig struct {
	SSHBruteForce BruteForceConfig `yaml:"ssh_bruteforce"`
}

// RulesConfig says which Sigma rules run.
type RulesConfig struct {
	// Builtin runs the embedded SigmaHQ pack.
	Builtin bool `yaml:"builtin"`
	// Dirs are folders of the user's own Sigma rules.
	Dirs []string `yaml:"dirs"`
	// MappingDirs are folders of extra logsource/field mapping files.
	MappingDirs []string `yaml:"mapping_dirs"`
	// ReloadInterval is how often Dirs are checked for changes.
	ReloadInterval Duration `yaml:"reload_interval"`
	// Disable turns rules off by id, tag, level or path glob.
	Disable RuleFilter `yaml:"disable"`
	// Placeholders give %name% placeholders their values.
	Placeholders map[string][]string `yaml:"placeholders"`
	// Exceptions suppress matches that meet field conditions.
	Exceptions []RuleException `yaml:"exceptions"`
}

// RuleFilter selects rules.
type RuleFilter struct {
	IDs    []string `yaml:"ids"`
	Tags   []string `yaml:"tags"`
	Levels []string `yaml:"levels"`
	Paths  []string `yaml:"paths"`
}

// RuleException is a tuning hook with an owner, a reason and an expiry.
type RuleException struct {
	Rule    string            `yaml:"rule"`
	Where   map[string]string `yaml:"where"`
	Owner   string            `yaml:"owner"`
	Reason  string            `yaml:"reason"`
	Expires string            `yaml:"expires"` // a date (2027-01-31) or RFC 3339; empty: never
}

// ExpiryTime parses Expires; the zero time means never.
func (x RuleException) ExpiryTime() (time.Time, error) {
	if x.Expires == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", x.Expires); err == nil {
		return t.Add(24 * time.Hour), nil // the whole day
	}
	return time.Parse(time.RFC3339, x.Expires)
}

// BruteForceConfig configures the failed-login burst detector.
type BruteForceConfig struct {
	Enabled   bool     `yaml:"enabled"`
	Threshold int      `yaml:"threshold"`
	Window    Duration `yaml:"window"`
}

// Duration is a time.Duration written as "90s", "5m", "1h".
type Duration struct{ time.Duration }

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		// A *yaml.TypeError lets the decoder go on and report every problem.
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: invalid duration %q: want e.g. 90s, 5m, 1h", n.Line, s)}}
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Default returns the configuration with every default applied.
func Default() *Config {
	return &Config{
		LogLevel: "info",
		HTTP:     HTTPConfig{Listen: "127.0.0.1:8080", MaxBodyBytes: 64 << 20, MaxEventBytes: 1 << 20},
		Syslog: SyslogConfig{UDP: "127.0.0.1:5514", TCP: "127.0.0.1:5514", TLS: "127.0.0.1:6514",
			MaxMessageBytes: 64 << 10, Timezone: "UTC"},
		Ingest:  IngestConfig{SyncAlways: true, MaxPendingBytes: 512 << 20, MaxStoreBytes: 8 << 30},
		Storage: StorageConfig{RetentionDays: 30, MemoryLimit: "2GB"},
		Alerts:  AlertsConfig{GroupWindow: Duration{time.Hour}},
		Detect: DetectConfig{SSHBruteForce: BruteForceConfig{Enabled: true, Threshold: 10,
			Window: Duration{5 * time.Minute}}},
		Rules:   RulesConfig{Builtin: true, ReloadInterval: Duration{10 * time.Second}},
		Flows:   defaultFlows(),
		Network: defaultNetwork(),
		Intel:   defaultIntel(),
		Enrich:  EnrichConfig{GeoIP: GeoIPConfig{CacheSize: 65536}},
		Risk:    RiskConfig{WindowDays: 30, HalfLife: Duration{7 * 24 * time.Hour}},
		Vulns:   defaultVulns(),
		Silence: defaultSilence(),
	}
}

// Load reads path over the defaults. An empty path returns the defaults.
func Load(path string) (*Config, error) {
	if path == "" {
		c := Default()
		return c, c.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named file in messages) strictly over the defaults
// and validates the result. Unknown keys, type errors and invalid values
// are all reported in one error, each with file:line.
func Parse(file string, data []byte) (*Config, error) {
	c := Default()
	c.file = file
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c.lines = map[string]int{}
	walkLines(&root, "", c.lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var errs []string
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				errs = append(errs, file+":"+strings.TrimPrefix(e, "line "))
			}
		} else {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	if verr := c.Validate(); verr != nil {
		errs = append(errs, strings.Split(verr.Error(), "\n")...)
	}
	if len(errs) > 0 {
		return nil, &Error{Problems: errs}
	}
	return c, nil
}

// Error lists every problem found in a configuration.
type Error struct{ Problems []string }

// Error returns the problems, one per line.
func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

func walkLines(n *yaml.Node, prefix string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkLines(c, prefix, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			lines[key] = n.Content[i].Line
			walkLines(n.Content[i+1], key, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			key := fmt.Sprintf("%s.%d", prefix, i)
			lines[key] = c.Line
			walkLines(c, key, lines)
		}
	}
}

// where names the file and line of key, or the file alone for defaults.
func (c *Config) where(key string) string {
	if c.file == "" {
		return "defaults: " + key
	}
	if l, ok := c.lines[key]; ok {
		return fmt.Sprintf("%s:%d: %s", c.file, l, key)
	}
	return c.file + ": " + key
}

// Validate checks every setting and returns all problems in one *Error.
func (c *Config) Validate() error {
	var p []string
	bad := func(key, format string, args ...any) {
		p = append(p, c.where(key)+": "+fmt.Sprintf(format, args...))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, not %q", c.LogLevel)
	}
	checkAddr := func(key, addr string, optional bool) {
		if addr == "" && optional {
			return
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "invalid listen address %q: want host:port", addr)
		}
	}
	checkAddr("http.listen", c.HTTP.Listen, false)
	checkAddr("syslog.udp", c.Syslog.UDP, true)
	checkAddr("syslog.tcp", c.Syslog.TCP, true)
	checkAddr("syslog.tls", c.Syslog.TLS, true)
	if (c.Syslog.Cert == "") != (c.Syslog.Key == "") {
		bad("syslog.tls_cert", "tls_cert and tls_key go together")
	}
	if _, err := time.LoadLocation(c.Syslog.Timezone); err != nil {
		bad("syslog.timezone", "unknown time zone %q", c.Syslog.Timezone)
	}
	positive := map[string]int64{
		"http.max_body_bytes": c.HTTP.MaxBodyBytes, "http.max_event_bytes": int64(c.HTTP.MaxEventBytes),
		"syslog.max_message_bytes": int64(c.Syslog.MaxMessageBytes), "ingest.max_pending_bytes": c.Ingest.MaxPendingBytes,
		"ingest.max_store_bytes": c.Ingest.MaxStoreBytes, "detect.ssh_bruteforce.threshold": int64(c.Detect.SSHBruteForce.Threshold),
		"alerts.group_window": int64(c.Alerts.GroupWindow.Duration), "detect.ssh_bruteforce.window": int64(c.Detect.SSHBruteForce.Window.Duration),
	}
	keys := make([]string, 0, len(positive))
	for k := range positive {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if positive[k] <= 0 {
			bad(k, "must be greater than zero")
		}
	}
	for i, x := range c.Rules.Exceptions {
		key := fmt.Sprintf("rules.exceptions.%d", i)
		if x.Rule == "" || len(x.Where) == 0 || x.Owner == "" || x.Reason == "" {
			bad(key, "an exception needs rule, where, owner and reason")
		}
		if _, err := x.ExpiryTime(); err != nil {
			bad(key, "expires %q: want a date (2027-01-31) or an RFC 3339 time", x.Expires)
		}
	}
	c.validateNetwork(bad)
	c.validateIntel(bad)
	c.validateVulns(bad)
	c.validateSilence(bad)
	if c.Storage.RetentionDays < 0 {
		bad("storage.retention_days", "must be 0 (keep forever) or more")
	}
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}
