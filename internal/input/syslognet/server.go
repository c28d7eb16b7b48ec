// Package syslognet receives syslog over the network: RFC 5426 UDP, and
// RFC 6587 TCP and RFC 5425 TLS with the framing detected frame by frame
// (octet counting or non-transparent). Messages are parsed by
// internal/parse/syslog into schema.Events and handed to an ingest.Sink in
// batches.
//
// A TCP or TLS connection is not read while its batch is being submitted,
// and a batch refused with ingest.ErrBackpressure is retried with growing
// waits, so a slow sink slows the senders down instead of losing events.
// UDP has no such feedback: datagrams wait in a bounded queue and are
// dropped, and counted, when it is full.
//
// Host attribution: when a message carries no hostname (Host.Name is
// empty after parsing), Host.Name is set to the peer's IP address. Rejects
// name the peer's IP address as their Source.
package syslognet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/syslog"
)

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 10 * time.Second

// Accept retry waits after a failed Accept.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// Server is a set of syslog listeners feeding one sink. Make it with New;
// Run serves once.
type Server struct {
	cfg     Config
	sink    ingest.Sink
	rejects ingest.RejectRecorder
	parser  *syslog.Parser
	log     *slog.Logger
	tlsConf *tls.Config

	started atomic.Bool
	ready   chan struct{}
	addrs   [3]net.Addr // udp, tcp, tls; written before ready is closed
	stats   counters

	connMu sync.Mutex
	conns  map[net.Conn]struct{} // open TCP and TLS connections (raw)
	closed bool                  // set at shutdown; no new connections
}

