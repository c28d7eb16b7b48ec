package scan

import (
	"net/netip"

	"github.com/vigil-soc/vigil/internal/flow"
)

// headerOnlyBytes is the largest average reply packet, in bytes, that can
// carry no application data: link, IP and TCP headers with options (a bare
// RST, SYN-ACK or ACK). Zeek counts payload bytes, so its refused
// connections show 0; Suricata and flow exporters count whole packets.
const headerOnlyBytes = 80

// Ports that mark the ephemeral ranges: below 1024 are system ports,
// 32768 and up the ephemeral range of Linux (and above Windows' 49152).
const (
	systemPortEnd    = 1024
	ephemeralPortMin = 32768
)

// Refused reports whether r is a TCP connection the responder refused or
// never served, although its state reads "reset": the reply carried at most
// two header-only packets. Sensors that OR the TCP flags of both directions
// (Suricata's tcp_flags, NetFlow) report a SYN answered by RST-ACK as a reset
// connection; this recovers the refusal.
func Refused(r *flow.Record) bool {
	return r.Proto == flow.ProtoTCP && r.State == flow.StateReset &&
		r.PktsIn > 0 && r.PktsIn <= 2 && r.BytesIn <= headerOnlyBytes*r.PktsIn
}

// Failed reports whether r is an attempt that got no service: no answer,
// refused, or an ICMP request without a reply. Records whose outcome is
// unknown (unidirectional NetFlow without TCP flags) are not failed.
func Failed(r *flow.Record) bool {
	if r.State.Failed() || Refused(r) {
		return true
	}
	return isICMP(r.Proto) && r.State == flow.StateEstablished && r.PktsIn == 0 && r.BytesIn == 0
}

// Answered reports whether r got a service answer.
func Answered(r *flow.Record) bool {
	switch r.State {
	case flow.StateEstablished:
		return !isICMP(r.Proto) || r.PktsIn > 0 || r.BytesIn > 0
	case flow.StateReset:
		return !Refused(r)
	}
	return false
}

// ReplyLike reports whether r runs from a service port to a client port (a
// system port to a higher one, or a port below the ephemeral range to one
// in it): a server's reply or a service's announcement whose direction the
// sensor guessed wrong, common for UDP and for connections that started
// before the capture.
func ReplyLike(r *flow.Record) bool {
	s, d := r.SrcPort, r.DstPort
	if s == 0 || d == 0 {
		return false
	}
	return (s < systemPortEnd && d >= systemPortEnd) || (s < ephemeralPortMin && d >= ephemeralPortMin)
}

// knownOpener reports whether r's orientation is certain: a TCP attempt or
// refusal, where the source sent the SYN.
func knownOpener(r *flow.Record) bool {
	return r.Proto == flow.ProtoTCP && (r.State.Failed() || Refused(r))
}

func isICMP(p uint8) bool { return p == flow.ProtoICMP || p == flow.ProtoICMPv6 }

// icmpProbe reports whether an ICMP record is a request a sweep sends:
// echo, timestamp or address-mask request (IPv4 types 8, 13, 17) or an IPv6
// echo request (128). Zeek and flow exporters put the ICMP type in the
// source port. Replies and errors (unreachable, time exceeded) are not.
func icmpProbe(r *flow.Record) bool {
	if r.Proto == flow.ProtoICMP {
		return r.SrcPort == 8 || r.SrcPort == 13 || r.SrcPort == 17
	}
	return r.SrcPort == 128
}

// scannable reports whether dst can be a scan target: not multicast,
// broadcast or unspecified.
func scannable(dst netip.Addr) bool {
	if !dst.IsValid() || dst.IsMulticast() || dst.IsUnspecified() || dst.IsInterfaceLocalMulticast() {
		return false
	}
	return dst != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
