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
);

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
);

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

-- index asset_addresses_address
CREATE INDEX asset_addresses_address ON asset_addresses (address);

-- index assets_hostname
CREATE UNIQUE INDEX assets_hostname ON assets (hostname) WHERE hostname != '';

-- index dead_letters_input
CREATE INDEX dead_letters_input ON dead_letters (input, id);

-- index dead_letters_reason
CREATE INDEX dead_letters_reason ON dead_letters (reason, id);

-- index dead_letters_source
CREATE INDEX dead_letters_source ON dead_letters (source, id);

-- index intel_indicators_hunted
CREATE INDEX intel_indicators_hunted ON intel_indicators (hunted) WHERE hunted = 0;

-- index source_minutes_minute
CREATE INDEX source_minutes_minute ON source_minutes (minute);

