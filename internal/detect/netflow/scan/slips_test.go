package scan

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/eve"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// The Slips dataset (GPL-2.0) is read in place from the shared test data
// and never copied into the repository.

// readZeek reads a Zeek log, TSV or JSON, into flow records, in file order.
// Bad lines are counted and skipped.
func readZeek(t *testing.T, path string) (recs []flow.Record, bad int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	received := time.Unix(0, 0)
	var ev schema.Event
	var r flow.Record
	if zeek.Sniff(head) == zeek.FormatJSON {
		m := zeek.NewMapper()
		logType := zeek.LogTypeFromFilename(path)
		sc := bufio.NewScanner(br)
		sc.Buffer(nil, parse.MaxRecordBytes)
		for sc.Scan() {
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			if err := m.Map(sc.Bytes(), logType, received, &ev); err != nil {
				bad++
				continue
			}
			if flow.FromEvent(&ev, &r) {
				recs = append(recs, r)
			}
		}
		return recs, bad
	}
	tr := zeek.NewTSVReader(br, zeek.Options{Received: received})
	for {
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			return recs, bad
		}
		var pe *parse.Error
		if errors.As(err, &pe) {
			bad++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if flow.FromEvent(&ev, &r) {
			recs = append(recs, r)
		}
	}
}

// readEVE reads a Suricata EVE file into flow records. With flowTimes,
// a flow's start and end are taken from its flow.start and flow.end.
func readEVE(t *testing.T, path string, flowTimes bool) (recs []flow.Record, bad int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m eve.Mapper
	var ev schema.Event
	var r flow.Record
	for line := range strings.Lines(string(data)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := m.Map([]byte(strings.TrimRight(line, "\r\n")), time.Unix(0, 0), &ev); err != nil {
			bad++
			continue
		}
		if !flow.FromEvent(&ev, &r) {
			continue
		}
		if flowTimes {
			setFlowTimes(&ev, &r)
		}
		recs = append(recs, r)
	}
	return recs, bad
}

// setFlowTimes sets r's start and end from the EVE flow.start and
// flow.end fields, as flow.FromEvent does; it checks the two agree.
func setFlowTimes(ev *schema.Event, r *flow.Record) {
	const layout = "2006-01-02T15:04:05.999999-0700"
	s, ok1 := ev.Fields.Get("flow.start")
	e, ok2 := ev.Fields.Get("flow.end")
	if !ok1 || !ok2 {
		return
	}
	st, err1 := time.Parse(layout, s)
	en, err2 := time.Parse(layout, e)
	if err1 == nil && err2 == nil {
		r.Start, r.End = st, en
	}
}

// readArgus reads an Argus binetflow CSV (Slips' test files) into flow
// records. There is no Argus input in Vigil; this reader exists for the
// conformance test only and maps Argus states the way the flow package maps
// Zeek's: "S_" (SYN, no reply) and REQ/INT are attempts, "S_RA" refused,
// a reply with ACK (or CON) established, RST reset.
func readArgus(t *testing.T, path string) []flow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	if strings.Contains(filepath.Base(path), "test5") {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var recs []flow.Record
	for id := uint64(1); ; id++ {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			continue
		}
		if r, ok := argusRecord(row, col, id); ok {
			recs = append(recs, r)
		}
	}
}

