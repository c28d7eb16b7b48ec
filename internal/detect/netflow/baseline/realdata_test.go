package baseline

import (
	"errors"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// readConnLog reads a Zeek conn.log (TSV or JSON) into flow records, in
// start order.
func readConnLog(t *testing.T, path string) []flow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var recs []flow.Record
	add := func(ev *schema.Event, id int) {
		ev.ID = uint64(id)
		var r flow.Record
		if flow.FromEvent(ev, &r) {
			recs = append(recs, r)
		}
	}
	if zeek.Sniff(head[:n]) == zeek.FormatJSON {
		data, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		m := zeek.NewMapper()
		for i, line := range splitLines(data) {
			var ev schema.Event
			if err := m.Map(line, "conn", time.Time{}, &ev); err == nil {
				add(&ev, i+1)
			}
		}
	} else {
		tr := zeek.NewTSVReader(f, zeek.Options{})
		for i := 1; ; i++ {
			var ev schema.Event
			err := tr.Next(&ev)
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				add(&ev, i)
			}
		}
	}
	slices.SortStableFunc(recs, func(a, b flow.Record) int { return a.Start.Compare(b.Start) })
	return recs
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
	return out
}

// TestRealConnLogs feeds the Zeek conn.logs of the Slips dataset (read in
// place, GPL-2.0, not copied) through the analyzer and checks that every
// internal host's stored hourly bytes_out and connections add up to what
// the log says.
func TestRealConnLogs(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "slips/dataset")
	for _, dir := range []string{"test9-mixed-zeek-dir", "test10-mixed-zeek-dir"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			recs := readConnLog(t, filepath.Join(root, dir, "conn.log"))
			if len(recs) == 0 {
				t.Fatal("no flows read")
			}
			e := newEngine(t, DefaultConfig())
			wantOut, wantConns := map[netip.Addr]float64{}, map[netip.Addr]float64{}
			for _, r := range recs {
				if e.internal.Contains(r.Src) {
					wantOut[r.Src] += float64(max(r.BytesOut, 0))
					wantConns[r.Src]++
				}
				if e.internal.Contains(r.Dst) {
					wantOut[r.Dst] += float64(max(r.BytesIn, 0))
				}
			}
			e.run(recs, time.Time{})
			e.flush(recs[len(recs)-1].Start.Add(2 * time.Hour))
			if c := e.a.Counts(); c.Records == 0 || c.BadTime != 0 {
				t.Fatalf("counts %+v", c)
			}
			for host, want := range wantOut {
				if got := sumActual(e.a.Baseline(host, MetricBytesOut)); math.Abs(got-want) > want*1e-3+0.5 {
					t.Errorf("%v bytes_out %v, want %v", host, got, want)
				}
				if got := sumActual(e.a.Baseline(host, MetricConnections)); got != wantConns[host] {
					t.Errorf("%v connections %v, want %v", host, got, wantConns[host])
				}
			}
			t.Logf("%d flows, %d internal hosts, %d signals, stats %v", len(recs), len(wantOut), len(e.sigs), e.a.Stats())
		})
	}
}

func sumActual(pts []HourPoint) float64 {
	s := 0.0
	for _, p := range pts {
		s += p.Actual
	}
	return s
}
