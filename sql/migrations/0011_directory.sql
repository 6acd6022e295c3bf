-- The public company and service directory (F-05): an organisation appears only when its
-- listing says so (listed = 1; no row, or 0, is the default: not listed), and shows only
-- what the company chose: a description, its field of business and municipality, and
-- which of its own contact channels. Nothing about a person is kept here. contact_email is
-- the registered address the editing links are mailed to; it is never shown. Every change
-- of a listing is written to change_history (entity 'organisation', fields 'directory.*').
CREATE TABLE directory_listings (
	register_id       TEXT NOT NULL REFERENCES registers(id),
	org_id            INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
	listed            INTEGER NOT NULL DEFAULT 0 CHECK (listed = 0 OR listed = 1),
	description       TEXT NOT NULL DEFAULT '',
	field_of_business TEXT NOT NULL DEFAULT '',
	municipality      TEXT NOT NULL DEFAULT '',
	show_website      INTEGER NOT NULL DEFAULT 0 CHECK (show_website = 0 OR show_website = 1),
	show_address      INTEGER NOT NULL DEFAULT 0 CHECK (show_address = 0 OR show_address = 1),
	public_email      TEXT,
	public_phone      TEXT,
	contact_email     TEXT,
	updated_at        TEXT NOT NULL,
	updated_by        TEXT NOT NULL,
	PRIMARY KEY (register_id, org_id)
) STRICT;
CREATE INDEX directory_listings_listed ON directory_listings(listed, register_id);
CREATE INDEX directory_listings_contact ON directory_listings(contact_email)
	WHERE contact_email IS NOT NULL;
