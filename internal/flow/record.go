// Package flow holds Vigil's normalised network flow record and the contract
// between the network analytics (baselines, beacons, DNS, exfiltration, new
// talkers, scans) and the engine that runs them.
//
// Flows are ordinary events in the ingest log and the event store (so they are
// durable and searchable like any other event); FromEvent reads the flow view
// of an event — a Zeek conn/dns/ssl/http record, a Suricata flow/netflow/dns
// record or a NetFlow/IPFIX/sFlow record from Vigil's collector — into a
// Record that the analytics consume without further parsing.
package flow

import (
	"net/netip"
	"time"
)

// Kind says what a Record describes.
type Kind uint8

// Record kinds.
const (
	// KindFlow is a connection or unidirectional flow with counters.
	KindFlow Kind = iota + 1
	// KindDNS is one DNS query (and its answer when known).
	KindDNS
	// KindApp is an application-layer connection that names its server
	// (a TLS SNI, an HTTP Host); it carries no counters of its own.
	KindApp
)

// State is a connection's normalised outcome.
type State uint8

// Connection states.
const (
	StateUnknown     State = iota
	StateEstablished       // data flowed both ways, or a completed handshake
	StateAttempt           // a connection attempt with no answer (Zeek S0, SYN only)
	StateRejected          // refused by the responder (Zeek REJ, SYN then RST)
	StateReset             // established, then reset
)

var stateNames = [...]string{"unknown", "established", "attempt", "rejected", "reset"}

// String returns the state's name.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Failed reports whether the connection never got an answer or was refused:
// the outcome scans leave behind.
func (s State) Failed() bool { return s == StateAttempt || s == StateRejected }

// Transport protocol numbers (IANA).
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// Record is one normalised observation of network traffic. Src is the
// originator (the side that opened the connection or sent the query), Dst the
// responder. "Out" counters go from Src to Dst, "In" counters back.
type Record struct {
	Kind Kind
	// EventID is the ID of the event the record was read from (0 when the
	// record did not come from a stored event).
	EventID uint64
	// Start is the event time of the first packet (or of the query); End is
	// the last packet's time, equal to Start when unknown.
	Start, End time.Time

	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8 // ProtoTCP, ProtoUDP, ...

	BytesOut, BytesIn int64 // sampling already applied
	PktsOut, PktsIn   int64
	State             State
	// Service is the application protocol when known (dns, http, ssl, ssh).
	Service string
	// Exporter is the device that reported the flow (a NetFlow exporter, a
	// Zeek or Suricata sensor), when known.
	Exporter string
	// Sampling is the exporter's sampling interval (1 in N packets); 0 or 1
	// means unsampled. Counters are already multiplied by it.
	Sampling uint32

	// Name is the server name for KindApp and the query name for KindDNS,
	// lower-cased and without a trailing dot.
	Name string
	// QType and RCode are the DNS query type (A, TXT, NULL, ...) and
	// response code (NOERROR, NXDOMAIN, ...) for KindDNS.
	QType, RCode string
	// Answer marks a KindDNS record that only reports a response (Suricata
	// logs queries and answers as separate records); analytics count
	// queries from records without it.
	Answer bool
}

// Duration returns End - Start (zero when unknown or negative).
func (r *Record) Duration() time.Duration {
	if d := r.End.Sub(r.Start); d > 0 {
		return d
	}
	return 0
}

// Bytes returns the bytes both ways.
func (r *Record) Bytes() int64 { return r.BytesOut + r.BytesIn }

// Packets returns the packets both ways.
func (r *Record) Packets() int64 { return r.PktsOut + r.PktsIn }
