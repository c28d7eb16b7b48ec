package flowcollect

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Benchmark packets: full export packets as routers send them, with
// varied addresses so that formatting is not trivially cached.
const (
	benchV5Flows    = 30 // the most a NetFlow v5 packet holds
	benchV9Flows    = 28 // 45-byte records in a 1,400-byte datagram
	benchIPFIXFlows = 24
	benchSFlows     = 8 // 128-byte sampled headers in a 1,400-byte datagram
)

func benchAddr(i int) string { return fmt.Sprintf("10.%d.%d.%d", i%7, i%251, 1+i%250) }

func benchV5() []byte {
	var fl []v5Flow
	for i := range benchV5Flows {
		fl = append(fl, v5Flow{src: benchAddr(i), dst: benchAddr(i * 31), pkts: uint32(i + 1), bytes: uint32(1500 * (i + 1)),
			first: upAgo(time.Duration(i) * time.Second), last: upAgo(0), sport: uint16(40000 + i), dport: 443,
			flags: 0x1b, proto: 6, in: 3, out: 5, srcAS: 64500, dstAS: 15169})
	}
	return encodeV5(uptime, secs, 0, 0, -1, fl...)
}

func benchV9() (tmpl, data []byte) {
	tmpl = newV9(uptime, secs, 1).template(256, v9Template...).bytes()
	m := newV9(uptime, secs, 1)
	var recs [][]byte
	for i := range benchV9Flows {
		recs = append(recs, v9Record(uint32(1500*(i+1)), uint32(i+1), 6, 0x1b, benchAddr(i), uint16(40000+i),
			benchAddr(i*31), 443, time.Duration(i)*time.Second, 0))
	}
	return tmpl, m.data(256, recs...).bytes()
}

func benchIPFIX() (tmpl, data []byte) {
	fields := []fspec{fSrc4, fDst4, fSport, fDport, fProto, fFlags2, fBytes8, fPkts8, fStartMs, fEndMs, fInIf, fOutIf}
	tmpl = newIPFIX(secs, 1).template(256, fields...).bytes()
	var recs [][]byte
	for i := range benchIPFIXFlows {
		recs = append(recs, cat(ip(benchAddr(i)), ip(benchAddr(i*31)), u16(uint16(40000+i)), u16(443), u8(6), u16(0x1b),
			u64(uint64(1500*(i+1))), u64(uint64(i+1)), u64(msAt(-time.Duration(i)*time.Second)), u64(msAt(0)), u16(3), u16(5)))
	}
	return tmpl, newIPFIX(secs, 1).data(256, recs...).bytes()
}

func benchSFlow() []byte {
	var samples [][]byte
	for i := range benchSFlows {
		hdr := ethernetFrame(0, 0x0800, ipv4Packet(benchAddr(i), benchAddr(i*31), 6, uint16(40000+i), 443, 0x10, 1500))
		hdr = append(hdr, make([]byte, 128-len(hdr))...)
		samples = append(samples, flowSample(uint32(i), 1024, 3, 5, flowRecord(1001, make([]byte, 16)), rawHeader(1, 1518, hdr)))
	}
	return sflowDatagram("192.0.2.10", 1000, samples...)
}

// benchDecode measures Decode on pkt after setup packets, reporting
// flows per second, nanoseconds and allocations per flow.
func benchDecode(b *testing.B, flows int, pkt []byte, setup ...[]byte) {
	d := NewDecoder(DecoderConfig{})
	for _, p := range setup {
		if _, err := d.Decode(exporterA, p, t0, nil); err != nil {
			b.Fatal(err)
		}
	}
	out := make([]schema.Event, 0, flows)
	decode := func() {
		var err error
		if out, err = d.Decode(exporterA, pkt, t0, out[:0]); err != nil || len(out) != flows {
			b.Fatalf("%d events, error %v; want %d", len(out), err, flows)
		}
	}
	allocs := testing.AllocsPerRun(100, decode)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		decode()
	}
	reportFlows(b, flows, cpu)
	b.ReportMetric(allocs/float64(flows), "allocs/flow")
}

