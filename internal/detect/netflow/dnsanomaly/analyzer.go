package dnsanomaly

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Name is the analyzer's name in logs, metrics and signals.
const Name = "dnsanomaly"

// maxNameLen is the longest DNS name accepted (RFC 1035: 253 characters in
// text form).
const maxNameLen = 253

// Analyzer scores DNS traffic for tunnelling (per registered domain) and
// DGA-like NXDOMAIN bursts (per host). It is not safe for concurrent use.
type Analyzer struct {
	cfg      Config
	internal *flow.Set
	prev     flow.PrevalenceReader // the engine's, optional
	dom      *flow.Prevalence      // querying hosts per registered domain
	allow    map[string]struct{}
	et       *entropyTable
	names    *splitCache
	scratch  [256]uint8

	wins        map[int64]*tunnelWindow // open tunnel windows by start
	closedUntil int64                   // windows starting before this are closed
	hosts       map[netip.Addr]*nxHost
	dgaStarted  bool
	dgaNext     int64 // next DGA evaluation boundary
	prevDay     int64 // day (Unix days) the prevalence was last advanced to
	counts      Counts
	hashes      []uint64 // scratch
}

// Counts are the analyzer's running counters.
type Counts struct {
	// Queries counts DNS queries (records without Answer) from internal
	// hosts; NXDomain counts NXDOMAIN responses.
	Queries, NXDomain uint64
	// Invalid counts names that are empty, too long, IP literals or have
	// empty labels.
	Invalid uint64
	// Late counts records whose window had already closed.
	Late uint64
	// DomainsDropped counts queries for domains beyond tunnel.max_domains;
	// HostsDropped NXDOMAIN records from hosts beyond dga.max_hosts.
	DomainsDropped, HostsDropped uint64
}

var _ flow.Analyzer = (*Analyzer)(nil)

// New returns an analyzer. internal holds the internal networks (required:
// only queries from internal hosts are scored); prev, when not nil, is the
// engine's prevalence, consulted with the registered domain alongside the
// analyzer's own per-domain prevalence.
func New(cfg Config, internal *flow.Set, prev flow.PrevalenceReader) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if internal == nil {
		return nil, errors.New("dnsanomaly: the internal networks are required")
	}
	a := &Analyzer{cfg: cfg, internal: internal, prev: prev, allow: map[string]struct{}{}, et: newEntropyTable(),
		names: newSplitCache(),
		dom:   flow.NewPrevalence(cfg.Tunnel.Prevalence.Days, cfg.Tunnel.Prevalence.Hosts),
		wins:  map[int64]*tunnelWindow{}, hosts: map[netip.Addr]*nxHost{}}
	for _, s := range cfg.AllowSuffixes {
		a.allow[strings.ToLower(strings.Trim(s, ". "))] = struct{}{}
	}
	return a, nil
}

// Name implements flow.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Counts returns the running counters.
func (a *Analyzer) Counts() Counts { return a.counts }

// Observe implements flow.Analyzer.
func (a *Analyzer) Observe(r *flow.Record) {
	if r.Kind != flow.KindDNS || !a.internal.Contains(r.Src) {
		return
	}
	nx := a.cfg.DGA.Enabled && r.RCode == "NXDOMAIN"
	query := !r.Answer
	if !nx && !query {
		return
	}
	if suffixAllowed(a.allow, r.Name) {
		return
	}
	n, ok := a.names.get(r.Name)
	if !ok {
		a.counts.Invalid++
		return
	}
	t := r.Start.Unix()
	if query {
		a.counts.Queries++
		if n.registered {
			a.dom.Observe(r.Src, netip.Addr{}, n.reg, r.Start)
			if a.cfg.Tunnel.Enabled {
				a.observeTunnel(r, t, &n)
			}
		}
	}
	if nx {
		a.counts.NXDomain++
		a.observeNX(r, t, &n)
	}
}

// name is a query name split at its registered domain (eTLD+1).
type name struct {
	full, reg, sub string
	// registered is false for names with no registered domain (a single
	// label or a bare public suffix); reg is then the whole name.
	registered bool
}

// splitName splits s with the public suffix list. It rejects empty and
// over-long names, empty labels and IP literals.
func splitName(s string) (name, bool) {
	if s == "" || len(s) > maxNameLen || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return name{}, false
	}
	if c := s[len(s)-1]; (c >= '0' && c <= '9') || strings.IndexByte(s, ':') >= 0 {
		if _, err := netip.ParseAddr(s); err == nil {
			return name{}, false
		}
	}
	ps, _ := publicsuffix.PublicSuffix(s)
	if len(s) <= len(ps) {
		return name{full: s, reg: s}, true
	}
	i := len(s) - len(ps) - 1
	if s[i] != '.' {
		return name{}, false
	}
	j := strings.LastIndexByte(s[:i], '.')
	n := name{full: s, reg: s[j+1:], registered: true}
	if j > 0 {
		n.sub = s[:j]
	}
	return n, true
}

// suffixAllowed reports whether s or a parent domain of it is in set.
func suffixAllowed(set map[string]struct{}, s string) bool {
	if len(set) == 0 {
		return false
	}
	for {
		if _, ok := set[s]; ok {
			return true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

// Advance implements flow.Analyzer: it closes the tunnel windows and
// evaluates the DGA windows that end at or before watermark.
func (a *Analyzer) Advance(watermark time.Time, emit func(flow.Signal)) {
	w := watermark.Unix()
	if day := w / 86400; day > a.prevDay {
		// flow.Prevalence.Advance walks every entry; it only has work to
		// do when the day changes.
		a.prevDay = day
		a.dom.Advance(watermark)
	}
	a.closeTunnelWindows(w, emit)
	a.advanceDGA(w, emit)
}

// Stats implements flow.Analyzer.
func (a *Analyzer) Stats() flow.Stats {
	ents := map[string]int{"tunnel_windows": len(a.wins), "domains": 0, "nx_hosts": len(a.hosts), "nx_names": 0}
	var b int64
	for _, w := range a.wins {
		ents["domains"] += len(w.doms)
		for k, d := range w.doms {
			b += d.bytes() + int64(len(k)) + 32
		}
	}
	for _, h := range a.hosts {
		ents["nx_names"] += len(h.ents)
		b += h.bytes()
	}
	pd, ph, pb := a.dom.Size()
	ents["prevalence_domains"], ents["prevalence_hosts"] = pd, ph
	ents["cached_names"] = len(a.names.cur) + len(a.names.prev)
	return flow.Stats{Entities: ents, Bytes: b + pb + a.names.bytes()}
}

func boundaryAfter(t, step int64) int64 { return (t/step)*step + step }

// ring keeps the most recent event IDs.
type ring struct {
	IDs  []uint64
	Next int
}

func (r *ring) add(id uint64, limit int) {
	if id == 0 || limit == 0 {
		return
	}
	if len(r.IDs) < limit {
		r.IDs = append(r.IDs, id)
		return
	}
	r.IDs[r.Next%len(r.IDs)] = id
	r.Next = (r.Next + 1) % len(r.IDs)
}

// list returns the IDs oldest first.
func (r *ring) list() []uint64 {
	if r.Next > len(r.IDs) {
		r.Next = 0
	}
	out := make([]uint64, 0, len(r.IDs))
	return append(append(out, r.IDs[r.Next:]...), r.IDs[:r.Next]...)
}
