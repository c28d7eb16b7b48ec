// Package netsim generates a small company's network traffic over several
// days as Zeek 6 JSON logs (conn, dns, ssl), deterministically from a seed,
// with ground truth: which records are injected attacks and which are benign
// activity that merely looks suspicious. Vigil's network analytics are
// tested on it, and the demo plays it.
//
// # Use
//
//	g, err := netsim.New(netsim.Options{Seed: 1})           // 60 hosts, 10 days
//	for r, ok := g.Next(); ok; r, ok = g.Next() {
//		// r.Time, r.Log ("conn", "dns", "ssl"), r.JSON (valid until the next call)
//	}
//	truth, benign := g.Truth(), g.Benign()                  // what to find, what not to flag
//	internal := g.Network().Internal()                       // for flow.NewSet
//
// Records come in event-time order (ts, then the order they were made in).
// Each maps without error through internal/parse/zeek (Mapper.Map with
// r.Log as the log type) and flow.FromEvent reads the flow, query or TLS
// server name back. Write and WriteDir write a run as JSON lines (WriteDir as
// conn.log, dns.log and ssl.log, which `vigil import` reads like a Zeek
// directory).
//
// The generator holds a time-ordered queue of each activity's next event and
// of records decided but not yet due, so memory stays bounded however long
// the run: a few hundred entries per host. Every activity has its own random
// stream (PCG seeded from Seed and the activity's name), connection ids and
// source ports, so the same Options give the same bytes, and enabling or
// disabling a scenario leaves every other record unchanged (on one
// architecture: Go may fuse floating-point multiply-adds differently on
// others). It makes about 1.5 million records per second on one core
// without allocating (BenchmarkNext).
//
// # The company
//
// The company follows the demo simulator's (internal/simulate) names and
// addresses. Nine servers and Hosts-9 workstations (default 60 hosts):
//
//	10.10.1.0/24  servers         web-01 .11, web-02 .12 (public web site www.corp.example.com),
//	                              db-01 .21 (PostgreSQL), mail-01 .25, bastion-01 .5
//	10.10.2.0/24  infrastructure  dc-01 .10 (domain controller), fs-01 .20 (file server),
//	                              backup-01 .30, ns-01 .53 (the DNS resolver every host uses)
//	10.10.3.0/24  workstations    ws-01 .101, ws-02 .102, ... (150 per /24; more go to
//	                              10.10.4.0/24 and on)
//
// dc-01, db-01, fs-01 and backup-01 are marked sensitive. ws-01 and ws-02
// belong to the server administrators (they ssh to the bastion and on to
// the Linux servers), ws-04 to the DBA (PostgreSQL to db-01). The sensor
// sees every host's traffic, including queries to the internal resolver;
// the resolver's own upstream queries are not generated. The Internet is
// simulated in 198.18.0.0/15 (RFC 2544, never routed): the web sites in
// 198.18.0.0/16, fixed services in 198.19.0.0/24–198.19.20.0/24, the public
// web site's visitors in 198.19.128.0/17. Attackers use the RFC 5737
// documentation ranges, which no benign activity touches.
//
// Time follows Options.Start's location (default UTC; the default start is
// Monday 2 March 2026). Working days are Monday to Friday.
//
// # Background (always on)
//
//   - People: on working days each user arrives around 08:30 (σ 20 min,
//     07:15–10:00), lunches for 30–60 min from 12:00–13:00 and leaves
//     17:00–18:30; 6% of days they are away; 12% of evenings and weekend
//     days bring a short session. At each session start the workstation
//     logs on (SRV lookup of the domain controller, Kerberos, LDAP, SMB for
//     group policy). Within a session actions follow a heavy-tailed think
//     time (70% 2–20 s clicks, 30% log-normal reading pauses, median 150 s):
//     70% page views, 10% file-server work (SMB, 15% uploads), 5% intranet,
//     6% mail (IMAPS to mail-01), 3% LDAP, the rest admin ssh, DBA queries
//     or more browsing.
//   - Browsing: sites are drawn from a catalogue of Options.Sites made-up
//     names (default 2000) with Zipf popularity (s = 1.2, v = 2), so a few
//     sites are visited by nearly every host and most by few. A page view
//     looks the site up (unless the host's 32-entry cache holds a fresh
//     answer; TTLs 60 s–1 h), opens one to six TLS connections (responses
//     log-normal, median 30 kB) and, for 40% of sites, loads assets from one
//     of two CDNs under short, low-entropy names (TTL 60 s).
//   - Servers: Internet visitors to web-01 and web-02 (about 0.15 new TLS
//     connections per second per server at the 14:00 peak, 8% of that at
//     night, half on weekends), the web application's PostgreSQL connections
//     to db-01 (every 10–50 s, scaled by load), and mail-01 exchanging SMTP
//     with outside mail servers.
//
// # Benign look-alikes (Options.Benign, all by default; listed by Benign())
//
//   - ntp: every host polls two NTP servers (198.19.0.123, 198.19.1.123), every
//     64 s at start, doubling every four polls up to 1024 s, ±2%, and now
//     and then starting over.
//   - monitoring-agent: every host posts to ingest.statuswatch-cloud.com
//     (198.19.2.10:443) every 60 s ± 2 s.
//   - av-update: every host checks update.shieldav-cloud.com (198.19.3.20:443)
//     every 4 h ± 1 min and downloads 10–40 MB of definitions about once a
//     day.
//   - nightly-backup: fs-01 (20–60 GB) and db-01 (5–12 GB) send to backup-01
//     port 9103 at 02:00 ± 15 min every night, in four parallel streams.
//   - update-burst: the day after the attack day, every host downloads
//     475–525 MB from dl.osupdate-cdn.com (one address, 198.19.4.50) between
//     10:00 and 11:00.
//   - cdn: the CDN asset lookups, many distinct subdomains of
//     fastedge-cdn.net and static-cdnhub.com.
//
// # Injected scenarios (Options.Scenarios, all by default; listed by Truth())
//
// Day A is Options.AttackDay (default 8, after a seven-day learning period).
// Scenarios on A+1 and A+2 move to the last day when the run is shorter.
// The workstations involved are drawn from the seed among those that are
// neither ws-01, ws-02, ws-04 nor ws-03, each used once; C2 addresses from
// 203.0.113.0/24, exfiltration drops from 198.51.100.0/24.
//
//	beacon-30s          A 09:00 for 4 h    workstation → C2:443 (TLS, no SNI) every 30 s ± 20%
//	beacon-60s          A 13:00 for 12 h   workstation → C2:8443 every 60 s ± 20%
//	beacon-300s         A 10:00 for 24 h   workstation → C2:80 (HTTP) every 300 s ± 20%
//	beacon-900s         A 08:00 for 48 h   workstation → C2:443 every 900 s ± 20%
//	beacon-3600s        A 00:30 to the end workstation → C2:443 every 3600 s ± 20%
//	beacon-sni          A 11:00 for 24 h   ws-03 → update-check.example.org (203.0.113.200:443),
//	                                       looked up (TTL 300 s) and named in the TLS SNI, every 120 s ± 20%
//	scan-vertical       A 22:00, ~100 s    198.51.100.201 SYN-scans web-01 ports 1–1024 in random order
//	                                       (22, 80, 443 answer, the rest reject)
//	long-ssh            A 19:00 for 6 h    workstation → external host:22, one ssh connection
//	exfil-db            A+1 03:00          db-01 → never-seen address:443, 5–20 GB in 4–8 TLS uploads
//	                                       started 1–4 min apart at 8–15 MB/s
//	scan-horizontal     A+1 11:00, ~100 s  workstation → port 445 of every address of 10.10.3.0/24
//	                                       (dead addresses: one SYN; live ones: 30% answer)
//	dns-tunnel          A+1 14:00 for 1 h  workstation → TXT queries with 50–60 character base32
//	                                       labels under cloud-syncer.net, 1–5 per second
//	new-talker-rdp      A+1 16:20          workstation → dc-01:3389, a 25–40 min RDP session, never
//	                                       seen before
//	new-talker-db-port  A+2 10:15          workstation → db-01:4444, three connections, a port db-01
//	                                       never served
//	dga                 A+2 11:00, ≤ 5 min workstation resolves 200 random 8–16 character .com/.net
//	                                       names, all NXDOMAIN
//	spike               A+2 14:00 for 1 h  a workstation browses at ten times its rate
//	scan-sweep          A+2 15:00, ~15 s   workstation → ICMP echo to every address of 10.10.2.0/24
//	exfil-ws            A+2 21:30          workstation → never-seen address:443, 5–20 GB as exfil-db
//
// Truth.Matches tells whether a flow.Record belongs to an entry;
// Truth.MatchesSignal whether an analytic's flow.Signal is about it (kind,
// endpoints, window within SignalSlack), for recall against Truth() and
// false positives against Benign().
package netsim
