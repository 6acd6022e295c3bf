-- Feedback surveys (F-01 … F-04) and their raffles (F-02, L-03). A survey version is a
-- published definition that never changes: loading a changed definition of the same key
-- makes a new version and closes the earlier one for new answers, so every stored answer
-- keeps the questions it answered.
CREATE TABLE surveys (
	id          INTEGER PRIMARY KEY,
	register_id TEXT NOT NULL REFERENCES registers(id),
	key         TEXT NOT NULL,      -- the survey's name in the definition, stable over versions
	version     INTEGER NOT NULL,
	definition  TEXT NOT NULL,      -- the validated definition (JSON)
	sha256      TEXT NOT NULL,      -- of the definition, to tell a change from a reload
	state       TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'closed'),
	raffle      INTEGER NOT NULL CHECK (raffle = 0 OR raffle = 1),
	drawn_at    TEXT,               -- the draw (L-03); no entry is taken after it
	drawn_by    TEXT,
	winners     INTEGER,
	notified_at TEXT,               -- the winners were told and their contacts deleted
	raffle_since TEXT,              -- YYYY-MM-DD of the oldest entry still held, or NULL
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	UNIQUE (register_id, key, version)
) STRICT;
CREATE INDEX surveys_register ON surveys(register_id, id);

-- Answers (F-01): a random 16-byte key, the survey and the day, nothing else. No identifier,
-- no client address, no cookie, no time finer than the day. WITHOUT ROWID so that no
-- counter orders rows by arrival.
CREATE TABLE survey_answers (
	k           BLOB PRIMARY KEY CHECK (length(k) = 16),
	register_id TEXT NOT NULL REFERENCES registers(id),
	survey_id   INTEGER NOT NULL REFERENCES surveys(id),
	day         TEXT NOT NULL,      -- YYYY-MM-DD
	answers     TEXT NOT NULL       -- {question id: value} (JSON)
) STRICT, WITHOUT ROWID;
CREATE INDEX survey_answers_survey ON survey_answers(register_id, survey_id, day);
CREATE INDEX survey_answers_day ON survey_answers(register_id, day);

-- Raffle entries (F-02): apart from the answers, with no key in common, no time and no
-- order of arrival. The key is random and every new entry writes all entries of its raffle
-- anew in random order, so neither key order nor the place of a row in a page tells who came
-- when. An entry has no date at all: the declared deletion period runs from the raffle's
-- oldest entry (surveys.raffle_since), so no day can pair an entry with the answers of that
-- day, and every contact still goes within the period of its own entry.
CREATE TABLE raffle_entries (
	k           BLOB PRIMARY KEY CHECK (length(k) = 16),
	register_id TEXT NOT NULL REFERENCES registers(id),
	survey_id   INTEGER NOT NULL REFERENCES surveys(id),
	kind        TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone'),
	contact     TEXT NOT NULL,      -- the normalised address or number
	winner      INTEGER NOT NULL DEFAULT 0 CHECK (winner = 0 OR winner = 1)
) STRICT, WITHOUT ROWID;
CREATE INDEX raffle_entries_survey ON raffle_entries(register_id, survey_id, winner);
CREATE UNIQUE INDEX raffle_entries_contact ON raffle_entries(register_id, survey_id, contact);
