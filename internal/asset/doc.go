// Package asset is Vigil's view of the asset inventory: an immutable lookup
// index for enrichment, the CSV import format, and the discovery of hosts
// that are seen but not inventoried.
//
// # The inventory
//
// Each asset has a host name, addresses (single IPs or CIDRs), a MAC
// address, an owner, a role, a criticality (low, medium, high or critical;
// medium when not given), tags, the log sources it is expected to send, and
// notes. Host names are unique, ignoring case. An asset needs a host name
// or at least one address. Assets are kept in the state database
// (statedb.Asset) and edited through the API (/api/v1/assets) or imported
// from CSV with `vigil assets import FILE.csv`.
//
// Expected sources name an input kind ("winlogbeat", "evtx", "syslog",
// "zeek", "suricata", "netflow", "ndjson", "bulk"), optionally followed by a
// stream after a colon: "winlogbeat:Security" for a Windows channel,
// "zeek:conn" for a Zeek log. A source (host × input) is matched on the
// input kind.
//
// # CSV import
//
// The first row names the columns, in any order and ignoring case; spaces
// and dashes in names count as underscores. The columns are:
//
//	hostname          host name (also: host)
//	ip                addresses, IPs or CIDRs (also: ips, address, addresses)
//	mac               MAC address, in any common notation
//	owner             free text
//	role              free text ("domain controller", "web server")
//	criticality       low, medium, high or critical
//	tags              list
//	expected_sources  list of input or input:stream
//	notes             free text
//
// A list cell holds several values separated by ';', or by ',' or spaces
// inside a quoted cell: `10.0.0.5;10.0.0.6` and `"pci, dmz"` both hold two.
// Only the columns present change an existing asset: an import without a
// notes column keeps every asset's notes, while an empty notes cell clears
// them. A row updates the asset with the same host name, or, when it has
// no host name, the asset holding its first address; importing by address
// (`--by address`, key=address) it is the other way round. Rows matching
// no asset create one. Every problem is reported with its line, column and reason, all
// at once; a row with a problem is skipped and every other row is still
// imported. An unknown column is reported and ignored.
//
// # Matching
//
// An Index answers which asset an address or a host name belongs to.
// Addresses match exactly first, then by the most specific CIDR holding
// them (IPv4-mapped IPv6 addresses match as IPv4). Host names match
// ignoring case and a trailing dot, and a fully qualified name and its
// short name match each other ("web01" finds "WEB01.corp.example" and the
// other way round) unless the short name is shared by several assets; two
// fully qualified names in different domains do not match. When
// several assets claim the same address, CIDR or name, the inventory wins
// over the static entries of the configuration (network.assets), and the
// more critical asset wins within each, then the host name that sorts
// first.
//
// Enrichment (package enrich) uses the index to add host.asset.*,
// source.asset.* and destination.asset.* (id, name, role, criticality) to
// events: the host by host.name, else host.ip; source and destination by
// address.
//
// # Discovery
//
// Unknown lists what was seen but is not in the inventory: the host names
// (and addresses) of log sources, and the internal addresses seen in
// traffic (the hourly flow rollup), each with when it was first and last
// seen and what it was seen as: the log inputs it sent through, and "flow"
// for a traffic peer. An address inside an inventoried CIDR counts as
// known. The list is sorted by last seen, most recent first.
package asset
