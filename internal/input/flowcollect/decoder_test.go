package flowcollect

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestDecodeCases decodes the hand-made packets of every format and
// compares the events with golden files.
func TestDecodeCases(t *testing.T) {
	t.Parallel()
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(DecoderConfig{})
			evs, errs := decodeAll(d, exporterA, tc.pkts...)
			for i, err := range errs {
				if err != nil {
					t.Errorf("packet %d: %v", i, err)
				}
			}
			if len(evs) != tc.flows {
				t.Errorf("got %d events, want %d", len(evs), tc.flows)
			}
			st := d.Stats()
			if len(st) != 1 || st[0].Flows != uint64(tc.flows) || st[0].Malformed != 0 {
				t.Errorf("stats = %+v, want one exporter with %d flows and nothing malformed", st, tc.flows)
			}
			for i := range evs {
				checkEventShape(t, &evs[i])
			}
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".golden"), render(evs, errs, st))
		})
	}
}

// checkEventShape checks the conventions every collector event follows.
func checkEventShape(t *testing.T, ev *schema.Event) {
	t.Helper()
	if ev.Input != schema.InputNetflow || ev.Event.Module != flow.Module || ev.Event.Kind != "event" ||
		!strings.HasPrefix(ev.Event.Dataset, "netflow.") || ev.Observer.Type != ObserverType ||
		len(ev.Event.Category) != 1 || ev.Event.Category[0] != "network" ||
		len(ev.Event.Type) != 1 || ev.Event.Type[0] != "connection" {
		t.Errorf("event does not follow the collector conventions: %+v", ev)
	}
	if ev.Destination.Bytes == 0 && ev.Network.Bytes != ev.Source.Bytes {
		t.Errorf("network.bytes %d != source.bytes %d for a unidirectional flow", ev.Network.Bytes, ev.Source.Bytes)
	}
	if ev.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %v is not UTC", ev.Timestamp)
	}
}

