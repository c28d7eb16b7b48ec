-- trigger audit_log_no_delete
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

-- trigger audit_log_no_update
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

-- table alert_events
CREATE TABLE alert_events (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	alert_id  TEXT    NOT NULL,
	time      INTEGER NOT NULL,
	actor     TEXT    NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('status', 'assign', 'comment')),
	from_text TEXT    NOT NULL DEFAULT '',
	to_text   TEXT    NOT NULL DEFAULT '',
	text      TEXT    NOT NULL DEFAULT ''
);

-- table alerts
CREATE TABLE alerts (
	id                 TEXT    PRIMARY KEY,
	dedup_key          TEXT    NOT NULL,
	rule_id            TEXT    NOT NULL,
	rule_name          TEXT    NOT NULL,
	kind               TEXT    NOT NULL,
	title              TEXT    NOT NULL,
	severity           INTEGER NOT NULL,
	priority           INTEGER NOT NULL,
	first_seen         INTEGER NOT NULL,
	last_seen          INTEGER NOT NULL,
	created            INTEGER NOT NULL,
	updated            INTEGER NOT NULL,
	host               TEXT    NOT NULL,
	source_ip          TEXT    NOT NULL,
	destination_ip     TEXT    NOT NULL,
	destination_domain TEXT    NOT NULL,
	user_name          TEXT    NOT NULL,
	tags               TEXT    NOT NULL,
	evidence_ids       TEXT    NOT NULL,
	status             TEXT    NOT NULL
		CHECK (status IN ('new', 'acknowledged', 'investigating', 'resolved')),
	count              INTEGER NOT NULL,
	details            TEXT    NOT NULL
, assignee TEXT NOT NULL DEFAULT '', disposition TEXT NOT NULL DEFAULT ''
	CHECK (disposition IN ('', 'true_positive', 'benign_true_positive', 'false_positive')), reason TEXT NOT NULL DEFAULT '');

-- table api_tokens
CREATE TABLE api_tokens (
	id        TEXT    PRIMARY KEY,
	name      TEXT    NOT NULL,
	role      TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),
	prefix    TEXT    NOT NULL,
	hash      BLOB    NOT NULL UNIQUE,
	created   INTEGER NOT NULL,
	last_used INTEGER,
	revoked   INTEGER
, user_id TEXT REFERENCES users (id) ON DELETE SET NULL);

-- table asset_addresses
CREATE TABLE asset_addresses (
	asset_id TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
	address  TEXT    NOT NULL,
	pos      INTEGER NOT NULL,
	PRIMARY KEY (asset_id, address)
) WITHOUT ROWID;

-- table asset_version
CREATE TABLE asset_version (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	version INTEGER NOT NULL
);

-- table assets
CREATE TABLE assets (
	id               TEXT PRIMARY KEY,
	hostname         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	mac              TEXT NOT NULL DEFAULT '',
	owner            TEXT NOT NULL DEFAULT '',
	role             TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	criticality      TEXT NOT NULL DEFAULT 'medium'
		CHECK (criticality IN ('low', 'medium', 'high', 'critical')),
	tags             TEXT NOT NULL DEFAULT '[]',
	expected_sources TEXT NOT NULL DEFAULT '[]',
	notes            TEXT NOT NULL DEFAULT '',
	created          INTEGER NOT NULL,
	updated          INTEGER NOT NULL
);

-- table audit_log
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	time        INTEGER NOT NULL,
	actor       TEXT    NOT NULL,
	actor_role  TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	before      TEXT,
	after       TEXT,
	remote_addr TEXT    NOT NULL
);

-- table consumer_checkpoints
CREATE TABLE consumer_checkpoints (
	consumer TEXT    PRIMARY KEY,
	seq      INTEGER NOT NULL,
	updated  INTEGER NOT NULL
) WITHOUT ROWID;

-- table dead_letters
CREATE TABLE dead_letters (
	id        INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	input     TEXT    NOT NULL,
	source    TEXT    NOT NULL,
	reason    TEXT    NOT NULL,
	detail    TEXT    NOT NULL,
	raw       BLOB    NOT NULL,
	raw_len   INTEGER NOT NULL,
	truncated INTEGER NOT NULL
);

-- table detector_state
CREATE TABLE detector_state (
	consumer TEXT    PRIMARY KEY,
	seq      INTEGER NOT NULL,
	data     BLOB    NOT NULL,
	updated  INTEGER NOT NULL
) WITHOUT ROWID;

-- table intel_indicators
CREATE TABLE intel_indicators (
	source      TEXT NOT NULL,
	type        TEXT NOT NULL,
	value       TEXT NOT NULL,
	confidence  INTEGER NOT NULL,
	valid_from  INTEGER,
	valid_until INTEGER,
	revoked     INTEGER NOT NULL DEFAULT 0,
	threat      TEXT NOT NULL DEFAULT '',
	tags        TEXT NOT NULL DEFAULT '[]',
	also        TEXT NOT NULL DEFAULT '',
	data        BLOB NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	hunted      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (source, type, value)
) WITHOUT ROWID;

-- table intel_sources
CREATE TABLE intel_sources (
	name          TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	cursor        TEXT NOT NULL DEFAULT '',
	last_attempt  INTEGER,
	last_success  INTEGER,
	last_error    TEXT NOT NULL DEFAULT '',
	failures      INTEGER NOT NULL DEFAULT 0,
	indicators    INTEGER NOT NULL DEFAULT 0,
	problems      INTEGER NOT NULL DEFAULT 0,
	last_problems TEXT NOT NULL DEFAULT '[]'
);

-- table schema_migrations
CREATE TABLE schema_migrations (
	version INTEGER PRIMARY KEY,
	name    TEXT    NOT NULL,
	applied INTEGER NOT NULL
);

