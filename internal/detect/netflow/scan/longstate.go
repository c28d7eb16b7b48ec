package scan

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-soc/vigil/internal/flow"
)

type longSnapshot struct {
	Version  int
	GCAt     int64
	Dropped  uint64
	Sessions []sessionSnap
}

type sessionSnap struct {
	In, Ext           [16]byte
	InPort, ExtPort   uint16
	Proto             uint8
	Start, End        int64
	BytesOut, BytesIn int64
	Pkts              int64
	Records           uint32
	Level             uint8
	Queued, Inbound   bool
	// Current says the session is the tracked one for its key (a queued
	// session may have been replaced by a newer connection).
	Current bool
	Service string
	Events  []uint64
}

func snapSession(k connKey, s *session, current bool) sessionSnap {
	return sessionSnap{In: k.in, Ext: k.ext, InPort: k.inPort, ExtPort: k.extPort, Proto: k.proto,
		Start: s.start, End: s.end, BytesOut: s.bytesOut, BytesIn: s.bytesIn, Pkts: s.pkts,
		Records: s.records, Level: s.level, Queued: s.queued, Inbound: s.inbound, Current: current,
		Service: s.service, Events: s.events}
}

// MarshalBinary implements flow.Analyzer: it saves the tracked connections
// and those waiting to be signalled.
func (l *LongConn) MarshalBinary() ([]byte, error) {
	snap := longSnapshot{Version: stateVersion, GCAt: l.gcAt, Dropped: l.dropped}
	for k, s := range l.sessions {
		snap.Sessions = append(snap.Sessions, snapSession(k, s, true))
	}
	for _, q := range l.pending {
		if l.sessions[q.k] != q.s {
			snap.Sessions = append(snap.Sessions, snapSession(q.k, q.s, false))
		}
	}
	slices.SortFunc(snap.Sessions, func(x, y sessionSnap) int {
		return cmp.Or(cmp.Compare(x.End, y.End), bytes.Compare(x.In[:], y.In[:]), bytes.Compare(x.Ext[:], y.Ext[:]),
			cmp.Compare(x.InPort, y.InPort), cmp.Compare(x.ExtPort, y.ExtPort), cmp.Compare(x.Proto, y.Proto))
	})
	return flow.EncodeState("long connection", &snap)
}

// UnmarshalBinary implements flow.Analyzer: it replaces the analyzer's
// state with one saved by MarshalBinary.
func (l *LongConn) UnmarshalBinary(data []byte) error {
	var snap longSnapshot
	if err := flow.DecodeState("long connection", data, &snap); err != nil {
		return err
	}
	if snap.Version != stateVersion {
		return fmt.Errorf("long connection: restore state: version %d, want %d", snap.Version, stateVersion)
	}
	sessions := make(map[connKey]*session, len(snap.Sessions))
	var pending []queued
	for _, ss := range snap.Sessions {
		k := connKey{in: ss.In, ext: ss.Ext, inPort: ss.InPort, extPort: ss.ExtPort, proto: ss.Proto}
		s := &session{start: ss.Start, end: ss.End, bytesOut: ss.BytesOut, bytesIn: ss.BytesIn, pkts: ss.Pkts,
			records: ss.Records, level: ss.Level, queued: ss.Queued, inbound: ss.Inbound, service: ss.Service,
			events: ss.Events}
		if len(s.events) > maxEvidence {
			s.events = s.events[:maxEvidence]
		}
		if ss.Current {
			sessions[k] = s
		}
		if s.queued {
			pending = append(pending, queued{k, s})
		}
	}
	l.sessions, l.pending, l.gcAt, l.dropped = sessions, pending, snap.GCAt, snap.Dropped
	return nil
}
