-- Advisory and customer-service records (E-02 … E-04) and service statistics (E-05).
--
-- The content of a record (an appointment, a plan, a service order, a job offer, …) is kept
-- beside its person_records row, one to one: the retention rules that delete or archive
-- person_records by type, and the erasure of a person, take the content and its history
-- with them through ON DELETE CASCADE. `data` is a JSON object whose members core/service.c
-- validates against its table for the record type; nothing else is stored.
CREATE TABLE service_records (
	record_id  INTEGER PRIMARY KEY REFERENCES person_records(id) ON DELETE CASCADE,
	data       TEXT NOT NULL,  -- JSON object, members per record type
	updated_at TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Every change of a record's content, member by member: ordered services keep their change
-- history (E-03), and so do the others. Goes with the record.
CREATE TABLE service_record_history (
	id        INTEGER PRIMARY KEY,
	record_id INTEGER NOT NULL REFERENCES service_records(record_id) ON DELETE CASCADE,
	member    TEXT NOT NULL,
	old_value TEXT,            -- JSON text, NULL when the member was absent
	new_value TEXT,            -- JSON text, NULL when the member was removed
	actor     TEXT NOT NULL,
	at        TEXT NOT NULL
) STRICT;
CREATE INDEX service_record_history_record ON service_record_history(record_id, id);

-- Service statistics (E-05): how many records of each service (record type) were made per
-- channel, month and municipality. No person id, no record id, nothing free-form: the counts
-- are kept when the records and their persons are deleted or anonymized. '' stands for an
-- unknown channel or municipality.
CREATE TABLE service_stats (
	register_id  TEXT NOT NULL REFERENCES registers(id),
	service      TEXT NOT NULL,
	channel      TEXT NOT NULL,
	period       TEXT NOT NULL,  -- YYYY-MM
	municipality TEXT NOT NULL,
	count        INTEGER NOT NULL,
	PRIMARY KEY (register_id, period, service, channel, municipality)
) STRICT, WITHOUT ROWID;
