-- The usage log becomes tamper-evident and complete (S-04): every entry also records the
-- request, the client address, the staff account and, for searches, the subject ids
-- returned, and carries a keyed hash of its canonical form chained to the previous entry.
-- Entries written before this migration get their hashes, in id order, when the next entry
-- is appended or `kortisto audit verify` runs, whichever comes first.
ALTER TABLE usage_log ADD COLUMN request_id TEXT;
ALTER TABLE usage_log ADD COLUMN client TEXT;
ALTER TABLE usage_log ADD COLUMN user_id INTEGER;  -- the staff account acting, NULL for others
ALTER TABLE usage_log ADD COLUMN subjects TEXT;    -- person ids, comma separated, for reads
ALTER TABLE usage_log ADD COLUMN prev_hash BLOB;
ALTER TABLE usage_log ADD COLUMN hash BLOB;

-- `audit show --user` and `--register`, newest first. Each index costs every entry one more
-- b-tree insert, so there are only these two; a time filter rides along either.
CREATE INDEX usage_log_user ON usage_log(user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX usage_log_register ON usage_log(register_id, id);

-- Who looked at or changed a person: a full-text index of the person ids each entry concerns
-- (its person, a search's results, a disclosure's subjects), one row per entry with rowid =
-- usage_log.id. Contentless and without positions: it answers "which entries name person N"
-- and holds nothing else. A search writes one row here, not one per person it found.
CREATE VIRTUAL TABLE usage_subjects USING fts5(
	persons, content = '', detail = none, tokenize = 'unicode61'
);

-- Pruning old entries leaves a signed checkpoint of the last removed entry, so the rest of
-- the chain still verifies.
CREATE TABLE usage_checkpoints (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	last_id   INTEGER NOT NULL,     -- id of the last removed entry
	last_hash BLOB NOT NULL,        -- its hash
	signature BLOB NOT NULL         -- Ed25519 over at, last_id and last_hash
) STRICT;

-- Disclosures to declared recipients on individual request (S-07).
CREATE TABLE disclosures (
	id          INTEGER PRIMARY KEY,
	register_id TEXT NOT NULL,
	recipient   TEXT NOT NULL,      -- declared recipient id
	purpose     TEXT NOT NULL,
	legal_basis TEXT NOT NULL,      -- e.g. "julkisuuslaki 621/1999 13 §"
	categories  TEXT NOT NULL,      -- JSON array of declared category ids
	request_ref TEXT,               -- the recipient's reference for its request
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL
) STRICT;
CREATE INDEX disclosures_register ON disclosures(register_id, id);

CREATE TABLE disclosure_subjects (
	register_id   TEXT NOT NULL,
	person_id     INTEGER NOT NULL,
	disclosure_id INTEGER NOT NULL REFERENCES disclosures(id),
	PRIMARY KEY (register_id, person_id, disclosure_id)
) STRICT, WITHOUT ROWID;
-- The subjects of one disclosure, for lists.
CREATE INDEX disclosure_subjects_disclosure ON disclosure_subjects(disclosure_id, person_id);
