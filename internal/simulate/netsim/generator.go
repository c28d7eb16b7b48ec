package netsim

import (
	"math"
	"sort"
	"time"
)

// Log names of Record.Log.
const (
	LogConn = "conn"
	LogDNS  = "dns"
	LogSSL  = "ssl"
)

const (
	logConn uint8 = iota
	logDNS
	logSSL
)

func logName(l uint8) string {
	switch l {
	case logDNS:
		return LogDNS
	case logSSL:
		return LogSSL
	}
	return LogConn
}

// Record is one generated Zeek log record.
type Record struct {
	// Time is the record's ts (event time) in UTC, at microsecond
	// precision.
	Time time.Time
	// Log is the Zeek log the record belongs to: LogConn, LogDNS or LogSSL.
	Log string
	// JSON is the record as one line of Zeek's JSON writer, without the
	// newline. It is only valid until the next call to Next; Clone keeps it.
	JSON []byte
}

// Clone returns a copy of r whose JSON does not alias the generator's
// buffer.
func (r Record) Clone() Record {
	r.JSON = append([]byte(nil), r.JSON...)
	return r
}

// Counts are the volumes a generator has produced so far.
type Counts struct {
	// Records counts records by log and in total.
	Records, Conn, DNS, SSL int64
	// JSONBytes is the size of the records' JSON, without newlines.
	JSONBytes int64
	// WireBytes is the payload the conn records describe (orig_bytes plus
	// resp_bytes).
	WireBytes int64
}

// activity is one source of records: a host's browsing, an NTP client, a
// beacon. fire runs it at now (µs since the epoch) and returns when it runs
// next, or a negative value when it is done. It may emit records at now or
// later, never earlier.
type activity interface {
	fire(g *Generator, now int64) int64
}

// Generator produces a simulated company's Zeek conn, dns and ssl records in
// event-time order, with the ground truth of what it injected. Memory stays
// bounded: it holds a queue of each activity's next event and of records
// already decided but not yet due. It is not safe for concurrent use.
type Generator struct {
	o    Options
	net  *network
	days []int64 // local midnights, µs since the epoch; len Days+1
	wd   []time.Weekday
	end  int64

	q    queue
	slab []rec
	free []int32
	acts []activity
	seq  uint64
	now  int64
	buf  []byte
	cur  int32 // slab index of the record Next returned last, or -1

	truth, benign []Truth
	counts        Counts
}

// New returns a generator for o. It reports every bad option.
func New(o Options) (*Generator, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	g := &Generator{o: o, buf: make([]byte, 0, 1024), cur: -1}
	y, m, d := o.Start.Date()
	loc := o.Start.Location()
	for i := 0; i <= o.Days; i++ {
		t := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		g.days = append(g.days, t.UnixMicro())
		g.wd = append(g.wd, t.Weekday())
	}
	g.end = g.days[o.Days]
	g.net = newNetwork(o)
	g.addBackground()
	g.addBenign()
	g.addScenarios()
	return g, nil
}

// Options returns the generator's options with defaults applied.
func (g *Generator) Options() Options { return g.o }

// Network describes the simulated company.
func (g *Generator) Network() Network { return g.net.export() }

// Truth returns the injected scenarios the options enabled, in schedule
// order. Each is planned at New, so it is complete before the first Next.
func (g *Generator) Truth() []Truth { return append([]Truth(nil), g.truth...) }

// Benign returns the benign look-alikes the options enabled: the activities
// an analytic must not report as high-severity findings.
func (g *Generator) Benign() []Truth { return append([]Truth(nil), g.benign...) }

// Start returns the first instant of the run: midnight of Options.Start's
// date.
func (g *Generator) Start() time.Time { return time.UnixMicro(g.days[0]).In(g.o.Start.Location()) }

// End returns the instant the run ends; every record is before it.
func (g *Generator) End() time.Time { return time.UnixMicro(g.end).In(g.o.Start.Location()) }

// Counts returns the volumes produced so far.
func (g *Generator) Counts() Counts { return g.counts }

