package simulate

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// Sender tunables.
const (
	queueLen      = 8192             // records a sender buffers before dropping
	writeTimeout  = 10 * time.Second // for one syslog write
	dialTimeout   = 5 * time.Second
	backoffMin    = 100 * time.Millisecond
	backoffMax    = 10 * time.Second
	lineQueueWarn = "simulator queue full, dropping records"
)

// outputs are the senders the scheduler hands records to.
type outputs struct {
	syslog map[string]*lineSender // by host name
	bulk   *bulkSender            // nil when HTTPURL is empty
}

// startSenders starts one syslog sender per Linux host whose transport is
// configured, and the bulk sender, on wg.
func (s *Sim) startSenders(ctx context.Context, wg *sync.WaitGroup) *outputs {
	out := &outputs{syslog: map[string]*lineSender{}}
	for i := range s.co.hosts {
		h := &s.co.hosts[i]
		addr := ""
		switch h.via {
		case viaTCP:
			addr = s.o.SyslogTCP
		case viaUDP:
			addr = s.o.SyslogUDP
		}
		if addr == "" {
			continue
		}
		l := &lineSender{host: h.name, via: h.via, addr: addr, ch: make(chan []byte, queueLen), c: &s.c,
			log: s.log.With("host", h.name, "transport", h.via, "addr", addr)}
		out.syslog[h.name] = l
		wg.Go(func() { l.run(ctx) })
	}
	if s.o.HTTPURL != "" {
		b := newBulkSender(s.o.HTTPURL, s.o.Token, &s.c, s.log)
		out.bulk = b
		wg.Go(func() { b.run(ctx) })
	}
	return out
}

// lineSender sends one host's syslog messages over one persistent
// connection: TCP with RFC 6587 octet counting, or UDP datagrams.
type lineSender struct {
	host, via, addr string
	ch              chan []byte
	c               *counters
	log             *slog.Logger
	dropping        bool // only touched by the scheduler goroutine
}

// send queues a message without blocking; a full queue drops it.
func (l *lineSender) send(msg []byte) {
	select {
	case l.ch <- msg:
		l.dropping = false
	default:
		l.c.dropped.Add(1)
		if !l.dropping {
			l.dropping = true
			l.log.Warn(lineQueueWarn)
		}
	}
}

func (l *lineSender) run(ctx context.Context) {
	if l.via == viaUDP {
		l.runUDP(ctx)
		return
	}
	l.runTCP(ctx)
}

// tcpConn is a connection and a channel closed when the peer has closed
// it or it failed, so that a dead connection is noticed before a write
// into it is lost.
type tcpConn struct {
	net.Conn
	dead chan struct{}
}

func dialTCP(ctx context.Context, addr string) (*tcpConn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := &tcpConn{Conn: c, dead: make(chan struct{})}
	go func() {
		// The listener never writes: any read result means the end.
		_, _ = io.Copy(io.Discard, c)
		close(tc.dead)
	}()
	return tc, nil
}

func (l *lineSender) runTCP(ctx context.Context) {
	var conn *tcpConn
	defer func() {
		if conn != nil {
			conn.Close()
			<-conn.dead // the reader has returned
		}
	}()
	bo := backoff{}
	failing := false
	for {
		var msg []byte
		select {
		case <-ctx.Done():
			return
		case msg = <-l.ch:
		}
		frame := append(strconv.AppendInt(make([]byte, 0, len(msg)+8), int64(len(msg)), 10), ' ')
		frame = append(frame, msg...)
		for {
			err := l.writeTCP(ctx, &conn, frame)
			if err == nil {
				l.c.tcp.Add(1)
				if failing {
					l.log.Info("syslog connection restored")
					failing = false
				}
				bo.reset()
				break
			}
			if ctx.Err() != nil {
				return
			}
			l.c.errs.Add(1)
			if !failing {
				l.log.Warn("syslog send failed; retrying with backoff", "err", err)
				failing = true
			}
			if !sleepCtx(ctx, bo.next()) {
				return
			}
		}
	}
}

// writeTCP writes one frame, dialling first when there is no live
// connection. On failure the connection is closed and cleared.
func (l *lineSender) writeTCP(ctx context.Context, conn **tcpConn, frame []byte) error {
	if *conn != nil {
		select {
		case <-(*conn).dead:
			(*conn).Close()
			*conn = nil
		default:
		}
	}
	if *conn == nil {
		c, err := dialTCP(ctx, l.addr)
		if err != nil {
			return err
		}
		*conn = c
	}
	_ = (*conn).SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := (*conn).Write(frame); err != nil {
		(*conn).Close()
		<-(*conn).dead
		*conn = nil
		return err
	}
	return nil
}

func (l *lineSender) runUDP(ctx context.Context) {
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	failing := false
	for {
		var msg []byte
		select {
		case <-ctx.Done():
			return
		case msg = <-l.ch:
		}
		var err error
		if conn == nil {
			d := net.Dialer{Timeout: dialTimeout}
			conn, err = d.DialContext(ctx, "udp", l.addr)
		}
		if err == nil {
			if _, err = conn.Write(msg); err != nil {
				conn.Close()
				conn = nil
			}
		}
		if err != nil {
			// UDP has no delivery guarantee: count the loss and go on.
			l.c.errs.Add(1)
			if !failing {
				l.log.Warn("syslog datagram not sent", "err", err)
				failing = true
			}
			continue
		}
		failing = false
		l.c.udp.Add(1)
	}
}

// backoff is an exponential delay between backoffMin and backoffMax.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	switch {
	case b.d == 0:
		b.d = backoffMin
	case b.d < backoffMax:
		b.d = min(2*b.d, backoffMax)
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
