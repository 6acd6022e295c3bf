-- The contact persons a company publishes in the public directory (F-05): one row per
-- affiliation the company chose to show, only when the register's declaration allows it
-- (contact_persons on the recipient company_directory). Nothing about the person is copied:
-- the name and the title are read from persons and affiliations each time the directory is
-- shown, and only while the affiliation is current and the person neither restricted nor
-- passivated. Erasing the person deletes the affiliation, and with it this row. A change of
-- the set is written to change_history (entity 'organisation', field 'directory.contacts',
-- affiliation ids only).
CREATE TABLE directory_contacts (
	register_id    TEXT NOT NULL REFERENCES registers(id),
	org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
	affiliation_id INTEGER NOT NULL REFERENCES affiliations(id) ON DELETE CASCADE,
	published_at   TEXT NOT NULL,
	published_by   TEXT NOT NULL,
	PRIMARY KEY (register_id, affiliation_id)
) STRICT;
CREATE INDEX directory_contacts_org ON directory_contacts(register_id, org_id);
CREATE INDEX directory_contacts_affiliation ON directory_contacts(affiliation_id);
