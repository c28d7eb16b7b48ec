package flowcollect

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/schema"
)

const (
	// maxDatagram is the UDP read buffer: larger than any UDP payload.
	maxDatagram = 1 << 16
	// socketBuffer is the kernel receive buffer asked for (the kernel may
	// cap it), which absorbs export bursts while the reader is busy.
	socketBuffer = 8 << 20
	// readErrorWait is the pause after a failed read.
	readErrorWait = 10 * time.Millisecond
)

// datagram is one received packet waiting to be decoded.
type datagram struct {
	data []byte
	peer netip.AddrPort
	at   time.Time
}

// read moves datagrams from pc to the worker queues — always the same
// queue for one exporter address — dropping and counting them when that
// queue is full, until pc is closed.
func (c *Collector) read(name string, pc *net.UDPConn, queues []chan datagram) {
	if err := pc.SetReadBuffer(socketBuffer); err != nil {
		c.log.Debug("flow listener: cannot enlarge the socket buffer", "listener", name, "error", err)
	}
	buf := make([]byte, maxDatagram)
	dropping := false
	for {
		n, addr, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Warn("flow listener read failed", "listener", name, "error", err)
			time.Sleep(readErrorWait)
			continue
		}
		c.stats.received.Add(1)
		peer := netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		ip := peer.Addr().As16()
		q := queues[maphash.Bytes(c.seed, ip[:])%uint64(len(queues))]
		select {
		case q <- datagram{data: bytes.Clone(buf[:n]), peer: peer, at: time.Now()}:
			if dropping {
				dropping = false
				c.log.Info("flow queue has room again", "listener", name)
			}
		default:
			if !dropping {
				dropping = true
				c.log.Warn("flow queue full; dropping datagrams", "listener", name, "queue", cap(q))
			}
			c.stats.queueDropped.Add(1)
		}
	}
}

// work decodes queued datagrams into batches and submits them, until q is
// closed and drained.
func (c *Collector) work(ctx context.Context, d *Decoder, q <-chan datagram) {
	var evs []schema.Event
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		timer.Stop()
		c.submitAll(ctx, evs)
		// The slots are overwritten whole by the next Decode; the stale
		// events they hold meanwhile only keep their strings alive.
		evs = evs[:0]
	}
	for {
		select {
		case dg, ok := <-q:
			if !ok {
				flush()
				return
			}
			wasEmpty := len(evs) == 0
			var err error
			evs, err = d.Decode(dg.peer, dg.data, dg.at, evs)
			if err != nil {
				c.stats.malformed.Add(1)
				c.log.Debug("malformed flow datagram", "exporter", dg.peer.String(), "error", err)
			}
			switch {
			case len(evs) >= c.cfg.BatchSize:
				flush()
			case wasEmpty && len(evs) > 0:
				timer.Reset(c.cfg.FlushInterval)
			}
		case <-timer.C:
			flush()
		}
	}
}

// submitAll submits evs in batches of at most BatchSize events.
func (c *Collector) submitAll(ctx context.Context, evs []schema.Event) {
	for len(evs) > 0 {
		n := min(len(evs), c.cfg.BatchSize)
		c.submit(ctx, evs[:n])
		evs = evs[n:]
	}
}

// submit hands evs to the sink, retrying while it refuses them, until
// ctx is done; events still refused then are counted as lost.
func (c *Collector) submit(ctx context.Context, evs []schema.Event) {
	if err := ingest.SubmitRetry(ctx, c.sink, evs, "flow", c.log); err != nil {
		c.stats.lost.Add(uint64(len(evs)))
		return
	}
	c.stats.accepted.Add(uint64(len(evs)))
}

// limiter is a token bucket: rate tokens a second, at most burst saved.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, tokens: burst}
}

// allow takes a token if there is one.
func (l *limiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
