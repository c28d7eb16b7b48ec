package flowcollect

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse"
)

// sFlow v5 sample formats (enterprise 0).
const (
	sfFlowSample      = 1
	sfCounterSample   = 2
	sfExpandedFlow    = 3
	sfExpandedCounter = 4
)

// sFlow header protocols of sampled packet headers.
const (
	sfHeaderEthernet = 1
	sfHeaderIPv4     = 11
	sfHeaderIPv6     = 12
)

// sfIfUnknown is the interface value meaning "unknown or internal".
const sfIfUnknown = 0x3fffffff

// decodeSFlow decodes an sFlow v5 datagram. Every flow sample becomes a
// one-packet flow from its sampled packet header: packets = sampling rate,
// bytes = frame length × sampling rate. sFlow carries no flow times, so
// the flow's time is the receive time. Counter samples are counted and
// ignored. A bad sample is skipped; the others are kept.
func (d *Decoder) decodeSFlow(exp *exporter, pkt []byte, recv time.Time) error {
	be := binary.BigEndian
	if len(pkt) < 8 {
		return parse.Errorf(ReasonBadFlow, "sFlow header truncated: %d bytes", len(pkt))
	}
	off := 8
	switch be.Uint32(pkt[4:]) {
	case 1:
		off += 4
	case 2:
		off += 16
	default:
		return parse.Errorf(ReasonBadFlow, "sFlow agent address type %d is neither IPv4 (1) nor IPv6 (2)", be.Uint32(pkt[4:]))
	}
	if len(pkt) < off+16 {
		return parse.Errorf(ReasonBadFlow, "sFlow header truncated: %d bytes", len(pkt))
	}
	n := be.Uint32(pkt[off+12:])
	rest := pkt[off+16:]
	var err error
	for i := range n {
		if len(rest) < 8 {
			err = parse.Errorf(ReasonBadFlow, "sFlow datagram truncated: sample %d of %d missing", i+1, n)
			break
		}
		format, l := be.Uint32(rest), be.Uint32(rest[4:])
		if uint64(l) > uint64(len(rest)-8) {
			err = parse.Errorf(ReasonBadFlow, "sFlow sample %d claims %d bytes, %d left", i+1, l, len(rest)-8)
			break
		}
		data := rest[8 : 8+l]
		rest = rest[8+l:]
		switch format {
		case sfFlowSample, sfExpandedFlow:
			err = firstErr(err, d.sflowSample(exp, data, format == sfExpandedFlow, recv))
		case sfCounterSample, sfExpandedCounter:
			exp.stats.CounterSamples++
		}
	}
	d.flush(exp, flow.DatasetSFlow, recv)
	return err
}

// sflowSample decodes one (expanded) flow sample into a record.
func (d *Decoder) sflowSample(exp *exporter, b []byte, expanded bool, recv time.Time) error {
	be := binary.BigEndian
	var rate, in, out, nrec uint32
	off := 32
	if expanded {
		off = 44
	}
	if len(b) < off {
		return parse.Errorf(ReasonBadFlow, "sFlow flow sample truncated: %d bytes", len(b))
	}
	if expanded {
		rate, nrec = be.Uint32(b[12:]), be.Uint32(b[40:])
		if be.Uint32(b[24:]) == 0 {
			in = be.Uint32(b[28:])
		}
		if be.Uint32(b[32:]) == 0 {
			out = be.Uint32(b[36:])
		}
	} else {
		rate, in, out, nrec = be.Uint32(b[8:]), sfIf(be.Uint32(b[20:])), sfIf(be.Uint32(b[24:])), be.Uint32(b[28:])
	}
	r := d.newRec()
	r.start, r.sampling, r.inIf, r.outIf = recv.UnixNano(), rate, in, out
	have, err := d.sflowRecords(r, b[off:], nrec)
	if !have {
		d.recs = d.recs[:len(d.recs)-1]
		if err == nil {
			exp.stats.SkippedSamples++
		}
	}
	return err
}

// sflowRecords reads the flow records of a sample into r and reports
// whether one gave the packet's addresses.
func (d *Decoder) sflowRecords(r *rec, b []byte, nrec uint32) (bool, error) {
	be := binary.BigEndian
	have := false
	for i := range nrec {
		if len(b) < 8 {
			return have, parse.Errorf(ReasonBadFlow, "sFlow flow sample truncated: record %d of %d missing", i+1, nrec)
		}
		format, l := be.Uint32(b), be.Uint32(b[4:])
		if uint64(l) > uint64(len(b)-8) {
			return have, parse.Errorf(ReasonBadFlow, "sFlow flow record claims %d bytes, %d left", l, len(b)-8)
		}
		data := b[8 : 8+l]
		b = b[8+l:]
		switch format {
		case sflow.FLOW_TYPE_RAW:
			if !have {
				have = sampledHeader(data, r)
			}
		case sflow.FLOW_TYPE_IPV4, sflow.FLOW_TYPE_IPV6:
			if !have {
				have = sampledIP(data, format == sflow.FLOW_TYPE_IPV6, r)
			}
		case sflow.FLOW_TYPE_EXT_ROUTER, sflow.FLOW_TYPE_EXT_GATEWAY:
			extended(format, data, r)
		}
	}
	return have, nil
}