// TestFromEventRoundTrip reads collector events back with flow.FromEvent
// and checks the records against values worked out by hand from the
// packets (times from uptimes, sampling applied, TCP state).
func TestFromEventRoundTrip(t *testing.T) {
	t.Parallel()
	a := netip.MustParseAddr
	exp := exporterA.Addr().String()
	tcs := []struct {
		cas  string
		idx  int
		want flow.Record
	}{
		{"netflow_v5", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-9500 * time.Millisecond), End: t0.Add(-500 * time.Millisecond),
			Src: a("10.0.0.1"), Dst: a("192.0.2.7"), SrcPort: 40000, DstPort: 443, Proto: flow.ProtoTCP,
			BytesOut: 5000, PktsOut: 10, State: flow.StateEstablished, Exporter: exp}},
		{"netflow_v5", 1, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-1500 * time.Millisecond), End: t0.Add(-1500 * time.Millisecond),
			Src: a("10.0.0.2"), Dst: a("198.51.100.53"), SrcPort: 5353, DstPort: 53, Proto: flow.ProtoUDP,
			BytesOut: 76, PktsOut: 1, Exporter: exp}},
		{"netflow_v5_sampled_wrapped_uptime", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-9096 * time.Millisecond),
			End: t0.Add(-4 * time.Second), Src: a("10.0.0.3"), Dst: a("10.0.0.4"), SrcPort: 22, DstPort: 50123,
			Proto: flow.ProtoTCP, BytesOut: 30000, PktsOut: 300, State: flow.StateEstablished, Exporter: exp, Sampling: 100}},
		{"netflow_v9", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-10 * time.Second), End: t0.Add(-time.Second),
			Src: a("10.0.0.1"), Dst: a("192.0.2.7"), SrcPort: 40000, DstPort: 443, Proto: flow.ProtoTCP,
			BytesOut: 50000, PktsOut: 100, State: flow.StateEstablished, Exporter: exp, Sampling: 10}},
		{"netflow_v9", 2, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-3 * time.Second), End: t0.Add(-3 * time.Second),
			Src: a("2001:db8::1"), Dst: a("2001:db8::2"), SrcPort: 546, DstPort: 547, Proto: flow.ProtoUDP,
			BytesOut: 12000, PktsOut: 20, Exporter: exp, Sampling: 10}},
		{"netflow_v9_sampler_ids", 0, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.1.0.1"), Dst: a("10.1.0.2"),
			Proto: flow.ProtoTCP, BytesOut: 5000, PktsOut: 50, Exporter: exp, Sampling: 50}},
		{"netflow_v9_sampler_ids", 1, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.1.0.1"), Dst: a("10.1.0.2"),
			Proto: flow.ProtoTCP, BytesOut: 20000, PktsOut: 200, Exporter: exp, Sampling: 200}},
		{"netflow_v9_sampler_ids", 2, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.1.0.1"), Dst: a("10.1.0.2"),
			Proto: flow.ProtoTCP, BytesOut: 700, PktsOut: 7, Exporter: exp, Sampling: 7}},
		{"ipfix", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-30 * time.Second), End: t0.Add(-500 * time.Millisecond),
			Src: a("10.0.0.1"), Dst: a("203.0.113.9"), SrcPort: 51000, DstPort: 22, Proto: flow.ProtoTCP,
			BytesOut: 400000, PktsOut: 2000, State: flow.StateEstablished, Exporter: exp, Sampling: 100}},
		{"ipfix", 1, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-time.Second), End: t0.Add(-time.Second),
			Src: a("10.0.0.5"), Dst: a("203.0.113.10"), SrcPort: 123, DstPort: 123, Proto: flow.ProtoUDP,
			BytesOut: 7600, PktsOut: 100, Exporter: exp, Sampling: 100}},
		{"ipfix_sysuptime_biflow", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-20 * time.Second), End: t0.Add(-5 * time.Second),
			Src: a("10.0.0.7"), Dst: a("10.0.0.8"), SrcPort: 60000, DstPort: 80, Proto: flow.ProtoTCP,
			BytesOut: 900, BytesIn: 64000, PktsOut: 6, PktsIn: 50, State: flow.StateEstablished, Exporter: exp}},
		{"ipfix_ntp_and_delta_times", 0, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-1500 * time.Millisecond),
			End: t0.Add(-time.Second), Src: a("10.0.0.9"), Dst: a("10.0.0.10"), Proto: flow.ProtoICMP,
			BytesOut: 84, PktsOut: 1, Exporter: exp}},
		{"ipfix_ntp_and_delta_times", 1, flow.Record{Kind: flow.KindFlow, Start: t0.Add(-2 * time.Second),
			End: t0.Add(-250 * time.Millisecond), Src: a("10.0.0.11"), Dst: a("10.0.0.12"), Proto: flow.ProtoUDP,
			BytesOut: 84, PktsOut: 1, Exporter: exp}},
		{"sflow", 0, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.0.0.1"), Dst: a("192.0.2.7"),
			SrcPort: 40000, DstPort: 443, Proto: flow.ProtoTCP, BytesOut: 1518 * 512, PktsOut: 512,
			State: flow.StateEstablished, Exporter: exp, Sampling: 512}},
		{"sflow", 1, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("2001:db8::1"), Dst: a("2001:db8::53"),
			SrcPort: 5353, DstPort: 53, Proto: flow.ProtoUDP, BytesOut: 204 * 1000, PktsOut: 1000, Exporter: exp, Sampling: 1000}},
		{"sflow", 2, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.9.0.1"), Dst: a("10.9.0.2"),
			SrcPort: 1000, DstPort: 2000, Proto: flow.ProtoUDP, BytesOut: 576 * 256, PktsOut: 256, Exporter: exp, Sampling: 256}},
		{"sflow", 3, flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: a("10.0.0.1"), Dst: a("8.8.8.8"),
			SrcPort: 40001, DstPort: 443, Proto: flow.ProtoTCP, BytesOut: 104 * 128, PktsOut: 128,
			State: flow.StateAttempt, Exporter: exp, Sampling: 128}},
	}
	cases := map[string][]schema.Event{}
	for _, c := range decodeCases() {
		cases[c.name], _ = decodeAll(NewDecoder(DecoderConfig{}), exporterA, c.pkts...)
	}
	for _, tc := range tcs {
		evs := cases[tc.cas]
		if tc.idx >= len(evs) {
			t.Fatalf("%s: no event %d", tc.cas, tc.idx)
		}
		var got flow.Record
		if !flow.FromEvent(&evs[tc.idx], &got) {
			t.Errorf("%s[%d]: FromEvent found no flow in %+v", tc.cas, tc.idx, evs[tc.idx])
			continue
		}
		if !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
			t.Errorf("%s[%d]: times %v .. %v, want %v .. %v", tc.cas, tc.idx, got.Start, got.End, tc.want.Start, tc.want.End)
		}
		got.Start, got.End = tc.want.Start, tc.want.End
		if got != tc.want {
			t.Errorf("%s[%d]:\n got %+v\nwant %+v", tc.cas, tc.idx, got, tc.want)
		}
	}
}