-- table sessions
CREATE TABLE sessions (
	id        BLOB    PRIMARY KEY,
	user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	csrf      TEXT    NOT NULL
);

-- table settings
CREATE TABLE settings (
	key     TEXT    PRIMARY KEY,
	value   TEXT    NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;

-- table source_errors
CREATE TABLE source_errors (
	host   TEXT    NOT NULL,
	input  TEXT    NOT NULL,
	reason TEXT    NOT NULL,
	count  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input, reason),
	FOREIGN KEY (host, input) REFERENCES sources (host, input) ON DELETE CASCADE
) WITHOUT ROWID;

-- table source_minutes
CREATE TABLE source_minutes (
	host   TEXT    NOT NULL,
	input  TEXT    NOT NULL,
	minute INTEGER NOT NULL,
	events INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input, minute),
	FOREIGN KEY (host, input) REFERENCES sources (host, input) ON DELETE CASCADE
) WITHOUT ROWID;

-- table sources
CREATE TABLE sources (
	host         TEXT    NOT NULL,
	input        TEXT    NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	first_event  INTEGER,
	last_event   INTEGER,
	events       INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	parse_errors INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input)
) WITHOUT ROWID;

-- table sqlite_sequence
CREATE TABLE sqlite_sequence(name,seq);

-- table users
CREATE TABLE users (
	id            TEXT    PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
	password_hash TEXT    NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);

-- table vuln_events
CREATE TABLE vuln_events (
	id       INTEGER PRIMARY KEY,
	key      TEXT NOT NULL REFERENCES vuln_findings (key) ON DELETE CASCADE,
	scan_id  TEXT NOT NULL REFERENCES vuln_scans (id),
	at       INTEGER NOT NULL,
	event    TEXT NOT NULL CHECK (event IN ('new', 'fixed', 'reopened')),
	severity TEXT NOT NULL
);

-- table vuln_findings
CREATE TABLE vuln_findings (
	key        TEXT PRIMARY KEY,
	target     TEXT NOT NULL COLLATE NOCASE,
	asset_id   TEXT NOT NULL DEFAULT '',
	vuln_id    TEXT NOT NULL,
	severity   TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
	cvss       REAL NOT NULL DEFAULT 0,
	status     TEXT NOT NULL CHECK (status IN ('open', 'fixed')),
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	opened     INTEGER NOT NULL,
	fixed      INTEGER,
	reopened   INTEGER NOT NULL DEFAULT 0,
	scanners   TEXT NOT NULL DEFAULT '[]',
	last_scan  TEXT NOT NULL REFERENCES vuln_scans (id),
	detail     TEXT NOT NULL
);

-- table vuln_scans
CREATE TABLE vuln_scans (
	id        TEXT PRIMARY KEY,
	scanner   TEXT NOT NULL,
	format    TEXT NOT NULL DEFAULT '',
	file_name TEXT NOT NULL DEFAULT '',
	scanned   INTEGER NOT NULL,
	imported  INTEGER NOT NULL,
	targets   TEXT NOT NULL DEFAULT '[]',
	findings  INTEGER NOT NULL DEFAULT 0
);

-- index alert_events_alert
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- index alerts_assignee
CREATE INDEX alerts_assignee ON alerts (assignee, last_seen, id);

-- index alerts_dedup
CREATE INDEX alerts_dedup     ON alerts (dedup_key, last_seen);

-- index alerts_host
CREATE INDEX alerts_host      ON alerts (host, last_seen, id);

-- index alerts_kind
CREATE INDEX alerts_kind      ON alerts (kind, last_seen, id);

-- index alerts_last_seen
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);

-- index alerts_rule
CREATE INDEX alerts_rule      ON alerts (rule_id, last_seen, id);

-- index alerts_status
CREATE INDEX alerts_status    ON alerts (status, last_seen, id);

-- index api_tokens_prefix
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);

-- index api_tokens_user
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- index asset_addresses_address
CREATE INDEX asset_addresses_address ON asset_addresses (address);

-- index assets_hostname
CREATE UNIQUE INDEX assets_hostname ON assets (hostname) WHERE hostname != '';

-- index audit_log_action
CREATE INDEX audit_log_action ON audit_log (action, id);

-- index audit_log_actor
CREATE INDEX audit_log_actor  ON audit_log (actor COLLATE NOCASE, id);

-- index audit_log_target
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

-- index audit_log_time
CREATE INDEX audit_log_time   ON audit_log (time, id);

-- index dead_letters_input
CREATE INDEX dead_letters_input ON dead_letters (input, id);

-- index dead_letters_reason
CREATE INDEX dead_letters_reason ON dead_letters (reason, id);

-- index dead_letters_source
CREATE INDEX dead_letters_source ON dead_letters (source, id);

-- index intel_indicators_hunted
CREATE INDEX intel_indicators_hunted ON intel_indicators (hunted) WHERE hunted = 0;

-- index sessions_expires
CREATE INDEX sessions_expires ON sessions (expires);

-- index sessions_user
CREATE INDEX sessions_user    ON sessions (user_id);

-- index source_minutes_minute
CREATE INDEX source_minutes_minute ON source_minutes (minute);

-- index vuln_events_at
CREATE INDEX vuln_events_at ON vuln_events (at);

-- index vuln_events_key
CREATE INDEX vuln_events_key ON vuln_events (key, at);

-- index vuln_findings_asset
CREATE INDEX vuln_findings_asset ON vuln_findings (asset_id) WHERE asset_id != '';

-- index vuln_findings_status
CREATE INDEX vuln_findings_status ON vuln_findings (status, severity, opened);

-- index vuln_findings_target
CREATE INDEX vuln_findings_target ON vuln_findings (target, status);

