// Package feed reads threat-intelligence feeds other than STIX bundles
// (plain lists, CSV files, MISP feeds and events, TAXII 2.1 collections
// and OpenCTI) and fetches them as intel.Sources from a file or an HTTP(S)
// URL.
//
// # Readers
//
// ReadList, ReadCSV and ReadMISPEvent turn one document into indicators
// and Problems. A record that is not a valid indicator becomes a Problem
// naming where it is (file:line for lists and CSV, the attribute uuid for
// MISP, the indicator id for OpenCTI) and why; the other records are kept.
// Values are normalised with intel.Normalize. Confidence is -1 (unknown)
// unless the record or the config says otherwise.
//
// # Sources and cursors
//
// New builds a source from a Config. Every source honours its context;
// each HTTP request is also bounded by the timeout key.
//
//   - list, csv and misp-event sources read one document and deliver Full
//     batches. Their cursor remembers the document's ETag, Last-Modified,
//     file time and size and content hash: when the server answers 304 to
//     If-None-Match / If-Modified-Since, the file is untouched or the
//     content is identical, the batch is empty, not Full, and keeps the
//     cursor. A document that gives Problems and no indicator at all (an
//     error page served with 200) is an error, not an empty Full batch.
//   - misp sources deliver every event the first time (Full) and then only
//     events whose manifest timestamp is newer than the cursor
//     (incremental).
//   - taxii sources deliver the whole collection the first time (Full,
//     unless since is set) and then the objects added after the cursor,
//     the newest X-TAXII-Date-Added-Last seen (incremental).
//   - opencti graphql sources deliver every indicator the first time
//     (Full) and then those updated after the cursor, the newest
//     updated_at seen (incremental; revocations arrive as revoked
//     indicators).
//
// Incremental sources cannot report deletions (a MISP attribute deleted
// from an already delivered event, an OpenCTI indicator deleted rather
// than revoked); polling with the cursor "" now and then reloads the whole
// set.
//
// # Config keys common to all kinds
//
//	name        the source name (Indicator.Source), used by the manager
//	kind        list, csv, misp, misp-event, stix, taxii or opencti
//	url         an http:// or https:// URL (taxii and opencti: required)
//	path        a local file (misp: a directory) instead of url
//	interval    how often the manager polls it ("1h", "30m", "1d")
//	timeout     bound of each HTTP request; default 60s
//	max_bytes   bound of each downloaded document; default 512 MiB
//	headers     extra HTTP headers, a map of name to value
//	username    HTTP basic auth user (with password)
//	password    HTTP basic auth password
//	token       bearer token, sent as "Authorization: Bearer <token>"
//	ca_file     PEM file of CA certificates trusted besides the system's
//	confidence  0..100, for indicators whose record gives none
//	threat      threat name for indicators whose record gives none
//	tags        tags added to every indicator
//
// username and token exclude each other; credentials and headers need a
// url.
//
// # kind: list
//
// One indicator per line. Blank lines and lines starting with '#' or ';'
// are skipped, as is the rest of a line after " #" or " ;". Of several
// whitespace-separated fields the first is the value, except in hosts-file
// lines ("0.0.0.0 name", "127.0.0.1 name") where it is the second. The
// type is detected per line (DetectType): a URL (with a scheme, or
// host/path), an IP address or CIDR prefix ("ip:port" adds a
// destination.port condition), a hash by its hex length (32 md5, 40 sha1,
// 64 sha256, 128 sha512), an e-mail address or a domain name. AS numbers
// and anything else are Problems.
//
//	type        fixes the type of every line (any intel.ParseType name:
//	            ip, domain, url, md5, sha1, sha256, sha512, email, ja3,
//	            ja4 and aliases); needed for JA3 lists, which would read
//	            as md5
//
// # kind: csv
//
// One indicator per row, with a column mapping. Each line is one row
// (a quoted field cannot span lines); fields may be quoted, quotes inside
// unquoted fields are kept, spaces around fields are dropped, rows may
// have any number of fields. Blank lines and comment lines are skipped.
// The type comes from the type column, else the type key, else detection
// as for lists.
//
//	type             fixed type when no type column is mapped
//	csv.preset       a known format whose mapping the other csv keys
//	                 override: feodo, urlhaus, sslbl-ja3, slips,
//	                 slips-ja3 (see Preset)
//	csv.header       none (default), row (the first row names the
//	                 columns) or comment (the last comment line before
//	                 the first row does, as in abuse.ch files)
//	csv.comment      comment line prefix; default "#"
//	csv.delimiter    field separator, one character; default ","
//	csv.columns.*    the column of each field: a number counting from 1,
//	                 or with a header the column's name (any case). Keys:
//	                 value (required), type, id, threat, description,
//	                 confidence (0..100 or info 20, low 40, medium 60,
//	                 high 80, critical 100), tags (split by
//	                 tag_separator; brackets and quotes dropped),
//	                 first_seen (becomes valid_from), last_seen,
//	                 valid_until, port (adds a destination.port
//	                 condition)
//	csv.tag_separator  separator inside the tags column; default ","
//	csv.time_format  Go time layout of time columns; default: RFC 3339,
//	                 "2006-01-02 15:04:05", "2006-01-02" or Unix seconds,
//	                 UTC unless stated
//	csv.valid_for    with a last_seen column: valid_until = last seen +
//	                 valid_for when the row has no valid_until ("30d")
//
// A header that lacks a named column fails the whole document. A row with
// a bad value, type, port, confidence or time is a Problem.
//
// # kind: misp
//
// A MISP feed: url is the feed's base URL, or path its directory, holding
// manifest.json (event uuid to info, timestamp, tags) and one <uuid>.json
// file per event. Only to_ids attributes that are not deleted become
// indicators, in the event and in its objects: ip-src, ip-dst (ip);
// ip-src|port, ip-dst|port (ip with a source.port or destination.port
// condition); domain, hostname (domain); domain|ip (both); url; md5, sha1,
// sha256, sha512; filename|md5, filename|sha1, filename|sha256,
// filename|sha512 (the hash); email, email-src, email-dst;
// ja3-fingerprint-md5 (ja3). Other to_ids types (regkey, mutex, filename
// alone, ...) are Problems naming the type. Threat is the event info, the
// description the attribute comment, tags the event's and the attribute's
// tags, id the attribute uuid. An event file that cannot be fetched is a
// Problem and is tried again on the next poll.
//
//	workers     event files fetched at once; default 4
//
// # kind: misp-event
//
// One MISP event file ({"Event": {...}}, a bare event, a list of them or a
// REST search answer {"response": [...]}) read like a list, with the
// attribute rules of kind misp. ReadMISPEvent is also the reader of
// "vigil intel import".
//
// # kind: taxii
//
// A TAXII 2.1 collection. url is the discovery URL
// (https://host/taxii2/); requests send Accept:
// application/taxii+json;version=2.1. The objects of each poll are
// converted with the STIX converter the program supplies
// (Options.Convert).
//
//	collection  the collection id or title (required)
//	api_root    the API root URL, absolute or relative to url; default:
//	            the discovery document's default root, or its only one
//	since       an RFC 3339 time: the first poll asks only for objects
//	            added after it (the first batch is then not Full)
//	types       STIX types to ask for (match[type]); default all
//	page_size   the limit of each objects page; default 1000
//
// # kind: opencti
//
// An OpenCTI platform; url is its base URL and token (required) an API
// token.
//
//	api         graphql (default): POST <url>/graphql, reading indicators
//	            page by page (first/after, page_size default 500) and
//	            compiling each STIX pattern with the compiler the program
//	            supplies (Options.CompilePattern); indicators of other
//	            pattern types are Problems. Fields: pattern, valid_from,
//	            valid_until, revoked, confidence (else x_opencti_score),
//	            name or description, indicator_types and labels as tags.
//	            taxii: OpenCTI's TAXII 2.1 feeds under <url>/taxii2/ with
//	            the API root "root" (api_root overrides), configured with
//	            the taxii keys collection, since, types and page_size.
package feed
