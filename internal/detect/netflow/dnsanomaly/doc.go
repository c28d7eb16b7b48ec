// Package dnsanomaly scores DNS traffic for two kinds of abuse: tunnelling
// or exfiltration over DNS, per registered domain, and bursts of NXDOMAIN
// answers for random-looking names (domain-generation algorithms), per
// host. It reads DNS records (flow.KindDNS) from internal hosts only:
// queries are counted from records without Answer (Zeek logs one record per
// query; Suricata a query and an answer record), response codes from any
// record.
//
// # Names
//
// Names are split at their registered domain (eTLD+1) with the public
// suffix list (golang.org/x/net/publicsuffix, ICANN and private sections):
// "a.b.evil.co.uk" is subdomain "a.b" of "evil.co.uk". Empty names, names
// over 253 characters, names with empty labels and IP literals are counted
// as invalid and skipped; a single label or a bare public suffix has no
// registered domain (it is skipped by the tunnelling part and counts as its
// own domain in the DGA part). Names under allow_suffixes (whole labels;
// reverse lookups under "arpa" and mDNS "local" by default) are skipped by
// both parts. Splits are cached (two generations of 16,384 names).
//
// # Tunnelling
//
// Per registered domain and tumbling window (tunnel.window, aligned to the
// epoch) the analyzer counts queries, distinct subdomains (exact up to 64,
// then a HyperLogLog sketch of 1,024 registers, about 3% error), the bytes
// of distinct subdomains (exact while the count is; beyond, the distinct
// count times the mean subdomain length), the length of each subdomain's
// longest label, the Shannon entropy of each subdomain's characters (bits
// per character, dots excluded), the query types that carry data in
// tunnels (TXT, NULL, CNAME, MX, and ANY/KEY/private/unnamed types) and the
// querying hosts (the top 8, space-saving). Label and entropy figures are
// averaged over distinct subdomains while the count is exact, over all
// queries after. When the window closes, each domain with at least
// tunnel.min_distinct distinct subdomains is scored:
//
//	length  = ramp(mean longest label, label_low, label_high)
//	entropy = ramp(mean entropy, entropy_low, entropy_high)
//	rate    = ramp(log2(unique subdomain bytes per hour), log2(rate_low), log2(rate_high))
//	type    = share of queries of a data-carrying type
//	raw     = weighted mean (tunnel.weights)
//
// where ramp(x, lo, hi) maps [lo, hi] linearly onto [0, 1], clamped. The
// analyzer keeps its own count of the distinct internal hosts querying each
// registered domain over tunnel.prevalence.days; a domain is common when at
// least tunnel.prevalence.hosts hosts query it, or at least
// tunnel.prevalence.share of the hosts seen querying DNS do (with at least
// tunnel.prevalence.min_population of them) — by this count or by the
// engine's flow.PrevalenceReader for the registered domain. A common
// domain's score is multiplied by tunnel.prevalence.factor: anti-virus
// reputation lookups (hashes in long labels) from many hosts score low, a
// tunnel from one host does not. CDN and cloud names, with many distinct
// but short, low-entropy labels and ordinary query types, score low on
// length and entropy. The score (rounded to three decimals) maps to a
// severity through tunnel.severity; below tunnel.severity.low no signal is
// raised. The signal (flow.SignalDNSTunnel, Key "dns_tunnel|DOMAIN") names
// the top querying host as Host and the domain as PeerName, states the
// unique subdomain bytes per hour as its metric, and lists every figure,
// the top tunnel.top_hosts hosts with their query counts and every
// component score in Facts.
//
// # DGA bursts
//
// For each host the analyzer keeps the distinct names that got NXDOMAIN
// (at most dga.max_names_per_host; the oldest quarter is dropped when
// full), with their time, registered domain and a randomness rating of
// the label left of the public suffix:
//
//	0.30 · ramp(0.40 − vowels/letters, 0, 0.22)   few vowels
//	0.20 · ramp(longest consonant run, 3, 6)      long consonant runs
//	0.20 · ramp(digits/length, 0.1, 0.3)          digits among letters
//	0.15 · ramp(length, 8, 16)                    long labels
//	0.15 · ramp(entropy, 2.8, 3.5)                varied characters
//
// (labels under 6 characters rate 0). Every dga.step, the window of
// dga.window ending there is evaluated for each host with at least
// dga.min_names distinct NXDOMAIN names in it:
//
//	domains    = ramp(registered domains / names, 0.2, 0.8)
//	randomness = ramp(mean randomness, 0.3, 0.55)
//	volume     = ramp(names, min_names, 4 · min_names)
//	score      = domains · randomness · (0.8 + 0.2 · volume)
//
// A retried typo is one name; a misconfigured search domain yields many
// names under one registered domain (domains ≈ 0); an ad-blocking resolver
// refusing tracker domains yields word-like labels (randomness low). Names
// built from dictionary words (some DGA families do this) are not caught.
// The signal (flow.SignalDGA, Key "dga|HOST") states the count of names,
// registered domains, mean randomness, component scores and dga.samples
// example names, the most random first.
//
// # State
//
// Tunnel windows are dropped when they close; records for a closed window
// are counted late. DGA names older than any future window are dropped,
// and hosts without names with them. Domains beyond tunnel.max_domains per
// window and hosts beyond dga.max_hosts are counted and not tracked.
// MarshalBinary saves the open windows, the hosts' names, the per-domain
// prevalence and the schedule (gob).
//
// # Defaults
//
//	tunnel.enabled: true        tunnel.window: 1h
//	tunnel.min_distinct: 50     tunnel.max_domains: 200000
//	tunnel.label_low: 12        tunnel.label_high: 40       (characters)
//	tunnel.entropy_low: 3.0     tunnel.entropy_high: 4.0    (bits/char)
//	tunnel.rate_low: 4096       tunnel.rate_high: 65536     (bytes/hour)
//	tunnel.weights: length 0.3, entropy 0.25, rate 0.3, type 0.15
//	tunnel.prevalence: days 7, share 0.3, hosts 20, min_population 10, factor 0.5
//	tunnel.top_hosts: 3
//	tunnel.severity: low 0.5, medium 0.65, high 0.8
//	dga.enabled: true           dga.window: 10m             dga.step: 5m
//	dga.min_names: 25           dga.max_names_per_host: 500
//	dga.max_hosts: 100000       dga.samples: 5
//	dga.severity: low 0.4, medium 0.6, high 0.8
//	allow_suffixes: [arpa, local]
//	max_evidence: 10
//
// With the defaults a base32 or hex tunnel in 50–60 character labels at
// one query a second or more scores high with TXT/NULL/CNAME queries and
// at least medium with A queries; a burst of 30 or more random names
// across as many domains within 10 minutes scores high.
package dnsanomaly
