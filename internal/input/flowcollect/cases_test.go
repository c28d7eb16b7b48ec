package flowcollect

import "time"

// Template field specifiers (IANA information element numbers).
var (
	fBytes4   = fspec{typ: 1, length: 4}
	fPkts4    = fspec{typ: 2, length: 4}
	fBytes8   = fspec{typ: 1, length: 8}
	fPkts8    = fspec{typ: 2, length: 8}
	fProto    = fspec{typ: 4, length: 1}
	fTOS      = fspec{typ: 5, length: 1}
	fFlags    = fspec{typ: 6, length: 1}
	fFlags2   = fspec{typ: 6, length: 2}
	fSport    = fspec{typ: 7, length: 2}
	fSrc4     = fspec{typ: 8, length: 4}
	fInIf     = fspec{typ: 10, length: 2}
	fDport    = fspec{typ: 11, length: 2}
	fDst4     = fspec{typ: 12, length: 4}
	fOutIf    = fspec{typ: 14, length: 2}
	fNextHop  = fspec{typ: 15, length: 4}
	fSrcAS    = fspec{typ: 16, length: 4}
	fDstAS    = fspec{typ: 17, length: 4}
	fLast     = fspec{typ: 21, length: 4}
	fFirst    = fspec{typ: 22, length: 4}
	fSrc6     = fspec{typ: 27, length: 16}
	fDst6     = fspec{typ: 28, length: 16}
	fSampler  = fspec{typ: 48, length: 1}
	fIfName   = fspec{typ: 82, length: 0xffff}
	fStartMs  = fspec{typ: 152, length: 8}
	fEndMs    = fspec{typ: 153, length: 8}
	fStartUs  = fspec{typ: 154, length: 8}
	fEndUs    = fspec{typ: 155, length: 8}
	fStartDlt = fspec{typ: 158, length: 4}
	fEndDlt   = fspec{typ: 159, length: 4}
	fRevBytes = fspec{typ: 1, length: 8, pen: penReverse}
	fRevPkts  = fspec{typ: 2, length: 8, pen: penReverse}
	fVendor   = fspec{typ: 7, length: 4, pen: 9}
)

// The export time in seconds and the exporter uptime of NetFlow packets.
var (
	secs   = uint32(t0.Unix())
	uptime = uint32(3_600_000) // one hour after boot
)

// upAgo is the sysUptime value of a moment d before export.
func upAgo(d time.Duration) uint32 { return uptime - uint32(d.Milliseconds()) }

// msAt is the Unix millisecond time of t0 + d.
func msAt(d time.Duration) uint64 { return uint64(t0.Add(d).UnixMilli()) }