// sfIf reads a flow sample's interface: only the single-interface format
// with a known index counts.
func sfIf(v uint32) uint32 {
	if v>>30 != 0 || v == sfIfUnknown {
		return 0
	}
	return v
}

// extended reads the next hop and AS numbers of the extended router and
// gateway records with goflow2's decoder; these records are rare and
// variable-length. A record goflow2 cannot read is ignored.
func extended(format uint32, data []byte, r *rec) {
	fr, err := sflow.DecodeFlowRecord(&sflow.RecordHeader{DataFormat: format, Length: uint32(len(data))}, bytes.NewBuffer(data))
	if err != nil {
		return
	}
	switch v := fr.Data.(type) {
	case sflow.ExtendedRouter:
		if a, ok := netip.AddrFromSlice(v.NextHop); ok {
			r.nextHop = a
		}
	case sflow.ExtendedGateway:
		if a, ok := netip.AddrFromSlice(v.NextHop); ok && !r.nextHop.IsValid() {
			r.nextHop = a
		}
		r.srcAS, r.dstAS = v.SrcAS, v.AS
		if n := len(v.ASPath); n > 0 {
			r.dstAS = v.ASPath[n-1]
		}
	}
}

// sampledHeader decodes a sampled packet header record (Ethernet, IPv4
// or IPv6) and reports whether it held an IP packet.
func sampledHeader(b []byte, r *rec) bool {
	be := binary.BigEndian
	if len(b) < 16 {
		return false
	}
	proto, frame, hlen := be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[12:])
	h := b[16:]
	if uint64(hlen) < uint64(len(h)) {
		h = h[:hlen]
	}
	r.bytes, r.pkts = uint64(frame), 1
	switch proto {
	case sfHeaderEthernet:
		return ethernet(h, r)
	case sfHeaderIPv4:
		return ipv4(h, r)
	case sfHeaderIPv6:
		return ipv6(h, r)
	}
	return false
}

// sampledIP decodes the sampled IPv4 / IPv6 records that agents send
// instead of a header.
func sampledIP(b []byte, v6 bool, r *rec) bool {
	be := binary.BigEndian
	alen := 4
	if v6 {
		alen = 16
	}
	if len(b) < 8+2*alen+16 {
		return false
	}
	r.bytes, r.pkts, r.proto = uint64(be.Uint32(b)), 1, uint8(be.Uint32(b[4:]))
	r.src, _ = netip.AddrFromSlice(b[8 : 8+alen])
	r.dst, _ = netip.AddrFromSlice(b[8+alen : 8+2*alen])
	p := b[8+2*alen:]
	r.sport, r.dport, r.flags = uint16(be.Uint32(p)), uint16(be.Uint32(p[4:])), uint16(be.Uint32(p[8:]))
	r.tos = uint8(be.Uint32(p[12:]))
	return true
}

// ethernet skips an Ethernet header and up to two VLAN tags.
func ethernet(b []byte, r *rec) bool {
	if len(b) < 14 {
		return false
	}
	et, off := binary.BigEndian.Uint16(b[12:]), 14
	for i := 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++ {
		if len(b) < off+4 {
			return false
		}
		et, off = binary.BigEndian.Uint16(b[off+2:]), off+4
	}
	switch et {
	case 0x0800:
		return ipv4(b[off:], r)
	case 0x86dd:
		return ipv6(b[off:], r)
	}
	return false
}

func ipv4(b []byte, r *rec) bool {
	if len(b) < 20 || b[0]>>4 != 4 {
		return false
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return false
	}
	r.tos, r.proto = b[1], b[9]
	r.src = netip.AddrFrom4([4]byte(b[12:16]))
	r.dst = netip.AddrFrom4([4]byte(b[16:20]))
	if binary.BigEndian.Uint16(b[6:])&0x1fff == 0 && len(b) > ihl {
		transport(b[ihl:], r)
	}
	return true
}

// ipv6 reads an IPv6 header, following the common extension headers to
// the transport header.
func ipv6(b []byte, r *rec) bool {
	if len(b) < 40 || b[0]>>4 != 6 {
		return false
	}
	r.tos = uint8(binary.BigEndian.Uint16(b) >> 4)
	r.src = netip.AddrFrom16([16]byte(b[8:24]))
	r.dst = netip.AddrFrom16([16]byte(b[24:40]))
	next, off := b[6], 40
headers:
	for range 8 {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < off+2 {
				break headers
			}
			next, off = b[off], off+(int(b[off+1])+1)*8
		case 44: // fragment
			if len(b) < off+8 {
				break headers
			}
			if binary.BigEndian.Uint16(b[off+2:])>>3 != 0 {
				r.proto = b[off]
				return true
			}
			next, off = b[off], off+8
		default:
			break headers
		}
	}
	r.proto = next
	if off < len(b) {
		transport(b[off:], r)
	}
	return true
}

// transport reads the ports (and TCP flags) of a TCP, UDP or SCTP header.
func transport(b []byte, r *rec) {
	switch r.proto {
	case flow.ProtoTCP:
		if len(b) >= 14 {
			r.flags = uint16(b[12]&1)<<8 | uint16(b[13])
		}
		fallthrough
	case flow.ProtoUDP, 132:
		if len(b) >= 4 {
			r.sport, r.dport = binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
		}
	}
}
