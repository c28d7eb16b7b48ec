package flow_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse/eve"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

var recv = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// TestFromEventZeek maps real Zeek records with the Zeek parser and reads
// their flow view back.
func TestFromEventZeek(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, logType, rec string
		want               flow.Record
	}{
		{"conn established", "conn",
			`{"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":50000,"id.resp_h":"203.0.113.7","id.resp_p":443,"proto":"tcp","service":"ssl","duration":2.25,"orig_bytes":1200,"resp_bytes":5400,"conn_state":"SF","orig_pkts":10,"resp_pkts":12}`,
			flow.Record{Kind: flow.KindFlow, Src: netip.MustParseAddr("10.0.0.5"), Dst: netip.MustParseAddr("203.0.113.7"),
				SrcPort: 50000, DstPort: 443, Proto: flow.ProtoTCP, BytesOut: 1200, BytesIn: 5400, PktsOut: 10, PktsIn: 12,
				State: flow.StateEstablished, Service: "ssl",
				Start: time.Unix(1700000000, 5e8).UTC(), End: time.Unix(1700000002, 75e7).UTC()}},
		{"conn attempt", "conn",
			`{"ts":1700000000,"uid":"C2","id.orig_h":"10.0.0.5","id.orig_p":50001,"id.resp_h":"10.0.0.9","id.resp_p":445,"proto":"tcp","conn_state":"S0","orig_pkts":1,"resp_pkts":0}`,
			flow.Record{Kind: flow.KindFlow, Src: netip.MustParseAddr("10.0.0.5"), Dst: netip.MustParseAddr("10.0.0.9"),
				SrcPort: 50001, DstPort: 445, Proto: flow.ProtoTCP, PktsOut: 1, State: flow.StateAttempt,
				Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000000, 0).UTC()}},
		{"dns nxdomain", "dns",
			`{"ts":1700000000,"uid":"D1","id.orig_h":"10.0.0.5","id.orig_p":5353,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"QWERTY.Example.COM.","qtype_name":"txt","rcode_name":"NXDOMAIN"}`,
			flow.Record{Kind: flow.KindDNS, Src: netip.MustParseAddr("10.0.0.5"), Dst: netip.MustParseAddr("10.0.0.2"),
				SrcPort: 5353, DstPort: 53, Proto: flow.ProtoUDP, Name: "qwerty.example.com", QType: "TXT", RCode: "NXDOMAIN", Service: "dns",
				Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000000, 0).UTC()}},
		{"ssl sni", "ssl",
			`{"ts":1700000000,"uid":"S1","id.orig_h":"10.0.0.5","id.orig_p":50002,"id.resp_h":"203.0.113.7","id.resp_p":443,"server_name":"c2.example.net"}`,
			flow.Record{Kind: flow.KindApp, Src: netip.MustParseAddr("10.0.0.5"), Dst: netip.MustParseAddr("203.0.113.7"),
				SrcPort: 50002, DstPort: 443, Name: "c2.example.net", Service: "tls",
				Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000000, 0).UTC()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			if err := zeek.MapJSON([]byte(tc.rec), tc.logType, recv, &ev); err != nil {
				t.Fatal(err)
			}
			ev.ID = 42
			var r flow.Record
			if !flow.FromEvent(&ev, &r) {
				t.Fatalf("no flow view of %+v", ev)
			}
			tc.want.EventID = 42
			r.Start, r.End = r.Start.UTC(), r.End.UTC()
			if r != tc.want {
				t.Errorf("got  %+v\nwant %+v", r, tc.want)
			}
		})
	}
}