// cpuMeter measures a benchmark loop's CPU time; see cpuTimes.
type cpuMeter struct {
	unlock          func()
	process, thread time.Duration
}

func startCPU() *cpuMeter {
	m := &cpuMeter{unlock: lockThread()}
	m.process, m.thread = cpuTimes()
	return m
}

// reportFlows reports flows per second and nanoseconds per flow in wall
// time, and CPU nanoseconds per flow of the benchmark's thread (the
// decoding itself, with its write barriers and GC assists) and of the
// whole process (adding the background GC workers, which in a one-
// goroutine benchmark also run on the otherwise idle processors).
func reportFlows(b *testing.B, flows int, m *cpuMeter) {
	p, th := cpuTimes()
	m.unlock()
	n := float64(b.N) * float64(flows)
	b.ReportMetric(n/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/flow")
	if th > 0 {
		b.ReportMetric(float64((th-m.thread).Nanoseconds())/n, "thread-cpu-ns/flow")
		b.ReportMetric(float64((p-m.process).Nanoseconds())/n, "process-cpu-ns/flow")
	}
}

// BenchmarkDecodeNetFlowV5 decodes full NetFlow v5 packets into events.
func BenchmarkDecodeNetFlowV5(b *testing.B) { benchDecode(b, benchV5Flows, benchV5()) }

// BenchmarkDecodeNetFlowV9 decodes NetFlow v9 data packets whose template
// is known.
func BenchmarkDecodeNetFlowV9(b *testing.B) {
	tmpl, data := benchV9()
	benchDecode(b, benchV9Flows, data, tmpl)
}

// BenchmarkDecodeIPFIX decodes IPFIX data packets whose template is known.
func BenchmarkDecodeIPFIX(b *testing.B) {
	tmpl, data := benchIPFIX()
	benchDecode(b, benchIPFIXFlows, data, tmpl)
}

// BenchmarkDecodeSFlow decodes sFlow datagrams of flow samples with
// Ethernet headers.
func BenchmarkDecodeSFlow(b *testing.B) { benchDecode(b, benchSFlows, benchSFlow()) }

// BenchmarkDecodeNetFlowV9ToRecord adds flow.FromEvent, the analytics'
// normalisation, to the NetFlow v9 decode.
func BenchmarkDecodeNetFlowV9ToRecord(b *testing.B) {
	tmpl, data := benchV9()
	d := NewDecoder(DecoderConfig{})
	d.Decode(exporterA, tmpl, t0, nil)
	var out []schema.Event
	var r flow.Record
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		out, _ = d.Decode(exporterA, data, t0, out[:0])
		for i := range out {
			if !flow.FromEvent(&out[i], &r) {
				b.Fatal("no flow")
			}
		}
	}
	reportFlows(b, benchV9Flows, cpu)
}

// The BenchmarkGoflow2 benchmarks decode the same packets with goflow2's
// general decoders alone (no events built), for comparison.

func BenchmarkGoflow2NetFlowV5(b *testing.B) {
	pkt := benchV5()
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		var p netflowlegacy.PacketNetFlowV5
		if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(pkt), &p); err != nil {
			b.Fatal(err)
		}
	}
	reportFlows(b, benchV5Flows, cpu)
}

func BenchmarkGoflow2NetFlowV9(b *testing.B) {
	tmpl, data := benchV9()
	ts := netflow.CreateTemplateSystem()
	var p9 netflow.NFv9Packet
	var p10 netflow.IPFIXPacket
	if err := netflow.DecodeMessageVersion(bytes.NewBuffer(tmpl), ts, &p9, &p10); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if err := netflow.DecodeMessageVersion(bytes.NewBuffer(data), ts, &p9, &p10); err != nil {
			b.Fatal(err)
		}
	}
	reportFlows(b, benchV9Flows, cpu)
}

func BenchmarkGoflow2SFlow(b *testing.B) {
	pkt := benchSFlow()
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		var p sflow.Packet
		if err := sflow.DecodeMessageVersion(bytes.NewBuffer(pkt), &p); err != nil {
			b.Fatal(err)
		}
	}
	reportFlows(b, benchSFlows, cpu)
}
