// Package zeek maps Zeek logs, in Zeek's TSV format (the default ASCII
// writer) and in its JSON format, into schema events.
//
// Any log type is accepted: the TSV reader is driven by the #fields and
// #types headers, and JSON records are taken key by key. Both formats give
// the same event for the same record. To make that hold, every value is
// written to Event.Fields in one canonical form:
//
//   - Unset fields ("-" in TSV, absent or null in JSON) are omitted.
//   - Empty strings and empty sets or vectors ("(empty)" in TSV, "" or [] in
//     JSON) give an empty string.
//   - Sets and vectors are joined with commas, the TSV form, each element in
//     the canonical form of its type.
//   - Booleans are "T" or "F", the TSV form.
//   - count, int and port values are decimal integers.
//   - double and interval values are printed as Zeek's TSV writer prints
//     them: six decimals with Zeek's rounding (modp_dtoa), or the shortest
//     exponent form ("4.294967296e+09") above 2^31-1.
//   - time values are epoch seconds with exactly six decimals
//     ("1521911720.865716", "-1418429426.887384"), the form Zeek's TSV
//     writer uses; JSON's ISO 8601 times and epoch numbers are converted to
//     it. Event.Timestamp is taken from ts.
//   - Strings are the characters themselves, as Zeek's JSON writer writes
//     them: TSV escapes (\xNN, \\) are decoded, then control characters
//     other than \b \f \n \r \t, DEL and bytes that are not valid UTF-8 are
//     written as the four characters \xNN.
//
// The JSON writer's own metadata keys "_path" and "_write_ts" are not record
// fields and are not copied; "_path" names the log type.
//
// ECS fields are derived from the canonical Fields in one place (ecs.go), so
// they agree between the formats too.
package zeek
