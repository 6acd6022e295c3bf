/*
 * JSON API handlers for registers, persons, organisations and affiliations. Each handler
 * reads the validated path and query, calls exactly one core function, and replies with its
 * result; the rules about personal data live in core/, not here.
 */
#include <string.h>

#include "core/affiliation.h"
#include "core/org.h"
#include "core/person.h"
#include "core/register.h"
#include "http/http.h"

void api_health(struct req *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	reply_text(r, 200, "application/json", ok, sizeof(ok) - 1);
}

void api_registers(struct req *r)
{
	json_t *list = NULL;
	int rc = register_list(&r->ctx, &list);
	reply_core(r, rc, 200, rc ? NULL : json_pack("{s:o}", "items", list));
}

void api_register_get(struct req *r)
{
	json_t *o = NULL;
	int rc = register_describe(&r->ctx, r->rid, &o);
	reply_core(r, rc, 200, o);
}

void api_register_versions(struct req *r)
{
	json_t *list = NULL;
	int rc = register_versions(&r->ctx, r->rid, &list);
	reply_core(r, rc, 200, rc ? NULL : json_pack("{s:o}", "items", list));
}

/* Replies 201 with {id} and a Location header after a successful create. */
static void reply_created(struct req *r, int rc, int64_t id, const char *collection)
{
	reply_core(r, rc, 201, rc ? NULL : json_pack("{s:I}", "id", (json_int_t)id));
	if (rc == 0 && r->resp) {
		char *loc = arena_printf(&r->mem, "/api/v1/registers/%s/%s/%lld", r->rid,
		                         collection, (long long)id);
		MHD_add_response_header(r->resp, "Location", loc);
	}
}

static void reply_deleted(struct req *r, int rc)
{
	if (rc == 0)
		reply_text(r, 204, NULL, "", 0);
	else
		reply_problem(r);
}

/* ---------------------------------------------------------------- persons */

void api_person_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	if (!in)
		return;
	int rc = person_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	reply_created(r, rc, id, "persons");
}

void api_person_find(struct req *r)
{
	long long limit;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 100000, &limit))
		return;
	struct buf b = BUF_INIT;
	if (person_find_view(&r->ctx, r->rid, req_arg(r, "q"), req_arg(r, "hetu"),
	                     req_arg(r, "cursor"), (int)limit, &b) != 0) {
		buf_free(&b);
		reply_problem(r);
		return;
	}
	reply_buf(r, 200, "application/json", &b);
}

void api_person_get(struct req *r)
{
	unsigned flags = 0;
	const char *reveal = req_arg(r, "reveal");
	const char *history = req_arg(r, "history");
	if (reveal) {
		/* "hetu" (the first name of this option) and "sensitive" reveal the same. */
		if (strcmp(reveal, "hetu") != 0 && strcmp(reveal, "sensitive") != 0) {
			kerr_set(&r->err, KERR_INVALID, "reveal",
			         "reveal: 'sensitive' (or 'hetu') shows sensitive fields in full");
			reply_problem(r);
			return;
		}
		flags |= PERSON_REVEAL_SENSITIVE;
	}
	if (history && strcmp(history, "true") == 0)
		flags |= PERSON_HISTORY;
	struct buf b = BUF_INIT;
	if (person_view(&r->ctx, r->rid, r->id, flags, &b) != 0) {
		buf_free(&b);
		reply_problem(r);
		return;
	}
	reply_buf(r, 200, "application/json", &b);
}

void api_person_update(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = person_update(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (rc == 0)
		rc = person_get(&r->ctx, r->rid, r->id, 0, &out);
	reply_core(r, rc, 200, out);
}

void api_person_delete(struct req *r)
{
	reply_deleted(r, person_delete(&r->ctx, r->rid, r->id));
}

/* ---------------------------------------------------------------- organisations */

void api_org_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	if (!in)
		return;
	int rc = org_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	reply_created(r, rc, id, "organisations");
}

void api_org_find(struct req *r)
{
	long long limit;
	json_t *out = NULL;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 100000, &limit))
		return;
	int rc = org_find(&r->ctx, r->rid, req_arg(r, "q"), req_arg(r, "cursor"), (int)limit, &out);
	reply_core(r, rc, 200, out);
}

void api_org_get(struct req *r)
{
	json_t *out = NULL;
	int rc = org_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_org_update(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = org_update(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (rc == 0)
		rc = org_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_org_delete(struct req *r)
{
	reply_deleted(r, org_delete(&r->ctx, r->rid, r->id));
}

/* ---------------------------------------------------------------- affiliations */

void api_affiliation_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	if (!in)
		return;
	int rc = affiliation_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	reply_created(r, rc, id, "affiliations");
}

void api_affiliation_find(struct req *r)
{
	long long limit, person, org;
	json_t *out = NULL;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 100000, &limit) ||
	    !req_int_arg_or_reply(r, "person_id", 0, 1, INT64_MAX, &person) ||
	    !req_int_arg_or_reply(r, "organisation_id", 0, 1, INT64_MAX, &org))
		return;
	int rc = affiliation_find(&r->ctx, r->rid, person, org, req_arg(r, "cursor"), (int)limit,
	                          &out);
	reply_core(r, rc, 200, out);
}

void api_affiliation_get(struct req *r)
{
	json_t *out = NULL;
	int rc = affiliation_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_affiliation_update(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = affiliation_update(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (rc == 0 && (rc = affiliation_get(&r->ctx, r->rid, r->id, &out)) == KERR_NOTFOUND) {
		/* The employment ended and a retention rule removed the person with it (L-05). */
		kerr_clear(&r->err);
		reply_deleted(r, 0);
		return;
	}
	reply_core(r, rc, 200, out);
}

void api_affiliation_delete(struct req *r)
{
	reply_deleted(r, affiliation_delete(&r->ctx, r->rid, r->id));
}