// TestDecodeExtraFields checks the optional original fields of a v5 flow
// and of an sFlow sample with gateway data.
func TestDecodeExtraFields(t *testing.T) {
	t.Parallel()
	cases := decodeCases()
	tcs := []struct {
		cas  int
		idx  int
		want schema.Fields
	}{
		{0, 0, schema.Fields{{Key: flow.FieldTCPFlags, Value: "27"}, {Key: flow.FieldEnd, Value: "2026-11-20T09:59:59.5Z"},
			{Key: FieldInIf, Value: "3"}, {Key: FieldOutIf, Value: "5"}, {Key: FieldSrcAS, Value: "64500"},
			{Key: FieldDstAS, Value: "15169"}, {Key: FieldNextHop, Value: "10.0.0.254"}}},
		{0, 1, schema.Fields{{Key: flow.FieldEnd, Value: "2026-11-20T09:59:58.5Z"}, {Key: FieldTOS, Value: "184"}}},
		{7, 3, schema.Fields{{Key: flow.FieldTCPFlags, Value: "2"}, {Key: flow.FieldSampling, Value: "128"},
			{Key: FieldInIf, Value: "1"}, {Key: FieldOutIf, Value: "2"}, {Key: FieldSrcAS, Value: "64501"},
			{Key: FieldDstAS, Value: "15169"}, {Key: FieldTOS, Value: "16"}, {Key: FieldNextHop, Value: "10.0.0.254"}}},
	}
	for _, tc := range tcs {
		evs, _ := decodeAll(NewDecoder(DecoderConfig{}), exporterA, cases[tc.cas].pkts...)
		got := evs[tc.idx].Fields
		if len(got) != len(tc.want) {
			t.Errorf("%s[%d]: fields %v, want %v", cases[tc.cas].name, tc.idx, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s[%d]: field %d = %v, want %v", cases[tc.cas].name, tc.idx, i, got[i], tc.want[i])
			}
		}
	}
}

// TestCaptures decodes datagrams captured from real exporters on
// loopback (softflowd 1.1.0 and pmacctd 1.7.7; see testdata/captures/
// README) and compares the events with golden files.
func TestCaptures(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, filepath.Join("testdata", "captures", "*.pkts"), func(t *testing.T, path string) []byte {
		d := NewDecoder(DecoderConfig{})
		evs, errs := decodeAll(d, netip.MustParseAddrPort("127.0.0.1:40000"), readPackets(t, path)...)
		for i, err := range errs {
			if err != nil {
				t.Errorf("packet %d: %v", i, err)
			}
		}
		if len(evs) == 0 {
			t.Error("no events")
		}
		for i := range evs {
			checkEventShape(t, &evs[i])
			var r flow.Record
			if !flow.FromEvent(&evs[i], &r) {
				t.Errorf("event %d has no flow view", i)
			}
		}
		return render(evs, errs, d.Stats())
	})
}

// TestAppendRFC3339Nano compares the fast formatter with the time
// package.
func TestAppendRFC3339Nano(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		t0, t0.Add(123 * time.Millisecond), t0.Add(1), time.Unix(0, 0), time.Unix(-1, 999_999_999),
		time.Date(2000, 2, 29, 23, 59, 59, 100, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC),
	} {
		got := string(appendRFC3339Nano(nil, tm.UnixNano()))
		if want := tm.UTC().Format(time.RFC3339Nano); got != want {
			t.Errorf("appendRFC3339Nano(%d) = %s, want %s", tm.UnixNano(), got, want)
		}
	}
}
