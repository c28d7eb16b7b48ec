package flowcollect

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
)

// TestMalformed feeds broken packets and checks the reason, that the good
// flows beside the bad part are kept, and the per-exporter count.
func TestMalformed(t *testing.T) {
	t.Parallel()
	v5 := decodeCases()[0].pkts[0]
	twoRecs := func() *nfMsg {
		return newV9(uptime, secs, 1).template(256, fBytes4, fPkts4, fProto, fSrc4, fDst4).
			data(256, cat(u32(10), u32(1), u8(6), ip("10.0.0.1"), ip("10.0.0.2")))
	}
	sflowGood := flowSample(1, 1, 1, 2, rawHeader(11, 60, ipv4Packet("10.0.0.1", "10.0.0.2", 17, 1, 2, 0, 60)))
	tcs := []struct {
		name   string
		pkt    []byte
		reason string
		flows  int
	}{
		{"empty", nil, parse.ReasonEmpty, 0},
		{"three bytes", []byte{0, 5, 0}, ReasonBadFlow, 0},
		{"unknown version", cat(u16(7), make([]byte, 30)), parse.ReasonUnknownFormat, 0},
		{"v5 header truncated", v5[:20], ReasonBadFlow, 0},
		{"v5 second record truncated", v5[:len(v5)-10], ReasonBadFlow, 1},
		{"v9 header truncated", twoRecs().bytes()[:12], ReasonBadFlow, 0},
		{"v9 set longer than packet", cat(twoRecs().bytes(), u16(256), u16(200), u32(1)), ReasonBadFlow, 1},
		{"v9 set shorter than its header", cat(twoRecs().bytes(), u16(256), u16(2)), ReasonBadFlow, 1},
		{"v9 reserved set id", twoRecs().set(77, make([]byte, 8)).bytes(), ReasonBadFlow, 1},
		{"v9 template id below 256", twoRecs().set(0, cat(u16(12), u16(1), u16(1), u16(4))).bytes(), ReasonBadFlow, 1},
		{"v9 template truncated", twoRecs().raw(cat(u16(0), u16(12), u16(300), u16(5), u16(1), u16(4))).bytes(), ReasonBadFlow, 1},
		{"v9 options lengths not multiples of 4", twoRecs().set(1, cat(u16(300), u16(3), u16(4), u32(0))).bytes(), ReasonBadFlow, 1},
		{"v9 template with empty records", twoRecs().template(301, fspec{typ: 1, length: 0}).bytes(), ReasonBadFlow, 1},
		{"v9 stray bytes after the sets", cat(twoRecs().bytes(), []byte{1, 2}), ReasonBadFlow, 1},
		{"ipfix length beyond packet", func() []byte {
			b := newIPFIX(secs, 1).template(256, fBytes4, fSrc4, fDst4).data(256, cat(u32(5), ip("10.0.0.1"), ip("10.0.0.2"))).bytes()
			b[3] += 40
			return b
		}(), ReasonBadFlow, 1},
		{"ipfix length below header", cat(u16(10), u16(8), make([]byte, 20)), ReasonBadFlow, 0},
		{"ipfix variable-length field overruns record", newIPFIX(secs, 1).template(256, fSrc4, fDst4, fIfName).
			data(256, cat(ip("10.0.0.1"), ip("10.0.0.2"), u8(3), []byte("eth")), cat(ip("10.0.0.3"), ip("10.0.0.4"), u8(200), []byte("x"))).
			bytes(), ReasonBadFlow, 1},
		{"ipfix options scope count zero", newIPFIX(secs, 1).set(3, cat(u16(300), u16(1), u16(0), u16(305), u16(4))).bytes(), ReasonBadFlow, 0},
		{"ipfix enterprise field truncated", newIPFIX(secs, 1).raw(cat(u16(2), u16(12), u16(300), u16(1), u16(0x8001), u16(4))).bytes(), ReasonBadFlow, 0},
		{"sflow agent type", cat(u32(5), u32(3), make([]byte, 40)), ReasonBadFlow, 0},
		{"sflow header truncated", sflowDatagram("192.0.2.1", 1)[:20], ReasonBadFlow, 0},
		{"sflow more samples claimed than sent", func() []byte {
			b := sflowDatagram("192.0.2.1", 1, sflowGood)
			b[27] = 3
			return b
		}(), ReasonBadFlow, 1},
		{"sflow sample longer than datagram", cat(sflowDatagram("192.0.2.1", 1, sflowGood, sflowGood)[:len(sflowDatagram("192.0.2.1", 1, sflowGood, sflowGood))-8]), ReasonBadFlow, 1},
		{"sflow flow sample truncated", sflowDatagram("192.0.2.1", 1, sflowGood, cat(u32(1), u32(8), u32(1), u32(2))), ReasonBadFlow, 1},
		{"sflow record longer than sample", sflowDatagram("192.0.2.1", 1,
			cat(u32(1), u32(40), u32(1), u32(3), u32(1), u32(1), u32(0), u32(1), u32(2), u32(1), u32(1), u32(100)), sflowGood), ReasonBadFlow, 1},
	}
	for _, tc := range tcs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rejects rejectLog
			d := NewDecoder(DecoderConfig{Reject: rejects.Record})
			evs, err := d.Decode(exporterA, tc.pkt, t0, nil)
			var pe *parse.Error
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("error = %v, want reason %s", err, tc.reason)
			}
			if len(evs) != tc.flows {
				t.Errorf("got %d events, want %d kept beside the bad part", len(evs), tc.flows)
			}
			st := d.Stats()
			if len(st) != 1 || st[0].Malformed != 1 || st[0].Flows != uint64(tc.flows) {
				t.Errorf("stats = %+v, want 1 malformed packet and %d flows", st, tc.flows)
			}
			rs := rejects.all()
			if len(rs) != 1 || rs[0].Reason != tc.reason || rs[0].Source != "192.0.2.10" || rs[0].Input != "netflow" ||
				len(rs[0].Raw) > rawKeep {
				t.Errorf("rejects = %+v", rs)
			}
		})
	}
}

