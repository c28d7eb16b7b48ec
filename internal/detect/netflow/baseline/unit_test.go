package baseline

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST test needs Europe/Berlin wherever it runs

	"gopkg.in/yaml.v3"
)

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 2, 1000, 2047} {
		if got := decode(encode(v)); got != float64(v) {
			t.Errorf("%d: got %v, want exact", v, got)
		}
	}
	for _, v := range []uint64{2048, 2049, 4095, 1e6, 2e8, 5e10, 1 << 40, 1<<62 + 12345, math.MaxUint64} {
		got := decode(encode(v))
		if rel := math.Abs(got-float64(v)) / float64(v); rel > 1.0/2048 {
			t.Errorf("%d: got %v, relative error %g", v, got, rel)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prev, prevCode := uint64(0), uint16(0)
	for range 100000 {
		v := prev + rng.Uint64N(1<<uint(rng.IntN(40)))
		c := encode(v)
		if c < prevCode {
			t.Fatalf("encode not monotonic: %d→%d, %d→%d", prev, prevCode, v, c)
		}
		if rel := math.Abs(decode(c)-float64(v)) / math.Max(float64(v), 1); rel > 1.0/2048 {
			t.Fatalf("%d: relative error %g", v, rel)
		}
		prev, prevCode = v, c
	}
	if decode(0xFFFF) != float64(uint64(math.MaxUint64)) {
		t.Error("codes past the largest decode as saturated")
	}
}

func TestDistinct(t *testing.T) {
	t.Parallel()
	var p pool
	for _, n := range []int{0, 1, 5, 16} {
		var d distinct
		for i := range n {
			if !d.add(hashPort(uint16(i)), &p) {
				t.Fatalf("value %d not new", i)
			}
			d.add(hashPort(uint16(i)), &p) // repeats do not count
		}
		if d.count() != float64(n) || d.sk != nil {
			t.Errorf("n=%d: count %v, sketch %v", n, d.count(), d.sk != nil)
		}
		d.reset(&p)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		n      int
		maxRel float64 // bound on the RMS relative error over the trials
	}{{17, 0.08}, {100, 0.08}, {640, 0.09}, {5000, 0.10}, {100000, 0.10}} {
		sq := 0.0
		const trials = 30
		for range trials {
			var d distinct
			for range tc.n {
				d.add(uint32(rng.Uint64()), &p)
			}
			rel := (d.count() - float64(tc.n)) / float64(tc.n)
			sq += rel * rel
			d.reset(&p)
		}
		rms := math.Sqrt(sq / trials)
		t.Logf("n=%d: RMS relative error %.3f", tc.n, rms)
		if rms > tc.maxRel {
			t.Errorf("n=%d: RMS relative error %.3f > %.3f", tc.n, rms, tc.maxRel)
		}
	}
	if p.live != [3]int{} {
		t.Errorf("pool leaks: %v", p.live)
	}
}

func TestMedianMAD(t *testing.T) {
	t.Parallel()
	eq := func(vs ...float64) []sample {
		s := make([]sample, len(vs))
		for i, v := range vs {
			s[i] = sample{v, 1}
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		s        []sample
		med, mad float64
	}{
		{"one", eq(7), 7, 0},
		{"odd", eq(3, 1, 2), 2, 1},
		{"even", eq(4, 1, 3, 2), 2.5, 1},
		{"zeros", eq(0, 0, 0, 0), 0, 0},
		{"outlier", eq(100, 100, 100, 1e9), 100, 0},
		// A week-old install on Monday: last Monday weighs 1, the six
		// previous days share 3 (two quiet weekend days).
		{"blend", []sample{{100, 1}, {0, .5}, {0, .5}, {100, .5}, {110, .5}, {90, .5}, {100, .5}}, 100, 5},
		{"weekend heavy", []sample{{0, 1}, {0, 1}, {100, .5}, {100, .5}}, 0, 0},
	} {
		med, mad := medianMAD(tc.s)
		if med != tc.med || mad != tc.mad {
			t.Errorf("%s: median %v MAD %v, want %v %v", tc.name, med, mad, tc.med, tc.mad)
		}
	}
}

// histWith returns a history whose hour h has value v(h) for metric 0,
// from first up to and including last.
func histWith(ringLen, first, last int32, v func(h int32) uint64) history {
	h := newHistory(ringLen)
	h.First = first
	for x := first; x <= last; x++ {
		var c [numMetrics]uint16
		c[0] = encode(v(x))
		h.write(x, &c)
	}
	return h
}

func TestEstimateBlend(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t, DefaultConfig())
	h := int32(floorHour(at(29, 14, 0))) // a Monday
	x := a.newHourCtx(h)
	// 1000 on weekdays at 14:00, 10 at weekends, 1 otherwise.
	val := func(hr int32) uint64 {
		t := hourStart(hr)
		switch {
		case t.Hour() != 14:
			return 1
		case t.Weekday() == time.Saturday || t.Weekday() == time.Sunday:
			return 10
		}
		return 1000
	}
	for _, tc := range []struct {
		name         string
		first        int32
		weeks, days  int
		med, mad     float64
		wantOK       bool
		lastWritten  int32
		wantZeroTail bool
	}{
		{"no history", h, 0, 0, 0, 0, false, h - 1, false},
		{"three days, two at the weekend", h - 72, 0, 3, 10, 0, true, h - 1, false},
		{"one week", h - 7*24 - 5, 1, 6, 1000, 0, true, h - 1, false},
		{"four weeks ignore the days", h - 28*24 - 5, 4, 0, 1000, 0, true, h - 1, false},
		{"silent for two days reads zeros", h - 28*24 - 5, 4, 0, 1000, 0, true, h - 49, true},
	} {
		hist := histWith(a.ringLen, tc.first, tc.lastWritten, val)
		est := a.estimate(&hist, 0, &x, h)
		if est.ok != tc.wantOK || est.weeks != tc.weeks || est.days != tc.days || est.med != tc.med || est.mad != tc.mad {
			t.Errorf("%s: got %+v", tc.name, est)
		}
		if tc.wantZeroTail {
			if v, ok := hist.value(h-24, 0, h); !ok || v != 0 {
				t.Errorf("%s: hour after the last write reads %v %v, want known zero", tc.name, v, ok)
			}
		}
	}
}

func TestHourContextDST(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.TimeZone = "Europe/Berlin"
	a := newTestAnalyzer(t, cfg)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Tuesday 2025-04-01 09:00 CEST, two days after the change to summer
	// time: a week earlier 09:00 was CET, 167 hours before, not 168.
	h := int32(floorHour(time.Date(2025, 4, 1, 9, 0, 0, 0, berlin)))
	x := a.newHourCtx(h)
	if want := int32(floorHour(time.Date(2025, 3, 25, 9, 0, 0, 0, berlin))); x.weeks[0] != want || h-want != 167 {
		t.Errorf("week-ago hour %d (h-%d), want %d", x.weeks[0], h-x.weeks[0], want)
	}
	if x.how != 24+9 || x.off {
		t.Errorf("hour of week %d off %v, want 33 and on-hours", x.how, x.off)
	}
	if got := x.window(); got != "Tue 09:00–10:00 CEST" {
		t.Errorf("window %q", got)
	}
}

func TestOnHours(t *testing.T) {
	t.Parallel()
	weekdays := (&BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}}).businessDays()
	for _, tc := range []struct {
		t          time.Time
		start, end int
		want       bool
	}{
		{at(1, 7, 0), 7, 19, true},   // Monday 07:00
		{at(1, 6, 59), 7, 19, false}, // before
		{at(1, 19, 0), 7, 19, false}, // end is exclusive
		{at(6, 10, 0), 7, 19, false}, // Saturday
		{at(2, 23, 0), 22, 6, true},  // night shift wraps past midnight
		{at(2, 5, 0), 22, 6, true},
		{at(2, 12, 0), 22, 6, false},
	} {
		if got := onHours(tc.t, tc.start, tc.end, weekdays); got != tc.want {
			t.Errorf("%v %d–%d: got %v", tc.t, tc.start, tc.end, got)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c = Config{TimeZone: "Mars/Olympus", Weeks: 13, LearningDays: -1, K: -1, MinFactor: 0.5,
		SubnetPrefixV4: 33, SubnetPrefixV6: -1, IdleDays: 0, MaxHosts: 0, MaxSubnets: 0,
		BusinessHours: BusinessHours{Start: 25, End: 25, Days: []string{"mon", "funday"}},
		Exfil:         ExfilConfig{RareWeight: 0.5, OffHoursWeight: 0, PairTolerance: 0.9, PairsPerHost: 1000}}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"time_zone", "weeks", "learning_days", "k:", "min_factor", "floor.bytes_out",
		"floor.ext_dsts", "subnet_prefix_v4", "subnet_prefix_v6", "business_hours.start", "business_hours.end",
		"business_hours.days.1", "idle_days", "max_hosts", "max_subnets", "exfil.min_bytes", "exfil.floor",
		"exfil.high_bytes", "exfil.pair_min_bytes", "exfil.min_factor", "exfil.high_factor", "exfil.common_hosts",
		"exfil.rare_weight", "exfil.off_hours_weight", "exfil.pair_tolerance", "exfil.pairs_per_host"} {
		if !strings.Contains(err.Error(), "baseline: "+key) {
			t.Errorf("error does not name %s", key)
		}
	}
	if strings.Contains(err.Error(), "days.0") {
		t.Error("a good day was reported")
	}
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	doc := `
time_zone: Europe/Berlin
weeks: 6
min_current: {connections: 500}
business_hours: {start: 8, end: 18, days: [mon, tue, wed, thu]}
exfil: {min_bytes: 500000000, rare_weight: 3}
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Weeks != 6 || c.MinCurrent.Connections != 500 || c.MinCurrent.BytesOut != 50e6 ||
		c.Exfil.MinBytes != 5e8 || c.Exfil.RareWeight != 3 || c.Exfil.Floor != 25e6 || !c.Exfil.Enabled ||
		len(c.BusinessHours.Days) != 4 || c.K != 5 {
		t.Errorf("decoded %+v", c)
	}
}
