// Package beacon finds command-and-control beacons: an internal host that
// connects to the same destination at a regular interval, with consistent
// sizes, for hours. The scoring follows the approach RITA (Active
// Countermeasures) published — interval skew and dispersion, data-size
// consistency, a connection histogram and duration — in an implementation
// of its own, with the changes noted below.
//
// # Pairs
//
// Only records whose source is an internal host are tracked, keyed by:
//
//   - (source, destination address, destination port) from flow records
//     (the port is dropped from the key when per_port is false);
//   - (source, server name) from application records (TLS SNI, HTTP Host);
//   - (source, query name) from DNS queries (answer-only records are not
//     counted).
//
// Connections to internal destinations (skip_internal), to allow_cidrs and
// to names under allow_names (whole-label suffixes: "example.com" allows
// "a.example.com") are ignored. A flow record with the same source port
// that starts within continuation_gap after the previous record of the pair
// ended continues that connection (an exporter's active timeout splits long
// flows) and adds its bytes instead of counting as a new connection.
//
// Per pair the analyzer keeps the start (Unix seconds) and bytes of each
// connection as one packed 8-byte sample, up to max_timestamps samples.
// When the buffer is full, samples too old for any future window are
// dropped; if at least half the buffer is still in use, every second
// sample is dropped and from then on only every 2nd (then 4th, 8th, ...)
// connection is stored: the pair's stride. Intervals between stored
// samples are then stride connections long, so the period is the median
// interval divided by the stride, and the connection count is the samples
// times the stride. The jitter of a sampled pair reads lower than the true
// per-connection jitter (sums of intervals are smoother); the signal states
// the stride. Which connections a sampled pair keeps depends on their
// arrival order (random sampling would blur the very regularity being
// measured), so records arriving out of order can move a sampled pair's
// figures slightly; unsampled pairs score the same in any order.
//
// # Scoring
//
// At each scoring boundary (whole multiples of interval since the epoch,
// in event time, once the watermark passes it) every pair with at least
// min_connections connections inside the window [boundary − window,
// boundary) is scored from its samples there. Intervals of zero seconds
// (several connections in one second) are left out; at least three
// non-zero intervals are needed. With Q1, Q2 (median), Q3 the quartiles
// (linear interpolation) and MAD the median absolute deviation about Q2:
//
//	Bowley skew     = (Q1 + Q3 − 2·Q2) / (Q3 − Q1), or 0 when Q3 − Q1 < 10
//	                  (seconds or bytes) or Q2 equals Q1 or Q3
//	skew score      = 1 − |skew|
//	MAD score       = max(0, 1 − MAD / Q2)
//
//	timestamp score = (skew score + MAD score) / 2, over the intervals
//	size score      = (skew score + MAD score + mode share) / 3, over the
//	                  connection sizes (bytes both ways), where the mode
//	                  share is the largest share of connections whose sizes
//	                  lie within a band of max(16 B, Q2/20)
//
// The histogram counts connections per bin over the window. Bins are
// histogram_bin wide, widened to a whole multiple of it so that each bin
// expects at least bin_min_connections connections at the pair's period
// (a one-hour beacon is counted in four-hour bins); only whole bins ending
// at the boundary are used. Its score is the larger of
//
//	flatness     = max(0, 1 − CV), CV the coefficient of variation of the
//	               bin counts (empty bins included; needs 3 bins)
//	bimodal fit  = share of non-empty bins whose heights fall in the two
//	               most common height classes (class width: mode_sensitivity
//	               of the tallest bar), after leaving out bimodal_outliers
//	               bins; only with at least bimodal_min_bins non-empty bins
//
// Counting connections per bin tolerates jitter in the single intervals;
// the bimodal fit tolerates beacons that switch between two rates.
//
// The duration score is 0 unless the non-empty bins cover at least
// duration_min; then it is the larger of the coverage (last − first
// connection over the window length) and the consistency (the longest run
// of consecutive non-empty bins over duration_ideal), each capped at 1.
// The window starts no earlier than the first record the analyzer saw, so
// a fresh start is not penalised for the time before it.
//
// The raw score is the weighted mean of the four component scores
// (weights.*); the size score is left out, and the weights renormalised,
// for name and DNS pairs, which carry no byte counts. Changes from RITA:
// the adaptive bin width, the mode share in the size score, the sampling
// stride, no wrap-around of the consecutive-bin run (the window rolls, it
// is not a day), and the active-span judgement below.
//
// # Active span
//
// Judged over the whole window, a pair that beacons hard for a few hours
// and stops (an operator's session: every 30 s from 09:00 to 13:00, 480
// connections) scores about 0.5: most histogram bins are empty and it
// falls short of duration_min. So the histogram and duration are also
// judged over the pair's active span (its first to its last connection in
// the window) when it kept connecting at its period for long enough:
//
//	need  = min(duration_min, max(duration_floor, duration_periods × period))
//	ideal = duration_ideal × need / duration_min (duration_ideal when
//	        duration_min is 0)
//	fill  = median over mean of the non-zero intervals (about 1 for a
//	        jittered beacon; the mean is the active span over their count)
//
// A pair qualifies when active_span is on, its active span is at least
// need and its fill is at least span_min_fill. Its span bins start at its
// first connection and are as wide as the window's, narrowed to a sixth of
// the span when fewer than six would fit (never below bin_min_connections
// periods); only whole bins count. The histogram score is computed over
// them as above, and the duration score as above with need and ideal for
// duration_min and duration_ideal. Of the window and the span judgement,
// the one with the higher weighted histogram-plus-duration score counts
// (the window's on a tie), so a pair active through the whole window
// scores as before; the signal's judged_over fact says which counted.
//
// The requirement is relative to the period because the evidence is the
// number of periods seen: a hundred 30 s intervals in an hour say as much
// about regularity as the hourly beacon's six in six hours, or more.
// duration_floor keeps short bursts quiet however regular they are (a
// download in chunks every 2 s for three minutes, a call's keepalives every
// 5 s for fifteen): they never qualify and keep the window judgement, under
// which they score at most 0.5 (default weights). The fill keeps out traffic that is regular
// only in its median: people browsing click in bursts seconds apart (the
// median) and read for minutes (the mean), a fill of about 0.03 to 0.3,
// and a pair with long silences inside its span has a low fill too.
// Periods of duration_min / duration_periods (3.6 min by default) and
// longer need duration_min as before.
//
// # Prevalence and severity
//
// With a flow.PrevalenceReader, a destination (address for address pairs,
// name for name and DNS pairs) is common when at least prevalence.hosts
// internal hosts contacted it, or at least prevalence.share of the active
// population did and the population is at least prevalence.min_population.
// A common destination's score is multiplied by prevalence.factor, so
// services every host polls (NTP, monitoring agents, update checks) score
// low without any service being named. The final score (rounded to three
// decimals) maps to a severity: at least severity.high is high, at least
// severity.medium medium, at least severity.low low; below low no signal is
// raised. A pair that keeps beaconing raises a signal at every boundary,
// all with the same Key ("beacon|src|dst|port", "beacon|src|name|NAME",
// "beacon|src|dns|NAME") so they group into one alert.
//
// Every figure is in the signal's Facts: period, jitter (half the 5–95th
// percentile spread of the intervals over the median; ±20% uniform jitter
// reads about ±18%), the MAD ratio, connections, samples, stride, window,
// coverage, each component score with its inputs, what the histogram and
// duration were judged over (judged_over), the active span, its fill and
// the duration required there, prevalence hosts, population and factor,
// the raw and the final score. Evidence holds the
// pair's most recent event IDs (max_evidence).
//
// # State
//
// Pairs whose samples all fell out of the window are dropped at each
// boundary; when max_pairs is reached the tenth of pairs idle longest is
// evicted. MarshalBinary saves the pairs, samples and schedule (gob), so a
// restart resumes with the same windows.
//
// # Defaults
//
//	window: 24h                 interval: 1h
//	min_connections: 20         max_timestamps: 2000
//	max_pairs: 500000           max_evidence: 10
//	per_port: true              names: true            dns: true
//	skip_internal: true         continuation_gap: 2s
//	weights: timestamp 0.25, size 0.25, histogram 0.25, duration 0.25
//	histogram_bin: 1h           bin_min_connections: 4
//	mode_sensitivity: 0.05      bimodal_min_bins: 11   bimodal_outliers: 1
//	duration_min: 6h            duration_ideal: 12h
//	active_span: true           duration_floor: 1h     duration_periods: 100
//	span_min_fill: 0.5
//	prevalence: share 0.3, hosts 100, min_population 10, factor 0.5
//	allow_cidrs: []             allow_names: []
//	severity: low 0.7, medium 0.8, high 0.9
//
// With the defaults a beacon needs about 20 connections a day: periods up
// to about an hour are caught (a one-hour beacon makes 24). Slower beacons
// need a longer window (a 48h window catches two-hour beacons). A beacon
// that runs for only part of the window is judged over its active span
// once that reaches an hour for periods up to 36 s, a hundred periods up
// to 3.6 min (100 min at 60 s) and 6h beyond: every 30 s ± 20% for four
// hours scores about 0.98 (high), every 60 s ± 20% for two hours about
// 0.86 (medium).
package beacon
