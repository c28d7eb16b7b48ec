// Package baseline learns what normal traffic looks like for every internal
// host and subnet, per hour of the week, and raises two kinds of phase-one
// signals: deviations (flow.SignalBaseline), when a metric is far above its
// baseline for that hour, and exfiltration (flow.SignalExfil), when a host
// sends far more to external destinations than its own history explains.
//
// # What is counted
//
// Only flow records (flow.KindFlow) count; DNS and application records ride
// on flows that are counted already. A record is counted for each internal
// side (an address in the internal networks) in the hour of its start,
// event time, UTC hours. For an internal host, per closed hour:
//
//   - bytes_out: bytes the host sent — the originator bytes of flows it
//     opened and the reply bytes of flows opened to it;
//   - bytes_in: bytes the host received — the reply bytes of flows it opened
//     and the originator bytes of flows opened to it;
//   - packets: packets both ways of every flow the host took part in;
//   - connections: flows the host opened;
//   - dst_ips, dst_ports, ext_dsts: distinct destination addresses, distinct
//     destination ports, and distinct external destination addresses of the
//     flows the host opened;
//   - bytes_out_unexplained: bytes sent to external addresses that the
//     host's per-destination history does not explain (see Exfiltration);
//     it is not checked for deviations itself.
//
// External means outside the internal networks and not multicast,
// broadcast, link-local, loopback or unspecified.
//
// Every subnet (default /24 for IPv4, /64 for IPv6; configurable, 0 turns
// it off) has the same metrics, summed over its hosts (traffic between two
// hosts of one subnet counts for both ends). Distinct counts are exact up to
// 16 values per host-hour, then a HyperLogLog sketch of 256 registers takes
// over: relative standard error about 5% up to about 640 values (linear
// counting) and 1.04/√256 ≈ 6.5% beyond.
//
// An hour closes when the watermark passes its end. A record older than
// the oldest open hour (the engine's lateness exceeded, or a long Zeek
// connection logged at its end) is counted in the oldest open hour
// (Counts.Late); a record two or more hours ahead of it closes the hours in
// between early (Counts.ForcedCloses), and their signals are emitted at the
// next Advance. Records dated before 1970 or after 2200 are ignored.
//
// # Storage
//
// Each entity keeps a ring of the last N weeks plus a day of closed hours
// (696 hours with N = 4), 8 metrics of 16 bits per hour: integers below
// 2048 exactly, larger values with a relative error of at most 0.05%. The
// ring is allocated a day (384 bytes) at a time, so short-lived hosts stay
// cheap; a host with full history holds about 11.6 KB of it, and about
// 19 KB in all with two tracked pairs (about 730 bytes each) and its share
// of the open hours' accumulators (measured). Hours without traffic are
// zeros: a host that is silent at 03:00 has a baseline of 0 there.
//
// # Baseline
//
// The baseline of (entity, metric, hour of the week) is the weighted median
// and weighted MAD (median absolute deviation) of a sample of past hours:
// the same local hour of the week in each of the last N weeks (default 4)
// that the entity has data for, w of them, weighing 1 each; while w < N,
// the same local hour of the day on each of the previous six days as well,
// sharing a weight of N − w. So an install a week old already has a usable
// baseline (Monday 09:00 after a quiet weekend still sees last Monday and
// the weekdays), and after N weeks only the same hour of the week counts.
// Hours of the week and business hours are read in Config.TimeZone (default
// UTC); references are found on the local calendar, so after a change of
// daylight-saving time the same wall-clock hour is compared.
//
// # Routine pairs
//
// Each host-hour keeps two Space-Saving summaries of the bytes the host
// exchanged with its peers, one for external and one for internal peers
// (8 counters each: every peer that carried more than an eighth of the
// hour's bytes of its kind is present, with exact bytes sent, received and
// packets since its counter was made — guaranteed lower bounds). Each host
// also keeps the hourly history, both directions, of its top pairs
// (pairs_per_host, default 16, of pairs carrying at least pair_min_bytes,
// default 10 MB, in an hour; when full, the pair whose largest hour in the
// last week is smallest gives way to a bigger one) over the last week and
// an hour either side.
//
// At the close of an hour, a pair's bytes in one direction are routine
// when they are at most pair_tolerance (default 2) times the most the same
// pair carried that way at the same hour of day ±1 hour on any of the last
// seven days (the pair must have carried something then): the nightly
// backup to the same server at about the same time, even when it runs into
// the next hour. A pair's packets are routine when both directions are.
//
// # Deviations
//
// An entity raises nothing until it has learning_days (default 7) of
// history since its first traffic. An hour's value is a deviation when all
// hold, where the judged value is the current value less what routine pairs
// explain (bytes_out, bytes_in and packets; for a subnet, what its hosts'
// pairs explain) and the current value itself for the other metrics:
//
//   - judged > median + k·1.4826·MAD (k default 5);
//   - judged / max(median, floor) ≥ min_factor (default 4);
//   - judged ≥ min_current, the absolute floor of the metric.
//
// Per-metric defaults (floor / min_current): bytes_out 1 MB / 50 MB,
// bytes_in 1 MB / 200 MB, packets 1,000 / 100,000, connections 10 / 200,
// dst_ips 5 / 50, dst_ports 5 / 50, ext_dsts 5 / 30 (MB = 10^6 bytes).
//
// The signal states the metric, the baseline (median) for that hour, the
// current (judged) value, the factor judged / max(median, floor) and the
// window [hour start, hour end), with the MAD, k, threshold, floor, weeks
// of history, daily samples and, when routine pairs explain part of the
// hour, that part and the hour's total in Facts, and the largest flows of the hour (for distinct counts, first the
// flows that added a new destination) as evidence, at most 20. Its score
// is weight × min(1, log10(factor)/2), with weight 1 for bytes_out and
// ext_dsts, 0.85 for dst_ips and dst_ports, 0.75 for connections and 0.6
// for bytes_in and packets; the severity is high from 0.8, medium from 0.5,
// low from 0.25, informational below. So inbound volume and packets alone
// are at most medium, and bytes_out reaches high at a factor of 40. Key:
// "baseline|<host>|<metric>" or "baseline|subnet|<cidr>|<metric>"; tags
// attack.t1048/t1030 (bytes_out), t1105 (bytes_in), t1498 (packets),
// t1046 (connections and distinct counts).
//
// # Exfiltration
//
// Bytes a host sent to an external peer that are not routine are
// unexplained beyond the most the pair usually carried at this hour (all of
// them for a new pair). The hour's unexplained external volume
// (bytes_out_unexplained: all external bytes less routine pairs' bytes and
// less the usual volume of the other pairs) is stored like any metric; its
// baseline (median and MAD at the same hour of the week) is the host's
// residual baseline — about zero for a server whose only big external
// transfer is its nightly backup.
//
// After the learning period, for each external peer (largest first) and
// then for the hour's total: with divisor = max(residual median,
// exfil.floor) (default 25 MB), factor = unexplained / divisor, and
// weighted = factor × rare_weight × off_hours_weight, a signal is raised
// when unexplained ≥ exfil.min_bytes (default 100 MB), unexplained >
// residual median + k·1.4826·MAD, and weighted ≥ exfil.min_factor (default
// 4). The total is reported only when the per-peer signals cover less than
// half of it. rare_weight is exfil.rare_weight (default 2) when no other
// internal host contacted the peer in the prevalence period (the host
// itself is not counted when it opened a flow to the peer: the engine's
// prevalence tracker counted it then), falling linearly to
// 1 at common_hosts (default 5) other hosts; 1 without a prevalence reader
// and for the total. off_hours_weight (default 1.5) applies outside
// business hours (default 07:00–19:00, Monday to Friday, end exclusive; a
// start after the end wraps past midnight). Severity: high when weighted ≥
// exfil.high_factor (default 100) and unexplained ≥ exfil.high_bytes
// (default 1 GB); medium when weighted ≥ √(min_factor·high_factor) (20 by
// default); low otherwise. Score min(1, log10(weighted)/3). The signal's
// Metric is bytes_out_unexplained, Baseline the divisor, Current the
// unexplained bytes and Factor their ratio; Facts show bytes sent, the
// pair's usual maximum, the destination's prevalence, the residual median
// and MAD, the host's bytes_out median for the hour (all traffic, for
// context), divisor, factor, both weights and the weighted factor. Key:
// "exfil|<host>|<peer>" or "exfil|<host>|total"; tags attack.exfiltration,
// attack.t1048, attack.t1030. Internal-to-internal transfers are never
// exfiltration (they can still be deviations).
//
// # Bounded state
//
// Entities without traffic for idle_days (default 14) are dropped (and
// learn again if they return), as are pairs idle for a week; at most max_hosts (50,000) hosts and max_subnets
// (5,000) subnets are kept, the longest idle going first. Accumulators,
// peer summaries and sketches are pooled, so steady-state Observe does not
// allocate. MarshalBinary saves everything (gob), open hours included, so
// a restart mid-hour gives the same signals as an uninterrupted run.
//
// # Configuration
//
// YAML keys and defaults (Config, DefaultConfig):
//
//	time_zone: UTC            # hours of the week and business hours
//	weeks: 4                  # N, weekly samples per baseline (1–12)
//	learning_days: 7          # history an entity needs before it alerts
//	k: 5                      # MADs above the median
//	min_factor: 4             # least current / max(baseline, floor)
//	floor:       {bytes_out: 1e6, bytes_in: 1e6, packets: 1000, connections: 10, dst_ips: 5, dst_ports: 5, ext_dsts: 5}
//	min_current: {bytes_out: 50e6, bytes_in: 200e6, packets: 100000, connections: 200, dst_ips: 50, dst_ports: 50, ext_dsts: 30}
//	subnet_prefix_v4: 24      # 0: no IPv4 subnet baselines
//	subnet_prefix_v6: 64      # 0: no IPv6 subnet baselines
//	business_hours: {start: 7, end: 19, days: [mon, tue, wed, thu, fri]}
//	idle_days: 14             # entities without traffic are dropped after
//	max_hosts: 50000
//	max_subnets: 5000
//	exfil:
//	  enabled: true
//	  min_bytes: 100000000    # least unexplained bytes reported
//	  floor: 25000000         # least residual baseline divided by
//	  min_factor: 4           # least weighted factor reported
//	  high_factor: 100        # high needs this weighted factor ...
//	  high_bytes: 1000000000  # ... and this many unexplained bytes
//	  rare_weight: 2          # for a destination no other host contacts
//	  common_hosts: 5         # other hosts at which the rare weight is 1
//	  off_hours_weight: 1.5
//	  pairs_per_host: 16      # pair histories kept per host (≤ 256)
//	  pair_min_bytes: 10000000
//	  pair_tolerance: 2       # routine up to this times the pair's usual maximum
//
// Validate names every bad value by its key.
//
// The console reads Baseline and SubnetBaseline: the last 168 closed hours
// of one metric with the baseline of each hour of the week.
package baseline
