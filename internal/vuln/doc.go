// Package vuln reads vulnerability scanner reports into findings that Vigil
// tracks over time: which weaknesses are open on which target, since when,
// and when they were fixed or came back.
//
// # Formats
//
// Parse reads six report formats; Detect sniffs which one a file is:
//
//   - Trivy JSON: SchemaVersion 2 reports (Results[] of Vulnerabilities,
//     Misconfigurations, Secrets and Licenses), the Kubernetes cluster
//     report (ClusterName with Resources[], or the older Vulnerabilities[]
//     and Misconfigurations[] lists of workloads) and the legacy bare list
//     of results. The target is the ArtifactName (an image, a directory, a
//     repository), a workload as namespace/kind/name, or for legacy lists
//     each result's Target.
//   - Grype JSON (grype -o json): each of matches[] is a finding on the
//     scanned source (source.target.userInput for images, the path for
//     directories). A GHSA or distribution id whose relatedVulnerabilities
//     name exactly one CVE is reported as that CVE, the other id kept as an
//     alias, so Trivy and Grype findings on one image share keys.
//   - Greenbone/OpenVAS XML (the GMP report format): each
//     report/results/result is a finding on its host and port, keyed by NVT
//     OID; the report's host and port lists name the targets covered.
//   - Greenbone/OpenVAS CSV result export (IP, Port, Port Protocol, CVSS,
//     Severity, NVT OID, CVEs, ...).
//   - Nessus v2 XML (.nessus, NessusClientData_v2): each ReportItem of each
//     ReportHost is a finding on that host keyed by plugin id, port and
//     protocol. Informational plugins (severity 0) are kept with severity
//     info rather than dropped, as DefectDojo keeps them; filter by
//     severity to hide them.
//   - Tenable CSV: the Nessus "Export CSV" layouts, Tenable.sc (Plugin,
//     IP Address, ...) and Tenable.io (semicolon-separated definition.* and
//     asset.* columns). Rows whose state is Fixed are left out but their
//     host counts as covered; whole-number scores above 10 are read as
//     tenths (Tenable.io's "75" is 7.5).
//
// A report that cannot be read at all is an error naming the file (and the
// line for XML and CSV). A bad record inside a readable report is skipped
// and reported as a Problem naming the file and the record (line, JSON
// path or element); the records beside it are kept.
//
// # Severity
//
// Severities are normalised to critical, high, medium, low and info. The
// scanner's own rating wins: Trivy's and Grype's severity words (Grype's
// Negligible is low, Unknown is info), OpenVAS' threat (Log and Debug are
// info), Nessus' severity 0-4 (risk_factor when it is missing), Tenable's
// Risk or Severity column. Where the rating is missing or unknown the CVSS
// base score decides with the CVSS v3 bands (9.0 critical, 7.0 high, 4.0
// medium, above 0 low). The CVSS score kept is v3 where the scanner gives
// it, else v4, else v2.
//
// # Deduplication
//
// A finding's Key is a hash of its target, its vulnerability id, its
// package (or, without a package, its location: the misconfigured file, a
// secret's file:line) and its port and protocol, all compared without
// regard to case. The scanner, the installed version and the package paths
// are not part of it: Trivy and Grype reporting the same CVE in the same
// package of the same image give one finding, and a package upgraded to a
// version that is still vulnerable stays the same open finding, so its age
// and SLA keep counting. Network scanners key on their own ids (Nessus
// plugin, OpenVAS NVT OID) because one plugin covers several CVEs; their
// findings do not merge across scanners. Records of one report with the
// same key are merged (highest severity and score; versions, paths,
// aliases and references united).
//
// Compared with DefectDojo's parsers (the conformance test runs their
// sample reports), Vigil keeps one finding per target where DefectDojo
// folds Nessus XML items of all hosts into one finding per severity and
// title, and leaves the installed version and path out of Grype's key.
//
// # Fixed and reopened
//
// The state database (statedb.ImportScan) tracks findings across scans by
// key. A finding is new the first time its key is seen and open from then
// on; each later scan that reports it moves its last seen time. It is
// fixed when a later scan covers its target (the target is in
// Scan.Targets) by a scanner that has reported this finding before, and
// the finding is absent: the fix time is that scan's time, so the time to
// remediate (fixed minus opened) is an upper bound, the fix having
// happened between the last scan that saw it and the first that did not.
// A scan by a different scanner, or one that does not cover the target,
// never fixes it. A fixed finding that a later scan reports again is
// reopened: its reopened count goes up and its age and SLA deadline count
// from the reopening. An SLA gives the days allowed per severity; an open
// finding past its deadline is overdue.
package vuln
