package flowcollect

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Original field names of collector events beyond those internal/flow
// defines. Each is written only when the exporter sent it and it is not
// zero.
const (
	FieldInIf    = "flow.in_if"
	FieldOutIf   = "flow.out_if"
	FieldSrcAS   = "flow.src_as"
	FieldDstAS   = "flow.dst_as"
	FieldTOS     = "flow.tos"
	FieldNextHop = "flow.next_hop"
)

// ObserverType is observer.type of collector events.
const ObserverType = "netflow"

// maxFields is the most original fields one event gets.
const maxFields = 9

// rec is one decoded flow before it becomes an event. It holds numbers and
// addresses only, so decoding a packet into recs allocates nothing.
type rec struct {
	start, end    int64 // Unix nanoseconds; end is 0 when the exporter sent none
	src, dst      netip.Addr
	nextHop       netip.Addr
	sport, dport  uint16
	flags         uint16 // OR of the TCP flags
	proto, tos    uint8
	bytes, pkts   uint64 // sampled counters, source to destination
	rbytes, rpkts uint64 // reverse direction (IPFIX biflow), sampled
	sampling      uint32 // 0 or 1: unsampled
	inIf, outIf   uint32
	srcAS, dstAS  uint32
}

// span is a substring of the builder's arena.
type span struct{ a, b int32 }

// fieldKey names an original field; recStrings holds keys as numbers so
// that it has no pointers (writing pointers costs a write barrier while
// the garbage collector runs).
type fieldKey uint8

const (
	keyTCPFlags fieldKey = iota
	keySampling
	keyEnd
	keyInIf
	keyOutIf
	keySrcAS
	keyDstAS
	keyTOS
	keyNextHop
)

// name returns the field's name.
func (k fieldKey) name() string {
	switch k {
	case keyTCPFlags:
		return flow.FieldTCPFlags
	case keySampling:
		return flow.FieldSampling
	case keyEnd:
		return flow.FieldEnd
	case keyInIf:
		return FieldInIf
	case keyOutIf:
		return FieldOutIf
	case keySrcAS:
		return FieldSrcAS
	case keyDstAS:
		return FieldDstAS
	case keyTOS:
		return FieldTOS
	}
	return FieldNextHop
}

// recStrings are the arena spans of one record's strings.
type recStrings struct {
	src, dst span
	n        int
	keys     [maxFields]fieldKey
	vals     [maxFields]span
}

// builder turns recs into events. It formats every string of a packet's
// events into one arena and every original field into one slice, so a
// packet costs two allocations however many flows it holds.
type builder struct {
	buf  []byte
	strs []recStrings
	// day and date cache the "YYYY-MM-DD" of the latest day formatted:
	// the flows of a packet nearly always share it.
	day  int64
	date [10]byte
	// category and typ are shared by all events; their capacity equals
	// their length, so an append by a reader copies them.
	category, typ []string
}

func newBuilder() *builder {
	return &builder{category: []string{"network"}, typ: []string{"connection"}, day: math.MinInt64}
}

// emit appends one event per rec to out.
func (bd *builder) emit(recs []rec, exp *exporter, dataset string, recv time.Time, out []schema.Event) []schema.Event {
	if len(recs) == 0 {
		return out
	}
	bd.buf = bd.buf[:0]
	if cap(bd.strs) < len(recs) {
		bd.strs = make([]recStrings, len(recs))
	}
	strs := bd.strs[:len(recs)]
	total := 0
	for i := range recs {
		bd.format(&recs[i], &strs[i])
		total += strs[i].n
	}
	arena := string(bd.buf)
	fields := make([]schema.Field, total)
	sub := func(s span) string { return arena[s.a:s.b] }
	out = growEvents(out, len(recs))
	for i := range recs {
		r, st := &recs[i], &strs[i]
		out = append(out, schema.Event{})
		ev := &out[len(out)-1]
		bd.fill(ev, r, exp, dataset, recv)
		ev.Source.IP, ev.Destination.IP = sub(st.src), sub(st.dst)
		f := fields[:st.n:st.n]
		fields = fields[st.n:]
		for j := range st.n {
			f[j] = schema.Field{Key: st.keys[j].name(), Value: sub(st.vals[j])}
		}
		if st.n > 0 {
			ev.Fields = f
		}
	}
	return out
}

// growEvents makes room for n more events in out.
func growEvents(out []schema.Event, n int) []schema.Event {
	if cap(out)-len(out) >= n {
		return out
	}
	grown := make([]schema.Event, len(out), max(2*cap(out), len(out)+n))
	copy(grown, out)
	return grown
}

