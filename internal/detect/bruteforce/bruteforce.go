// Package bruteforce detects bursts of failed logins: many authentication
// failures from one source address against one host inside a window of
// event time (SSH password guessing, RDP spraying).
package bruteforce

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Options tune the detector.
type Options struct {
	// Threshold is how many failures inside Window raise an alert.
	Threshold int
	// Window is the span of event time the failures must fall in.
	Window time.Duration
	// MaxKeys bounds the (host, source) pairs tracked; the longest idle
	// pairs are evicted first.
	MaxKeys int
}

// Detector is the failed-login burst detector.
type Detector struct {
	o      Options
	state  map[key]*track
	newest time.Time // newest event time seen, for eviction
	seen   int
}

var _ detect.Detector = (*Detector)(nil)

type key struct{ host, src string }

type track struct {
	times []time.Time // failure times inside the window, oldest first
	ids   []uint64
	users map[string]struct{}
	last  time.Time
}

// New returns a detector.
func New(o Options) *Detector {
	if o.Threshold <= 0 {
		o.Threshold = 10
	}
	if o.Window <= 0 {
		o.Window = 5 * time.Minute
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100000
	}
	return &Detector{o: o, state: map[key]*track{}}
}

// Name returns "bruteforce".
func (d *Detector) Name() string { return "bruteforce" }

// Tracked returns the number of (host, source) pairs held in memory.
func (d *Detector) Tracked() int { return len(d.state) }

func isAuthFailure(ev *schema.Event) bool {
	return ev.Event.Outcome == "failure" && ev.Source.IP != "" && slices.Contains(ev.Event.Category, "authentication")
}

// Detect counts authentication failures per (host, source.ip).
func (d *Detector) Detect(evs []schema.Event, emit func(schema.Alert)) {
	for i := range evs {
		ev := &evs[i]
		if ev.Timestamp.After(d.newest) {
			d.newest = ev.Timestamp
		}
		if !isAuthFailure(ev) {
			continue
		}
		k := key{host: ev.SourceHost(), src: ev.Source.IP}
		t := d.state[k]
		if t == nil {
			t = &track{users: map[string]struct{}{}}
			d.state[k] = t
		}
		d.add(t, ev)
		if len(t.times) >= d.o.Threshold {
			emit(d.alert(k, t))
			delete(d.state, k)
		}
		if d.seen++; d.seen%4096 == 0 || len(d.state) > d.o.MaxKeys {
			d.evict()
		}
	}
}

func (d *Detector) add(t *track, ev *schema.Event) {
	ts := ev.Timestamp
	cut := 0
	for cut < len(t.times) && ts.Sub(t.times[cut]) > d.o.Window {
		cut++
	}
	t.times = append(t.times[cut:], ts)
	t.ids = append(t.ids[cut:], ev.ID)
	if ev.User.Name != "" && len(t.users) < 50 {
		t.users[ev.User.Name] = struct{}{}
	}
	if ts.After(t.last) {
		t.last = ts
	}
}

func (d *Detector) alert(k key, t *track) schema.Alert {
	users := make([]string, 0, len(t.users))
	for u := range t.users {
		users = append(users, u)
	}
	slices.Sort(users)
	sev := schema.SeverityMedium
	user := ""
	if len(users) == 1 {
		user = users[0]
	}
	return schema.Alert{
		RuleID: "vigil-builtin-bruteforce", RuleName: "Failed login burst", Kind: schema.KindBuiltin,
		Title:    fmt.Sprintf("%d failed logins on %s from %s within %s", len(t.times), k.host, k.src, d.o.Window),
		Severity: sev, Priority: schema.PriorityFromSeverity(sev),
		FirstSeen: t.times[0], LastSeen: t.times[len(t.times)-1],
		Host: k.host, SourceIP: k.src, User: user,
		Tags:        []string{"attack.credential_access", "attack.t1110"},
		EvidenceIDs: slices.Clone(t.ids), Status: schema.StatusNew, Count: 1,
		Details: map[string]string{"failures": strconv.Itoa(len(t.times)), "window": d.o.Window.String(),
			"threshold": strconv.Itoa(d.o.Threshold), "users": fmt.Sprint(users)},
	}
}

// evict drops pairs idle for longer than the window (in event time), then,
// if still over MaxKeys, the longest idle.
func (d *Detector) evict() {
	for k, t := range d.state {
		if d.newest.Sub(t.last) > d.o.Window {
			delete(d.state, k)
		}
	}
	for len(d.state) > d.o.MaxKeys {
		var oldK key
		var old time.Time
		first := true
		for k, t := range d.state {
			if first || t.last.Before(old) {
				oldK, old, first = k, t.last, false
			}
		}
		delete(d.state, oldK)
	}
}
