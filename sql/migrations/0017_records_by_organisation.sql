-- The records that name an organisation (job offers, introductions to an employer and the
-- organisation's open positions: the member organisation_id of their content) are found by
-- it, so an organisation's open positions and its dealings with job seekers can be listed
-- without reading every record of the register.
CREATE INDEX service_records_organisation
	ON service_records(json_extract(data, '$.organisation_id'));
