-- Events (E-01): own and co-organised events, physical or virtual, their sessions (programme
-- parts), the registrations of persons of the register with the consent choices they made,
-- attendance per session, and meetings arranged between participants. The events and
-- sessions themselves are not personal data; registrations, attendance and meeting parties
-- are, and go with the person (ON DELETE CASCADE). Where the declaration names the record
-- type (event_registration, session_attendance, event_meeting), each row also has a
-- person_records row (record_id): participation is then a customer event, and a retention
-- rule that deletes that record deletes the row with it.

CREATE TABLE events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	register_id  TEXT NOT NULL REFERENCES registers(id),
	title        TEXT NOT NULL,
	format       TEXT NOT NULL CHECK (format = 'physical' OR format = 'virtual'),
	place        TEXT,            -- street address or venue, physical events
	url          TEXT,            -- where a virtual event is held
	starts_at    TEXT NOT NULL,   -- YYYY-MM-DDTHH:MM:SSZ
	ends_at      TEXT NOT NULL,
	co_organiser TEXT,            -- a recipient id the declaration declares; NULL: own event
	created_at   TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX events_register ON events(register_id, starts_at, id);

CREATE TABLE event_sessions (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id  INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
	title     TEXT NOT NULL,
	starts_at TEXT NOT NULL,
	ends_at   TEXT NOT NULL,
	place     TEXT,
	url       TEXT,
	CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX event_sessions_event ON event_sessions(event_id, starts_at, id);

-- consents: the choices the person made when registering, as a JSON object of declared
-- flags (share_with_co_organiser, newsletter, participant_list) set to true or false.
CREATE TABLE event_registrations (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id      INTEGER NOT NULL REFERENCES events(id),
	register_id   TEXT NOT NULL REFERENCES registers(id),
	person_id     INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	registered_on TEXT NOT NULL,  -- YYYY-MM-DD
	consents      TEXT NOT NULL DEFAULT '{}',
	record_id     INTEGER REFERENCES person_records(id) ON DELETE CASCADE,
	created_at    TEXT NOT NULL,
	created_by    TEXT NOT NULL,
	UNIQUE (event_id, person_id)
) STRICT;
CREATE INDEX event_registrations_person ON event_registrations(person_id);
CREATE INDEX event_registrations_record ON event_registrations(record_id)
	WHERE record_id IS NOT NULL;

CREATE TABLE event_attendance (
	session_id  INTEGER NOT NULL REFERENCES event_sessions(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	register_id TEXT NOT NULL REFERENCES registers(id),
	record_id   INTEGER REFERENCES person_records(id) ON DELETE CASCADE,
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	PRIMARY KEY (session_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_attendance_person ON event_attendance(person_id);
CREATE INDEX event_attendance_record ON event_attendance(record_id) WHERE record_id IS NOT NULL;

CREATE TABLE event_meetings (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id   INTEGER NOT NULL REFERENCES events(id),
	starts_at  TEXT NOT NULL,
	ends_at    TEXT NOT NULL,
	place      TEXT NOT NULL,     -- a table, a room or a URL
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX event_meetings_event ON event_meetings(event_id, starts_at, id);

CREATE TABLE event_meeting_parties (
	meeting_id  INTEGER NOT NULL REFERENCES event_meetings(id),
	person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
	register_id TEXT NOT NULL REFERENCES registers(id),
	record_id   INTEGER REFERENCES person_records(id) ON DELETE CASCADE,
	PRIMARY KEY (meeting_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_meeting_parties_person ON event_meeting_parties(person_id);
CREATE INDEX event_meeting_parties_record ON event_meeting_parties(record_id)
	WHERE record_id IS NOT NULL;
