/*
 * JSON API of feedback surveys: staff routes under REG/surveys (load a definition, list,
 * read, statistics, draw the raffle, mark the winners notified) and the public routes under
 * /api/v1/surveys/{id} for answering without signing in. Each handler makes one call into
 * core/survey.c; the public ones never pass the client's address on (F-01).
 */
#include <string.h>
#include <time.h>

#include "core/survey.h"
#include "decl/notice_text.h"
#include "http/http.h"
#include "http/survey_limit.h"

void api_survey_list(struct req *r)
{
	json_t *out = NULL;
	int rc = survey_list(&r->ctx, r->rid, &out);
	reply_core(r, rc, 200, out);
}

void api_survey_load(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = survey_load(&r->ctx, r->rid, in, &out);
	json_decref(in);
	bool created = json_is_true(json_object_get(out, "created"));
	long long id = (long long)json_integer_value(json_object_get(out, "id"));
	reply_core(r, rc, created ? 201 : 200, out);
	if (rc == 0 && r->resp)
		MHD_add_response_header(
		        r->resp, "Location",
		        arena_printf(&r->mem, "/api/v1/registers/%s/surveys/%lld", r->rid, id));
}

void api_survey_get(struct req *r)
{
	json_t *out = NULL;
	int rc = survey_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_survey_stats(struct req *r)
{
	const char *format = req_arg(r, "format");
	const char *l = req_arg(r, "lang");
	int lang = l ? lang_from_code(l) : LANG_FI;
	json_t *out = NULL;
	if (format && strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "svg")) {
		kerr_set(&r->err, KERR_INVALID, "format", "format: json, csv or svg");
		reply_problem(r);
		return;
	}
	if (lang < 0) {
		kerr_set(&r->err, KERR_INVALID, "lang", "lang: fi, sv or en");
		reply_problem(r);
		return;
	}
	int rc = survey_stats(&r->ctx, r->rid, r->id, req_arg(r, "by"), &out);
	if (rc || !format || !strcmp(format, "json")) {
		reply_core(r, rc, 200, out);
		return;
	}
	struct buf b = BUF_INIT;
	if (!strcmp(format, "csv"))
		survey_stats_csv(out, &b);
	else
		survey_stats_svg(out, (enum lang)lang, &b);
	json_decref(out);
	reply_buf(r, 200,
	          !strcmp(format, "csv") ? "text/csv; charset=utf-8; header=present"
	                                 : "image/svg+xml; charset=utf-8",
	          &b);
}

void api_survey_draw(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	json_t *w = json_object_get(in, "winners");
	int rc;
	if (!json_is_integer(w) || json_object_size(in) != 1)
		rc = kerr_set(&r->err, KERR_INVALID, "winners",
		              "the body is {\"winners\": N}, N from 1 to 1000");
	else
		rc = survey_draw(&r->ctx, r->rid, r->id,
		                 json_integer_value(w) > 1000 ? 1001 : (int)json_integer_value(w),
		                 &out);
	json_decref(in);
	/* The contacts are shown once; every answer of kortisto is Cache-Control: no-store. */
	reply_core(r, rc, 200, out);
}

void api_survey_told(struct req *r)
{
	int64_t n = 0;
	int rc = survey_notified(&r->ctx, r->rid, r->id, &n);
	reply_core(r, rc, 200, rc ? NULL : json_pack("{s:I}", "deleted", (json_int_t)n));
}

void api_public_survey_get(struct req *r)
{
	json_t *out = NULL;
	if (!req_store_or_reply(r))
		return;
	int rc = survey_get(&r->ctx, NULL, r->id, &out);
	if (!rc) {
		/* Who loaded it is staff business, not the public's. */
		json_object_del(out, "created_by");
		json_object_del(out, "register");
		json_object_del(out, "raffle_drawn");
	}
	reply_core(r, rc, 200, out);
}

/* The public write routes: nothing of the client reaches core (F-01), and the address only
 * the in-memory limiter, hashed. Replies 429 and returns NULL when the client must wait. */
static const char *public_client_or_reply(struct req *r)
{
	const char *addr = r->client ? r->client : "";
	r->ctx.client = NULL;
	int64_t wait = survey_limit_check(addr, (int64_t)time(NULL));
	if (wait) {
		kerr_set(&r->err, KERR_THROTTLED, NULL,
		         "too many answers from this address: try again in %lld seconds",
		         (long long)wait);
		r->retry_after = wait;
		reply_problem(r);
		return NULL;
	}
	return addr;
}

void api_public_survey_answer(struct req *r)
{
	const char *addr = public_client_or_reply(r);
	if (!addr || !req_store_or_reply(r))
		return;
	json_t *in = req_json_or_reply(r);
	if (!in)
		return;
	int rc = survey_answer(&r->ctx, r->id, in);
	json_decref(in);
	if (!rc)
		survey_limit_count(addr, (int64_t)time(NULL));
	reply_core(r, rc, 201, rc ? NULL : json_pack("{s:b}", "stored", 1));
}

void api_public_survey_enter(struct req *r)
{
	const char *addr = public_client_or_reply(r);
	if (!addr || !req_store_or_reply(r))
		return;
	json_t *in = req_json_or_reply(r);
	if (!in)
		return;
	const char *contact = json_string_value(json_object_get(in, "contact"));
	int rc =
	        json_object_size(in) == 1 && contact
	                ? survey_enter(&r->ctx, r->id, contact)
	                : kerr_set(&r->err, KERR_INVALID, "contact",
	                           "the body is {\"contact\": \"e-mail address or phone number\"}");
	json_decref(in);
	if (!rc)
		survey_limit_count(addr, (int64_t)time(NULL));
	reply_core(r, rc, 201, rc ? NULL : json_pack("{s:b}", "entered", 1));
}
