package flow

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Conventions of the events Vigil's flow collector writes (internal/input/
// flowcollect) and FromEvent reads back.
const (
	// Module is event.module of collector events.
	Module = "netflow"
	// Dataset values of collector events, by wire format.
	DatasetNetFlowV5 = "netflow.v5"
	DatasetNetFlowV9 = "netflow.v9"
	DatasetIPFIX     = "netflow.ipfix"
	DatasetSFlow     = "netflow.sflow"
	// FieldTCPFlags is the original field holding the OR of the flow's TCP
	// flags, in decimal.
	FieldTCPFlags = "flow.tcp_flags"
	// FieldSampling is the original field holding the sampling interval
	// the counters were multiplied by, in decimal.
	FieldSampling = "flow.sampling_rate"
	// FieldEnd is the original field holding the flow's last-packet time
	// (RFC 3339 with nanoseconds) when the exporter sent one.
	FieldEnd = "flow.end"
)

// TCP flag bits.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPAck = 0x10
)

// FromEvent reads the flow view of ev into r and reports whether ev has one:
// Zeek conn/dns/ssl/http, Suricata flow/netflow/dns/tls/http and collector
// (NetFlow, IPFIX, sFlow) events. Events without a valid source and
// destination address have none. r is overwritten.
func FromEvent(ev *schema.Event, r *Record) bool {
	*r = Record{EventID: ev.ID, Start: ev.Timestamp, End: ev.Timestamp}
	var ok bool
	switch {
	case ev.Event.Module == Module:
		ok = fromCollector(ev, r)
	case strings.HasPrefix(ev.Event.Dataset, "zeek."):
		ok = fromZeek(ev, r)
	case ev.Event.Module == "suricata" || ev.Input == schema.InputSuricata:
		ok = fromSuricata(ev, r)
	default:
		return false
	}
	if !ok {
		return false
	}
	src, err1 := netip.ParseAddr(ev.Source.IP)
	dst, err2 := netip.ParseAddr(ev.Destination.IP)
	if err1 != nil || err2 != nil {
		return false
	}
	r.Src, r.Dst = src.Unmap(), dst.Unmap()
	r.SrcPort, r.DstPort = port(ev.Source.Port), port(ev.Destination.Port)
	r.Proto = ProtoNumber(ev.Network.Transport)
	if (r.Proto == ProtoICMP || r.Proto == ProtoICMPv6) && r.SrcPort == 0 && r.DstPort == 0 {
		// As Zeek does: ICMP type and code in the port fields (Suricata).
		if v, ok := ev.Fields.Get("icmp_type"); ok {
			r.SrcPort = uint16(atoiSmall(v))
		}
		if v, ok := ev.Fields.Get("icmp_code"); ok {
			r.DstPort = uint16(atoiSmall(v))
		}
	}
	if r.Service == "" {
		r.Service = ev.Network.Protocol
	}
	if r.Exporter == "" {
		r.Exporter = firstNonEmpty(ev.Observer.IP, ev.Observer.Name)
	}
	return true
}

func fromCollector(ev *schema.Event, r *Record) bool {
	r.Kind = KindFlow
	setCounters(ev, r)
	if v, ok := ev.Fields.Get(FieldSampling); ok {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			r.Sampling = uint32(n)
		}
	}
	if v, ok := ev.Fields.Get(FieldTCPFlags); ok {
		if n, err := strconv.ParseUint(v, 10, 16); err == nil {
			r.State = stateFromFlags(uint8(n), r.PktsIn > 0)
		}
	}
	return true
}

func fromZeek(ev *schema.Event, r *Record) bool {
	switch ev.Event.Dataset {
	case "zeek.conn":
		r.Kind = KindFlow
		setCounters(ev, r)
		if v, ok := ev.Fields.Get("conn_state"); ok {
			r.State = stateFromZeek(v)
		}
	case "zeek.dns":
		r.Kind = KindDNS
		setDNS(ev, r)
	case "zeek.ssl", "zeek.http":
		r.Kind = KindApp
		r.Name = normName(firstNonEmpty(ev.Destination.Domain, ev.URL.Domain))
		if r.Name == "" {
			return false
		}
	default:
		return false
	}
	return true
}

func fromSuricata(ev *schema.Event, r *Record) bool {
	et, _ := ev.Fields.Get("event_type")
	switch et {
	case "flow", "netflow":
		r.Kind = KindFlow
		setCounters(ev, r)
		suricataTimes(ev, r)
		r.Proto = ProtoNumber(ev.Network.Transport)
		r.State = stateFromSuricata(ev, r)
	case "dns":
		r.Kind = KindDNS
		setDNS(ev, r)
		if t, _ := ev.Fields.Get("dns.type"); t == "answer" || t == "response" {
			r.Answer = true
		}
	case "tls", "http":
		r.Kind = KindApp
		r.Name = normName(firstNonEmpty(ev.Destination.Domain, ev.URL.Domain))
		if r.Name == "" {
			return false
		}
	default:
		return false
	}
	return true
}

