-- Self-service of data subjects (R-05) and of companies editing their directory listing
-- (F-05): the single-use links kortisto mails to a registered
-- address and the short sessions those links open. Only a keyed hash of each token is kept,
-- so a copy of the database lets no one in; the address the link was asked for is never
-- stored, only the ids of the persons it matched. Rows expire after minutes and are deleted
-- when a new link is made.
CREATE TABLE selfservice_tokens (
	hash       BLOB PRIMARY KEY,   -- keyed BLAKE2b-256 of the token
	-- a data subject's link and session, or an organisation's for its directory listing
	kind       TEXT NOT NULL CHECK (kind = 'link' OR kind = 'session' OR kind = 'org_link'
	                   OR kind = 'org_session'),
	subjects   TEXT NOT NULL,      -- JSON of ids: [{"register", "person"}] or {"register",
	                               -- "organisation"}; never an address
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT                -- a link: when it was opened (it opens once)
) STRICT, WITHOUT ROWID;
CREATE INDEX selfservice_tokens_expiry ON selfservice_tokens(expires_at);