// TestDataBeforeTemplate checks that data sets that come before their
// template wait and are decoded when it comes, with their own header
// times and receive time, and that waiting sets are dropped and reported
// when the template does not come in time or the buffer is full.
func TestDataBeforeTemplate(t *testing.T) {
	t.Parallel()
	dataOnly := func(secs uint32, n uint32) []byte {
		return newV9(uptime, secs, 1).data(256, cat(u32(100), u32(n), ip("10.0.0.1"), ip("10.0.0.2"), u32(upAgo(time.Second)))).bytes()
	}
	tmpl := newV9(uptime, secs+5, 1).template(256, fBytes4, fPkts4, fSrc4, fDst4, fFirst).bytes()

	t.Run("recovered", func(t *testing.T) {
		t.Parallel()
		d := NewDecoder(DecoderConfig{})
		evs, errs := decodeAll(d, exporterA, dataOnly(secs, 1), dataOnly(secs+1, 2), tmpl)
		if errs[0] != nil || errs[1] != nil || errs[2] != nil {
			t.Fatalf("errors: %v", errs)
		}
		if len(evs) != 2 {
			t.Fatalf("got %d events, want the 2 waiting flows", len(evs))
		}
		for i, ev := range evs {
			wantStart := t0.Add(time.Duration(i)*time.Second - time.Second)
			if ev.Source.Packets != int64(i+1) || !ev.Timestamp.Equal(wantStart) || !ev.Received.Equal(t0.Add(time.Duration(i)*time.Second)) {
				t.Errorf("event %d: packets %d start %v received %v; want %d, %v, %v", i, ev.Source.Packets,
					ev.Timestamp, ev.Received, i+1, wantStart, t0.Add(time.Duration(i)*time.Second))
			}
		}
		st := d.Stats()[0]
		if st.MissingTemplate != 2 || st.Recovered != 2 || st.TemplateDrops != 0 || st.Pending != 0 || st.Flows != 2 {
			t.Errorf("stats = %+v", st)
		}
	})
	t.Run("timed out", func(t *testing.T) {
		t.Parallel()
		var rejects rejectLog
		d := NewDecoder(DecoderConfig{PendingTimeout: 10 * time.Second, Reject: rejects.Record})
		d.Decode(exporterA, dataOnly(secs, 1), t0, nil)
		evs, _ := d.Decode(exporterA, tmpl, t0.Add(11*time.Second), nil)
		if len(evs) != 0 {
			t.Errorf("got %d events from a data set past its timeout", len(evs))
		}
		st := d.Stats()[0]
		if st.MissingTemplate != 1 || st.TemplateDrops != 1 || st.Recovered != 0 || st.Pending != 0 {
			t.Errorf("stats = %+v", st)
		}
		if rs := rejects.all(); len(rs) != 1 || rs[0].Reason != ReasonUnknownTemplate {
			t.Errorf("rejects = %+v, want one %s", rs, ReasonUnknownTemplate)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		d := NewDecoder(DecoderConfig{MaxPending: 2})
		evs, _ := decodeAll(d, exporterA, dataOnly(secs, 1), dataOnly(secs, 2), dataOnly(secs, 3), tmpl)
		if len(evs) != 2 || evs[0].Source.Packets != 2 || evs[1].Source.Packets != 3 {
			t.Errorf("got %d events, want the 2 newest waiting flows", len(evs))
		}
		if st := d.Stats()[0]; st.MissingTemplate != 3 || st.TemplateDrops != 1 || st.Recovered != 2 {
			t.Errorf("stats = %+v", st)
		}
		d2 := NewDecoder(DecoderConfig{PendingBytes: 30})
		decodeAll(d2, exporterA, dataOnly(secs, 1), dataOnly(secs, 2))
		if st := d2.Stats()[0]; st.Pending != 1 || st.TemplateDrops != 1 {
			t.Errorf("with a 30-byte buffer: stats = %+v, want 1 waiting and 1 dropped", st)
		}
	})
}

// TestTemplateScope checks that templates are kept apart per exporter,
// source port, version and source id, and can be withdrawn.
func TestTemplateScope(t *testing.T) {
	t.Parallel()
	small := newV9(uptime, secs, 1).template(256, fBytes4, fSrc4, fDst4).bytes()
	wide := newV9(uptime, secs, 2).template(256, fBytes8, fPkts8, fSrc4, fDst4).bytes()
	dataSmall := newV9(uptime, secs, 1).data(256, cat(u32(111), ip("10.0.0.1"), ip("10.0.0.2"))).bytes()
	dataWide := newV9(uptime, secs, 2).data(256, cat(u64(222), u64(2), ip("10.0.0.3"), ip("10.0.0.4"))).bytes()
	other := netip.MustParseAddrPort("192.0.2.11:50000")
	otherPort := netip.MustParseAddrPort("192.0.2.10:50001")

	d := NewDecoder(DecoderConfig{})
	var evs []srcBytes
	for _, step := range []struct {
		from netip.AddrPort
		pkt  []byte
	}{{exporterA, small}, {exporterA, wide}, {exporterA, dataSmall}, {exporterA, dataWide}, {other, dataSmall}, {otherPort, dataSmall}} {
		out, err := d.Decode(step.from, step.pkt, t0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out {
			evs = append(evs, srcBytes{ev.Source.IP, ev.Source.Bytes})
		}
	}
	want := []srcBytes{{"10.0.0.1", 111}, {"10.0.0.3", 222}}
	if len(evs) != len(want) || evs[0] != want[0] || evs[1] != want[1] {
		t.Errorf("events %v, want %v (other exporters and ports have no templates)", evs, want)
	}
	st := d.Stats()
	if len(st) != 2 || st[0].Templates != 2 || st[0].Pending != 1 || st[1].Pending != 1 {
		t.Errorf("stats = %+v", st)
	}
	// An IPFIX template record with no fields withdraws the template.
	withdraw := newIPFIX(secs, 1).template(256, fBytes4, fSrc4, fDst4).template(256).
		data(256, cat(u32(1), ip("10.0.0.1"), ip("10.0.0.2"))).bytes()
	if out, err := d.Decode(exporterA, withdraw, t0, nil); err != nil || len(out) != 0 {
		t.Errorf("after withdrawal: %d events, error %v; want the data set to wait", len(out), err)
	}
	// Template id 2 with no fields withdraws all of the session's.
	withdrawAll := newIPFIX(secs, 1).template(256, fBytes4, fSrc4, fDst4).template(257, fBytes4, fSrc4, fDst4).
		template(2).data(257, cat(u32(1), ip("10.0.0.1"), ip("10.0.0.2"))).bytes()
	other2 := netip.MustParseAddrPort("192.0.2.12:4739")
	if out, err := d.Decode(other2, withdrawAll, t0, nil); err != nil || len(out) != 0 {
		t.Errorf("after withdrawing all: %d events, error %v", len(out), err)
	}
	for _, st := range d.Stats() {
		if st.Exporter == other2.Addr() && st.Templates != 0 {
			t.Errorf("%d templates left after withdrawing all", st.Templates)
		}
	}
}

// TestTemplateBudget checks the cap on template fields held.
func TestTemplateBudget(t *testing.T) {
	t.Parallel()
	d := NewDecoder(DecoderConfig{TemplateFields: 5})
	ok := newV9(uptime, secs, 1).template(256, fBytes4, fSrc4, fDst4).bytes()
	over := newV9(uptime, secs, 1).template(257, fBytes4, fSrc4, fDst4).bytes()
	regrow := newV9(uptime, secs, 1).template(256, fBytes4, fPkts4, fProto, fSrc4, fDst4).bytes()
	_, errs := decodeAll(d, exporterA, ok, over, regrow)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Errorf("errors %v: want only the template beyond 5 fields refused", errs)
	}
	if st := d.Stats()[0]; st.Templates != 1 || st.Malformed != 1 {
		t.Errorf("stats = %+v", st)
	}
	if d.fields != 5 {
		t.Errorf("%d fields held, want 5", d.fields)
	}
	d.Decode(exporterA, ok, t0.Add(2*time.Hour), nil) // the idle exporter is forgotten first
	if d.fields != 3 {
		t.Errorf("%d fields held after the exporter was forgotten and came back, want 3", d.fields)
	}
}

type srcBytes struct {
	ip    string
	bytes int64
}

// TestExporterEviction checks the bounds on exporters.
func TestExporterEviction(t *testing.T) {
	t.Parallel()
	pkt := decodeCases()[0].pkts[0]
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 2055)
	}
	d := NewDecoder(DecoderConfig{MaxExporters: 2, ExporterTimeout: time.Minute})
	for i := 1; i <= 3; i++ {
		d.Decode(addr(i), pkt, t0.Add(time.Duration(i)*time.Millisecond), nil)
	}
	st := d.Stats()
	if len(st) != 2 || st[0].Exporter != addr(2).Addr() || st[1].Exporter != addr(3).Addr() {
		t.Errorf("after 3 exporters with room for 2: %+v, want the least recent forgotten", st)
	}
	d.Decode(addr(3), pkt, t0.Add(50*time.Second), nil)
	d.Decode(addr(3), pkt, t0.Add(70*time.Second), nil)
	if st := d.Stats(); len(st) != 1 || st[0].Exporter != addr(3).Addr() || st[0].Packets != 3 {
		t.Errorf("after the timeout: %+v, want only the exporter still sending", st)
	}
	// A template session idle for the timeout is dropped with its
	// waiting data sets.
	var rejects rejectLog
	d = NewDecoder(DecoderConfig{ExporterTimeout: time.Minute, PendingTimeout: time.Hour, Reject: rejects.Record})
	d.Decode(exporterA, newV9(uptime, secs, 1).data(300, u32(1)).bytes(), t0, nil)
	d.Decode(exporterA, pkt, t0.Add(50*time.Second), nil)
	d.Decode(exporterA, pkt, t0.Add(70*time.Second), nil)
	if st := d.Stats()[0]; st.Pending != 0 || st.TemplateDrops != 1 {
		t.Errorf("idle session: stats = %+v", st)
	}
	if rs := rejects.all(); len(rs) != 1 || rs[0].Reason != ReasonUnknownTemplate {
		t.Errorf("rejects = %+v", rs)
	}
}

// TestRejectLimiter checks the token bucket.
func TestRejectLimiter(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, 3)
	n := 0
	for range 10 {
		if l.allow(t0) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("burst: %d allowed, want 3", n)
	}
	if !l.allow(t0.Add(500*time.Millisecond)) || l.allow(t0.Add(500*time.Millisecond)) {
		t.Error("want one token back after half a second at 2/s")
	}
}
