package netsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Names of the injected scenarios, for Options.Scenarios and Truth.Scenario.
const (
	ScenarioBeacon30s       = "beacon-30s"
	ScenarioBeacon60s       = "beacon-60s"
	ScenarioBeacon300s      = "beacon-300s"
	ScenarioBeacon900s      = "beacon-900s"
	ScenarioBeacon3600s     = "beacon-3600s"
	ScenarioBeaconSNI       = "beacon-sni"
	ScenarioExfilDB         = "exfil-db"
	ScenarioExfilWS         = "exfil-ws"
	ScenarioDNSTunnel       = "dns-tunnel"
	ScenarioDGA             = "dga"
	ScenarioNewTalkerRDP    = "new-talker-rdp"
	ScenarioNewTalkerDBPort = "new-talker-db-port"
	ScenarioScanHorizontal  = "scan-horizontal"
	ScenarioScanVertical    = "scan-vertical"
	ScenarioScanSweep       = "scan-sweep"
	ScenarioLongSSH         = "long-ssh"
	ScenarioSpike           = "spike"
)

// Names of the benign look-alike activities, for Options.Benign and
// Truth.Scenario of the entries Benign returns.
const (
	BenignNTP         = "ntp"
	BenignMonitoring  = "monitoring-agent"
	BenignAVUpdate    = "av-update"
	BenignBackup      = "nightly-backup"
	BenignUpdateBurst = "update-burst"
	BenignCDN         = "cdn"
)

// Scenarios returns the names of every injected scenario, in schedule
// order.
func Scenarios() []string {
	return []string{ScenarioBeacon30s, ScenarioBeacon60s, ScenarioBeacon300s, ScenarioBeacon900s,
		ScenarioBeacon3600s, ScenarioBeaconSNI, ScenarioExfilDB, ScenarioExfilWS, ScenarioDNSTunnel,
		ScenarioDGA, ScenarioNewTalkerRDP, ScenarioNewTalkerDBPort, ScenarioScanHorizontal,
		ScenarioScanVertical, ScenarioScanSweep, ScenarioLongSSH, ScenarioSpike}
}

// BenignActivities returns the names of every benign look-alike activity.
func BenignActivities() []string {
	return []string{BenignNTP, BenignMonitoring, BenignAVUpdate, BenignBackup, BenignUpdateBurst, BenignCDN}
}

// Defaults and limits of Options.
const (
	DefaultDays      = 10
	DefaultHosts     = 60
	DefaultAttackDay = 8
	DefaultSites     = 2000
	MinHosts         = 30
	MaxHosts         = 20000
	MaxDays          = 400
	MinSites         = 50
	MaxSites         = 60000
)

// DefaultStart returns the start used when Options.Start is zero: Monday
// 2 March 2026, 00:00 UTC.
func DefaultStart() time.Time { return time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC) }

// Options configures a Generator. The zero value is the default company
// over the default ten days with every scenario and look-alike.
type Options struct {
	// Start is the first day of the run; the run begins at midnight of
	// Start's date in Start's location, which is also the local time that
	// sets the office rhythm (default DefaultStart, a Monday, in UTC).
	Start time.Time
	// Days is how many calendar days the run covers (default 10).
	Days int
	// Hosts is the number of internal hosts: the nine servers plus
	// Hosts-9 workstations (default 60, at least 30).
	Hosts int
	// Seed makes the run reproducible: the same Options give the same byte
	// stream.
	Seed uint64
	// Scenarios names the injected scenarios to run: nil runs all of them,
	// an empty non-nil slice none.
	Scenarios []string
	// Benign names the benign look-alike activities to run: nil runs all of
	// them, an empty non-nil slice none. Human browsing, internal traffic
	// and the servers' own traffic always run.
	Benign []string
	// AttackDay is the day (1 = the first) the injected scenarios start;
	// they are spread over it and the two days after, cut at the end of the
	// run (default 8, or Days when the run is shorter).
	AttackDay int
	// Sites is the number of external web sites the staff browse, with
	// Zipf-distributed popularity (default 2000).
	Sites int
	// BrowseScale multiplies the browsing rate of every workstation
	// (default 1); a scale knob for small and big runs.
	BrowseScale float64
	// WritePath adds Zeek's "_path" field (the log name) first in every
	// record, as a single JSON stream carrying several logs has it.
	WritePath bool
}

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = DefaultStart()
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Hosts == 0 {
		o.Hosts = DefaultHosts
	}
	if o.AttackDay == 0 {
		o.AttackDay = min(DefaultAttackDay, max(o.Days, 1))
	}
	if o.Sites == 0 {
		o.Sites = DefaultSites
	}
	if o.BrowseScale == 0 {
		o.BrowseScale = 1
	}
	return o
}

// validate names every bad value of o (after defaults).
func (o Options) validate() error {
	var bad []string
	if o.Days < 1 || o.Days > MaxDays {
		bad = append(bad, fmt.Sprintf("days %d is outside 1..%d", o.Days, MaxDays))
	}
	if o.Hosts < MinHosts || o.Hosts > MaxHosts {
		bad = append(bad, fmt.Sprintf("hosts %d is outside %d..%d", o.Hosts, MinHosts, MaxHosts))
	}
	if o.AttackDay < 1 || o.AttackDay > o.Days {
		bad = append(bad, fmt.Sprintf("attack day %d is outside 1..%d (days)", o.AttackDay, o.Days))
	}
	if o.Sites < MinSites || o.Sites > MaxSites {
		bad = append(bad, fmt.Sprintf("sites %d is outside %d..%d", o.Sites, MinSites, MaxSites))
	}
	if !(o.BrowseScale > 0 && o.BrowseScale <= 100) {
		bad = append(bad, fmt.Sprintf("browse scale %v is outside (0, 100]", o.BrowseScale))
	}
	if u := unknown(o.Scenarios, Scenarios()); len(u) > 0 {
		bad = append(bad, fmt.Sprintf("unknown scenarios %q (known: %s)", u, strings.Join(Scenarios(), ", ")))
	}
	if u := unknown(o.Benign, BenignActivities()); len(u) > 0 {
		bad = append(bad, fmt.Sprintf("unknown benign activities %q (known: %s)", u,
			strings.Join(BenignActivities(), ", ")))
	}
	if len(bad) > 0 {
		return errors.New("netsim: " + strings.Join(bad, "; "))
	}
	return nil
}

func unknown(names, known []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// enabled reports whether name is selected by list (nil = all).
func enabled(list []string, name string) bool {
	return list == nil || slices.Contains(list, name)
}
