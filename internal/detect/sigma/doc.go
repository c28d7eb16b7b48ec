// Package sigma runs Sigma detection rules natively on Vigil's events.
//
// LoadDir and LoadFile read rules (Sigma specification v2, as SigmaHQ's
// rules use it) from YAML into compiled form: every detection item becomes
// a matcher whose values are lower-cased once at load, with wildcards and
// Sigma's backslash escapes resolved and every value modifier applied
// (contains, startswith, endswith, all, re with i/m/s, cidr, base64,
// base64offset, wide/utf16le/utf16be/utf16, windash, exists, fieldref,
// gt/gte/lt/lte, expand, cased). Conditions compile into a tree over the
// search identifiers. A rule that cannot load is reported with its file,
// line and reason, and the others load.
//
// A Mapping (YAML data: the built-in files under mappings/ and any the user
// adds) says which events belong to which logsource and where each
// logsource's Sigma fields are found. NewEngine indexes the rules under the
// mapping's logsources; Engine.Match finds the logsources of an event from
// a few routing fields (Channel and EventID, event.dataset, ...) and
// evaluates only their rules, fetching and lower-casing each field an event
// is asked for at most once.
//
// Matching is case-insensitive unless cased is given; regular expressions
// are case-sensitive unless i is given, as the specification says. Vigil
// treats an empty field like an absent one (Winlogbeat drops empty Windows
// event data that EVTX files keep), so null and an empty value match both, and
// exists: true requires a non-empty value. Keywords (values without a
// field) match anywhere in the event's message or any original field value.
package sigma
