package scan

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// LongName is the long-connection analyzer's name and the Detector of its
// signals.
const LongName = "long_connection"

// LongConfig tunes the long-connection detector.
type LongConfig struct {
	// MinDuration is how long a connection must stay open to be reported.
	// It is reported again at 2, 4, 8... times this. Default 1h.
	MinDuration time.Duration `yaml:"min_duration"`
	// StitchGap is the longest silence between two records of one
	// connection (the same addresses, ports and protocol) that still
	// joins them: flow exporters cut long connections into records at
	// their active timeout, and idle ones at their inactive timeout.
	// Default 5m.
	StitchGap time.Duration `yaml:"stitch_gap"`
	// MinChunk is the shortest record that starts tracking a connection;
	// shorter ones only extend a tracked one. Default 1m.
	MinChunk time.Duration `yaml:"min_chunk"`
	// AllowPorts are service ports whose long connections are expected
	// (a VPN, a message bus).
	AllowPorts []uint16 `yaml:"allow_ports"`
	// AllowCIDRs are external peers whose long connections are expected.
	AllowCIDRs []string `yaml:"allow_cidrs"`
	// Internal also reports long connections between two internal hosts.
	// Default false: only internal to external, either way.
	Internal bool `yaml:"internal"`
	// MaxSessions caps the connections tracked; further ones are dropped
	// and counted. Default 200,000.
	MaxSessions int `yaml:"max_sessions"`
}

// DefaultLongConfig returns the defaults documented on LongConfig.
func DefaultLongConfig() LongConfig {
	return LongConfig{MinDuration: time.Hour, StitchGap: 5 * time.Minute, MinChunk: time.Minute,
		MaxSessions: 200_000}
}

