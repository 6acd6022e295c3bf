-- Newsletter opens under the register's retention (M-04). Retention rules act on
-- person_records by type, so each open is also a person_records row of type newsletter_open
-- (record_id), written in the same transaction, as event_chat_messages are tied to theirs: a
-- rule over newsletter_open that deletes the record deletes the open with it (ON DELETE
-- CASCADE). The record holds nothing beyond the day; the open row says which mailing.
ALTER TABLE mailing_opens ADD COLUMN record_id INTEGER
	REFERENCES person_records(id) ON DELETE CASCADE;
CREATE INDEX mailing_opens_record ON mailing_opens(record_id) WHERE record_id IS NOT NULL;

-- Opens logged before this migration get their record now, created when the open was
-- logged, so a rule counted from creation finds them on the right day. Only registers that
-- declared newsletter_open could track opens. The open's id is carried in created_by for a
-- moment to pair each record with its open.
INSERT INTO person_records(register_id, person_id, record_type, occurred_at, created_at,
                           created_by)
	SELECT register_id, person_id, 'newsletter_open', substr(at, 1, 10), at, 'open:' || id
	FROM mailing_opens ORDER BY id;
UPDATE mailing_opens SET record_id = (SELECT r.id FROM person_records r
	WHERE r.person_id = mailing_opens.person_id AND r.record_type = 'newsletter_open'
	AND r.created_by = 'open:' || mailing_opens.id);
UPDATE person_records SET created_by = 'system:migration'
	WHERE id IN (SELECT record_id FROM mailing_opens WHERE record_id IS NOT NULL);