func setCounters(ev *schema.Event, r *Record) {
	r.BytesOut, r.BytesIn = ev.Source.Bytes, ev.Destination.Bytes
	r.PktsOut, r.PktsIn = ev.Source.Packets, ev.Destination.Packets
	if r.BytesOut == 0 && r.BytesIn == 0 && ev.Network.Bytes > 0 {
		r.BytesOut = ev.Network.Bytes
	}
	if r.PktsOut == 0 && r.PktsIn == 0 && ev.Network.Packets > 0 {
		r.PktsOut = ev.Network.Packets
	}
	if ev.Event.Duration > 0 {
		r.End = r.Start.Add(time.Duration(ev.Event.Duration))
	}
}

func setDNS(ev *schema.Event, r *Record) {
	r.Name = normName(ev.DNS.Question.Name)
	r.QType = strings.ToUpper(ev.DNS.Question.Type)
	r.RCode = strings.ToUpper(ev.DNS.ResponseCode)
}

// stateFromZeek maps Zeek's conn_state.
func stateFromZeek(s string) State {
	switch s {
	case "SF", "S1", "S2", "S3", "OTH":
		return StateEstablished
	case "S0", "SH", "SHR":
		return StateAttempt
	case "REJ", "RSTOS0", "RSTRH":
		return StateRejected
	case "RSTO", "RSTR":
		return StateReset
	}
	return StateUnknown
}

// suricataTimes takes a flow record's times from flow.start and flow.end:
// the EVE timestamp is when the record was written, not when the flow was.
func suricataTimes(ev *schema.Event, r *Record) {
	et, _ := ev.Fields.Get("event_type")
	start, ok := ev.Fields.Get(et + ".start")
	if !ok {
		return
	}
	st, ok := ecsjson.ParseTimeString(start)
	if !ok {
		return
	}
	r.Start, r.End = st, st
	if end, ok := ev.Fields.Get(et + ".end"); ok {
		if e, ok := ecsjson.ParseTimeString(end); ok && !e.Before(st) {
			r.End = e
		}
	}
}

// stateFromSuricata maps a Suricata flow record's TCP flags: the flags
// each side sent (tcp_flags_ts, tcp_flags_tc) when present, else their OR.
func stateFromSuricata(ev *schema.Event, r *Record) State {
	if r.Proto != ProtoTCP {
		if r.PktsIn > 0 {
			return StateEstablished
		}
		return StateAttempt
	}
	ts, okTS := hexFlags(ev, "tcp.tcp_flags_ts")
	tc, okTC := hexFlags(ev, "tcp.tcp_flags_tc")
	if okTS || okTC {
		switch {
		case tc&(TCPSyn|TCPAck) == TCPSyn|TCPAck && (ts|tc)&TCPRst != 0:
			return StateReset
		case tc&(TCPSyn|TCPAck) == TCPSyn|TCPAck, ts&TCPSyn == 0 && ts&TCPAck != 0:
			return StateEstablished
		case tc&TCPRst != 0:
			return StateRejected
		case ts&TCPSyn != 0 && tc == 0:
			return StateAttempt
		}
	}
	if f, ok := hexFlags(ev, "tcp.tcp_flags"); ok {
		return stateFromFlags(f, r.PktsIn > 0)
	}
	if r.PktsIn > 0 {
		return StateEstablished
	}
	return StateAttempt
}

// hexFlags reads a Suricata TCP flags field (hex).
func hexFlags(ev *schema.Event, key string) (uint8, bool) {
	v, ok := ev.Fields.Get(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 16, 8)
	return uint8(n), err == nil
}

// stateFromFlags judges a TCP flow from the OR of its flags.
func stateFromFlags(f uint8, answered bool) State {
	switch {
	case f&TCPSyn != 0 && f&TCPAck == 0 && f&TCPRst != 0:
		return StateRejected
	case f&TCPSyn != 0 && f&TCPAck == 0:
		return StateAttempt
	case f&TCPRst != 0:
		return StateReset
	case f&TCPAck != 0 || answered:
		return StateEstablished
	}
	return StateUnknown
}

// ProtoNumber returns the IANA number of a transport name ("tcp", "udp",
// "icmp", "ipv6-icmp") or decimal number; 0 when unknown.
func ProtoNumber(s string) uint8 {
	switch strings.ToLower(s) {
	case "tcp":
		return ProtoTCP
	case "udp":
		return ProtoUDP
	case "icmp":
		return ProtoICMP
	case "icmpv6", "ipv6-icmp", "icmp6":
		return ProtoICMPv6
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(n)
	}
	return 0
}

// ProtoName returns the transport name of an IANA protocol number.
func ProtoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}

func normName(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func atoiSmall(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0
	}
	return n
}

func port(p int) uint16 {
	if p < 0 || p > 65535 {
		return 0
	}
	return uint16(p)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
