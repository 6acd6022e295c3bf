/*
 * JSON API of retention for the managers of a register: the plan (what the declared rules
 * would do now) and legal holds. The router has checked the caller's role on {rid}; the core
 * checks it again and logs. Runs stay with the operator and the server's own daily sweep.
 */
#include <string.h>

#include "core/retention.h"
#include "http/http.h"

/* GET /api/v1/registers/{rid}/retention → the plan as of now, ids only */
void api_retention_plan(struct req *r)
{
	json_t *out = NULL;
	int rc = retention_plan(&r->ctx, r->rid, &out);
	reply_core(r, rc, 200, out);
}

/* POST /api/v1/registers/{rid}/persons/{id}/hold {"reason": TEXT} → 204 */
void api_retention_hold(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	if (!in)
		return;
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach (in, key, v) {
		if (strcmp(key, "reason") != 0) {
			rc = kerr_set(&r->err, KERR_INVALID, key, "%s: not a field of a legal hold",
			              key);
			break;
		}
	}
	if (!rc && !json_is_string(json_object_get(in, "reason")))
		rc = kerr_set(&r->err, KERR_INVALID, "reason",
		              "reason: required, at most 500 characters");
	if (!rc)
		rc = retention_hold(&r->ctx, r->rid, r->id,
		                    json_string_value(json_object_get(in, "reason")));
	json_decref(in);
	if (rc)
		reply_problem(r);
	else
		reply_text(r, 204, NULL, "", 0);
}

/* DELETE /api/v1/registers/{rid}/persons/{id}/hold → 204 */
void api_retention_release(struct req *r)
{
	if (retention_release(&r->ctx, r->rid, r->id))
		reply_problem(r);
	else
		reply_text(r, 204, NULL, "", 0);
}