// fill sets the event's fields that need no formatting.
func (bd *builder) fill(ev *schema.Event, r *rec, exp *exporter, dataset string, recv time.Time) {
	ev.Timestamp = time.Unix(0, r.start).UTC()
	ev.Received = recv
	ev.Input = schema.InputNetflow
	ev.Event.Kind = "event"
	ev.Event.Category = bd.category
	ev.Event.Type = bd.typ
	ev.Event.Module = flow.Module
	ev.Event.Dataset = dataset
	if r.end > r.start {
		ev.Event.Duration = r.end - r.start
	}
	rate := max(r.sampling, 1)
	ev.Source.Port, ev.Destination.Port = int(r.sport), int(r.dport)
	ev.Source.Bytes, ev.Source.Packets = scale(r.bytes, rate), scale(r.pkts, rate)
	ev.Destination.Bytes, ev.Destination.Packets = scale(r.rbytes, rate), scale(r.rpkts, rate)
	ev.Network.Transport = protoName(r.proto)
	ev.Network.Bytes = satAdd(ev.Source.Bytes, ev.Destination.Bytes)
	ev.Network.Packets = satAdd(ev.Source.Packets, ev.Destination.Packets)
	ev.Observer.IP = exp.ip
	ev.Observer.Type = ObserverType
}

// format writes the record's strings into the arena.
func (bd *builder) format(r *rec, st *recStrings) {
	st.src = bd.addr(r.src)
	st.dst = bd.addr(r.dst)
	st.n = 0
	num := func(key fieldKey, v uint64) {
		a := len(bd.buf)
		bd.buf = strconv.AppendUint(bd.buf, v, 10)
		st.keys[st.n], st.vals[st.n] = key, span{int32(a), int32(len(bd.buf))}
		st.n++
	}
	if r.proto == flow.ProtoTCP {
		num(keyTCPFlags, uint64(r.flags))
	}
	if r.sampling > 1 {
		num(keySampling, uint64(r.sampling))
	}
	if r.end != 0 {
		a := len(bd.buf)
		bd.buf = bd.appendTime(bd.buf, r.end)
		st.keys[st.n], st.vals[st.n] = keyEnd, span{int32(a), int32(len(bd.buf))}
		st.n++
	}
	for _, f := range [...]struct {
		key fieldKey
		v   uint32
	}{{keyInIf, r.inIf}, {keyOutIf, r.outIf}, {keySrcAS, r.srcAS}, {keyDstAS, r.dstAS}, {keyTOS, uint32(r.tos)}} {
		if f.v != 0 {
			num(f.key, uint64(f.v))
		}
	}
	if r.nextHop.IsValid() && !r.nextHop.IsUnspecified() {
		st.keys[st.n], st.vals[st.n] = keyNextHop, bd.addr(r.nextHop)
		st.n++
	}
}

// addr writes an address into the arena; an invalid one is empty.
func (bd *builder) addr(a netip.Addr) span {
	start := len(bd.buf)
	if a.IsValid() {
		bd.buf = a.Unmap().AppendTo(bd.buf)
	}
	return span{int32(start), int32(len(bd.buf))}
}

// protoName is flow.ProtoName, empty for an unknown (zero) protocol.
func protoName(p uint8) string {
	if p == 0 {
		return ""
	}
	return flow.ProtoName(p)
}

// scale multiplies a sampled counter by the sampling rate, saturating.
func scale(v uint64, rate uint32) int64 {
	if v == 0 {
		return 0
	}
	if v > math.MaxInt64/uint64(rate) {
		return math.MaxInt64
	}
	return int64(v * uint64(rate))
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// appendRFC3339Nano appends the UTC time of Unix nanoseconds ns as
// time.RFC3339Nano formats it, several times faster than time.AppendFormat.
func appendRFC3339Nano(b []byte, ns int64) []byte {
	return (&builder{day: math.MinInt64}).appendTime(b, ns)
}

// appendTime is appendRFC3339Nano with the builder's date cache.
func (bd *builder) appendTime(b []byte, ns int64) []byte {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	days, sod := sec/86400, sec%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	if days != bd.day {
		y, m, d := civil(days)
		if y < 0 || y > 9999 {
			return time.Unix(0, ns).UTC().AppendFormat(b, time.RFC3339Nano)
		}
		bd.day = days
		date := append4(bd.date[:0], y)
		date = append(date, '-')
		date = append2(date, m)
		date = append(date, '-')
		append2(date, d)
	}
	b = append(b, bd.date[:]...)
	b = append(b, 'T')
	b = append2(b, int(sod/3600))
	b = append(b, ':')
	b = append2(b, int(sod/60%60))
	b = append(b, ':')
	b = append2(b, int(sod%60))
	if frac != 0 {
		var digits [9]byte
		for i := 8; i >= 0; i-- {
			digits[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 9
		for digits[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, digits[:n]...)
	}
	return append(b, 'Z')
}

// civil returns the proleptic Gregorian date of a day number counted
// from 1970-01-01 (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