// Next returns the next record in event-time order, or false when the run
// is over. Records with equal times keep the order they were made in.
func (g *Generator) Next() (Record, bool) {
	for len(g.q) > 0 {
		e := g.q.pop()
		if e.ref < 0 {
			g.now = e.at
			next := g.acts[^e.ref].fire(g, e.at)
			if next >= 0 && next < g.end {
				g.pushEntry(max(next, e.at+1), e.ref)
			}
			continue
		}
		g.release()
		g.cur = e.ref
		r := &g.slab[e.ref]
		g.buf = g.render(g.buf[:0], r)
		g.count(r, len(g.buf))
		return Record{Time: time.UnixMicro(r.at).UTC(), Log: logName(r.log), JSON: g.buf}, true
	}
	g.release()
	return Record{}, false
}

// release frees the slot of the record Next returned last.
func (g *Generator) release() {
	if g.cur >= 0 {
		g.slab[g.cur] = rec{}
		g.free = append(g.free, g.cur)
		g.cur = -1
	}
}

func (g *Generator) count(r *rec, n int) {
	c := &g.counts
	c.Records++
	c.JSONBytes += int64(n)
	switch r.log {
	case logConn:
		c.Conn++
		c.WireBytes += r.ob + r.rb
	case logDNS:
		c.DNS++
	case logSSL:
		c.SSL++
	}
}

// schedule adds an activity that first runs at first; activities that
// would start outside the run are dropped.
func (g *Generator) schedule(a activity, first int64) {
	if first < g.days[0] || first >= g.end {
		return
	}
	g.acts = append(g.acts, a)
	g.pushEntry(first, ^int32(len(g.acts)-1))
}

// emit queues a record. Records before the current time are moved to it
// (time never goes back); records at or after the end are dropped.
func (g *Generator) emit(r *rec) {
	if r.at < g.now {
		r.at = g.now
	}
	if r.at >= g.end {
		return
	}
	var i int32
	if n := len(g.free); n > 0 {
		i = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		g.slab = append(g.slab, rec{})
		i = int32(len(g.slab) - 1)
	}
	g.slab[i] = *r
	g.pushEntry(r.at, i)
}

func (g *Generator) pushEntry(at int64, ref int32) {
	g.seq++
	g.q.push(qent{at: at, seq: g.seq, ref: ref})
}

// clock returns the local time hours after midnight of day (0-based), in
// µs since the epoch. Whole hours follow the calendar, so they stay right
// across daylight-saving changes.
func (g *Generator) clock(day int, hours float64) int64 {
	h := int(hours)
	y, m, d := g.o.Start.Date()
	t := time.Date(y, m, d+day, h, 0, 0, 0, g.o.Start.Location())
	return t.UnixMicro() + int64(math.Round((hours-float64(h))*3600e6))
}

// dayOf returns the day (0-based) that t falls in and the local hour of
// day as a fraction.
func (g *Generator) dayOf(t int64) (int, float64) {
	d := sort.Search(len(g.days), func(i int) bool { return g.days[i] > t }) - 1
	d = max(0, min(d, len(g.days)-2))
	return d, float64(t-g.days[d]) / 3600e6
}

// workday reports whether day (0-based) is Monday to Friday.
func (g *Generator) workday(day int) bool {
	wd := g.wd[min(max(day, 0), len(g.wd)-1)]
	return wd != time.Saturday && wd != time.Sunday
}

// attackDay returns the 0-based day offset days after the attack day, cut
// at the last day of the run.
func (g *Generator) attackDay(offset int) int {
	return min(g.o.AttackDay-1+offset, g.o.Days-1)
}

// qent is a queue entry: a pending record (ref ≥ 0, an index into slab) or
// an activity's next run (ref < 0, ^index into acts).
type qent struct {
	at  int64
	seq uint64
	ref int32
}

// queue is a binary min-heap of entries by (at, seq).
type queue []qent

func (q queue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *queue) push(e qent) {
	*q = append(*q, e)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() qent {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*q = h
	return top
}
