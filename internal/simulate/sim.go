// Package simulate plays a small company's live telemetry into a running
// Vigil through its real listeners, in accelerated time: Linux servers
// sending syslog over TCP (RFC 5424, RFC 6587 octet counting) and UDP
// (RFC 3164), Windows hosts sending Winlogbeat 8.x documents to the
// Elasticsearch-compatible POST /_bulk endpoint, with normal office
// activity and a few scheduled attacks for the detections to find.
//
// The simulated clock starts at Options.Start and runs Options.Speed times
// faster than real time until it catches up with the real clock; from then
// on it is the real clock. Every record carries its simulated time.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a simulator.
type Options struct {
	// SyslogTCP is host:port of Vigil's syslog TCP listener; "" skips the
	// hosts that send over TCP.
	SyslogTCP string
	// SyslogUDP is host:port of the UDP listener; "" skips the UDP hosts.
	SyslogUDP string
	// HTTPURL is the base URL of Vigil's HTTP API, e.g.
	// http://127.0.0.1:8080; "" skips the Windows hosts.
	HTTPURL string
	// Token is an API token (ingest or admin role) for POST /_bulk.
	Token string
	// Speed is how many simulated seconds pass per real second until the
	// simulated clock catches up with real time (default 60).
	Speed float64
	// Start is the simulated start time (default 24 hours ago). Simulated
	// times are in Start's location.
	Start time.Time
	// Seed makes a run's activity reproducible.
	Seed int64
	// Log receives the attack schedule and sender problems (default: discard).
	Log *slog.Logger
	// SilentHost stops sending syslog SilentAfter (simulated time) after
	// Start, as a server whose log forwarding broke; "" never.
	SilentHost  string
	SilentAfter time.Duration
}

// Stats counts what a simulator has done so far.
type Stats struct {
	// SyslogTCP and SyslogUDP count syslog messages written to the
	// listeners; Bulk counts Windows documents the bulk API accepted.
	SyslogTCP int64
	SyslogUDP int64
	Bulk      int64
	// AttacksStarted counts scheduled attacks whose first record was sent.
	AttacksStarted int64
	// SendErrors counts failed writes, failed requests and documents the
	// bulk API rejected.
	SendErrors int64
	// BulkRetries counts bulk batches sent again after HTTP 429 or an error.
	BulkRetries int64
	// Dropped counts records dropped because a sender's queue was full.
	Dropped int64
	// SimTime is the simulated clock at the last scheduler step.
	SimTime time.Time
	// CaughtUp reports that the simulated clock has reached real time and
	// now runs at 1x.
	CaughtUp bool
}

// counters are the atomics behind Stats.
type counters struct {
	tcp, udp, bulk, attacks, errs, retries, dropped atomic.Int64
	clock                                           atomic.Pointer[clockReading] // at the last step
	caughtUp                                        atomic.Bool
}

// clockReading is the simulated clock at a scheduler step and the real
// time of that step.
type clockReading struct{ sim, real time.Time }

// Sim is a simulator. Create it with New and start it with Run.
type Sim struct {
	o   Options
	log *slog.Logger
	co  *company
	c   counters
}

// Defaults and tunables.
const (
	defaultSpeed   = 60
	defaultHistory = 24 * time.Hour
	tickEvery      = 20 * time.Millisecond // scheduler step, real time
)

// New returns a simulator with o's zero fields set to their defaults.
func New(o Options) *Sim {
	if o.Speed <= 0 {
		o.Speed = defaultSpeed
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Add(-defaultHistory)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Sim{o: o, log: log.With("component", "simulate"), co: defaultCompany()}
}

// Stats returns the counters so far. It is safe to call while Run runs.
func (s *Sim) Stats() Stats {
	st := Stats{
		SyslogTCP: s.c.tcp.Load(), SyslogUDP: s.c.udp.Load(), Bulk: s.c.bulk.Load(),
		AttacksStarted: s.c.attacks.Load(), SendErrors: s.c.errs.Load(),
		BulkRetries: s.c.retries.Load(), Dropped: s.c.dropped.Load(),
		SimTime:  s.o.Start,
		CaughtUp: s.c.caughtUp.Load(),
	}
	if r := s.c.clock.Load(); r != nil {
		st.SimTime = r.sim
	}
	return st
}

// simClock maps real time to simulated time: start + speed × elapsed,
// but never later than real time. It reports whether it is capped, that
// is whether the simulated clock has caught up.
func simClock(start, realStart time.Time, speed float64, realNow time.Time) (time.Time, bool) {
	sim := start.Add(time.Duration(float64(realNow.Sub(realStart)) * speed))
	if !sim.Before(realNow) {
		return realNow.In(start.Location()), true
	}
	return sim, false
}

// Run plays the company until ctx ends, then stops its senders and
// returns nil. It returns an error at once when the options name no
// usable output.
func (s *Sim) Run(ctx context.Context) error {
	if s.o.SyslogTCP == "" && s.o.SyslogUDP == "" && s.o.HTTPURL == "" {
		return errors.New("simulate: no output: set SyslogTCP, SyslogUDP or HTTPURL")
	}
	if s.o.HTTPURL != "" {
		u, err := url.Parse(s.o.HTTPURL)
		if err != nil {
			return fmt.Errorf("simulate: HTTPURL: %w", err)
		}
		if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("simulate: HTTPURL %q is not an http(s) base URL", s.o.HTTPURL)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel below: the senders stop, then Run returns
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := s.startSenders(ctx, &wg)

	seed := uint64(s.o.Seed)
	w := newWorld(s.co, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), out, s.log, &s.c)
	if s.o.SilentHost != "" {
		w.silentHost, w.silentFrom = s.o.SilentHost, s.o.Start.Add(s.o.SilentAfter)
		s.log.Info("scheduled a silent source", "host", s.o.SilentHost, "from", w.silentFrom.Format(time.RFC3339))
	}
	realStart := time.Now()
	w.scheduleAll(s.o.Start, s.realAt(realStart))
	s.log.Info("simulation started", "sim_start", s.o.Start.Format(time.RFC3339), "speed", s.o.Speed,
		"syslog_tcp", s.o.SyslogTCP, "syslog_udp", s.o.SyslogUDP, "http", s.o.HTTPURL)

	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		step := time.Now()
		now, capped := simClock(s.o.Start, realStart, s.o.Speed, step)
		w.runUntil(now)
		s.c.clock.Store(&clockReading{sim: now, real: step})
		if capped && !s.c.caughtUp.Swap(true) {
			s.log.Info("simulated clock caught up with real time; now running at 1x", "sim_time", now.Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// realAt returns a function giving the real time at which a simulated time
// will be reached, for the attack schedule the demo user reads.
func (s *Sim) realAt(realStart time.Time) func(time.Time) time.Time {
	return func(sim time.Time) time.Time {
		d := sim.Sub(s.o.Start)
		if s.o.Speed > 1 {
			// Before catch-up the clock runs at Speed; after, at 1x.
			catch := time.Duration(float64(realStart.Sub(s.o.Start)) / (s.o.Speed - 1))
			if r := time.Duration(float64(d) / s.o.Speed); r < catch {
				return realStart.Add(r)
			}
			return sim
		}
		return realStart.Add(time.Duration(float64(d) / s.o.Speed))
	}
}
