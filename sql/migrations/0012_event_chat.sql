-- Public chat of virtual sessions (E-01), and the settings of an event's public registration
-- page. A chat message is kept only when its author is a registered participant of the
-- event: it is tied to that person and goes with them (ON DELETE CASCADE), and to its
-- person_records row of type chat_message (record_id), so a retention rule that deletes the
-- record deletes the message. Messages of anyone else are counted at import, never stored.

CREATE TABLE event_chat_messages (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id  INTEGER NOT NULL REFERENCES event_sessions(id),
	register_id TEXT NOT NULL REFERENCES registers(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	at          TEXT NOT NULL,    -- YYYY-MM-DDTHH:MM:SSZ, when it was written
	text        TEXT NOT NULL,
	record_id   INTEGER REFERENCES person_records(id) ON DELETE CASCADE,
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	UNIQUE (session_id, person_id, at, text)
) STRICT;
CREATE INDEX event_chat_session ON event_chat_messages(session_id, at, id);
CREATE INDEX event_chat_person ON event_chat_messages(person_id);
CREATE INDEX event_chat_record ON event_chat_messages(record_id) WHERE record_id IS NOT NULL;

-- The public registration page /p/events/{id}: open only when reg_group is set. Visitors
-- who are not yet persons of the register are added in subject group reg_group from source
-- reg_source (both declared); a visitor who chooses the newsletter gives a pending consent
-- (double opt-in) for purpose nl_purpose with text nl_text, version nl_version.
ALTER TABLE events ADD COLUMN reg_group TEXT;
ALTER TABLE events ADD COLUMN reg_source TEXT;
ALTER TABLE events ADD COLUMN nl_purpose TEXT;
ALTER TABLE events ADD COLUMN nl_text TEXT;
ALTER TABLE events ADD COLUMN nl_version TEXT;
