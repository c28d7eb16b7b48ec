// Package scan holds two network analytics: port scans and host sweeps
// (Analyzer, signals of kind flow.SignalScan) and long connections
// (LongConn, flow.SignalLongConn). Both implement flow.Analyzer, read
// KindFlow records only and run on event time alone.
//
// # Scans
//
// Every flow record is read as a probe by its source of one target: a host
// and port for TCP, UDP and SCTP, a host for ICMP requests (echo, timestamp
// and address-mask requests, ICMPv6 echo; the ICMP type is in the source
// port as Zeek and flow exporters write it). Not probes: ICMP replies and
// errors, multicast, broadcast and unspecified targets, sources listed in
// ignore_sources, targets in ignore_targets, and flows that look like a
// reply the sensor saw the wrong way round — from a system port (below
// 1024) to a higher one, or from below 32768 to the ephemeral range —
// unless they are TCP attempts, whose direction the SYN fixes.
//
// A probe failed when it got no answer or was refused: flow.State.Failed
// (Zeek S0, REJ, SH...; a SYN without ACK), an ICMP request without reply,
// or a TCP connection "reset" whose reply was at most two header-only
// packets (at most 80 bytes each) — Suricata and NetFlow OR the flags of
// both directions, so a SYN refused with RST-ACK reads as a reset. A probe
// was answered when data came back. Records that say neither (NetFlow UDP
// without reply counters) count as targets that neither failed nor
// answered.
//
// Per source the analyzer keeps each distinct target it probed, with
// bitmaps of the hops (half the fast window, 2m30s by default) in which it
// was probed, answered and failed, for the last 64 hops. At each hop
// boundary that the watermark passes it evaluates the sources active in the
// hop that ended, over two windows ending at the boundary:
//
//   - fast (window, default 5m, a hopping window that moves by half its
//     length): a horizontal scan is one port and protocol probed on at
//     least horizontal_min_hosts (25) distinct hosts, a vertical scan one
//     host probed on at least vertical_min_ports (25) distinct ports of one
//     protocol, a host sweep ICMP requests to at least sweep_min_hosts (25)
//     distinct hosts — each only when at least min_failed_ratio (0.3) of
//     those targets failed (a target fails when a probe of it failed and
//     none was answered within the window). Successful probes count as
//     targets: a scanner that finds open ports still scanned; the failed
//     share is what tells a scan from a busy client, whose connections
//     nearly all succeed (a browser opening 64 sites, passive FTP, a
//     monitoring server).
//   - slow (slow_window, default 1h, 0 disables; at most 24 windows): at
//     least slow_min_failed (30) distinct failed targets of one group, when
//     the fast window alone does not hold a threshold's worth of failures
//     (then the fast rule judged them). It is judged at every eighth of the
//     slow window, in whole hops (7m30s by default, boundaries aligned to
//     the Unix epoch), for the sources active since the previous such
//     boundary. Only failed targets are counted, as Zeek's scan policy
//     does, so contacts that only succeeded are kept for the fast window
//     alone and the state stays small.
//
// The thresholds follow Zeek's scan policy (25 hosts in 5 minutes) and are
// stricter than Slips', which reports 5 unanswered hosts or ports within
// its one-hour time windows; the failed share of 0.3 rather than a
// majority lets through scans of live ranges where many hosts answer, such
// as the port-scans/horizontal capture of the Slips dataset (25 web servers
// in 32 seconds, 40% unanswered).
//
// A signal's Host is the scanning source; Port is the port of a horizontal
// scan and Peer the target of a vertical one. Its Key names source, kind
// and port or target ("scan|horizontal|10.0.0.5|tcp/445",
// "scan|vertical|203.0.113.9|10.0.0.20/tcp", "scan|sweep|10.0.0.8|icmp"), so
// every window of one scan groups into one alert. A scan is signalled at the
// first boundary where it crosses a threshold and again only when the
// distinct targets it probed since then have doubled, until it stays below
// its thresholds for quiet (default 6h). At one boundary a source raises at
// most three signals of one kind, the largest scans first; the facts say
// how many more crossed. Facts give the kind, speed, window, targets, the
// failed and answered counts, attempts, first and last probe, the threshold,
// targets since the first signal, whether the source is internal, how many
// targets are internal and up to ten sample targets (ports for a vertical
// scan); Evidence holds up to 20 event IDs. Current is the target count;
// Baseline and Factor stay zero (a scan is a threshold, not a deviation).
//
// Proposed severity: high for an internal source probing mostly internal
// targets with at least high_failed_ratio (0.6) of them failed in the fast
// window (reconnaissance for lateral movement); medium for other scans from
// internal hosts (an internal host scanning the Internet is likely
// infected) and for external scans that internal targets answered; low for
// the rest — the background scanning every public address receives. Score
// is 0.4 + 0.2·log2(count/threshold) + 0.3·failed share, at most 1. Tags:
// attack.reconnaissance and attack.t1595 for external sources,
// attack.discovery with attack.t1046 (ports) or attack.t1018 (sweeps) for
// internal ones.
//
// Bounded state: at most max_contacts_per_source (4096) targets per source
// and max_contacts (2,000,000) in all; refused contacts and records older
// than the 64-hop history are counted (Dropped). Contacts are dropped once
// no later window can count them; sources when they hold no contacts and
// no running scan. Records may run ahead of the watermark: before a
// source's history moves past hops not yet evaluated, those windows are
// evaluated and their signals wait for the next Advance, so results do not
// depend on how records are batched. Contacts live in a slab indexed by an
// open-addressing hash table, and each source counts per hop the targets it
// first saw and first failed on: upper bounds that let an evaluation skip
// busy clients without reading their contacts. A contact costs about 170
// bytes.
//
// # Long connections
//
// LongConn reports connections between an internal host and an external
// one (either may have opened it; with internal: true also between internal
// hosts) that stay open at least min_duration (default 1h). Records of one
// connection — the same addresses, ports and protocol in either direction —
// are joined when the next starts no more than stitch_gap (5m) after the
// last ended: flow exporters cut long connections at their active timeout
// and send each direction apart, and Zeek's long-connection policy logs a
// connection several times. A record shorter than min_chunk (1m) does not
// start tracking; multicast and broadcast peers, peers in allow_cidrs and
// service ports in allow_ports are skipped. The direction and service port
// come from the first record, turned round when it looks like a reply (see
// above).
//
// A connection is signalled when it crosses min_duration and again at 2, 4,
// 8... times it (thresholds crossed between two Advance calls signal once).
// Host is the internal side, Peer the external one, Port the service port;
// Key is "long_connection|internal|peer|proto/port", so repeated sessions
// of a pair group. Facts give duration, threshold, direction, service,
// records joined, bytes each way, packets and, with a prevalence reader,
// how many internal hosts talk to the peer. Proposed severity is low,
// medium from four times min_duration or when the peer is rare (only this
// host talks to it among at least 10 active hosts). Score is
// 0.3 + 0.2·log2(duration/min_duration), at most 1. Tags:
// attack.command_and_control, attack.t1071. At most max_sessions (200,000)
// connections are tracked; a tracked connection costs about 300 bytes. The
// default of one hour is longer than Slips' 25 minutes: browsers' push
// channels and streaming often last that long; the Slips test2 capture's
// long connection (a 74-minute TCP session, cut in two by Argus) is found.
package scan
