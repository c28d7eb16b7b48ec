package flowcollect

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// TestSoftflowd runs softflowd on lo exporting NetFlow v5, v9 (also
// sampled) and IPFIX (also biflow) to the collector, and checks the flows
// against softflowd's own flow table and statistics and against the
// traffic the test sent.
func TestSoftflowd(t *testing.T) {
	t.Parallel()
	requireExporter(t, "softflowd", "softflowctl")
	for _, tc := range []struct {
		name, version, dataset string
		rate                   int64
		extra                  []string
	}{
		{"v5", "5", flow.DatasetNetFlowV5, 1, nil},
		{"v9", "9", flow.DatasetNetFlowV9, 1, nil},
		{"v9 sampled", "9", flow.DatasetNetFlowV9, 2, []string{"-s", "2"}},
		{"ipfix", "10", flow.DatasetIPFIX, 1, nil},
		{"ipfix biflow", "10", flow.DatasetIPFIX, 1, []string{"-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &collectSink{}
			r := startCollector(t, Config{NetFlowAddr: "127.0.0.1:0", IPFIXAddr: "127.0.0.1:0",
				FlushInterval: 20 * time.Millisecond}, sink, nil)
			to := r.c.Addrs()[ListenerNetFlow]
			if tc.version == "10" {
				to = r.c.Addrs()[ListenerIPFIX]
			}
			l := newLoopTraffic(t)
			ctl := startSoftflowd(t, l, to, tc.version, tc.extra)
			start := time.Now()
			l.run(t)
			l.pumpUntil(t, "softflowd to process the traffic", func() bool {
				return l.hasFiller(parseSoftflowdFlows(t, ctl("dump-flows")))
			})
			table := l.oursOnly(parseSoftflowdFlows(t, ctl("dump-flows")))
			t.Logf("softflowd's flow table by direction: %v", table)
			ctl("expire-all")
			want := map[dirKey]counts{}
			for k, v := range table {
				want[k] = counts{v.bytes * tc.rate, v.pkts * tc.rate}
			}
			if tc.rate == 1 {
				l.checkSent(t, want)
			}
			var got map[dirKey]counts
			if !waitUntil(10*time.Second, func() bool {
				all, _ := collectorTotals(sink.events(), tc.dataset)
				got = l.oursOnly(all)
				return fmt.Sprint(got) == fmt.Sprint(want)
			}) {
				t.Fatalf("collector flows by direction:\n%v\nsoftflowd's flow table (x%d sampling):\n%v\ncollector stats %+v",
					got, tc.rate, table, r.c.Stats())
			}
			checkSoftflowdStats(t, ctl("statistics"), r.c, sink)
			for _, ev := range sink.events() {
				if ev.Timestamp.Before(start.Add(-2*time.Second)) || ev.Timestamp.After(time.Now().Add(time.Second)) {
					t.Errorf("flow time %v is outside the test's run from %v", ev.Timestamp, start)
				}
				if v, _ := ev.Fields.Get(flow.FieldSampling); tc.rate > 1 && v != strconv.Itoa(int(tc.rate)) {
					t.Errorf("sampled flow lacks %s=%d: %v", flow.FieldSampling, tc.rate, ev.Fields)
				}
			}
		})
	}
}

// startSoftflowd starts softflowd capturing l's traffic on lo and
// exporting it to to, and returns a function running softflowctl commands.
func startSoftflowd(t *testing.T, l *loopTraffic, to net.Addr, version string, extra []string) func(cmd string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl")
	args := append([]string{"-i", "lo", "-n", to.String(), "-v", version, "-d",
		"-p", filepath.Join(t.TempDir(), "pid"), "-c", sock, "-t", "maxlife=60"}, extra...)
	startDaemon(t, "softflowd", append(args, l.filter())...)
	waitFor(t, "softflowd's control socket", 10*time.Second, func() bool {
		_, err := runCmd(binPath("softflowctl"), "-c", sock, "statistics")
		return err == nil
	})
	return func(cmd string) string {
		out, err := runCmd(binPath("softflowctl"), "-c", sock, cmd)
		if err != nil {
			t.Fatalf("softflowctl %s: %v\n%s", cmd, err, out)
		}
		return out
	}
}

// softflowdFlow matches a flow of softflowctl dump-flows.
var softflowdFlow = regexp.MustCompile(`\]:(\d+) <> \[[^\]]+\]:(\d+) proto:(\d+) octets>:(\d+) packets>:(\d+) octets<:(\d+) packets<:(\d+)`)

// parseSoftflowdFlows reads softflowd's flow table by direction.
func parseSoftflowdFlows(t *testing.T, out string) map[dirKey]counts {
	m := map[dirKey]counts{}
	for _, f := range softflowdFlow.FindAllStringSubmatch(out, -1) {
		a, b, p := uint16(atoi(t, f[1])), uint16(atoi(t, f[2])), uint8(atoi(t, f[3]))
		add := func(k dirKey, bytes, pkts int64) {
			if pkts == 0 {
				return
			}
			c := m[k]
			m[k] = counts{c.bytes + bytes, c.pkts + pkts}
		}
		add(dirKey{a, b, p}, atoi(t, f[4]), atoi(t, f[5]))
		add(dirKey{b, a, p}, atoi(t, f[6]), atoi(t, f[7]))
	}
	return m
}

// softflowdExported matches the export line of softflowctl statistics.
var softflowdExported = regexp.MustCompile(`Flows exported: \d+ \((\d+) records\) in (\d+) packets`)

// checkSoftflowdStats compares softflowd's export counters (all flows,
// filler included) with the collector's.
func checkSoftflowdStats(t *testing.T, stats string, c *Collector, sink *collectSink) {
	t.Helper()
	m := softflowdExported.FindStringSubmatch(stats)
	if m == nil {
		t.Fatalf("no export counters in softflowd statistics:\n%s", stats)
	}
	records, packets := atoi(t, m[1]), atoi(t, m[2])
	waitFor(t, "every exported datagram", 10*time.Second, func() bool {
		st := c.Stats()
		return len(st) == 1 && int64(st[0].Packets) == packets && int64(len(sink.events())) >= records
	})
	st := c.Stats()[0]
	if st.Malformed != 0 || st.TemplateDrops != 0 {
		t.Errorf("collector stats %+v", st)
	}
	if n := int64(len(sink.events())); n != records {
		t.Errorf("collector made %d events of %d records softflowd exported", n, records)
	}
}
