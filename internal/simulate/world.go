package simulate

import (
	"container/heap"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"
)

// world is the simulation's state: the company, a queue of things that
// will happen at simulated times, and the per-host counters that make the
// records look real (process ids, record ids, session ids). It is owned by
// the scheduler goroutine and needs no locks.
type world struct {
	co  *company
	rng *rand.Rand
	out *outputs
	log *slog.Logger
	c   *counters

	q   itemHeap
	seq uint64
	now time.Time // the time of the item firing

	pids     map[string]int    // next process id, by host
	records  map[string]uint64 // next record id, by host and channel
	sessions map[string]int    // next logind session, by host
	daemons  map[string]int    // process id of a long-running daemon, by host and name
	procs    map[string]*proc  // running Windows processes, by host and program
	logonID  uint64            // next Windows logon id
	realAt   func(time.Time) time.Time
	// silentHost stops sending syslog from silentFrom on (a source that
	// goes silent, for the blind-spot detections); "" never.
	silentHost string
	silentFrom time.Time
}

func newWorld(co *company, rng *rand.Rand, out *outputs, log *slog.Logger, c *counters) *world {
	return &world{co: co, rng: rng, out: out, log: log, c: c,
		pids: map[string]int{}, records: map[string]uint64{}, sessions: map[string]int{}, daemons: map[string]int{},
		procs:   map[string]*proc{},
		logonID: 0x3a000 + uint64(rng.IntN(0x10000))}
}

// item is one thing scheduled to happen.
type item struct {
	at   time.Time
	seq  uint64 // FIFO among equal times
	fire func(at time.Time)
}

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// at schedules fire at simulated time t.
func (w *world) at(t time.Time, fire func(at time.Time)) {
	w.seq++
	heap.Push(&w.q, &item{at: t, seq: w.seq, fire: fire})
}

// when runs send now if t is not after the current simulated time, or
// schedules it at t: records leave in time order, so every connection's
// timestamps never go back.
func (w *world) when(t time.Time, send func()) {
	if t.After(w.now) {
		w.at(t, func(time.Time) { send() })
		return
	}
	send()
}

// runUntil fires, in time order, everything scheduled up to and including
// now, and whatever those schedule in turn up to now.
func (w *world) runUntil(now time.Time) {
	for len(w.q) > 0 && !w.q[0].at.After(now) {
		it := heap.Pop(&w.q).(*item)
		w.now = it.at
		it.fire(it.at)
	}
}

// scheduleAll schedules the company's whole life from start.
func (w *world) scheduleAll(start time.Time, realAt func(time.Time) time.Time) {
	w.realAt = realAt
	w.scheduleLinux(start)
	w.scheduleWindows(start)
	w.scheduleAttacks(start)
}

// activity is background activity happening as a Poisson process.
type activity struct {
	name    string
	perHour float64                   // rate at full load, per simulated hour
	load    func(t time.Time) float64 // 0..1: share of the rate at t
	run     func(at time.Time)
}

// poisson schedules a's next occurrence after from. Time-varying rates
// use thinning: candidates come at the full rate and each happens with
// probability load(t).
func (w *world) poisson(a activity, from time.Time) {
	gap := time.Duration(w.rng.ExpFloat64() / a.perHour * float64(time.Hour))
	w.at(from.Add(gap), func(at time.Time) {
		if w.rng.Float64() < a.load(at) {
			a.run(at)
		}
		w.poisson(a, at)
	})
}

// officeLoad is the share of office activity at t: full on weekday
// working hours, a dip at lunch, little in the evening, at night and on
// weekends.
func officeLoad(t time.Time) float64 {
	h := t.Hour()
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		if h >= 9 && h < 18 {
			return 0.1
		}
		return 0.03
	}
	switch {
	case h == 12:
		return 0.6
	case h >= 8 && h < 18:
		return 1
	case h == 7 || (h >= 18 && h < 20):
		return 0.35
	}
	return 0.04
}

// always is the load of machine activity that ignores office hours.
func always(time.Time) float64 { return 1 }

// jitter returns d scaled by a random factor in [1-f, 1+f].
func (w *world) jitter(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * (1 - f + 2*f*w.rng.Float64()))
}

// between returns a random duration in [lo, hi).
func (w *world) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

// pid returns a new process id on host h.
func (w *world) pid(h string) int {
	p, ok := w.pids[h]
	if !ok {
		p = 1000 + w.rng.IntN(20000)
	}
	p += 1 + w.rng.IntN(40)
	if p > 4194000 {
		p = 1000
	}
	w.pids[h] = p
	return p
}

// daemonPID returns the process id of a long-running daemon on host h,
// the same every time.
func (w *world) daemonPID(h, name string) int {
	k := h + "|" + name
	p, ok := w.daemons[k]
	if !ok {
		p = 300 + w.rng.IntN(1500)
		w.daemons[k] = p
	}
	return p
}

// session returns a new logind session number on host h.
func (w *world) session(h string) int {
	n, ok := w.sessions[h]
	if !ok {
		n = 100 + w.rng.IntN(400)
	}
	w.sessions[h] = n + 1
	return n
}

// recordID returns the next event record id of a Windows host's channel.
func (w *world) recordID(h, channel string) uint64 {
	k := h + "|" + channel
	n, ok := w.records[k]
	if !ok {
		n = 10000 + uint64(w.rng.IntN(900000))
	}
	w.records[k] = n + 1
	return n
}

// newLogonID returns a new Windows logon id as Windows prints it.
func (w *world) newLogonID() string {
	w.logonID += 1 + uint64(w.rng.IntN(0x400))
	return "0x" + strconv.FormatUint(w.logonID, 16)
}

// port returns a random ephemeral source port.
func (w *world) port() int { return 32768 + w.rng.IntN(28000) }

// pick returns a random element of s.
func pick[T any](w *world, s []T) T { return s[w.rng.IntN(len(s))] }

// attackStarted counts an attack and tells the demo user what to look for.
func (w *world) attackStarted(name string, at time.Time, lookFor string, attrs ...any) {
	w.c.attacks.Add(1)
	args := append([]any{"attack", name, "sim_time", at.Format(time.RFC3339), "look_for", lookFor}, attrs...)
	w.log.Info("simulated attack started", args...)
}
