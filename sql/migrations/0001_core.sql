-- Core model: registers and their declaration versions, persons (data subjects),
-- organisations, affiliations, contact points with provenance, the change history and the
-- full-text search index. Every table that holds personal data carries register_id.

CREATE TABLE registers (
	id              TEXT PRIMARY KEY,
	current_version INTEGER NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE register_versions (
	register_id TEXT NOT NULL REFERENCES registers(id),
	version     INTEGER NOT NULL,
	source      TEXT NOT NULL,      -- the YAML text as loaded
	sha256      TEXT NOT NULL,
	published   TEXT NOT NULL,
	updated     TEXT,
	loaded_at   TEXT NOT NULL,
	loaded_by   TEXT NOT NULL,
	PRIMARY KEY (register_id, version)
) STRICT;

-- CHECK constraints compare with OR, not IN (…): SQLite builds a temporary index for an IN
-- list each time a row is written, which cost more than the rest of an insert.
--
-- Ids of persons, organisations and affiliations are AUTOINCREMENT: an id is never reused
-- after a deletion, so the usage log's entries about a deleted record can never be
-- mistaken for a later one's. Rows nothing refers to by id keep plain rowids (cheaper).
CREATE TABLE persons (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id         TEXT NOT NULL REFERENCES registers(id),
	first_name          TEXT,
	last_name           TEXT,
	subject_group       TEXT NOT NULL,
	legal_basis         TEXT NOT NULL CHECK (legal_basis BETWEEN 'a' AND 'f' AND length(legal_basis) = 1),
	source              TEXT NOT NULL,
	status              TEXT NOT NULL DEFAULT 'active'
	                    CHECK (status = 'active' OR status = 'restricted' OR status = 'passivated'),
	hetu_enc            BLOB,       -- XChaCha20-Poly1305: nonce || ciphertext
	hetu_hash           BLOB,       -- keyed BLAKE2b of the normalised code, for exact match
	hetu_masked         TEXT,       -- "131052-****"
	attrs               TEXT NOT NULL DEFAULT '{}',  -- declared attributes, JSON object
	sealed              BLOB,       -- sensitive attributes: sealed JSON object, or NULL
	last_customer_event TEXT,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL,
	created_by          TEXT NOT NULL,
	row_version         INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX persons_register ON persons(register_id, id);
CREATE UNIQUE INDEX persons_hetu ON persons(register_id, hetu_hash) WHERE hetu_hash IS NOT NULL;

CREATE TABLE organisations (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id      TEXT NOT NULL REFERENCES registers(id),
	name             TEXT NOT NULL,
	ytunnus          TEXT,
	department       TEXT,
	postal_address   TEXT,
	postal_code      TEXT,
	postal_city      TEXT,
	visiting_address TEXT,
	website          TEXT,
	source           TEXT NOT NULL,
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL,
	created_by       TEXT NOT NULL,
	row_version      INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX organisations_register ON organisations(register_id, id);
CREATE INDEX organisations_ytunnus ON organisations(register_id, ytunnus) WHERE ytunnus IS NOT NULL;
CREATE INDEX organisations_name ON organisations(register_id, name);

CREATE TABLE affiliations (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
	title       TEXT,
	start_date  TEXT,
	end_date    TEXT,
	end_reason  TEXT CHECK (end_reason IS NULL OR end_reason = 'employment_ended'
	            OR end_reason = 'role_changed' OR end_reason = 'organisation_closed'
	            OR end_reason = 'other'),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	row_version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX affiliations_person ON affiliations(person_id);
CREATE INDEX affiliations_org ON affiliations(org_id);
CREATE INDEX affiliations_register ON affiliations(register_id, id);

-- A person's contact points, each with where it came from, when and by whom (provenance).
-- Kept in (person_id, kind) order without a rowid, so a person's contact points are read in
-- one b-tree descent.
CREATE TABLE contact_points (
	register_id  TEXT NOT NULL REFERENCES registers(id),
	person_id    INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	kind         TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone' OR kind = 'postal'
	                     OR kind = 'social' OR kind = 'web' OR kind = 'ip'),
	value        TEXT NOT NULL,
	source       TEXT NOT NULL,
	collected_at TEXT NOT NULL,
	collected_by TEXT NOT NULL,
	PRIMARY KEY (person_id, kind)
) STRICT, WITHOUT ROWID;
-- Duplicate matching by normalised value; register_id last so that a person's own contact
-- points are always found through the (person_id, kind) key, not a scan of the register.
CREATE INDEX contact_points_value ON contact_points(kind, value, register_id, person_id);

-- Every change of personal data: old and new value, who, when, why. Values of sensitive
-- fields are recorded masked.
CREATE TABLE change_history (
	id          INTEGER PRIMARY KEY,
	register_id TEXT NOT NULL,
	entity      TEXT NOT NULL CHECK (entity = 'person' OR entity = 'organisation'
	                    OR entity = 'affiliation'),
	entity_id   INTEGER NOT NULL,
	field       TEXT NOT NULL,
	old_value   TEXT,
	new_value   TEXT,
	actor       TEXT NOT NULL,
	reason      TEXT,
	at          TEXT NOT NULL
) STRICT;
CREATE INDEX change_history_entity ON change_history(register_id, entity, entity_id);

-- Full-text search over names and e-mail addresses; case and diacritics do not matter.
CREATE VIRTUAL TABLE person_search USING fts5(
	body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4');
CREATE VIRTUAL TABLE org_search USING fts5(
	body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4');

-- Deferred maintenance: a deletion marks the search index for purging, and the purge
-- (which rewrites the index so no erased word stays in it) runs soon after, outside the
-- request that deleted.
CREATE TABLE maintenance (
	task  TEXT PRIMARY KEY,
	since TEXT NOT NULL
) STRICT;

-- The seam for the usage log (S-04): every change of personal data writes one entry in the
-- same transaction. Reads, sign-in and the hash chain arrive with access control.
CREATE TABLE usage_log (
	id          INTEGER PRIMARY KEY,
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL,
	purpose     TEXT,
	action      TEXT NOT NULL,
	register_id TEXT,
	entity      TEXT,
	entity_id   INTEGER,
	reason      TEXT         -- why, when the actor gave a reason (never personal data)
) STRICT;
