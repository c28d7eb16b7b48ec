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
// evaluates only their rules.
//
// # Evaluation
//
// Each combination of logsources an event can belong to is a route,
// compiled when first seen: its rules, and a prefilter (plan) that decides
// per event which of them can match without looking at the others.
//
//   - Every value set of a rule (the values of one item, or one value under
//     all) is an atom. Its literals are needles: whole values, prefixes,
//     suffixes and contains strings, plus the literal a wildcard pattern
//     requires and the literals one of which a regular expression requires
//     (its prefilter: the regular expression only runs when one was found).
//   - A rule's condition is reduced to clauses: sets of atoms at least one
//     of which must match for the condition to hold (negations require
//     nothing; a disjunction of conjunctions is spelled out when small).
//   - The needles of all clauses of all the route's rules are grouped per
//     event field (the slots the field is read from) into automata built
//     once: tries walked from the start and from the end of the value for
//     whole values, prefixes and suffixes, and for contains strings an
//     Aho-Corasick automaton compiled into a dense DFA over byte classes
//     (its first k bytes; longer needles continue in remainder tries), or
//     a stride search when every needle is long (it samples one block in
//     every stride of the text against a bitmap of the needles' blocks).
//     Case-insensitive automata fold ASCII letters themselves, so values
//     are only copied lower-cased when they hold non-ASCII letters that
//     change (for ASCII needles, only İ and the Kelvin sign matter).
//   - Keywords are searched in the message and every original field value;
//     a route's keyword needles are also searched by its field groups, so
//     the fields they read (and remember, see below) are not searched
//     again, and the keyword automaton reads the message and the other
//     fields only.
//   - Per event, the event's texts are first fetched into the cache at
//     once (independent loads, rather than one miss at a time later), and
//     each field is read once (the event's fields are indexed by name in
//     one pass, replayed from the layout of earlier events with the same
//     field names) and scanned once by its group's automata; each
//     needle found marks the clauses it satisfies (one run of marks per
//     needle), and a rule whose clauses are all satisfied becomes a
//     candidate. Only candidates and the few
//     rules without clauses (conditions of negations, nulls, numbers,
//     regular expressions without literals) are evaluated; they read the
//     marks instead of comparing strings again (a set with many values is
//     marked as a whole when one of its needles is found), and compare
//     directly only the sets outside their clauses (filters).
//   - Field values repeat from event to event (the same programs, paths,
//     users and command lines), so each evaluation state keeps a value
//     memo: per group and whole value, the needles its automata found. A
//     value seen again costs a hash, a comparison and the replay of its
//     needles instead of the automata's passes. The memo is exact (values
//     are compared in full), bounded (two-way sets, arenas of two
//     generations: values used again move to the current one, the others
//     are forgotten with the previous one; values admitted on their second
//     sighting), and survives the garbage collector's emptying of the state
//     pool.
//
// Matching is case-insensitive unless cased is given; regular expressions
// are case-sensitive unless i is given, as the specification says. Vigil
// treats an empty field like an absent one (Winlogbeat drops empty Windows
// event data that EVTX files keep), so null and an empty value match both, and
// exists: true requires a non-empty value. Keywords (values without a
// field) match anywhere in the event's message or any original field value.
//
// An Engine is safe for concurrent use: routes are published with copy on
// write, and each evaluation takes its scratch state (with its memos, about
// 1.1 MB) from a pool; once an event's route is compiled, Match allocates
// nothing.
package sigma
