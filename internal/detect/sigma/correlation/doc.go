// Package correlation runs Sigma correlation rules (Sigma specification
// v2, correlation rules: event_count, value_count, temporal and
// temporal_ordered, with group-by, timespan, condition, aliases, generate
// and chaining) over the matches of detection rules, in event time and with
// bounded state.
//
// ParseNode reads one correlation rule from its decoded YAML document; the
// Sigma loader (sigma.LoadDir and sigma.LoadFile) reads rule folders once
// and hands it every document with a correlation section, so correlation
// rules are parsed in one place. Parse reads the correlation rules of a lone
// YAML file (any documents without a correlation section, such as the
// detection rules the correlation references, are left out; ParseWithRefs
// lists their ids and names).
// NewEngine checks the references between rules, orders chained
// correlations and reports the rules it cannot run. Engine.Observe takes
// one detection-rule match at a time and calls back with every Result that
// fires.
//
// # Windows and time
//
// Every correlation keeps, per group (the values of its group-by fields,
// read through the aliases), the matches of its last timespan, sorted by
// event time. The engine's clock is the largest event time seen. A match
// may arrive up to one timespan behind the clock and still counts in
// every window it belongs to; older matches are dropped and counted as
// Late. Windows slide: a window is any interval of one timespan (both ends
// included), not a fixed bucket, so a burst across a bucket boundary is
// still found. Because an engine has one clock, a stream whose event times
// lie far from the others' (an import of last month's logs beside live
// ingest) needs an engine of its own, or its matches are all late.
//
// Conditions with only lower bounds (gt, gte; the implicit "all rules" of
// temporal rules) are decided as soon as a match arrives: the engine looks
// for the earliest window holding the new match that satisfies the
// condition. When one does, the rule fires once for that window and the
// group is reset: its matches up to the window's end are dropped, so a
// burst of 25 failed logons against gte: 10 fires twice (at the 10th and
// the 20th), not 16 times. Repeats of the same group become one alert
// through the alert's dedup key (rule and group values).
//
// Conditions with an upper bound (lt, lte, eq, neq, or a range) can only
// be decided once no more matches can enter the window: the window
// starting at a group's oldest match is decided when the clock passes its
// end plus the lateness (one timespan), or at Flush. Its matches are then
// dropped, and the next window starts at the next match. A group with no
// match at all never exists, so "lt" never fires for silence.
//
// value_count counts the distinct values of the condition's field (of
// the combination of values, for several fields); temporal counts the
// distinct referenced rules matched; temporal_ordered measures the longest
// prefix of its rules list matched in order within one timespan (equal
// times count in arrival order). Without a condition, temporal kinds need
// all their rules.
//
// Matches without a group-by field (or without the value_count field) are
// not counted, as a backend's group-by drops null groups; they are counted
// as MissingField. Group values are compared exactly (case-sensitive).
//
// # Bounded state
//
// Groups whose matches have all aged out are removed by a sweep that runs
// whenever the clock moves a quarter of a rule's timespan. Options.MaxGroups
// caps the groups per rule (the least recently used is evicted) and
// Options.MaxEntries the matches per group (the oldest are dropped).
// Matches that cannot change any count are compacted away on arrival: of
// three matches of the same value (value_count) or rule (temporal) within
// one timespan the middle one, and for temporal_ordered a match directly
// followed by one of the same rule. Stats reports the groups and matches
// held, an estimate of their bytes, and the counters above, for metrics.
//
// # Chaining and generate
//
// A correlation may reference other correlations by id or name. When a
// referenced correlation fires, its Result enters the referencing ones as
// a match at the time of its last event, and their group-by fields are
// read from the Result's group (then from the event that completed it).
// Cycles are reported and their rules skipped. As in pySigma, a rule
// referenced by a correlation without generate: true raises no alert of
// its own: Engine.Generates answers this for detection rules and
// Result.Intermediate for correlations.
package correlation
