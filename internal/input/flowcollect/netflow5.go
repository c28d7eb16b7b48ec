package flowcollect

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse"
)

// NetFlow v5 layout: a 24-byte header and 48-byte records.
const (
	v5HeaderLen = 24
	v5RecordLen = 48
)

// decodeV5 decodes a NetFlow v5 packet. Record times are sysUptime
// milliseconds; they are placed on the wall clock through the header's
// uptime and Unix time. The header's sampling interval (its low 14 bits)
// applies to every record.
func (d *Decoder) decodeV5(exp *exporter, pkt []byte, recv time.Time) error {
	if len(pkt) < v5HeaderLen {
		return parse.Errorf(ReasonBadFlow, "NetFlow v5 header truncated: %d of %d bytes", len(pkt), v5HeaderLen)
	}
	be := binary.BigEndian
	count := int(be.Uint16(pkt[2:]))
	uptime := be.Uint32(pkt[4:])
	export := int64(be.Uint32(pkt[8:])) * 1e9
	if ns := be.Uint32(pkt[12:]); ns < 1e9 {
		export += int64(ns)
	}
	rate := uint32(be.Uint16(pkt[22:]) & 0x3fff)
	body := pkt[v5HeaderLen:]
	n := min(count, len(body)/v5RecordLen)
	for i := range n {
		b := body[i*v5RecordLen : (i+1)*v5RecordLen]
		r := d.newRec()
		r.src = netip.AddrFrom4([4]byte(b[0:4]))
		r.dst = netip.AddrFrom4([4]byte(b[4:8]))
		r.nextHop = netip.AddrFrom4([4]byte(b[8:12]))
		r.inIf, r.outIf = uint32(be.Uint16(b[12:])), uint32(be.Uint16(b[14:]))
		r.pkts, r.bytes = uint64(be.Uint32(b[16:])), uint64(be.Uint32(b[20:]))
		r.start = upTime(export, uptime, be.Uint32(b[24:]))
		r.end = upTime(export, uptime, be.Uint32(b[28:]))
		r.sport, r.dport = be.Uint16(b[32:]), be.Uint16(b[34:])
		r.flags, r.proto, r.tos = uint16(b[37]), b[38], b[39]
		r.srcAS, r.dstAS = uint32(be.Uint16(b[40:])), uint32(be.Uint16(b[42:]))
		r.sampling = rate
	}
	d.flush(exp, flow.DatasetNetFlowV5, recv)
	if n < count {
		return parse.Errorf(ReasonBadFlow, "NetFlow v5 packet truncated: header says %d records, %d bytes hold %d",
			count, len(body), n)
	}
	return nil
}

// upTime converts a sysUptime timestamp (milliseconds since the exporter
// booted) to Unix nanoseconds, given the export time and the uptime at
// export. The difference is taken modulo 2^32 so that uptime wrapping
// (every 49.7 days) is handled.
func upTime(export int64, uptime, t uint32) int64 {
	return export - int64(int32(uptime-t))*1e6
}
