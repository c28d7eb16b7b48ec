// Package newtalker signals first-seen conversations of sensitive assets
// (flow.SignalNewTalker): a peer talking to a sensitive asset, or the asset
// to a peer, for the first time, and a service the asset never offered or
// used before. It implements flow.Analyzer and runs on event time alone.
//
// # What counts
//
// Sensitive assets are a configuration list (sensitive: address or CIDR,
// with an optional name and role); every address in a CIDR is an asset of
// its own. The asset inventory will feed the same list.
//
// Only conversations count: KindFlow records whose state is established, or
// reset after it was established. Failed attempts are no talk (scans are the
// scan package's job), nor is a connection refused with a bare RST that the
// sensor reports as "reset" (at most two reply packets of at most 80 bytes:
// Suricata and NetFlow OR the TCP flags of both directions). ICMP is not a
// service and is ignored; so are records whose outcome is unknown
// (unidirectional NetFlow UDP). The client is the source and the service
// port the destination port, unless the record runs from below the
// ephemeral range (32768) into it, or — not for TCP, whose clients may use
// system ports — from a system port (below 1024) to a higher one: then the
// sensor saw a reply and the roles are swapped. Ports at or above
// dynamic_port_min (49152) are one "dynamic" service, so RPC endpoints and
// passive FTP do not make every new port news.
//
// For each sensitive asset the analyzer remembers:
//
//   - internal peers, as a fixed 64-bit hash of peer, service port,
//     protocol and which side the asset was, with the day each was last
//     seen: a first-seen pair is an internal client using one of the
//     asset's services, or the asset using an internal server's service,
//     for the first time;
//   - services, by role, protocol and port, with when each was first and
//     last seen: the asset answering internal clients on a port (a new
//     service), answering an external client on a port (a new exposure),
//     and connecting out to an external port (a new outbound service).
//
// External peers are judged by service, not by address: the first external
// client of a service and the first external destination port are news;
// further Internet clients of a public service, or further addresses of a
// CDN on a port already used, are not (they change constantly).
//
// # Learning
//
// Each asset learns for learning (default 168h, 7 days) of event time from
// its first record; until then everything it does is remembered and nothing
// is signalled, so an asset added to the list later learns on its own clock.
// After that, every first-seen pair or service raises one signal, and is
// remembered. When a new service is signalled, its further first-seen peers
// within new_service_grace (24h) are not signalled one by one.
//
// # Signals
//
// Host is the asset, Peer the other side, Port the service port (0 for the
// dynamic range). Proposed severity starts at low and rises one level for an
// admin port (admin_ports, default 22, 23, 135, 445, 3389, 5900, 5985, 5986)
// and one for an external peer: a workstation opening RDP to a domain
// controller for the first time is medium, an external client reaching RDP
// on it high, a database answering on a new internal port low. Score is 0.3
// per level above informational (0.3, 0.6, 0.9). Key is
// "new_talker|pair|client|server|proto/port" for pairs (the same whichever
// side is sensitive) and "new_talker|service|asset|serve|proto/port" (or
// serve_external, out) for services. Facts name the finding, the asset (name,
// role, address, client or server), the peer and whether it is internal,
// the service, whether the port is an admin port, the first record's time,
// when learning ended, how many internal peers and services the asset has,
// and the bytes each way; Evidence is the first record's event ID. Tags:
// attack.lateral_movement with attack.t1021 for admin ports (attack.t1210
// for other internal pairs), attack.initial_access with attack.t1133 for a
// new exposure, attack.command_and_control with attack.t1571 for new
// services otherwise. Signals are emitted at the next Advance in the order
// the records were seen; the watermark is not needed.
//
// # Bounded state
//
// At most max_assets (10,000) addresses are tracked (records of further
// ones are counted), max_pairs_per_asset (20,000) peers and
// max_services_per_asset (2,048) services each: when full, the least
// recently seen eighth is forgotten and counted (Dropped); a forgotten pair
// seen again is news again. A pair costs about 36 bytes, a service 40.
// MarshalBinary saves everything; UnmarshalBinary drops assets no longer
// listed as sensitive.
package newtalker
