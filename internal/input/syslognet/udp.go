package syslognet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
)

const (
	// maxDatagram is the UDP read buffer: larger than any UDP payload.
	maxDatagram = 1 << 16
	// udpSocketBuffer is the kernel receive buffer asked for (the kernel
	// may cap it), which absorbs bursts while the reader is busy.
	udpSocketBuffer = 4 << 20
	// udpErrorWait is the pause after a failed UDP read.
	udpErrorWait = 10 * time.Millisecond
)

// datagram is one received UDP message waiting to be parsed.
type datagram struct {
	data []byte
	peer netip.Addr
	at   time.Time
}

// serveUDP reads datagrams until pc is closed, then lets the workers
// finish the queue and returns.
func (s *Server) serveUDP(flushCtx context.Context, pc *net.UDPConn) {
	if err := pc.SetReadBuffer(udpSocketBuffer); err != nil {
		s.log.Debug("syslog UDP: cannot enlarge the socket buffer", "error", err)
	}
	q := make(chan datagram, s.cfg.UDPQueue)
	var wg sync.WaitGroup
	for range s.cfg.UDPWorkers {
		wg.Go(func() { s.udpWorker(flushCtx, q) })
	}
	s.readUDP(pc, q)
	close(q)
	wg.Wait()
}

// readUDP moves datagrams from pc into q, dropping and counting them when
// q is full, until pc is closed.
func (s *Server) readUDP(pc *net.UDPConn, q chan<- datagram) {
	buf := make([]byte, maxDatagram)
	dropping := false
	var droppedAtStart uint64
	for {
		n, addr, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("syslog UDP read failed", "error", err)
			time.Sleep(udpErrorWait)
			continue
		}
		s.stats.received.Add(1)
		peer := addr.Addr().Unmap()
		msg := trimTrailer(buf[:n])
		if len(msg) > s.cfg.MaxMessage {
			s.reject(peer.String(), parse.ReasonOversized,
				fmt.Sprintf("datagram of %d bytes exceeds the limit of %d", len(msg), s.cfg.MaxMessage),
				bytes.Clone(msg[:min(len(msg), rawKeep)]))
			continue
		}
		select {
		case q <- datagram{data: bytes.Clone(msg), peer: peer, at: time.Now()}:
			if dropping {
				dropping = false
				s.log.Info("syslog UDP queue has room again",
					"dropped", s.stats.udpDropped.Load()-droppedAtStart)
			}
		default:
			if !dropping {
				dropping = true
				droppedAtStart = s.stats.udpDropped.Load()
				s.log.Warn("syslog UDP queue full; dropping datagrams", "queue", s.cfg.UDPQueue)
			}
			s.stats.udpDropped.Add(1)
		}
	}
}

// udpWorker parses queued datagrams into batches until q is closed and
// drained.
func (s *Server) udpWorker(ctx context.Context, q <-chan datagram) {
	b := s.newBatcher()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last netip.Addr
	lastStr := ""
	for {
		select {
		case d, ok := <-q:
			if !ok {
				b.flush(ctx)
				return
			}
			if d.peer != last || lastStr == "" {
				last, lastStr = d.peer, d.peer.String()
			}
			wasEmpty := b.len() == 0
			b.add(d.data, lastStr, d.at)
			switch {
			case b.full():
				timer.Stop()
				b.flush(ctx)
			case wasEmpty && b.len() > 0:
				timer.Reset(s.cfg.FlushInterval)
			}
		case <-timer.C:
			b.flush(ctx)
		}
	}
}
