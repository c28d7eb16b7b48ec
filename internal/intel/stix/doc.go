// Package stix reads STIX 2.1 (and 2.0) threat intelligence: it parses
// STIX patterns, compiles them into matchable intel.Indicators, and loads
// bundles and TAXII object lists.
//
// # Patterns
//
// Parse implements the whole STIX 2.1 patterning grammar (STIXPattern.g4)
// with a hand-written lexer and recursive-descent parser: observation
// expressions in [ ], AND, OR and FOLLOWEDBY between observations, the
// qualifiers WITHIN n SECONDS, REPEATS n TIMES and START t'..' STOP t'..',
// AND and OR inside observations, the operators =, ==, !=, <>, <, <=, >,
// >=, IN (...), LIKE, MATCHES, ISSUBSET, ISSUPERSET, NOT before any of
// them and [NOT] EXISTS, object paths with dotted and quoted properties
// (hashes.'SHA-256') and list indexes ([0], [-1], [*]), and every literal
// form (strings with \' and \\ escapes, integers, floats, true/false,
// t'..' timestamps, h'..' hex, b'..' base64), plus /* */ and // comments.
// A malformed pattern is a *SyntaxError with the column and what was
// expected. Two deviations from the grammar file: unquoted property names
// with hyphens are accepted (the specification's own examples write
// file:extensions.windows-pebinary-ext), and two qualifiers of the same
// kind on one observation expression are rejected (the specification
// forbids them).
//
// # What compiles into indicators
//
// Pattern (or (*AST).Indicators) compiles a pattern into indicators. OR,
// between or inside observations, and IN yield one indicator per
// alternative. Supported comparisons:
//
//   - ipv4-addr:value, ipv6-addr:value = an address or CIDR (ip);
//     ISSUBSET '198.51.100.0/24' (ip range). The address family must
//     match the object type.
//   - domain-name:value = a name (domain); LIKE '%.example.com' compiles
//     to the parent domain example.com, which the matcher treats as
//     covering its subdomains (so it also matches example.com itself);
//     LIKE without wildcards is equality.
//   - url:value = a URL (url).
//   - file:hashes.MD5, 'SHA-1', 'SHA-256', 'SHA-512' (and the
//     lower-case and undashed spellings) = a hash (md5, sha1, sha256,
//     sha512).
//   - email-addr:value, email-message:from_ref.value,
//     email-message:sender_ref.value = an address (email).
//   - network-traffic:dst_ref.value, network-traffic:src_ref.value = an
//     address, CIDR or domain name (ip or domain; ISSUBSET a CIDR; LIKE
//     '%.domain'). The direction is not enforced: the matcher reports
//     which side matched.
//   - network-traffic paths whose last property is ja3, ja3_hash,
//     ja3_md5, ja3-fingerprint-md5, x_ja3 or x_ja3_hash (ja3), or ja4,
//     ja4_fingerprint or x_ja4 (ja4) = a fingerprint, e.g.
//     network-traffic:extensions.'tls-ext'.ja3. STIX has no standard
//     property for them; these follow common custom extensions.
//
// AND inside one observation compiles when all comparisons are on the same
// object, exactly one of them names a value above, and the others are
// equalities that become conditions (intel.Condition, by ECS field):
//
//   - network-traffic:dst_port → destination.port, src_port →
//     source.port (integers 0..65535);
//   - network-traffic:protocols[*] = 'tcp' → network.transport (tcp, udp,
//     icmp, ipv6-icmp, icmpv6, sctp, gre), network.type (ipv4, ipv6) or
//     network.protocol (any other, e.g. http, dns, tls), lower-cased;
//   - network-traffic:dst_ref.type / src_ref.type = 'ipv4-addr',
//     'ipv6-addr' or 'domain-name' are checked against the address of the
//     same side and add no condition;
//   - email-message:subject → email.subject;
//   - file:name → file.name, file:mime_type → file.mime_type, file:size →
//     file.size.
//
// Several hashes of one file ANDed together yield one indicator per hash,
// since each identifies the content. AND distributes over OR inside an
// observation, up to 100,000 alternatives.
//
// # What is reported unsupported
//
// Everything else is reported, never silently dropped, as an
// *Unsupported error naming each construct and its column: FOLLOWEDBY;
// AND between observations; WITHIN, REPEATS and START/STOP qualifiers;
// the operators !=, <, <=, >, >=, MATCHES, ISSUPERSET and EXISTS; NOT
// before any operator; LIKE other than '%.domain'; ISSUBSET on anything
// but an address; AND across different objects; two different values
// ANDed on one object; a condition without a value; object types other
// than those above (process, x509-certificate, windows-registry-key,
// artifact, mutex, user-account, custom x- objects, ...) and properties
// other than those above; values the indicator type rejects (an invalid
// address, domain, URL, hash or e-mail); conditions that contradict each
// other. The error lists at most 20 distinct constructs and counts the
// rest. When only some OR alternatives are unsupported, the indicators of
// the others are returned with the error (Unsupported.Partial): any
// alternative satisfies the pattern, so matching those is sound. A
// malformed pattern, by contrast, yields a *SyntaxError and no indicators.
//
// Values are normalised with intel.Normalize (and rejected when their
// normal form is not stable); duplicate indicators of one pattern are
// dropped.
//
// # Bundles and TAXII objects
//
// Load reads a bundle, a JSON array of objects or a single object;
// LoadObjects and Objects take the raw objects of a TAXII 2.1 envelope.
// Every object is validated with github.com/TcM1911/stix2, one at a time,
// so that an object it rejects (or on which it would panic) becomes an
// intel.Problem instead of failing the load. Only indicator objects with
// pattern_type stix (or none, as in STIX 2.0) are compiled; other pattern
// types (sigma, snort, suricata, yara, pcre, ...) are Problems "pattern_type
// X not supported". Of several versions of one indicator the last modified
// is used. Each compiled indicator gets from its object: id → ID,
// valid_from and valid_until, revoked, confidence (absent → -1; decoded
// here because stix2 cannot tell an absent confidence from 0), name and
// description → Description ("name: description"), indicator_types and
// labels → Tags. Threat is the name of the object the indicator
// indicates (an indicates relationship among the same objects), preferring
// malware, then infrastructure, intrusion-set, threat-actor, campaign,
// tool and attack-pattern; without one it is the indicator's name. An
// indicated infrastructure with infrastructure_types command-and-control
// adds the tag "c2". Result.Counts counts objects by type, indicator
// objects, and those compiled, unsupported and invalid.
package stix
