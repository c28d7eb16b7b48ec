package flowcollect

import (
	"encoding/binary"
	"net/netip"
)

// Small encoders for hand-made NetFlow v5, NetFlow v9, IPFIX and sFlow
// packets, written from the specifications (RFC 3954, RFC 7011, sFlow v5)
// rather than from the decoder, so that tests check one against the other.

func u8(v uint8) []byte   { return []byte{v} }
func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func ip(s string) []byte  { return netip.MustParseAddr(s).AsSlice() }
func cat(p ...[]byte) []byte {
	var b []byte
	for _, x := range p {
		b = append(b, x...)
	}
	return b
}

// v5Flow is one NetFlow v5 record.
type v5Flow struct {
	src, dst, nextHop        string
	in, out                  uint16
	pkts, bytes, first, last uint32
	sport, dport             uint16
	flags, proto, tos        uint8
	srcAS, dstAS             uint16
}

// encodeV5 builds a NetFlow v5 packet; count overrides the header's record
// count when not negative.
func encodeV5(uptime, secs, nsecs uint32, sampling uint16, count int, flows ...v5Flow) []byte {
	if count < 0 {
		count = len(flows)
	}
	b := cat(u16(5), u16(uint16(count)), u32(uptime), u32(secs), u32(nsecs), u32(42), u8(0), u8(0), u16(sampling))
	for _, f := range flows {
		nh := f.nextHop
		if nh == "" {
			nh = "0.0.0.0"
		}
		b = append(b, cat(ip(f.src), ip(f.dst), ip(nh), u16(f.in), u16(f.out), u32(f.pkts), u32(f.bytes),
			u32(f.first), u32(f.last), u16(f.sport), u16(f.dport), u8(0), u8(f.flags), u8(f.proto), u8(f.tos),
			u16(f.srcAS), u16(f.dstAS), u8(24), u8(24), u16(0))...)
	}
	return b
}

// fspec is a template field specifier; pen > 0 marks an IPFIX
// enterprise-specific element.
type fspec struct {
	typ, length uint16
	pen         uint32
}

func (f fspec) encode() []byte {
	if f.pen != 0 {
		return cat(u16(f.typ|0x8000), u16(f.length), u32(f.pen))
	}
	return cat(u16(f.typ), u16(f.length))
}

// nfMsg builds a NetFlow v9 (version 9) or IPFIX (version 10) packet set by
// set.
type nfMsg struct {
	version              uint16
	uptime, secs, domain uint32
	sets                 [][]byte
	records              int
}

func newV9(uptime, secs, sourceID uint32) *nfMsg {
	return &nfMsg{version: 9, uptime: uptime, secs: secs, domain: sourceID}
}

func newIPFIX(exportTime, domain uint32) *nfMsg {
	return &nfMsg{version: 10, secs: exportTime, domain: domain}
}

func (m *nfMsg) set(id uint16, body []byte) *nfMsg {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	m.sets = append(m.sets, cat(u16(id), u16(uint16(4+len(body))), body))
	return m
}

// template adds a template set with one template.
func (m *nfMsg) template(id uint16, fields ...fspec) *nfMsg {
	b := cat(u16(id), u16(uint16(len(fields))))
	for _, f := range fields {
		b = append(b, f.encode()...)
	}
	m.records++
	if m.version == 9 {
		return m.set(0, b)
	}
	return m.set(2, b)
}

// optionsTemplate adds an options template set with one template.
func (m *nfMsg) optionsTemplate(id uint16, scopes, fields []fspec) *nfMsg {
	var b []byte
	if m.version == 9 {
		b = cat(u16(id), u16(uint16(4*len(scopes))), u16(uint16(4*len(fields))))
	} else {
		b = cat(u16(id), u16(uint16(len(scopes)+len(fields))), u16(uint16(len(scopes))))
	}
	for _, f := range append(append([]fspec(nil), scopes...), fields...) {
		b = append(b, f.encode()...)
	}
	m.records++
	if m.version == 9 {
		return m.set(1, b)
	}
	return m.set(3, b)
}

// data adds a data set of records, each the concatenated field values.
func (m *nfMsg) data(id uint16, records ...[]byte) *nfMsg {
	m.records += len(records)
	return m.set(id, cat(records...))
}

