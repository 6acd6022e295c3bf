-- Retention (L-01, L-02, L-05, L-06, L-07): the records kept about a person besides their
-- fields, legal holds, what anonymisation keeps, and the runs of the retention sweep with
-- their progress, so that a run killed midway continues where its last batch committed.

-- Records of a declared record type about a person: a customer event (service order,
-- meeting, registration, …) or another record the declaration names. Only the type and the
-- day it happened are kept, nothing free-form; a record of a type with customer_event: true
-- moves the person's last_customer_event forward. The records go with the person.
CREATE TABLE person_records (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	record_type TEXT NOT NULL,
	occurred_at TEXT NOT NULL,  -- YYYY-MM-DD
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL
) STRICT;
CREATE INDEX person_records_person ON person_records(person_id, record_type);
CREATE INDEX person_records_type ON person_records(register_id, record_type, id);

-- The day a person's retention period runs from under `from: last_customer_event`: their
-- last customer event, or the day they were entered when they have had none. Expression
-- index, so the sweep reads due persons in (day, id) order without a sort; the statements
-- that use it repeat the expression word for word.
CREATE INDEX persons_retention_clock
	ON persons(register_id, coalesce(last_customer_event, substr(created_at, 1, 10)));

-- Legal holds: a held person is skipped by every retention rule until released. Released
-- holds stay as the record of who held and released whom, when.
CREATE TABLE legal_holds (
	id          INTEGER PRIMARY KEY,
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	held_by     TEXT NOT NULL,
	held_at     TEXT NOT NULL,
	released_by TEXT,
	released_at TEXT
) STRICT;
CREATE UNIQUE INDEX legal_holds_active ON legal_holds(register_id, person_id)
	WHERE released_at IS NULL;

-- What anonymisation keeps of a person: their subject group and the values of the fields
-- the declaration marks statistical, with counts of their records per type. No person id:
-- the usage log names persons by id, and a kept id would tie these facts back to them.
CREATE TABLE anonymized_records (
	id            INTEGER PRIMARY KEY,
	register_id   TEXT NOT NULL REFERENCES registers(id),
	rule_id       TEXT NOT NULL,
	subject_group TEXT NOT NULL,
	stats         TEXT NOT NULL DEFAULT '{}',  -- JSON object
	anonymized_on TEXT NOT NULL                -- YYYY-MM-DD
) STRICT;

-- One run of the retention sweep. status: running (or killed while running: the next run
-- for the same registers and day continues it), done, failed, or interrupted (killed, and
-- the next run was for another day or other registers, so it started afresh). `as_of` is
-- the day the rules were applied at (--now).
CREATE TABLE retention_runs (
	id          INTEGER PRIMARY KEY,
	register_id TEXT,           -- NULL: every register
	as_of       TEXT NOT NULL,
	actor       TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	status      TEXT NOT NULL CHECK (status = 'running' OR status = 'done' OR status = 'failed'
	            OR status = 'interrupted'),
	resumed     INTEGER NOT NULL DEFAULT 0   -- how many times a later run continued it
) STRICT;

-- Progress and summary of a run, one row per rule and part (the persons, or one record
-- type): where the last committed batch ended and what it did. Written in the batch's own
-- transaction, so the counts are exactly what was done.
CREATE TABLE retention_progress (
	run_id      INTEGER NOT NULL REFERENCES retention_runs(id),
	register_id TEXT NOT NULL,
	rule_id     TEXT NOT NULL,
	part        TEXT NOT NULL,         -- 'person' or a record type
	action      TEXT NOT NULL,
	cursor_day  TEXT NOT NULL DEFAULT '',
	cursor_id   INTEGER NOT NULL DEFAULT 0,
	done        INTEGER NOT NULL DEFAULT 0,
	examined    INTEGER NOT NULL DEFAULT 0,
	acted       INTEGER NOT NULL DEFAULT 0,
	excepted    INTEGER NOT NULL DEFAULT 0,
	held        INTEGER NOT NULL DEFAULT 0,
	archived    INTEGER NOT NULL DEFAULT 0,  -- archive packages written
	PRIMARY KEY (run_id, register_id, rule_id, part)
) STRICT;
