// Package winlog maps Windows events into schema events from three forms:
// Winlogbeat documents (MapWinlogbeat), evtx_dump-style JSON records
// (MapEvtxJSON, with SplitJSONObjects for files of several objects) and
// binary .evtx files (ReadEVTX, decoded with www.velocidex.com/golang/evtx).
//
// All three give the same event for the same Windows event. Each input is
// first brought to one intermediate record (record.go), whose values are
// canonicalised in one place (canonValue), and the event is built from it
// once:
//
//   - Event.Fields holds the System fields first, under the names Sigma
//     rules use (EventID, Channel, Computer, Provider_Name, EventRecordID,
//     Level, Task, Opcode, Keywords, ProcessID, ThreadID, SecurityUserID),
//     then the EventData/UserData children under their own names (Image,
//     CommandLine, TargetUserName, ...), sorted by name: Winlogbeat's
//     documents do not keep the event's order, so no input's order is used.
//   - Numbers are decimal strings; values Windows types as hexadecimal
//     (HexInt32/HexInt64, such as logon ids, Keywords, result codes) are
//     0x-prefixed lower-case hex, as Windows renders them.
//   - GUIDs are upper-case with braces, as Windows renders them ({...});
//     evtx_dump's bare GUIDs get the braces.
//   - Trailing white space is removed (evtx_dump removes it, and Sigma rules
//     match "Advapi", not "Advapi  "), and \r\n becomes \n (Winlogbeat's
//     form).
//   - <Data> elements without a Name become param1..paramN (Winlogbeat's
//     names) plus "Data", their values joined with newlines (what Sigma's
//     classic event log rules search).
//   - UserData contributes the children of its one child element; deeper
//     elements are flattened with dots.
//   - Event.Timestamp is System/TimeCreated/@SystemTime, truncated to
//     microseconds (evtx_dump's precision).
//
// Winlogbeat renders the level, task, opcode and keywords by name; see
// MapWinlogbeat for how they are turned back into numbers. Winlogbeat drops
// empty EventData values; the other inputs keep them.
//
// ECS fields come from a data-driven table keyed by provider and event id
// (ecsmap.go): Security logon, account, group, Kerberos and process events
// and Sysmon process, network, file, registry and DNS events.
package winlog
