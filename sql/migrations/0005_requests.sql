-- Data-subject requests (R-02 … R-05): what was asked, by whom, through which channel, when
-- it is due, every step with who and when. A request outlives the data it concerns: after an
-- erasure it is the controller's proof that the request was answered (Art. 5(2)), so
-- person_id is not a foreign key, and the subject's own description of themselves is kept
-- in `subject` only as long as the request itself.
CREATE TABLE requests (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id     TEXT NOT NULL REFERENCES registers(id),
	type            TEXT NOT NULL CHECK (type = 'access' OR type = 'rectification' OR
	                    type = 'erasure' OR type = 'restriction' OR type = 'portability' OR
	                    type = 'objection' OR type = 'consent_withdrawal' OR
	                    type = 'marketing_ban'),
	person_id       INTEGER,        -- the matched subject; NULL until matched
	subject         TEXT NOT NULL DEFAULT '{}', -- how the requester identified themselves (JSON)
	details         TEXT NOT NULL DEFAULT '{}', -- what is asked (JSON): a correction, a scope
	channel         TEXT NOT NULL CHECK (channel = 'written' OR channel = 'email' OR
	                    channel = 'self_service' OR channel = 'in_person'),
	received_at     TEXT NOT NULL,
	due_on          TEXT NOT NULL,  -- YYYY-MM-DD: received + the declared deadline
	extended_to     TEXT,           -- YYYY-MM-DD after an extension (Art. 12(3))
	extension_reason TEXT,
	subject_told_at TEXT,           -- when the subject was told of the extension
	state           TEXT NOT NULL DEFAULT 'received'
	                    CHECK (state = 'received' OR state = 'verified' OR
	                    state = 'in_progress' OR state = 'fulfilled' OR state = 'refused' OR
	                    state = 'withdrawn'),
	handler         TEXT,           -- the staff user handling it
	verified_at     TEXT,
	verified_by     TEXT,
	verify_method   TEXT,
	unfounded       TEXT,           -- NULL, 'unfounded' or 'excessive' (Art. 12(5))
	unfounded_reason TEXT,
	fee_cents       INTEGER,
	refusal_reason  TEXT,
	outcome         TEXT,           -- what fulfilment did (JSON), never personal data
	closed_at       TEXT,
	created_at      TEXT NOT NULL,
	created_by      TEXT NOT NULL
) STRICT;
CREATE INDEX requests_register ON requests(register_id, id);
CREATE INDEX requests_person ON requests(register_id, person_id) WHERE person_id IS NOT NULL;
-- Open requests by due date: the overdue list reads only these.
CREATE INDEX requests_open_due ON requests(register_id, coalesce(extended_to, due_on))
	WHERE state = 'received' OR state = 'verified' OR state = 'in_progress';

CREATE TABLE request_steps (
	id          INTEGER PRIMARY KEY,
	request_id  INTEGER NOT NULL REFERENCES requests(id),
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,      -- received, verified, extended, marked, fulfilled, …
	note        TEXT                -- a reason or method; never the subject's data
) STRICT;
CREATE INDEX request_steps_request ON request_steps(request_id, id);

-- Marketing bans per channel (M-02) and the absolute direct-marketing objection (R-11):
-- channel 'all' bans every direct-marketing channel. A ban is never lifted by kortisto; a
-- new consent of the subject is recorded apart (consents) and does not delete the ban row.
CREATE TABLE marketing_bans (
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	channel     TEXT NOT NULL CHECK (channel = 'email' OR channel = 'post' OR
	                channel = 'phone' OR channel = 'sms' OR channel = 'all'),
	since       TEXT NOT NULL,
	source      TEXT NOT NULL,      -- 'request:12', 'unsubscribe', 'staff'
	PRIMARY KEY (register_id, person_id, channel)
) STRICT, WITHOUT ROWID;

-- Erasure by passivation (R-08): what stays of a passivated subject is only keyed hashes
-- (BLAKE2b under the data directory's key) of their normalised identifiers — e-mail,
-- phone, name with organisation — so imports, forms and API creates can recognise and skip
-- the person without anyone being able to read who they were.
CREATE TABLE suppressions (
	register_id TEXT NOT NULL REFERENCES registers(id),
	hash        BLOB NOT NULL,
	kind        TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone' OR kind = 'name'),
	since       TEXT NOT NULL,
	source      TEXT NOT NULL,      -- 'request:12'
	PRIMARY KEY (register_id, hash)
) STRICT, WITHOUT ROWID;
