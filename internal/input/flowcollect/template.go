package flowcollect

import (
	"encoding/binary"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// slot says what a template field is read into.
type slot uint8

// Template field slots. Fields the collector does not use are skipped.
const (
	slotSkip slot = iota
	slotBytes
	slotPkts
	slotBytesTotal
	slotPktsTotal
	slotRevBytes
	slotRevPkts
	slotProto
	slotTOS
	slotFlags
	slotSport
	slotDport
	slotSrc4
	slotDst4
	slotSrc6
	slotDst6
	slotNextHop4
	slotNextHop6
	slotInIf
	slotOutIf
	slotSrcAS
	slotDstAS
	slotStartUp
	slotEndUp
	slotStartSec
	slotEndSec
	slotStartMs
	slotEndMs
	slotStartNTP
	slotEndNTP
	slotStartDeltaUs
	slotEndDeltaUs
	slotSysInit
	slotSampInterval
	slotPktInterval
	slotPktSpace
	slotSamplerID
)

// penReverse is the enterprise number of RFC 5103 reverse information
// elements (IPFIX biflows).
const penReverse = 29305

// ieSlot maps an IANA information element number (NetFlow v9 field types
// share them) to its slot.
func ieSlot(ie uint16) slot {
	switch ie {
	case 1:
		return slotBytes
	case 2:
		return slotPkts
	case 85:
		return slotBytesTotal
	case 86:
		return slotPktsTotal
	case 4:
		return slotProto
	case 5:
		return slotTOS
	case 6:
		return slotFlags
	case 7:
		return slotSport
	case 11:
		return slotDport
	case 8:
		return slotSrc4
	case 12:
		return slotDst4
	case 27:
		return slotSrc6
	case 28:
		return slotDst6
	case 15:
		return slotNextHop4
	case 62:
		return slotNextHop6
	case 10:
		return slotInIf
	case 14:
		return slotOutIf
	case 16:
		return slotSrcAS
	case 17:
		return slotDstAS
	}
	return ieTimeSlot(ie)
}

// ieTimeSlot maps the time, sampling and exporter elements.
func ieTimeSlot(ie uint16) slot {
	switch ie {
	case 22:
		return slotStartUp
	case 21:
		return slotEndUp
	case 150:
		return slotStartSec
	case 151:
		return slotEndSec
	case 152:
		return slotStartMs
	case 153:
		return slotEndMs
	case 154, 156:
		return slotStartNTP
	case 155, 157:
		return slotEndNTP
	case 158:
		return slotStartDeltaUs
	case 159:
		return slotEndDeltaUs
	case 160:
		return slotSysInit
	case 34, 50:
		return slotSampInterval
	case 305:
		return slotPktInterval
	case 306:
		return slotPktSpace
	case 48, 302:
		return slotSamplerID
	}
	return slotSkip
}

// fieldSlot returns the slot of a template field.
func fieldSlot(f netflow.Field) slot {
	if f.PenProvided {
		if f.Pen != penReverse {
			return slotSkip
		}
		switch f.Type &^ 0x8000 {
		case 1, 85:
			return slotRevBytes
		case 2, 86:
			return slotRevPkts
		}
		return slotSkip
	}
	return ieSlot(f.Type)
}

// varLen is the field length that announces a variable-length field.
const varLen = 0xffff

// tfield is one compiled template field.
type tfield struct {
	length uint16
	slot   slot
}

// template is a compiled NetFlow v9 / IPFIX (options) template.
type template struct {
	fields  []tfield
	minLen  int  // bytes of a record whose variable-length fields are empty
	options bool // an options template: its records describe the exporter
}

// compile builds a template from goflow2's decoded fields. Scope fields of
// NetFlow v9 options templates use their own numbering and are skipped.
func compile(scopes, fields []netflow.Field, options, v9Scopes bool) *template {
	t := &template{fields: make([]tfield, 0, len(scopes)+len(fields)), options: options}
	add := func(f netflow.Field, s slot) {
		t.fields = append(t.fields, tfield{length: f.Length, slot: s})
		if f.Length == varLen {
			t.minLen++
		} else {
			t.minLen += int(f.Length)
		}
	}
	for _, f := range scopes {
		if v9Scopes {
			add(f, slotSkip)
		} else {
			add(f, fieldSlot(f))
		}
	}
	for _, f := range fields {
		add(f, fieldSlot(f))
	}
	return t
}

// recHeader is what a record needs from its packet to place its times.
type recHeader struct {
	v9      bool
	export  int64  // export time, Unix nanoseconds
	uptime  uint32 // NetFlow v9 sysUptime at export, milliseconds
	sysInit int64  // IPFIX exporter boot time, Unix nanoseconds; 0 unknown
}

// extra holds what a record says about sampling and the exporter, which
// goes to the session rather than the flow.
type extra struct {
	interval, pktInterval, pktSpace uint64
	samplerID                       uint64
	hasSampler                      bool
	sysInit                         int64
}

// rate returns the sampling interval a record states, or 0.
func (x *extra) rate() uint32 {
	switch {
	case x.pktInterval > 0 && x.pktSpace > 0:
		return clampRate((x.pktInterval + x.pktSpace) / x.pktInterval)
	case x.pktInterval > 0:
		return clampRate(x.pktInterval)
	case x.interval > 0:
		return clampRate(x.interval)
	}
	return 0
}

func clampRate(v uint64) uint32 { return uint32(min(v, 1<<31)) }

// decode reads one record from b into r and x. It returns the record's
// length, or -1 when b ends inside it.
func (t *template) decode(b []byte, h *recHeader, r *rec, x *extra) int {
	off := 0
	for _, f := range t.fields {
		n := int(f.length)
		if f.length == varLen {
			if off >= len(b) {
				return -1
			}
			n = int(b[off])
			off++
			if n == 255 {
				if off+2 > len(b) {
					return -1
				}
				n = int(b[off])<<8 | int(b[off+1])
				off += 2
			}
		}
		if off+n > len(b) {
			return -1
		}
		if f.slot != slotSkip {
			setField(f.slot, b[off:off+n], h, r, x)
		}
		off += n
	}
	return off
}

// setField stores one field value.
func setField(s slot, v []byte, h *recHeader, r *rec, x *extra) {
	switch s {
	case slotSrc4, slotDst4, slotNextHop4, slotSrc6, slotDst6, slotNextHop6:
		setAddr(s, v, r)
		return
	}
	u := beUint(v)
	switch s {
	case slotBytes:
		r.bytes = u
	case slotPkts:
		r.pkts = u
	case slotBytesTotal:
		if r.bytes == 0 {
			r.bytes = u
		}
	case slotPktsTotal:
		if r.pkts == 0 {
			r.pkts = u
		}
	case slotRevBytes:
		r.rbytes = u
	case slotRevPkts:
		r.rpkts = u
	case slotProto:
		r.proto = uint8(u)
	case slotTOS:
		r.tos = uint8(u)
	case slotFlags:
		r.flags = uint16(u)
	case slotSport:
		r.sport = uint16(u)
	case slotDport:
		r.dport = uint16(u)
	case slotInIf:
		r.inIf = uint32(u)
	case slotOutIf:
		r.outIf = uint32(u)
	case slotSrcAS:
		r.srcAS = uint32(u)
	case slotDstAS:
		r.dstAS = uint32(u)
	default:
		setTime(s, v, u, h, r, x)
	}
}

// setTime stores a time or sampling field.
func setTime(s slot, v []byte, u uint64, h *recHeader, r *rec, x *extra) {
	switch s {
	case slotStartUp, slotEndUp:
		var t int64
		switch {
		case h.v9:
			t = upTime(h.export, h.uptime, uint32(u))
		case h.sysInit != 0:
			t = h.sysInit + int64(uint32(u))*1e6
		default:
			return
		}
		setStartEnd(s == slotStartUp, t, r)
	case slotStartSec, slotEndSec:
		setStartEnd(s == slotStartSec, int64(min(u, 1<<33))*1e9, r)
	case slotStartMs, slotEndMs:
		setStartEnd(s == slotStartMs, int64(min(u, 1<<43))*1e6, r)
	case slotStartNTP, slotEndNTP:
		if len(v) == 8 {
			setStartEnd(s == slotStartNTP, ntpTime(u), r)
		}
	case slotStartDeltaUs, slotEndDeltaUs:
		setStartEnd(s == slotStartDeltaUs, h.export-int64(uint32(u))*1e3, r)
	case slotSysInit:
		x.sysInit = int64(min(u, 1<<43)) * 1e6
	case slotSampInterval:
		x.interval = u
	case slotPktInterval:
		x.pktInterval = u
	case slotPktSpace:
		x.pktSpace = u
	case slotSamplerID:
		x.samplerID, x.hasSampler = u, true
	}
}

func setStartEnd(start bool, t int64, r *rec) {
	if start {
		r.start = t
	} else {
		r.end = t
	}
}

// ntpEpochOffset is the seconds from 1900-01-01 (the NTP epoch) to
// 1970-01-01.
const ntpEpochOffset = 2208988800

// ntpTime converts an NTP timestamp (32-bit seconds since 1900 and 32-bit
// fraction) to Unix nanoseconds.
func ntpTime(u uint64) int64 {
	sec := int64(u>>32) - ntpEpochOffset
	frac := int64((u & 0xffffffff) * 1e9 >> 32)
	return sec*1e9 + frac
}

func setAddr(s slot, v []byte, r *rec) {
	var a netip.Addr
	switch len(v) {
	case 4:
		a = netip.AddrFrom4([4]byte(v))
	case 16:
		a = netip.AddrFrom16([16]byte(v))
	default:
		return
	}
	switch s {
	case slotSrc4, slotSrc6:
		r.src = a
	case slotDst4, slotDst6:
		r.dst = a
	default:
		r.nextHop = a
	}
}

// beUint reads a big-endian unsigned number of up to 8 bytes (reduced-
// size encoding); longer values keep their last 8 bytes.
func beUint(v []byte) uint64 {
	switch len(v) {
	case 1:
		return uint64(v[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(v))
	case 4:
		return uint64(binary.BigEndian.Uint32(v))
	case 8:
		return binary.BigEndian.Uint64(v)
	}
	if len(v) > 8 {
		v = v[len(v)-8:]
	}
	var u uint64
	for _, c := range v {
		u = u<<8 | uint64(c)
	}
	return u
}
