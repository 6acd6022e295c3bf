/*
 * JSON API of the usage log and disclosures, for the managers of a register. The router has
 * checked the caller's role on {rid}; each handler reads its declared query or body, makes
 * one call into audit/ and replies with its result. Every list is confined to {rid}.
 */
#include "audit/audit.h"
#include "audit/disclosure.h"
#include "http/http.h"

/* GET /api/v1/registers/{rid}/audit?subject=ID&user=NAME&since=DATE&limit=&cursor= */
void api_audit_list(struct req *r)
{
	long long limit, subject;
	json_t *out = NULL;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 100000, &limit) ||
	    !req_int_arg_or_reply(r, "subject", 0, 1, INT64_MAX, &subject))
		return;
	struct audit_filter f = {
	        .rid = r->rid,
	        .subject = subject,
	        .user = req_arg(r, "user"),
	        .since = req_arg(r, "since"),
	};
	int rc = audit_list(&r->ctx, &f, req_arg(r, "cursor"), (int)limit, &out);
	reply_core(r, rc, 200, out);
}

/* POST /api/v1/registers/{rid}/disclosures → 201 with the disclosure as stored */
void api_disclosure_create(struct req *r)
{
	struct disclosure_in in;
	int64_t id = 0;
	json_t *body = req_json_or_reply(r);
	if (!body)
		return;
	json_t *out = NULL;
	int rc = disclosure_from_json(&r->ctx, body, &in);
	if (rc == 0)
		rc = disclosure_record(&r->ctx, r->rid, &in, &id);
	json_decref(body);
	/* What was stored, not what was sent: the declared spelling, each subject once. */
	if (rc == 0)
		rc = disclosure_get(&r->ctx, r->rid, id, &out);
	reply_core(r, rc, 201, out);
}

/* GET /api/v1/registers/{rid}/disclosures?subject=ID&limit=&cursor= */
void api_disclosure_list(struct req *r)
{
	long long limit, subject;
	json_t *out = NULL;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 100000, &limit) ||
	    !req_int_arg_or_reply(r, "subject", 0, 1, INT64_MAX, &subject))
		return;
	int rc = disclosure_list(&r->ctx, r->rid, subject, req_arg(r, "cursor"), (int)limit, &out);
	reply_core(r, rc, 200, out);
}