// New checks cfg, loads or makes the TLS certificate and returns a server
// that is not yet listening. rejects may be nil when rejected messages need
// only be counted.
func New(cfg Config, sink ingest.Sink, rejects ingest.RejectRecorder, parser *syslog.Parser, log *slog.Logger) (*Server, error) {
	if sink == nil || parser == nil || log == nil {
		return nil, errors.New("syslognet: sink, parser and logger are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, sink: sink, rejects: rejects, parser: parser, log: log,
		ready: make(chan struct{}),
		conns: make(map[net.Conn]struct{}),
	}
	if cfg.TLS != "" {
		if s.tlsConf, err = loadTLS(&s.cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// loadTLS loads the configured key pair, making a self-signed one first
// when none is configured.
func loadTLS(cfg *Config) (*tls.Config, error) {
	if cfg.CertFile == "" {
		host, _, err := net.SplitHostPort(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("syslognet: TLS address %q: %w", cfg.TLS, err)
		}
		if cfg.CertFile, cfg.KeyFile, err = EnsureSelfSigned(cfg.DataDir, defaultHosts(host)); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("syslognet: load TLS key pair: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Ready is closed once every configured listener is bound. It stays open
// when Run fails to bind them.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the bound addresses, nil for a disabled listener. They are
// valid once Ready is closed.
func (s *Server) Addrs() (udp, tcp, tls net.Addr) {
	select {
	case <-s.ready:
		return s.addrs[0], s.addrs[1], s.addrs[2]
	default:
		return nil, nil, nil
	}
}

// Stats returns the current counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Run binds the listeners, serves until ctx is done, then closes the
// listeners and connections, submits the batches in hand (retrying for at
// most Config.ShutdownTimeout) and returns. It returns an error only when a
// listener cannot be bound, and may be called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("syslognet: Run called twice")
	}
	l, err := s.listen(ctx)
	if err != nil {
		return err
	}
	close(s.ready)

	// Submits use flushCtx: it outlives ctx by the shutdown timeout so the
	// batches in hand at shutdown can still be delivered.
	flushCtx, cancelFlush := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFlush()
	var wg sync.WaitGroup
	if l.udp != nil {
		wg.Go(func() { s.serveUDP(flushCtx, l.udp) })
	}
	if l.tcp != nil {
		wg.Go(func() { s.acceptLoop(ctx, flushCtx, l.tcp, "tcp", &wg) })
	}
	if l.tls != nil {
		wg.Go(func() { s.acceptLoop(ctx, flushCtx, l.tls, "tls", &wg) })
	}
	s.log.Info("syslog listeners started", "udp", s.addrs[0], "tcp", s.addrs[1], "tls", s.addrs[2])

	<-ctx.Done()
	stop := time.AfterFunc(s.cfg.ShutdownTimeout, cancelFlush)
	defer stop.Stop()
	l.close()
	s.closeConns()
	wg.Wait()
	st := s.Stats()
	s.log.Info("syslog listeners stopped", "received", st.Received, "accepted", st.Accepted,
		"rejected", st.Rejected, "udp_dropped", st.UDPDropped, "lost", st.Lost)
	return nil
}

// listeners are the bound sockets of one Run.
type listeners struct {
	udp      *net.UDPConn
	tcp, tls net.Listener
}

func (l *listeners) close() {
	if l.udp != nil {
		_ = l.udp.Close()
	}
	if l.tcp != nil {
		l.tcp.Close()
	}
	if l.tls != nil {
		l.tls.Close()
	}
}

// listen binds the configured listeners, closing them all if one fails.
func (s *Server) listen(ctx context.Context) (*listeners, error) {
	var lc net.ListenConfig
	l := &listeners{}
	fail := func(what, addr string, err error) (*listeners, error) {
		l.close()
		return nil, fmt.Errorf("syslognet: listen %s %s: %w", what, addr, err)
	}
	if s.cfg.UDP != "" {
		pc, err := lc.ListenPacket(ctx, "udp", s.cfg.UDP)
		if err != nil {
			return fail("udp", s.cfg.UDP, err)
		}
		l.udp = pc.(*net.UDPConn)
		s.addrs[0] = l.udp.LocalAddr()
	}
	if s.cfg.TCP != "" {
		ln, err := lc.Listen(ctx, "tcp", s.cfg.TCP)
		if err != nil {
			return fail("tcp", s.cfg.TCP, err)
		}
		l.tcp = ln
		s.addrs[1] = ln.Addr()
	}
	if s.cfg.TLS != "" {
		ln, err := lc.Listen(ctx, "tcp", s.cfg.TLS)
		if err != nil {
			return fail("tls", s.cfg.TLS, err)
		}
		l.tls = ln
		s.addrs[2] = ln.Addr()
	}
	return l, nil
}

// acceptLoop accepts connections until the listener is closed, serving
// each in its own goroutine tracked by wg.
func (s *Server) acceptLoop(ctx, flushCtx context.Context, ln net.Listener, kind string, wg *sync.WaitGroup) {
	wait := time.Duration(0)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			wait = min(max(2*wait, acceptRetryMin), acceptRetryMax)
			s.log.Warn("syslog accept failed; retrying", "listener", kind, "wait", wait, "error", err)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			continue
		}
		wait = 0
		if !s.track(conn) {
			continue
		}
		wg.Go(func() {
			defer s.untrack(conn)
			s.serveConn(ctx, flushCtx, conn, kind)
		})
	}
}

// track registers a new connection, or closes it and returns false when
// MaxConns are open or the server is shutting down.
func (s *Server) track(conn net.Conn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.closed || len(s.conns) >= s.cfg.MaxConns {
		if !s.closed {
			s.stats.refused.Add(1)
			s.log.Warn("syslog connection refused: too many connections",
				"peer", conn.RemoteAddr().String(), "max_conns", s.cfg.MaxConns)
		}
		conn.Close()
		return false
	}
	s.conns[conn] = struct{}{}
	s.stats.connections.Add(1)
	return true
}

// untrack closes and forgets a connection.
func (s *Server) untrack(conn net.Conn) {
	conn.Close()
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if _, ok := s.conns[conn]; ok {
		delete(s.conns, conn)
		s.stats.connections.Add(-1)
	}
}

// closeConns closes every open connection, which ends their reads, and
// stops new ones being tracked.
func (s *Server) closeConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
}
