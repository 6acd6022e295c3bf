-- Cancelled event registrations (E-01). A cancellation keeps the fact that the person had
-- registered and when they cancelled, so the events team can see who dropped out; a
-- cancelled registration is no participation: it is not listed among the registrations, not
-- shared with the co-organiser, and the person's attendance and meetings at the event are
-- refused until they register again, which clears the cancellation.
ALTER TABLE event_registrations ADD COLUMN cancelled_at TEXT; -- YYYY-MM-DDTHH:MM:SSZ
ALTER TABLE event_registrations ADD COLUMN cancelled_by TEXT;