func argusRecord(row []string, col map[string]int, id uint64) (flow.Record, bool) {
	get := func(k string) string {
		if i, ok := col[k]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	start, err := time.Parse("2006/01/02 15:04:05.999999", get("StartTime"))
	src, err1 := netip.ParseAddr(get("SrcAddr"))
	dst, err2 := netip.ParseAddr(get("DstAddr"))
	if err != nil || err1 != nil || err2 != nil {
		return flow.Record{}, false
	}
	dur, _ := strconv.ParseFloat(get("Dur"), 64)
	num := func(k string) int64 { n, _ := strconv.ParseInt(get(k), 10, 64); return n }
	port := func(k string) uint16 { n, _ := strconv.ParseUint(get(k), 0, 16); return uint16(n) }
	proto := flow.ProtoNumber(get("Proto"))
	if proto != flow.ProtoTCP && proto != flow.ProtoUDP && proto != flow.ProtoICMP && proto != flow.ProtoICMPv6 {
		return flow.Record{}, false // arp, llc, man: not IP flows
	}
	r := flow.Record{Kind: flow.KindFlow, EventID: id, Start: start, End: start.Add(time.Duration(dur * float64(time.Second))),
		Src: src.Unmap(), Dst: dst.Unmap(), SrcPort: port("Sport"), DstPort: port("Dport"),
		Proto: proto, BytesOut: num("SrcBytes"), PktsOut: num("SrcPkts")}
	r.BytesIn = max(num("TotBytes")-r.BytesOut, 0)
	if r.PktsOut > 0 {
		r.PktsIn = max(num("TotPkts")-r.PktsOut, 0)
	}
	r.State = argusState(get("State"), r.Proto)
	return r, true
}

func argusState(s string, proto uint8) flow.State {
	srcF, dstF, pair := strings.Cut(s, "_")
	switch {
	case pair && dstF == "":
		return flow.StateAttempt
	case pair && strings.Contains(dstF, "R") && !strings.Contains(dstF, "P") && !strings.Contains(srcF, "A"):
		return flow.StateRejected
	case pair && strings.Contains(dstF, "A"):
		return flow.StateEstablished
	case s == "REQ" || s == "INT" || s == "S0":
		return flow.StateAttempt
	case s == "RST":
		return flow.StateReset
	case s == "CON" || s == "FIN" || s == "ECR":
		return flow.StateEstablished
	}
	if proto == flow.ProtoICMP && s == "ECO" {
		return flow.StateAttempt
	}
	return flow.StateUnknown
}

type slipsCase struct {
	name string
	load func(t *testing.T, dir string) []flow.Record
	// want are keys that must be found; absent are keys (or key prefixes
	// ending in "|") that must not.
	want, absent []string
}

var slipsCases = []slipsCase{
	{"port-scans/horizontal (zeek TSV)", zeekLoader("port-scans/horizontal/conn.log"),
		[]string{"scan|horizontal|10.0.2.112|tcp/80"}, nil},
	{"port-scans/vertical (zeek JSON)", zeekLoader("port-scans/vertical/conn.log"),
		[]string{"scan|vertical|192.168.1.9|45.33.32.156/tcp"}, nil},
	// test6 holds a day of flows, written in no time order, all with the
	// same EVE timestamp. With the flows' own times, in time order, the
	// scanner 193.46.255.92 probes at most 46 ports of 192.168.1.129 an
	// hour: a slow vertical scan.
	{"test6 EVE, flow times", eveLoader(true),
		[]string{"scan|vertical|193.46.255.92|192.168.1.129/tcp"},
		// SSDP answers from 192.168.1.132:1900 to 432 ephemeral ports.
		[]string{"scan|vertical|192.168.1.132|"}},
	{"test9 zeek (a browser: 64 sites on 443, none failed)", zeekLoader("test9-mixed-zeek-dir/conn.log"),
		nil, []string{"scan|horizontal|10.0.2.15|"}},
	{"test10 zeek", zeekLoader("test10-mixed-zeek-dir/conn.log"), nil, nil},
	{"test13 zeek", zeekLoader("test13-malicious-dhcpscan-zeek-dir/conn.log"), nil, nil},
	{"test14 zeek", zeekLoader("test14-malicious-zeek-dir/conn.log"), nil, nil},
	{"test15 zeek", zeekLoader("test15-malicious-zeek-dir/conn.log"), nil, nil},
	{"test2 argus", argusLoader("test2-malicious.binetflow"),
		[]string{"long_connection|10.8.0.69|74.125.133.188|tcp/5228"}, nil},
	{"test3 argus", argusLoader("test3-mixed.binetflow"),
		[]string{"scan|horizontal|46.166.151.160|tcp/3389"}, nil},
	{"test4 argus", argusLoader("test4-malicious.binetflow"),
		[]string{"scan|horizontal|192.168.2.12|tcp/81"}, nil},
	{"test5 argus", argusLoader("test5-mixed.binetflow"), nil, nil},
	{"test11 argus", argusLoader("test11-portscan.binetflow"), nil, nil},
}

func zeekLoader(rel string) func(t *testing.T, dir string) []flow.Record {
	return func(t *testing.T, dir string) []flow.Record {
		recs, bad := readZeek(t, filepath.Join(dir, filepath.FromSlash(rel)))
		if bad > 1 { // test10's first header line starts with a stray tab
			t.Errorf("%d lines rejected", bad)
		}
		return recs
	}
}

func eveLoader(flowTimes bool) func(t *testing.T, dir string) []flow.Record {
	return func(t *testing.T, dir string) []flow.Record {
		recs, bad := readEVE(t, filepath.Join(dir, "test6-malicious.suricata.json"), flowTimes)
		if bad > 0 {
			t.Errorf("%d EVE records rejected", bad)
		}
		if flowTimes {
			sortRecs(recs)
		}
		return recs
	}
}

func argusLoader(name string) func(t *testing.T, dir string) []flow.Record {
	return func(t *testing.T, dir string) []flow.Record { return readArgus(t, filepath.Join(dir, name)) }
}

// TestSlipsConformance runs the scan and long-connection analyzers with
// their defaults over the Slips dataset and checks the port scans and long
// connections Slips' integration tests expect.
func TestSlipsConformance(t *testing.T) {
	t.Parallel()
	dir := shareddata.Path(t, "slips/dataset")
	for _, tc := range slipsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := tc.load(t, dir)
			if len(recs) == 0 {
				t.Fatal("no flow records")
			}
			sigs := runBoth(t, recs)
			got := byKey(sigs)
			for _, s := range sigs {
				t.Logf("%s [%v] %s", s.End.Format(time.RFC3339), s.Severity, s.Title)
			}
			for _, w := range tc.want {
				if len(got[w]) == 0 {
					t.Errorf("missing %s; found %v", w, sortedKeys(got))
				}
			}
			for _, a := range tc.absent {
				for k := range got {
					if k == a || (strings.HasSuffix(a, "|") && strings.HasPrefix(k, a)) {
						t.Errorf("unexpected %s", k)
					}
				}
			}
		})
	}
}

// runBoth feeds records in file order to both analyzers with default
// settings, advancing every 100 records as the engine would.
func runBoth(t *testing.T, recs []flow.Record) []flow.Signal {
	t.Helper()
	set := internalSet(t)
	sc, err := New(DefaultConfig(), set)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := NewLongConn(DefaultLongConfig(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(run(sc, recs, 100), run(lc, recs, 100)...)
}