// TestFromEventSuricata reads EVE flow and dns records.
func TestFromEventSuricata(t *testing.T) {
	t.Parallel()
	var m eve.Mapper
	cases := []struct {
		rec   string
		kind  flow.Kind
		state flow.State
		out   int64
		ans   bool
	}{
		{`{"timestamp":"2021-06-06T15:59:46.457984+0200","event_type":"flow","src_ip":"192.168.1.129","src_port":51698,"dest_ip":"8.8.8.8","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":3,"pkts_toclient":0,"bytes_toserver":180,"bytes_toclient":0,"start":"2021-06-06T15:59:46.457984+0200","end":"2021-06-06T15:59:49.457984+0200","state":"new"},"tcp":{"tcp_flags":"02","syn":true}}`,
			flow.KindFlow, flow.StateAttempt, 180, false},
		{`{"timestamp":"2021-06-06T15:59:46.457984+0200","event_type":"flow","src_ip":"192.168.1.129","src_port":51698,"dest_ip":"8.8.8.8","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":3,"pkts_toclient":4,"bytes_toserver":180,"bytes_toclient":900},"tcp":{"tcp_flags":"1b"}}`,
			flow.KindFlow, flow.StateEstablished, 180, false},
		{`{"timestamp":"2021-06-06T16:30:00.000000+0200","event_type":"flow","src_ip":"192.168.1.129","src_port":51698,"dest_ip":"8.8.8.8","dest_port":22,"proto":"TCP","flow":{"pkts_toserver":1,"pkts_toclient":1,"bytes_toserver":60,"bytes_toclient":54,"start":"2021-06-06T15:59:46.457984+0200","end":"2021-06-06T15:59:46.458984+0200"},"tcp":{"tcp_flags":"16","tcp_flags_ts":"02","tcp_flags_tc":"14"}}`,
			flow.KindFlow, flow.StateRejected, 60, false},
		{`{"timestamp":"2021-06-06T16:30:00.000000+0200","event_type":"flow","src_ip":"192.168.1.129","src_port":51698,"dest_ip":"8.8.8.8","dest_port":22,"proto":"TCP","flow":{"pkts_toserver":5,"pkts_toclient":5,"bytes_toserver":600,"bytes_toclient":540},"tcp":{"tcp_flags":"1f","tcp_flags_ts":"1f","tcp_flags_tc":"1b"}}`,
			flow.KindFlow, flow.StateReset, 600, false},
		{`{"timestamp":"2021-06-06T15:59:46.457984+0200","event_type":"dns","src_ip":"192.168.1.129","src_port":5353,"dest_ip":"8.8.8.8","dest_port":53,"proto":"UDP","dns":{"type":"answer","rrname":"x.example.org","rrtype":"A","rcode":"NXDOMAIN"}}`,
			flow.KindDNS, flow.StateUnknown, 0, true},
	}
	for i, tc := range cases {
		var ev schema.Event
		if err := m.Map([]byte(tc.rec), recv, &ev); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var r flow.Record
		if !flow.FromEvent(&ev, &r) {
			t.Fatalf("case %d: no flow view", i)
		}
		if r.Kind != tc.kind || r.State != tc.state || r.BytesOut != tc.out || r.Answer != tc.ans {
			t.Errorf("case %d: got %+v", i, r)
		}
		if i == 2 {
			// Times come from flow.start/end, not the record's timestamp.
			if r.Start.UTC().Format(time.RFC3339Nano) != "2021-06-06T13:59:46.457984Z" || r.Duration() != time.Millisecond {
				t.Errorf("flow times: %v .. %v", r.Start, r.End)
			}
		}
	}
}

// TestFromEventNone rejects events without a flow view.
func TestFromEventNone(t *testing.T) {
	t.Parallel()
	cases := []schema.Event{
		{Input: schema.InputSyslog, Message: "hello"},
		{Event: schema.EventMeta{Dataset: "zeek.conn"}, Source: schema.Endpoint{IP: "not-an-ip"}, Destination: schema.Endpoint{IP: "10.0.0.1"}},
		{Event: schema.EventMeta{Dataset: "zeek.files"}, Source: schema.Endpoint{IP: "10.0.0.2"}, Destination: schema.Endpoint{IP: "10.0.0.1"}},
		{Event: schema.EventMeta{Dataset: "zeek.ssl"}, Source: schema.Endpoint{IP: "10.0.0.2"}, Destination: schema.Endpoint{IP: "10.0.0.1"}},
	}
	for i := range cases {
		var r flow.Record
		if flow.FromEvent(&cases[i], &r) {
			t.Errorf("case %d: unexpected flow view %+v", i, r)
		}
	}
}

// TestFromEventCollector reads the collector's event conventions.
func TestFromEventCollector(t *testing.T) {
	t.Parallel()
	ev := schema.Event{Input: schema.InputNetflow, Timestamp: recv,
		Event:       schema.EventMeta{Module: flow.Module, Dataset: flow.DatasetNetFlowV9, Duration: int64(3 * time.Second)},
		Source:      schema.Endpoint{IP: "::ffff:10.1.1.1", Port: 1234, Bytes: 4000, Packets: 40},
		Destination: schema.Endpoint{IP: "10.1.1.2", Port: 80},
		Network:     schema.Network{Transport: "tcp"},
		Observer:    schema.Observer{IP: "192.0.2.1", Type: "netflow"},
		Fields:      schema.Fields{{Key: flow.FieldTCPFlags, Value: "2"}, {Key: flow.FieldSampling, Value: "10"}},
	}
	var r flow.Record
	if !flow.FromEvent(&ev, &r) {
		t.Fatal("no flow view")
	}
	if r.Src != netip.MustParseAddr("10.1.1.1") || r.State != flow.StateAttempt || r.Sampling != 10 ||
		r.Exporter != "192.0.2.1" || r.Duration() != 3*time.Second || r.Bytes() != 4000 || r.Packets() != 40 {
		t.Errorf("got %+v", r)
	}
}

// TestStateFlags checks the TCP flag judgement and state names.
func TestStateFlags(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]uint8{"tcp": 6, "UDP": 17, "icmp": 1, "ipv6-icmp": 58, "47": 47, "bogus": 0} {
		if got := flow.ProtoNumber(p); got != want {
			t.Errorf("ProtoNumber(%q) = %d, want %d", p, got, want)
		}
	}
	if flow.ProtoName(6) != "tcp" || flow.ProtoName(47) != "47" {
		t.Error("ProtoName")
	}
	if !flow.StateAttempt.Failed() || !flow.StateRejected.Failed() || flow.StateEstablished.Failed() {
		t.Error("Failed")
	}
	if flow.StateReset.String() != "reset" || flow.State(99).String() != "unknown" {
		t.Error("String")
	}
}