// ntpAt is the NTP timestamp of t0 + d.
func ntpAt(d time.Duration) uint64 {
	t := t0.Add(d)
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// decodeCase is a sequence of packets from one exporter and what the
// first flow must read back as.
type decodeCase struct {
	name  string
	pkts  [][]byte
	flows int // events expected
}

// v9Template is a typical NetFlow v9 IPv4 template (Cisco field order).
var v9Template = []fspec{fBytes4, fPkts4, fProto, fTOS, fFlags, fSport, fSrc4, fInIf, fDport, fDst4, fOutIf,
	fNextHop, fSrcAS, fDstAS, fLast, fFirst}

// v9Record encodes one record of v9Template.
func v9Record(bytes, pkts uint32, proto, flags uint8, src string, sport uint16, dst string, dport uint16,
	first, last time.Duration) []byte {
	return cat(u32(bytes), u32(pkts), u8(proto), u8(0x20), u8(flags), u16(sport), ip(src), u16(3), u16(dport),
		ip(dst), u16(5), ip("10.0.0.254"), u32(64500), u32(15169), u32(upAgo(last)), u32(upAgo(first)))
}

// decodeCases are the hand-made packets of the format tests, the golden
// files and the fuzz seeds.
func decodeCases() []decodeCase {
	return []decodeCase{
		{name: "netflow_v5", flows: 2, pkts: [][]byte{encodeV5(uptime, secs, 500_000_000, 0, -1,
			v5Flow{src: "10.0.0.1", dst: "192.0.2.7", nextHop: "10.0.0.254", in: 3, out: 5, pkts: 10, bytes: 5000,
				first: upAgo(10 * time.Second), last: upAgo(time.Second), sport: 40000, dport: 443, flags: 0x1b,
				proto: 6, srcAS: 64500, dstAS: 15169},
			v5Flow{src: "10.0.0.2", dst: "198.51.100.53", pkts: 1, bytes: 76, first: upAgo(2 * time.Second),
				last: upAgo(2 * time.Second), sport: 5353, dport: 53, proto: 17, tos: 0xb8})}},
		{name: "netflow_v5_sampled_wrapped_uptime", flows: 1, pkts: [][]byte{encodeV5(5000, secs, 0, 0x4000|100, -1,
			v5Flow{src: "10.0.0.3", dst: "10.0.0.4", pkts: 3, bytes: 300, first: 0xFFFFF000, last: 1000,
				sport: 22, dport: 50123, flags: 0x10, proto: 6})}},
		{name: "netflow_v9", flows: 3, pkts: [][]byte{newV9(uptime, secs, 1).
			template(256, v9Template...).
			optionsTemplate(257, []fspec{{typ: 2, length: 4}}, []fspec{{typ: 34, length: 4}, {typ: 35, length: 1}}).
			data(257, cat(u32(0), u32(10), u8(1))).
			data(256,
				v9Record(5000, 10, 6, 0x1b, "10.0.0.1", 40000, "192.0.2.7", 443, 10*time.Second, time.Second),
				v9Record(76, 1, 17, 0, "10.0.0.2", 5353, "198.51.100.53", 53, 2*time.Second, 2*time.Second)).
			template(258, fBytes4, fPkts4, fProto, fSport, fDport, fSrc6, fDst6, fFirst, fLast).
			data(258, cat(u32(1200), u32(2), u8(17), u16(546), u16(547), ip("2001:db8::1"), ip("2001:db8::2"),
				u32(upAgo(3*time.Second)), u32(upAgo(3*time.Second)))).
			bytes()}},
		{name: "netflow_v9_sampler_ids", flows: 3, pkts: [][]byte{newV9(uptime, secs, 0).
			optionsTemplate(300, []fspec{{typ: 1, length: 4}}, []fspec{fSampler, {typ: 49, length: 1}, {typ: 50, length: 4}}).
			data(300, cat(u32(0), u8(1), u8(2), u32(50)), cat(u32(0), u8(2), u8(2), u32(200))).
			template(301, fBytes4, fPkts4, fProto, fSrc4, fDst4, fSampler, fspec{typ: 34, length: 4}).
			data(301, cat(u32(100), u32(1), u8(6), ip("10.1.0.1"), ip("10.1.0.2"), u8(1), u32(0)),
				cat(u32(100), u32(1), u8(6), ip("10.1.0.1"), ip("10.1.0.2"), u8(2), u32(0)),
				cat(u32(100), u32(1), u8(6), ip("10.1.0.1"), ip("10.1.0.2"), u8(9), u32(7))).
			bytes()}},
		{name: "ipfix", flows: 2, pkts: [][]byte{newIPFIX(secs, 42).
			template(400, fSrc4, fDst4, fSport, fDport, fProto, fFlags2, fBytes8, fPkts8, fStartMs, fEndMs, fIfName, fVendor).
			optionsTemplate(401, []fspec{{typ: 149, length: 4}}, []fspec{{typ: 305, length: 4}, {typ: 306, length: 4}}).
			data(401, cat(u32(42), u32(1), u32(99))).
			data(400,
				cat(ip("10.0.0.1"), ip("203.0.113.9"), u16(51000), u16(22), u8(6), u16(0x12), u64(4000), u64(20),
					u64(msAt(-30*time.Second)), u64(msAt(-500*time.Millisecond)), u8(4), []byte("eth0"), u32(1)),
				cat(ip("10.0.0.5"), ip("203.0.113.10"), u16(123), u16(123), u8(17), u16(0), u64(76), u64(1),
					u64(msAt(-time.Second)), u64(msAt(-time.Second)), u8(255), u16(3), []byte("lo0"), u32(2))).
			bytes()}},
		{name: "ipfix_sysuptime_biflow", flows: 1, pkts: [][]byte{newIPFIX(secs, 7).
			optionsTemplate(500, []fspec{{typ: 143, length: 4}}, []fspec{{typ: 160, length: 8}}).
			data(500, cat(u32(1), u64(msAt(-time.Hour)))).
			template(501, fSrc4, fDst4, fSport, fDport, fProto, fFlags, fBytes8, fPkts8, fRevBytes, fRevPkts, fFirst, fLast).
			data(501, cat(ip("10.0.0.7"), ip("10.0.0.8"), u16(60000), u16(80), u8(6), u8(0x1b), u64(900), u64(6),
				u64(64000), u64(50), u32(uint32((time.Hour-20*time.Second).Milliseconds())),
				u32(uint32((time.Hour-5*time.Second).Milliseconds())))).
			bytes()}},
		{name: "ipfix_ntp_and_delta_times", flows: 2, pkts: [][]byte{newIPFIX(secs, 8).
			template(600, fSrc4, fDst4, fProto, fBytes4, fPkts4, fStartUs, fEndUs).
			template(601, fSrc4, fDst4, fProto, fBytes4, fPkts4, fStartDlt, fEndDlt).
			data(600, cat(ip("10.0.0.9"), ip("10.0.0.10"), u8(1), u32(84), u32(1),
				u64(ntpAt(-1500*time.Millisecond)), u64(ntpAt(-time.Second)))).
			data(601, cat(ip("10.0.0.11"), ip("10.0.0.12"), u8(17), u32(84), u32(1), u32(2_000_000), u32(250_000))).
			bytes()}},
		{name: "sflow", flows: 4, pkts: [][]byte{sflowDatagram("192.0.2.10", 123456,
			flowSample(1, 512, 3, 7, flowRecord(1001, make([]byte, 16)),
				rawHeader(1, 1518, ethernetFrame(42, 0x0800, ipv4Packet("10.0.0.1", "192.0.2.7", 6, 40000, 443, 0x18, 1500)))),
			expandedFlowSample(2, 1000, 4, 8,
				rawHeader(1, 204, ethernetFrame(0, 0x86dd, ipv6Packet("2001:db8::1", "2001:db8::53", 17, 5353, 53, 0, true)))),
			counterSample(3),
			flowSample(4, 512, 3, 7, rawHeader(1, 64, ethernetFrame(0, 0x0806, make([]byte, 28)))),
			flowSample(5, 256, 0x3fffffff, 1, flowRecord(3, cat(u32(576), u32(17), ip("10.9.0.1"), ip("10.9.0.2"),
				u32(1000), u32(2000), u32(0), u32(0)))),
			flowSample(6, 128, 1, 2, rawHeader(11, 104, ipv4Packet("10.0.0.1", "8.8.8.8", 6, 40001, 443, 0x02, 100)),
				flowRecord(1003, cat(u32(1), ip("10.0.0.254"), u32(64500), u32(64501), u32(64502), u32(1),
					u32(2), u32(2), u32(3356), u32(15169), u32(0), u32(100))))),
		}},
	}
}
