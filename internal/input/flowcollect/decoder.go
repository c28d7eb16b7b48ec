package flowcollect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Reject reasons of the collector (defined with the others in
// internal/parse).
const (
	// ReasonBadFlow marks a malformed or truncated NetFlow, IPFIX or sFlow
	// packet, set or record.
	ReasonBadFlow = parse.ReasonBadFlow
	// ReasonUnknownTemplate marks a NetFlow v9 or IPFIX data set dropped
	// because its template did not arrive in time.
	ReasonUnknownTemplate = parse.ReasonUnknownTemplate
)

// Defaults for the zero fields of DecoderConfig.
const (
	DefaultMaxExporters    = 4096
	DefaultExporterTimeout = time.Hour
	DefaultMaxSessions     = 64
	DefaultMaxTemplates    = 1024
	DefaultMaxPending      = 64
	DefaultPendingTimeout  = time.Minute
	DefaultPendingBytes    = 8 << 20
	DefaultTemplateFields  = 1 << 22
)

// rawKeep is how much of a bad packet a reject keeps.
const rawKeep = 512

// DecoderConfig bounds a Decoder's state; zero fields take the defaults
// above.
type DecoderConfig struct {
	// MaxExporters is the most exporter addresses tracked. When a new one
	// arrives at the limit, the one heard from least recently is forgotten
	// with its templates and statistics.
	MaxExporters int
	// ExporterTimeout forgets an exporter, or one of its template sessions,
	// after this long without a packet (in receive time).
	ExporterTimeout time.Duration
	// MaxSessions is the most template sessions per exporter: NetFlow v9
	// and IPFIX templates are scoped by exporter address, source port,
	// version and source id / observation domain.
	MaxSessions int
	// MaxTemplates is the most templates per session; further ones are
	// ignored and the packet counted as malformed.
	MaxTemplates int
	// MaxPending is the most data sets per session kept while they wait
	// for their template; the oldest is dropped first.
	MaxPending int
	// PendingTimeout drops a waiting data set whose template has not come
	// within this long.
	PendingTimeout time.Duration
	// PendingBytes caps the bytes of all waiting data sets.
	PendingBytes int
	// TemplateFields caps the fields of all templates held (4 bytes of
	// memory each); templates beyond it are ignored and counted as
	// malformed, so that spoofed exporters cannot exhaust memory.
	TemplateFields int
	// Reject, when set, is told of every malformed packet and every data
	// set dropped for want of its template. It is called with the
	// decoder's lock held and must not call back into the Decoder.
	Reject func(ingest.Reject)
}

func (c DecoderConfig) withDefaults() DecoderConfig {
	setDefault(&c.MaxExporters, DefaultMaxExporters)
	setDefault(&c.ExporterTimeout, DefaultExporterTimeout)
	setDefault(&c.MaxSessions, DefaultMaxSessions)
	setDefault(&c.MaxTemplates, DefaultMaxTemplates)
	setDefault(&c.MaxPending, DefaultMaxPending)
	setDefault(&c.PendingTimeout, DefaultPendingTimeout)
	setDefault(&c.PendingBytes, DefaultPendingBytes)
	setDefault(&c.TemplateFields, DefaultTemplateFields)
	return c
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// ExporterStats are the counters of one exporter address.
type ExporterStats struct {
	// Exporter is the address datagrams came from.
	Exporter netip.Addr
	// Packets and Bytes count the datagrams decoded and their size.
	Packets, Bytes uint64
	// Flows counts the flow events produced.
	Flows uint64
	// Malformed counts packets with a malformed or truncated part; the
	// good flows beside the bad part were kept.
	Malformed uint64
	// MissingTemplate counts NetFlow v9 / IPFIX data sets that arrived
	// before their template; Recovered those decoded once it came and
	// TemplateDrops those dropped because it never came in time.
	MissingTemplate, Recovered, TemplateDrops uint64
	// Pending is the number of data sets waiting for their template now.
	Pending int
	// Templates is the number of templates held now.
	Templates int
	// CounterSamples counts sFlow counter samples, which are ignored;
	// SkippedSamples counts sFlow flow samples whose sampled header was
	// not IPv4 or IPv6.
	CounterSamples, SkippedSamples uint64
	// SamplingRate is the sampling interval applied to the latest flow
	// (1 when unsampled).
	SamplingRate uint32
	// Version is the latest packet's format: 5, 9, 10 (IPFIX) or
	// SFlowVersion.
	Version int
	// LastSeen is when the latest datagram was received.
	LastSeen time.Time
}

// SFlowVersion is ExporterStats.Version for sFlow v5 packets, distinct
// from NetFlow v5.
const SFlowVersion = 1005

// exporter is the state of one exporter address.
type exporter struct {
	addr     netip.Addr
	ip       string
	stats    ExporterStats
	sessions map[sessionKey]*session
}

// Decoder decodes NetFlow v5, NetFlow v9, IPFIX and sFlow v5 packets into
// events, keeping NetFlow v9 and IPFIX templates and sampling rates per
// exporter. It is safe for concurrent use, but packets of one exporter
// should come from one goroutine so that templates precede their data.
type Decoder struct {
	cfg DecoderConfig

	mu           sync.Mutex
	exporters    map[netip.Addr]*exporter
	nextSweep    time.Time
	pendingBytes int
	fields       int // fields of all templates held
	bd           *builder
	recs         []rec
	out          []schema.Event // the output being built by Decode
}

// NewDecoder returns a Decoder with no exporter state.
func NewDecoder(cfg DecoderConfig) *Decoder {
	return &Decoder{
		cfg:       cfg.withDefaults(),
		exporters: make(map[netip.Addr]*exporter),
		bd:        newBuilder(),
	}
}

// Decode decodes one datagram from exporter, received at recv, and
// appends one event per flow to out. It returns a *parse.Error (reason
// ReasonBadFlow, parse.ReasonUnknownFormat or parse.ReasonEmpty) when the
// packet is malformed; the flows decoded from its good parts are appended
// all the same. A data set whose template is unknown is not an error: it
// waits for its template (see DecoderConfig.MaxPending) and its flows are
// appended by the Decode call that brings the template. Events may share
// string memory; Decode keeps none of out.
func (d *Decoder) Decode(exporter netip.AddrPort, pkt []byte, recv time.Time, out []schema.Event) ([]schema.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep(recv)
	exp := d.exporter(exporter.Addr().Unmap(), recv)
	exp.stats.Packets++
	exp.stats.Bytes += uint64(len(pkt))
	exp.stats.LastSeen = recv
	d.out = out
	n0 := len(out)
	err := d.decode(exp, exporter.Port(), pkt, recv)
	out, d.out = d.out, nil
	exp.stats.Flows += uint64(len(out) - n0)
	if err != nil {
		exp.stats.Malformed++
		d.reject(exp, err, pkt)
	}
	return out, err
}

func (d *Decoder) decode(exp *exporter, port uint16, pkt []byte, recv time.Time) error {
	if len(pkt) == 0 {
		return parse.Errorf(parse.ReasonEmpty, "empty datagram")
	}
	if len(pkt) < 4 {
		return parse.Errorf(ReasonBadFlow, "datagram of %d bytes is too short for any flow format", len(pkt))
	}
	switch v := binary.BigEndian.Uint16(pkt); {
	case v == 5:
		exp.stats.Version = 5
		return d.decodeV5(exp, pkt, recv)
	case v == 9 || v == 10:
		exp.stats.Version = int(v)
		return d.decodeNF(exp, port, pkt, recv)
	case binary.BigEndian.Uint32(pkt) == 5:
		exp.stats.Version = SFlowVersion
		return d.decodeSFlow(exp, pkt, recv)
	}
	return parse.Errorf(parse.ReasonUnknownFormat,
		"not NetFlow v5/v9, IPFIX or sFlow v5 (first bytes %x)", pkt[:4])
}

// flush turns the records decoded so far into events.
func (d *Decoder) flush(exp *exporter, dataset string, recv time.Time) {
	if len(d.recs) == 0 {
		return
	}
	if r := d.recs[len(d.recs)-1].sampling; r > 1 {
		exp.stats.SamplingRate = r
	} else {
		exp.stats.SamplingRate = 1
	}
	d.out = d.bd.emit(d.recs, exp, dataset, recv, d.out)
	clear(d.recs)
	d.recs = d.recs[:0]
}

// newRec appends a zero record and returns it.
func (d *Decoder) newRec() *rec {
	d.recs = append(d.recs, rec{})
	return &d.recs[len(d.recs)-1]
}

// reject hands a problem to the configured recorder.
func (d *Decoder) reject(exp *exporter, err error, raw []byte) {
	if d.cfg.Reject == nil {
		return
	}
	detail := err.Error()
	var pe *parse.Error
	if errors.As(err, &pe) && pe.Err != nil {
		detail = pe.Err.Error()
	}
	d.cfg.Reject(ingest.Reject{
		Time: exp.stats.LastSeen, Input: schema.InputNetflow, Source: exp.ip,
		Reason: parse.Reason(err), Detail: detail, Raw: bytes.Clone(raw[:min(len(raw), rawKeep)]),
	})
}

// exporter returns the state of addr, making it (and making room for it)
// when new.
func (d *Decoder) exporter(addr netip.Addr, now time.Time) *exporter {
	if e := d.exporters[addr]; e != nil {
		return e
	}
	if len(d.exporters) >= d.cfg.MaxExporters {
		d.evictOldest()
	}
	e := &exporter{addr: addr, ip: addr.String(), sessions: make(map[sessionKey]*session)}
	e.stats.Exporter = addr
	e.stats.LastSeen = now
	d.exporters[addr] = e
	return e
}

// evictOldest forgets the eighth of the exporters heard from least
// recently, so that a stream of new (say, spoofed) addresses costs one
// sort per MaxExporters/8 arrivals.
func (d *Decoder) evictOldest() {
	all := make([]*exporter, 0, len(d.exporters))
	for _, e := range d.exporters {
		all = append(all, e)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].stats.LastSeen.Before(all[j].stats.LastSeen) })
	for _, e := range all[:max(1, len(all)/8)] {
		d.forget(e)
	}
}

// forget drops an exporter and its waiting data sets.
func (d *Decoder) forget(e *exporter) {
	for k, s := range e.sessions {
		d.dropSession(e, k, s)
	}
	delete(d.exporters, e.addr)
}

// sweep forgets idle exporters and sessions and drops waiting data sets
// past their timeout, at most once a second of receive time.
func (d *Decoder) sweep(now time.Time) {
	if now.Before(d.nextSweep) {
		return
	}
	d.nextSweep = now.Add(time.Second)
	idle := now.Add(-d.cfg.ExporterTimeout)
	for _, e := range d.exporters {
		if e.stats.LastSeen.Before(idle) {
			d.forget(e)
			continue
		}
		for k, s := range e.sessions {
			if s.lastSeen.Before(idle) {
				d.dropSession(e, k, s)
				continue
			}
			d.expirePending(e, s, now)
		}
	}
}

// Stats returns the counters of every tracked exporter, ordered by
// address.
func (d *Decoder) Stats() []ExporterStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]ExporterStats, 0, len(d.exporters))
	for _, e := range d.exporters {
		st := e.stats
		for _, s := range e.sessions {
			st.Templates += len(s.templates)
			st.Pending += len(s.pending)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Exporter.Less(out[j].Exporter) })
	return out
}
