package syslognet

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// serveConn reads one TCP or TLS connection until it ends or the server
// stops. Reading pauses while a batch is submitted, which is the
// connection's backpressure.
func (s *Server) serveConn(ctx, flushCtx context.Context, raw net.Conn, kind string) {
	peer := peerIP(raw.RemoteAddr())
	log := s.log.With("listener", kind, "peer", raw.RemoteAddr().String())
	conn := raw
	if kind == "tls" {
		tc := tls.Server(raw, s.tlsConf)
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			log.Warn("syslog TLS handshake failed", "error", err)
			return
		}
		conn = tc
	}
	log.Debug("syslog connection opened")
	fr := newFrameReader(conn, s.cfg.MaxMessage)
	b := s.newBatcher()
	var deadline time.Time // the read deadline set on conn
	for {
		var want time.Time
		if b.len() > 0 {
			want = b.start.Add(s.cfg.FlushInterval)
		}
		if !want.Equal(deadline) {
			if err := conn.SetReadDeadline(want); err != nil {
				b.flush(flushCtx)
				log.Debug("syslog connection closed", "error", err)
				return
			}
			deadline = want
		}
		msg, err := fr.Next()
		if err == nil {
			s.stats.received.Add(1)
			b.add(msg, peer, time.Now())
			if b.full() {
				b.flush(flushCtx)
			}
			continue
		}
		var fe *frameError
		switch {
		case errors.As(err, &fe):
			s.stats.received.Add(1)
			s.reject(peer, fe.reason, fe.detail, fe.raw)
		case isTimeout(err):
			b.flush(flushCtx)
		default:
			b.flush(flushCtx)
			s.logConnEnd(ctx, log, err)
			return
		}
	}
}

// logConnEnd logs why a connection's reading ended.
func (s *Server) logConnEnd(ctx context.Context, log *slog.Logger, err error) {
	if errors.Is(err, io.EOF) || (ctx.Err() != nil && errors.Is(err, net.ErrClosed)) {
		log.Debug("syslog connection closed")
		return
	}
	log.Warn("syslog connection read failed", "error", err)
}

// peerIP returns the IP address of a peer address, without the port.
func peerIP(a net.Addr) string {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap().String()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap().String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// reject counts a rejected message and hands it to the recorder.
func (s *Server) reject(peer, reason, detail string, raw []byte) {
	s.stats.rejected.Add(1)
	if s.rejects == nil {
		return
	}
	s.rejects.Record(ingest.Reject{
		Time: time.Now(), Input: schema.InputSyslog, Source: peer,
		Reason: reason, Detail: detail, Raw: raw,
	})
}

// batcher collects the events of one connection or UDP worker.
type batcher struct {
	s     *Server
	evs   []schema.Event // grows up to BatchSize; reused after each flush
	start time.Time      // when the batch's first event arrived
}

func (s *Server) newBatcher() *batcher { return &batcher{s: s} }

func (b *batcher) len() int   { return len(b.evs) }
func (b *batcher) full() bool { return len(b.evs) >= b.s.cfg.BatchSize }

// add parses one message from peer into the batch, or rejects it.
func (b *batcher) add(msg []byte, peer string, received time.Time) {
	b.evs = append(b.evs, schema.Event{})
	ev := &b.evs[len(b.evs)-1]
	if err := b.s.parser.Parse(msg, received, ev); err != nil {
		b.evs = b.evs[:len(b.evs)-1]
		detail := err.Error()
		var pe *parse.Error
		if errors.As(err, &pe) && pe.Err != nil {
			detail = pe.Err.Error()
		}
		b.s.reject(peer, parse.Reason(err), detail, bytes.Clone(msg))
		return
	}
	if ev.Host.Name == "" {
		ev.Host.Name = peer
	}
	if ev.Input == "" {
		ev.Input = schema.InputSyslog
	}
	if len(b.evs) == 1 {
		b.start = received
	}
}

// flush submits the batch, if any, and empties it.
func (b *batcher) flush(ctx context.Context) {
	if len(b.evs) == 0 {
		return
	}
	b.s.submit(ctx, b.evs)
	clear(b.evs)
	b.evs = b.evs[:0]
}

// submit hands evs to the sink, retrying while it refuses them, until
// ctx is done; events still refused then are counted as lost.
func (s *Server) submit(ctx context.Context, evs []schema.Event) {
	if err := ingest.SubmitRetry(ctx, s.sink, evs, "syslog", s.log); err != nil {
		s.stats.lost.Add(uint64(len(evs)))
		return
	}
	s.stats.accepted.Add(uint64(len(evs)))
}
