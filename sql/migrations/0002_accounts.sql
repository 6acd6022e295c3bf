-- Staff accounts, roles per register, sessions, API tokens, the confidentiality commitment
-- and sign-in throttling (S-01, S-02, S-03, S-05). Times that are compared on every request
-- (sessions, tokens, throttling) are unix seconds; the rest are ISO 8601 UTC text.

CREATE TABLE users (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	name           TEXT NOT NULL UNIQUE,
	is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin = 0 OR is_admin = 1),
	active         INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
	pw_hash        TEXT,             -- Argon2id string (libsodium); NULL until a password is set
	pw_changed_at  INTEGER,          -- unix seconds
	must_change    INTEGER NOT NULL DEFAULT 0 CHECK (must_change = 0 OR must_change = 1),
	totp_sealed    BLOB,             -- TOTP secret sealed with the field key; NULL = none
	totp_pending   BLOB,             -- a new secret being enrolled, until a code confirms it
	totp_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (totp_confirmed = 0 OR totp_confirmed = 1),
	totp_last_step INTEGER,          -- last accepted TOTP time step (a code works once)
	created_at     TEXT NOT NULL,
	created_by     TEXT NOT NULL,
	deactivated_at TEXT,
	deactivated_by TEXT
) STRICT;

-- Earlier password hashes, so the last N cannot be reused.
CREATE TABLE password_history (
	id      INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	pw_hash TEXT NOT NULL,
	set_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX password_history_user ON password_history(user_id, id);

-- A role on one register. At most one active grant per user and register; a new grant
-- revokes the old one. Revoked grants stay as the record of who gave and removed what.
CREATE TABLE grants (
	id          INTEGER PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id),
	register_id TEXT NOT NULL,
	role        TEXT NOT NULL CHECK (role = 'viewer' OR role = 'editor' OR role = 'manager'
	                                 OR role = 'processor'),
	processor   TEXT,                -- for role processor: the declared processor's recipient id
	granted_at  TEXT NOT NULL,
	granted_by  TEXT NOT NULL,
	revoked_at  TEXT,
	revoked_by  TEXT,
	CHECK ((role = 'processor') = (processor IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX grants_active ON grants(user_id, register_id) WHERE revoked_at IS NULL;
CREATE INDEX grants_register ON grants(register_id, id);

-- Sign-in sessions. Only a hash of the token is stored.
CREATE TABLE sessions (
	token_hash  BLOB PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id),
	csrf        TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,   -- absolute lifetime end
	restriction TEXT                -- NULL, or what must be done first: 'password', 'totp'
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX sessions_last_seen ON sessions(last_seen);

-- Bearer tokens for integrations. Only a hash of the token is stored.
CREATE TABLE api_tokens (
	id          INTEGER PRIMARY KEY,
	token_hash  BLOB NOT NULL UNIQUE,
	user_id     INTEGER NOT NULL REFERENCES users(id),
	register_id TEXT,               -- NULL: every register the user has a role on
	role        TEXT,               -- NULL: the user's role; else at most this role
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	expires_at  INTEGER,            -- unix seconds; NULL: no expiry
	last_used   INTEGER,
	revoked_at  TEXT,
	revoked_by  TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- The controller's confidentiality commitment, versioned, and who accepted which version.
CREATE TABLE commitments (
	version    INTEGER PRIMARY KEY,
	text       TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL
) STRICT;

CREATE TABLE commitment_acceptances (
	user_id     INTEGER NOT NULL REFERENCES users(id),
	version     INTEGER NOT NULL REFERENCES commitments(version),
	accepted_at TEXT NOT NULL,
	PRIMARY KEY (user_id, version)
) STRICT, WITHOUT ROWID;

-- Failed sign-ins per account name (keyed hash, so typed names are not kept) and per client
-- address: a growing delay, then a temporary lock.
CREATE TABLE signin_throttle (
	key          TEXT PRIMARY KEY,  -- 'user:<hex keyed hash>' or 'addr:<address>'
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL,
	next_allowed INTEGER NOT NULL,
	locked_until INTEGER,           -- NULL unless locked
	user_id      INTEGER            -- the account a 'user:' key names, when it exists
) STRICT, WITHOUT ROWID;
CREATE INDEX signin_throttle_locked ON signin_throttle(locked_until)
	WHERE locked_until IS NOT NULL;
CREATE INDEX signin_throttle_last ON signin_throttle(last_failure);
