package flow

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"net/netip"
	"time"
)

// PrevalenceReader answers how common a destination is among internal
// hosts: the context that makes traffic most hosts share (NTP, update
// checks, monitoring) score low without naming any service.
type PrevalenceReader interface {
	// Hosts returns how many distinct internal hosts contacted dst within
	// the prevalence period, saturating at the tracker's cap.
	Hosts(dst netip.Addr) int
	// HostsName is Hosts for a server or query name.
	HostsName(name string) int
	// Population returns how many distinct internal hosts were active in the
	// period.
	Population() int
}

// Prevalence tracks, per destination address and per name, the distinct
// internal hosts that contacted it over a sliding period of whole days
// (event time). Each destination keeps at most Cap hosts; beyond that it
// counts as "Cap or more". It is not safe for concurrent use.
type Prevalence struct {
	days  int
	cap   int
	addrs map[netip.Addr]*prevEntry
	names map[string]*prevEntry
	pop   map[netip.Addr]int32 // host → last day active
	today int32
}

type prevEntry struct {
	Hosts []netip.Addr
	Days  []int32 // last day each host was seen
}

var _ PrevalenceReader = (*Prevalence)(nil)

// NewPrevalence returns a tracker over a period of days (at least 1),
// keeping up to cap hosts per destination (at least 2).
func NewPrevalence(days, cap int) *Prevalence {
	return &Prevalence{days: max(days, 1), cap: max(cap, 2), addrs: map[netip.Addr]*prevEntry{},
		names: map[string]*prevEntry{}, pop: map[netip.Addr]int32{}}
}

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// Observe records that internal host contacted dst (and name, when not
// empty) at t.
func (p *Prevalence) Observe(host, dst netip.Addr, name string, t time.Time) {
	d := dayOf(t)
	if d > p.today {
		p.today = d
	}
	if d <= p.today-int32(p.days) {
		return // older than the period
	}
	if last, ok := p.pop[host]; !ok || d > last {
		p.pop[host] = d
	}
	if dst.IsValid() {
		e := p.addrs[dst]
		if e == nil {
			e = &prevEntry{}
			p.addrs[dst] = e
		}
		e.add(host, d, p.cap)
	}
	if name != "" {
		e := p.names[name]
		if e == nil {
			e = &prevEntry{}
			p.names[name] = e
		}
		e.add(host, d, p.cap)
	}
}

func (e *prevEntry) add(host netip.Addr, d int32, limit int) {
	for i, h := range e.Hosts {
		if h == host {
			if d > e.Days[i] {
				e.Days[i] = d
			}
			return
		}
	}
	if len(e.Hosts) < limit {
		e.Hosts = append(e.Hosts, host)
		e.Days = append(e.Days, d)
		return
	}
	// Full: replace the stalest host so the count stays current.
	old := 0
	for i := range e.Days {
		if e.Days[i] < e.Days[old] {
			old = i
		}
	}
	if e.Days[old] < d {
		e.Hosts[old], e.Days[old] = host, d
	}
}

func (p *Prevalence) count(e *prevEntry) int {
	if e == nil {
		return 0
	}
	n := 0
	floor := p.today - int32(p.days)
	for _, d := range e.Days {
		if d > floor {
			n++
		}
	}
	return n
}

// Hosts implements PrevalenceReader.
func (p *Prevalence) Hosts(dst netip.Addr) int { return p.count(p.addrs[dst]) }

// HostsName implements PrevalenceReader.
func (p *Prevalence) HostsName(name string) int { return p.count(p.names[name]) }

// Population implements PrevalenceReader.
func (p *Prevalence) Population() int {
	n := 0
	floor := p.today - int32(p.days)
	for _, d := range p.pop {
		if d > floor {
			n++
		}
	}
	return n
}

// Advance moves the period to t and forgets destinations and hosts not
// seen within it.
func (p *Prevalence) Advance(t time.Time) {
	if d := dayOf(t); d > p.today {
		p.today = d
	}
	floor := p.today - int32(p.days)
	for k, e := range p.addrs {
		if !e.prune(floor) {
			delete(p.addrs, k)
		}
	}
	for k, e := range p.names {
		if !e.prune(floor) {
			delete(p.names, k)
		}
	}
	for h, d := range p.pop {
		if d <= floor {
			delete(p.pop, h)
		}
	}
}

// prune drops hosts last seen at or before floor and reports whether any
// remain.
func (e *prevEntry) prune(floor int32) bool {
	j := 0
	for i := range e.Hosts {
		if e.Days[i] > floor {
			e.Hosts[j], e.Days[j] = e.Hosts[i], e.Days[i]
			j++
		}
	}
	e.Hosts, e.Days = e.Hosts[:j], e.Days[:j]
	return j > 0
}

// Size returns the number of tracked destinations (addresses and names) and
// hosts, and an estimate of the memory they hold.
func (p *Prevalence) Size() (dests, hosts int, bytes int64) {
	for _, e := range p.addrs {
		bytes += 80 + int64(len(e.Hosts))*28
	}
	for k, e := range p.names {
		bytes += 80 + int64(len(k)+len(e.Hosts)*28)
	}
	bytes += int64(len(p.pop)) * 48
	return len(p.addrs) + len(p.names), len(p.pop), bytes
}

type prevSnapshot struct {
	Days, Cap int
	Today     int32
	Addrs     map[netip.Addr]*prevEntry
	Names     map[string]*prevEntry
	Pop       map[netip.Addr]int32
}

// MarshalBinary saves the tracker's state.
func (p *Prevalence) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(prevSnapshot{Days: p.days, Cap: p.cap, Today: p.today,
		Addrs: p.addrs, Names: p.names, Pop: p.pop})
	if err != nil {
		return nil, fmt.Errorf("flow: prevalence: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary restores state saved by MarshalBinary. The period and cap
// stay those the tracker was constructed with.
func (p *Prevalence) UnmarshalBinary(data []byte) error {
	var s prevSnapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return fmt.Errorf("flow: prevalence: %w", err)
	}
	p.today = s.Today
	p.addrs, p.names, p.pop = s.Addrs, s.Names, s.Pop
	if p.addrs == nil {
		p.addrs = map[netip.Addr]*prevEntry{}
	}
	if p.names == nil {
		p.names = map[string]*prevEntry{}
	}
	if p.pop == nil {
		p.pop = map[netip.Addr]int32{}
	}
	return nil
}
