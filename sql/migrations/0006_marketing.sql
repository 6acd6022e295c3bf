-- Marketing (M-01 … M-05, R-12): consents with their exact text and source, subscription
-- lists, mailings with a status row per recipient, and newsletter opens. Every row that
-- concerns a person carries register_id and goes with the person (ON DELETE CASCADE), so an
-- erasure or a retention rule that deletes the person deletes their consents, subscriptions,
-- targeting and opens too.

-- A consent (M-01, R-12): who gave it, for which declared purpose and channel, the exact text
-- shown and its version, when and through what (a public form, a staff user, an import), and
-- its withdrawal. A consent given through a public form is 'pending' until the subject
-- follows the confirmation link (double opt-in); a pending consent never counts and expires
-- at expires_at. A withdrawn consent is kept as the proof of what was given and when it
-- ended (Art. 7(1)); it never counts again.
CREATE TABLE consents (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id   TEXT NOT NULL REFERENCES registers(id),
	person_id     INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	purpose       TEXT NOT NULL,
	channel       TEXT NOT NULL CHECK (channel = 'email' OR channel = 'post' OR
	                  channel = 'phone' OR channel = 'sms'),
	text          TEXT NOT NULL,      -- the consent text exactly as shown
	text_version  TEXT NOT NULL,
	given_at      TEXT NOT NULL,
	source_kind   TEXT NOT NULL CHECK (source_kind = 'form' OR source_kind = 'staff' OR
	                  source_kind = 'import' OR source_kind = 'email'),
	source_form   TEXT,               -- form or list id
	source_client TEXT,               -- client address of the form post
	source_user   TEXT,               -- the staff user or operator who recorded it
	state         TEXT NOT NULL CHECK (state = 'pending' OR state = 'confirmed'),
	expires_at    TEXT,               -- pending: when the confirmation link stops working
	confirmed_at  TEXT,
	withdrawn_at  TEXT,
	withdrawn_how TEXT,               -- 'unsubscribe', 'email', 'staff', 'request:12', …
	withdrawn_by  TEXT
) STRICT;
CREATE INDEX consents_person ON consents(person_id, channel, purpose);
CREATE INDEX consents_register ON consents(register_id, id);

-- Subscription lists of a register (M-03) and who is on them. A subscription ends, it is
-- never deleted while the person is kept: ended_at says when and ended_how how.
CREATE TABLE mailing_lists (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id TEXT NOT NULL REFERENCES registers(id),
	slug        TEXT NOT NULL UNIQUE,   -- /p/subscribe/{slug}
	name        TEXT NOT NULL,
	purpose     TEXT NOT NULL,          -- declared direct-marketing purpose
	subject_group TEXT NOT NULL,        -- the group a new subscriber joins (consent basis)
	source      TEXT NOT NULL,          -- the declared source a new subscriber comes from
	consent_text TEXT NOT NULL,
	consent_version TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL
) STRICT;

CREATE TABLE subscriptions (
	list_id     INTEGER NOT NULL REFERENCES mailing_lists(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	register_id TEXT NOT NULL REFERENCES registers(id),
	since       TEXT NOT NULL,
	ended_at    TEXT,
	ended_how   TEXT,
	PRIMARY KEY (list_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscriptions_person ON subscriptions(person_id);

-- A mailing (M-03): its texts, sender, audience and the declared purpose it serves.
-- state: draft → sending → sent. The audience (lists, segment) is kept as JSON; the people
-- it resolved to are the mailing_recipients rows written when sending starts.
CREATE TABLE mailings (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id TEXT NOT NULL REFERENCES registers(id),
	purpose     TEXT NOT NULL,
	subject     TEXT NOT NULL,
	body_text   TEXT NOT NULL,
	body_html   TEXT,
	from_addr   TEXT,
	from_name   TEXT,
	audience    TEXT NOT NULL DEFAULT '{}',
	track_opens INTEGER NOT NULL DEFAULT 0 CHECK (track_opens = 0 OR track_opens = 1),
	state       TEXT NOT NULL DEFAULT 'draft'
	                CHECK (state = 'draft' OR state = 'sending' OR state = 'sent'),
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	started_at  TEXT,
	started_by  TEXT,
	finished_at TEXT
) STRICT;
CREATE INDEX mailings_register ON mailings(register_id, id);

-- One row per person a mailing targeted (M-05), written before anything is sent. The row is
-- marked 'sending' in a transaction of its own before the message goes to the SMTP server
-- and 'sent' after; a row found 'sending' when a send resumes becomes 'unknown' and is not
-- sent again (at most once). 'skipped' rows were excluded at the moment of sending (a ban,
-- a withdrawal, a restriction that came after the audience was resolved).
CREATE TABLE mailing_recipients (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	mailing_id  INTEGER NOT NULL REFERENCES mailings(id),
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	state       TEXT NOT NULL DEFAULT 'pending'
	                CHECK (state = 'pending' OR state = 'sending' OR state = 'sent' OR
	                state = 'failed' OR state = 'unknown' OR state = 'skipped'),
	attempts    INTEGER NOT NULL DEFAULT 0,
	sent_at     TEXT,
	error       TEXT,               -- SMTP code or the skip reason, never an address
	UNIQUE (mailing_id, person_id)
) STRICT;
CREATE INDEX mailing_recipients_state ON mailing_recipients(mailing_id, state, id);
CREATE INDEX mailing_recipients_person ON mailing_recipients(person_id);

-- Newsletter opens (M-04): one row per pixel hit, kept under the register's retention (the
-- row goes with the person).
CREATE TABLE mailing_opens (
	id           INTEGER PRIMARY KEY,
	recipient_id INTEGER NOT NULL REFERENCES mailing_recipients(id) ON DELETE CASCADE,
	mailing_id   INTEGER NOT NULL,
	register_id  TEXT NOT NULL,
	person_id    INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	at           TEXT NOT NULL
) STRICT;
CREATE INDEX mailing_opens_mailing ON mailing_opens(mailing_id, person_id);
CREATE INDEX mailing_opens_person ON mailing_opens(person_id);
