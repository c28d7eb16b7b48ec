package flowcollect

import (
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// TestPmacctd runs pmacctd on lo with its nfprobe plugin exporting
// NetFlow v9 and IPFIX and its sfprobe plugin exporting sFlow to the
// collector, beside its print plugin, which writes pmacctd's own counts
// per direction. NetFlow and IPFIX totals must equal the print plugin's;
// sFlow (sampling 1 in 1) must count the same packets, with frame lengths
// a few bytes above the IP lengths.
func TestPmacctd(t *testing.T) {
	t.Parallel()
	requireExporter(t, "pmacctd")
	sink := &collectSink{}
	r := startCollector(t, Config{NetFlowAddr: "127.0.0.1:0", IPFIXAddr: "127.0.0.1:0", SFlowAddr: "127.0.0.1:0",
		FlushInterval: 20 * time.Millisecond}, sink, nil)
	addrs := r.c.Addrs()
	l := newLoopTraffic(t)
	printFile := filepath.Join(t.TempDir(), "print.csv")
	confFile := writePmacctdConf(t, l, addrs, printFile)
	stop, out := startDaemon(t, "pmacctd", "-f", confFile)
	waitFor(t, "pmacctd to open lo", 10*time.Second, func() bool { return strings.Contains(out.String(), "link type is") })
	l.run(t)
	l.pumpUntil(t, "pmacctd to count the traffic", func() bool {
		m := readPrintCSV(t, printFile)
		return l.hasFiller(m) && len(l.oursOnly(m)) >= 3
	})
	stop() // the probes export every flow they hold when they stop
	want := l.oursOnly(readPrintCSV(t, printFile))
	t.Logf("pmacctd counted by direction: %v", want)
	l.checkSent(t, want)

	for _, dataset := range []string{flow.DatasetNetFlowV9, flow.DatasetIPFIX} {
		var got map[dirKey]counts
		if !waitUntil(10*time.Second, func() bool {
			all, _ := collectorTotals(sink.events(), dataset)
			got = l.oursOnly(all)
			return fmt.Sprint(got) == fmt.Sprint(want)
		}) {
			t.Errorf("%s flows by direction:\n%v\npmacctd's print plugin:\n%v", dataset, got, want)
		}
	}
	all, n := collectorTotals(sink.events(), flow.DatasetSFlow)
	got := l.oursOnly(all)
	t.Logf("sFlow: %d samples; ours by direction: %v", n, got)
	if len(got) != len(want) {
		t.Errorf("sFlow directions %v, want those of %v", got, want)
	}
	for k, w := range want {
		g := got[k]
		if g.pkts != w.pkts || g.bytes < w.bytes || g.bytes > w.bytes+18*w.pkts {
			t.Errorf("sFlow %+v: %+v; pmacctd counted %+v (frame lengths may add up to 18 bytes a packet)", k, g, w)
		}
	}
	for _, st := range r.c.Stats() {
		if st.Malformed != 0 || st.TemplateDrops != 0 {
			t.Errorf("collector stats %+v", st)
		}
	}
}

// writePmacctdConf writes a pmacctd configuration: capture l's traffic on
// lo; print plugin to printFile; nfprobe NetFlow v9 and IPFIX and sfprobe
// sFlow to the collector's listeners.
func writePmacctdConf(t *testing.T, l *loopTraffic, addrs map[string]net.Addr, printFile string) string {
	t.Helper()
	conf := strings.Join([]string{
		"daemonize: false",
		"pcap_interface: lo",
		"pcap_filter: " + l.filter(),
		"plugins: print[p], nfprobe[v9], nfprobe[ipfix], sfprobe[s]",
		"aggregate[p]: src_port, dst_port, proto",
		"print_output[p]: csv",
		"print_output_file[p]: " + printFile,
		"print_output_file_append[p]: true",
		"print_refresh_time[p]: 1",
		"plugin_buffer_size: 2048",
		"plugin_pipe_size: 2048000",
		"nfprobe_receiver[v9]: " + addrs[ListenerNetFlow].String(),
		"nfprobe_version[v9]: 9",
		"nfprobe_receiver[ipfix]: " + addrs[ListenerIPFIX].String(),
		"nfprobe_version[ipfix]: 10",
		"sfprobe_receiver[s]: " + addrs[ListenerSFlow].String(),
		"sfprobe_agentip[s]: 127.0.0.1",
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "pmacctd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readPrintCSV sums the rows of pmacctd's print plugin by direction; the
// file may not exist yet.
func readPrintCSV(t *testing.T, path string) map[dirKey]counts {
	m := map[dirKey]counts{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.FieldsPerRecord = -1
	rows, _ := rd.ReadAll()
	for _, row := range rows {
		if len(row) != 5 || row[0] == "SRC_PORT" {
			continue
		}
		k := dirKey{uint16(atoi(t, row[0])), uint16(atoi(t, row[1])), flow.ProtoNumber(row[2])}
		c := m[k]
		m[k] = counts{c.bytes + atoi(t, row[4]), c.pkts + atoi(t, row[3])}
	}
	return m
}