// Validate reports every bad value.
func (c *LongConfig) Validate() error {
	var errs []error
	if c.MinDuration < time.Minute {
		errs = append(errs, fmt.Errorf("min_duration %v is shorter than 1m", c.MinDuration))
	}
	if c.StitchGap < 0 {
		errs = append(errs, fmt.Errorf("stitch_gap %v is negative", c.StitchGap))
	}
	if c.MinChunk < 0 || c.MinChunk > c.MinDuration {
		errs = append(errs, fmt.Errorf("min_chunk %v is outside 0..min_duration", c.MinChunk))
	}
	if c.MaxSessions < 1 {
		errs = append(errs, fmt.Errorf("max_sessions %d is below 1", c.MaxSessions))
	}
	if slices.Contains(c.AllowPorts, 0) {
		errs = append(errs, errors.New("allow_ports lists port 0"))
	}
	if _, err := flow.NewSet(c.AllowCIDRs); err != nil {
		errs = append(errs, fmt.Errorf("allow_cidrs: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("long connection config: %w", errors.Join(errs...))
	}
	return nil
}

// LongConn reports connections between internal and external hosts that
// stay open longer than a threshold, joining the records a flow exporter
// cuts them into. It is not safe for concurrent use.
type LongConn struct {
	cfg        LongConfig
	internal   *flow.Set
	allow      *flow.Set
	allowPorts [1024]uint64 // bitset
	prev       flow.PrevalenceReader

	sessions map[connKey]*session
	pending  []queued
	gcAt     int64
	dropped  uint64
}

var _ flow.Analyzer = (*LongConn)(nil)

// connKey names a connection without its direction: the internal side and
// the peer, with their ports.
type connKey struct {
	in, ext         [16]byte
	inPort, extPort uint16
	proto           uint8
}

// queued is a connection that crossed a threshold, waiting for Advance.
type queued struct {
	k connKey
	s *session
}

// session is one tracked connection.
type session struct {
	start, end        int64 // unix ns
	bytesOut, bytesIn int64 // from and to the internal side
	pkts              int64
	records           uint32
	level             uint8 // how many thresholds were signalled: MinDuration, 2x, 4x...
	queued            bool
	inbound           bool // the peer opened it
	service           string
	events            []uint64
}

// NewLongConn returns a long-connection analyzer. internal says which
// addresses are internal; prev, when not nil, tells how many internal hosts
// talk to the peer.
func NewLongConn(cfg LongConfig, internal *flow.Set, prev flow.PrevalenceReader) (*LongConn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	allow, err := flow.NewSet(cfg.AllowCIDRs)
	if err != nil {
		return nil, fmt.Errorf("long connection: %w", err)
	}
	l := &LongConn{cfg: cfg, internal: internal, allow: allow, prev: prev, sessions: map[connKey]*session{}}
	for _, p := range cfg.AllowPorts {
		l.allowPorts[p/64] |= 1 << (p % 64)
	}
	return l, nil
}

// Name implements flow.Analyzer.
func (l *LongConn) Name() string { return LongName }

// Observe implements flow.Analyzer.
func (l *LongConn) Observe(r *flow.Record) {
	if r.Kind != flow.KindFlow || !r.Src.IsValid() || !r.Dst.IsValid() {
		return
	}
	k, inbound, ok := l.keyOf(r)
	if !ok {
		return
	}
	start, end := r.Start.UnixNano(), max(r.End.UnixNano(), r.Start.UnixNano())
	s := l.sessions[k]
	if s != nil && start-s.end > int64(l.cfg.StitchGap) {
		delete(l.sessions, k) // a new connection on the same ports
		s = nil
	}
	if s == nil {
		if r.Duration() < l.cfg.MinChunk {
			return
		}
		if len(l.sessions) >= l.cfg.MaxSessions {
			l.dropped++
			return
		}
		s = &session{start: start, end: end, inbound: inbound, service: r.Service}
		l.sessions[k] = s
	}
	l.extend(s, r, k, start, end)
}

// keyOf returns r's connection key and whether the peer opened it; false
// when r is not between an internal host and a peer the configuration asks
// about.
func (l *LongConn) keyOf(r *flow.Record) (connKey, bool, bool) {
	srcIn, dstIn := l.internal.Contains(r.Src), l.internal.Contains(r.Dst)
	if srcIn == dstIn && !(srcIn && l.cfg.Internal) {
		return connKey{}, false, false
	}
	k := connKey{in: r.Src.As16(), ext: r.Dst.As16(), inPort: r.SrcPort, extPort: r.DstPort, proto: r.Proto}
	peer := r.Dst
	if !srcIn {
		k = connKey{in: r.Dst.As16(), ext: r.Src.As16(), inPort: r.DstPort, extPort: r.SrcPort, proto: r.Proto}
		peer = r.Src
	}
	openerIsSrc := !ReplyLike(r)
	inbound := openerIsSrc != srcIn
	svc := k.extPort
	if inbound {
		svc = k.inPort
	}
	if !scannable(peer) || l.allow.Contains(peer) || (svc != 0 && l.allowPorts[svc/64]&(1<<(svc%64)) != 0) {
		return connKey{}, false, false
	}
	return k, inbound, true
}

// extend adds r to s and queues s when it crosses its next threshold.
func (l *LongConn) extend(s *session, r *flow.Record, k connKey, start, end int64) {
	s.start, s.end = min(s.start, start), max(s.end, end)
	if r.Src.As16() == k.in {
		s.bytesOut += r.BytesOut
		s.bytesIn += r.BytesIn
	} else {
		s.bytesOut += r.BytesIn
		s.bytesIn += r.BytesOut
	}
	s.pkts += r.Packets()
	s.records++
	if r.EventID != 0 && len(s.events) < maxEvidence {
		s.events = append(s.events, r.EventID)
	}
	if s.service == "" {
		s.service = r.Service
	}
	if time.Duration(s.end-s.start) >= l.threshold(s.level) && !s.queued {
		s.queued = true
		l.pending = append(l.pending, queued{k, s})
	}
}

// threshold returns MinDuration << level, saturating instead of
// overflowing.
func (l *LongConn) threshold(level uint8) time.Duration {
	d := l.cfg.MinDuration
	if int(level) >= bits.LeadingZeros64(uint64(d))-1 {
		return math.MaxInt64
	}
	return d << level
}

// Advance implements flow.Analyzer: it emits the connections that crossed a
// threshold, in order of their last record, and forgets connections silent
// for longer than StitchGap before watermark.
func (l *LongConn) Advance(watermark time.Time, emit func(flow.Signal)) {
	slices.SortFunc(l.pending, func(x, y queued) int {
		return cmp.Or(cmp.Compare(x.s.end, y.s.end), bytes.Compare(x.k.in[:], y.k.in[:]),
			bytes.Compare(x.k.ext[:], y.k.ext[:]), cmp.Compare(x.k.inPort, y.k.inPort),
			cmp.Compare(x.k.extPort, y.k.extPort), cmp.Compare(x.k.proto, y.k.proto))
	})
	for _, q := range l.pending {
		s := q.s
		s.queued = false
		for d := time.Duration(s.end - s.start); d >= l.threshold(s.level); {
			s.level++
		}
		emit(l.signal(q.k, s))
	}
	clear(l.pending)
	l.pending = l.pending[:0]
	wm := watermark.UnixNano()
	if wm < l.gcAt {
		return
	}
	l.gcAt = wm + int64(l.cfg.StitchGap)
	for k, s := range l.sessions {
		if s.end+int64(l.cfg.StitchGap) < wm {
			delete(l.sessions, k)
		}
	}
}

func (l *LongConn) signal(k connKey, s *session) flow.Signal {
	in, ext := addrOf(k.in), addrOf(k.ext)
	d := time.Duration(s.end - s.start)
	svc, client, server, dir := k.extPort, in, ext, "outbound: the internal host opened it"
	if s.inbound {
		svc, client, server, dir = k.inPort, ext, in, "inbound: the peer opened it"
	}
	proto := protoLabel(k.proto)
	sig := flow.Signal{
		Kind: flow.SignalLongConn, Detector: LongName, Host: in, Peer: ext, Port: svc,
		Start: time.Unix(0, s.start).UTC(), End: time.Unix(0, s.end).UTC(),
		Title: fmt.Sprintf("connection %s -> %s:%d/%s open for %s", client, server, svc, proto,
			fmtDur(d.Round(time.Second))),
		Metric: "connection duration (s)", Current: math.Round(d.Seconds()),
		Evidence: slices.Clone(s.events),
		Key:      fmt.Sprintf("long_connection|%s|%s|%s/%d", in, ext, proto, svc),
		Tags:     []string{"attack.command_and_control", "attack.t1071"},
	}
	sig.Score = math.Round(math.Min(1, 0.3+0.2*math.Log2(d.Seconds()/l.cfg.MinDuration.Seconds()))*1000) / 1000
	sig.Severity = schema.SeverityLow
	rare, prevFact := l.rarity(ext)
	if d >= 4*l.cfg.MinDuration || rare {
		sig.Severity = schema.SeverityMedium
	}
	sig.Facts = []flow.Fact{
		{Key: "duration", Value: fmtDur(d.Round(time.Second))},
		{Key: "threshold", Value: fmtDur(l.cfg.MinDuration)},
		{Key: "direction", Value: dir},
		{Key: "service", Value: cmp.Or(s.service, fmt.Sprintf("%s/%d", proto, svc))},
		{Key: "records joined", Value: strconv.Itoa(int(s.records))},
		{Key: "bytes out", Value: strconv.FormatInt(s.bytesOut, 10)},
		{Key: "bytes in", Value: strconv.FormatInt(s.bytesIn, 10)},
		{Key: "packets", Value: strconv.FormatInt(s.pkts, 10)},
	}
	if prevFact != "" {
		sig.Facts = append(sig.Facts, flow.Fact{Key: "internal hosts talking to the peer", Value: prevFact})
	}
	return sig
}

// rarity says whether the peer is rare: only this host talks to it, in a
// population of at least rarePopulation hosts.
func (l *LongConn) rarity(peer netip.Addr) (bool, string) {
	if l.prev == nil {
		return false, ""
	}
	n, pop := l.prev.Hosts(peer), l.prev.Population()
	return n <= 1 && pop >= rarePopulation, fmt.Sprintf("%d of %d", n, pop)
}

// rarePopulation is the fewest active internal hosts for which a peer only
// one of them talks to counts as rare.
const rarePopulation = 10

// Stats implements flow.Analyzer.
func (l *LongConn) Stats() flow.Stats {
	return flow.Stats{Entities: map[string]int{"connections": len(l.sessions)},
		Bytes: int64(len(l.sessions)) * sessionBytes}
}

// Dropped returns how many connections the cap refused.
func (l *LongConn) Dropped() uint64 { return l.dropped }

// sessionBytes estimates a tracked connection with its map entry.
const sessionBytes = 300