// raw adds a set as given, without padding.
func (m *nfMsg) raw(b []byte) *nfMsg {
	m.sets = append(m.sets, b)
	return m
}

func (m *nfMsg) bytes() []byte {
	body := cat(m.sets...)
	if m.version == 9 {
		return cat(u16(9), u16(uint16(m.records)), u32(m.uptime), u32(m.secs), u32(7), u32(m.domain), body)
	}
	return cat(u16(10), u16(uint16(16+len(body))), u32(m.secs), u32(7), u32(m.domain), body)
}

// sflowDatagram builds an sFlow v5 datagram from an IPv4 agent.
func sflowDatagram(agent string, uptime uint32, samples ...[]byte) []byte {
	a := netip.MustParseAddr(agent)
	at := uint32(1)
	if a.Is6() {
		at = 2
	}
	return cat(u32(5), u32(at), a.AsSlice(), u32(0), u32(99), u32(uptime), u32(uint32(len(samples))), cat(samples...))
}

// flowSample builds a (compact) flow sample; in and out are interface
// indexes.
func flowSample(seq, rate, in, out uint32, records ...[]byte) []byte {
	body := cat(u32(seq), u32(3), u32(rate), u32(seq*rate), u32(0), u32(in), u32(out), u32(uint32(len(records))), cat(records...))
	return cat(u32(1), u32(uint32(len(body))), body)
}

// expandedFlowSample builds an expanded flow sample.
func expandedFlowSample(seq, rate, in, out uint32, records ...[]byte) []byte {
	body := cat(u32(seq), u32(0), u32(3), u32(rate), u32(seq*rate), u32(0), u32(0), u32(in), u32(0), u32(out),
		u32(uint32(len(records))), cat(records...))
	return cat(u32(3), u32(uint32(len(body))), body)
}

// counterSample builds a counter sample with one generic interface record.
func counterSample(seq uint32) []byte {
	rec := cat(u32(1), u32(88), make([]byte, 88))
	body := cat(u32(seq), u32(3), u32(1), rec)
	return cat(u32(2), u32(uint32(len(body))), body)
}

// flowRecord wraps flow record data with its format and length.
func flowRecord(format uint32, data []byte) []byte {
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	return cat(u32(format), u32(uint32(len(data))), data)
}

// rawHeader builds a sampled packet header record.
func rawHeader(proto, frameLen uint32, header []byte) []byte {
	return flowRecord(1, cat(u32(proto), u32(frameLen), u32(4), u32(uint32(len(header))), header))
}

// ipv4Packet builds an IPv4 header with a TCP (proto 6) or UDP (17)
// header for a packet of total IP length totalLen.
func ipv4Packet(src, dst string, proto uint8, sport, dport uint16, flags uint8, totalLen uint16) []byte {
	h := cat(u8(0x45), u8(0x10), u16(totalLen), u16(1), u16(0x4000), u8(64), u8(proto), u16(0), ip(src), ip(dst))
	return append(h, l4(proto, sport, dport, flags)...)
}

// ipv6Packet builds an IPv6 header, with a destination options extension
// header when ext is set, followed by the transport header.
func ipv6Packet(src, dst string, proto uint8, sport, dport uint16, flags uint8, ext bool) []byte {
	next := proto
	var extHdr []byte
	if ext {
		next = 60
		extHdr = cat(u8(proto), u8(0), make([]byte, 6))
	}
	h := cat(u32(6<<28|0x20<<20), u16(100), u8(next), u8(64), ip(src), ip(dst), extHdr)
	return append(h, l4(proto, sport, dport, flags)...)
}

func l4(proto uint8, sport, dport uint16, flags uint8) []byte {
	if proto == 6 {
		return cat(u16(sport), u16(dport), u32(1), u32(0), u8(0x50), u8(flags), u16(1024), u32(0))
	}
	return cat(u16(sport), u16(dport), u16(8), u16(0))
}

// ethernet wraps an IP packet in an Ethernet header, with a VLAN tag when
// vlan is not zero.
func ethernetFrame(vlan uint16, etherType uint16, payload []byte) []byte {
	h := cat([]byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2})
	if vlan != 0 {
		h = cat(h, u16(0x8100), u16(vlan))
	}
	return cat(h, u16(etherType), payload)
}
