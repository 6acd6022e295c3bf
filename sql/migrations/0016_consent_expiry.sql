-- Consents that wait for their confirmation (double opt-in, M-01): every retention run
-- deletes those whose confirmation link has expired, and the persons a public form added only
-- for them. The run reads them in id order through this partial index, which holds only the
-- few pending ones, not the register's confirmed and withdrawn consents.
CREATE INDEX consents_pending ON consents(register_id, id)
	WHERE state = 'pending' AND withdrawn_at IS NULL;
