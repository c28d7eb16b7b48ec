package newtalker

import "github.com/vigil-soc/vigil/internal/flow"

// talking reports whether r is a conversation: an established connection,
// or one reset after it was established. A connection refused with a bare
// RST (Suricata and NetFlow OR the TCP flags of both directions, so it
// reads as "reset") and failed attempts are not: scans are the scan
// package's job.
func talking(r *flow.Record) bool {
	switch r.State {
	case flow.StateEstablished:
		return true
	case flow.StateReset:
		refused := r.Proto == flow.ProtoTCP && r.PktsIn > 0 && r.PktsIn <= 2 && r.BytesIn <= 80*r.PktsIn
		return !refused
	}
	return false
}

// replyLike reports whether r runs from a service port to a client port,
// so that the sensor saw the conversation the wrong way round: from below
// the ephemeral range (32768) into it, or, for UDP and other
// connectionless protocols, from a system port (below 1024) to a higher
// one. TCP clients may use system source ports (NFS, rsh), so that second
// rule does not apply to TCP.
func replyLike(r *flow.Record) bool {
	s, d := r.SrcPort, r.DstPort
	if s == 0 || d == 0 {
		return false
	}
	if s < 32768 && d >= 32768 {
		return true
	}
	return r.Proto != flow.ProtoTCP && s < 1024 && d >= 1024
}

func isICMP(p uint8) bool { return p == flow.ProtoICMP || p == flow.ProtoICMPv6 }
