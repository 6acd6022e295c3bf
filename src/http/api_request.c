/*
 * JSON API of data-subject requests: REG/requests and the steps of one request. Each handler
 * makes one call into core/request.c, which checks the state, writes the step and the
 * usage-log entry; who may call each route is in the route table.
 */
#include <string.h>

#include "core/export.h"
#include "core/request.h"
#include "decl/notice_text.h"
#include "http/http.h"

void api_request_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	json_t *out = NULL;
	if (!in)
		return;
	int rc = request_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	if (!rc)
		rc = request_get(&r->ctx, r->rid, id, &out);
	reply_core(r, rc, 201, out);
	if (rc == 0 && r->resp)
		MHD_add_response_header(r->resp, "Location",
		                        arena_printf(&r->mem, "/api/v1/registers/%s/requests/%lld",
		                                     r->rid, (long long)id));
}

void api_request_list(struct req *r)
{
	const char *f = req_arg(r, "filter");
	int filter = f ? request_filter_parse(f) : RQ_ALL;
	long long limit;
	json_t *out = NULL;
	if (filter < 0) {
		kerr_set(&r->err, KERR_INVALID, "filter",
		         "filter: all, open, overdue (late or due within 7 days) or late");
		reply_problem(r);
		return;
	}
	if (!req_int_arg_or_reply(r, "limit", 100, 1, 1000, &limit))
		return;
	int rc = request_list(&r->ctx, r->rid, (enum req_filter)filter, req_arg(r, "cursor"),
	                      (int)limit, &out);
	reply_core(r, rc, 200, out);
}

void api_request_get(struct req *r)
{
	json_t *out = NULL;
	int rc = request_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

/* The steps that answer with the request as it is afterwards. */
static void step_then_get(struct req *r, int (*fn)(struct kctx *, const char *, int64_t, json_t *))
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = fn(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (!rc)
		rc = request_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_request_verify(struct req *r)
{
	step_then_get(r, request_verify);
}

void api_request_start(struct req *r)
{
	step_then_get(r, request_start);
}

void api_request_extend(struct req *r)
{
	step_then_get(r, request_extend);
}

void api_request_assess(struct req *r)
{
	step_then_get(r, request_mark);
}

void api_request_withdraw(struct req *r)
{
	step_then_get(r, request_withdraw);
}

void api_request_lift(struct req *r)
{
	step_then_get(r, request_lift);
}

/* Refusal and fulfilment answer with the response to the subject: the outcome, or the
 * reasons and the complaint authority. */
void api_request_refuse(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = request_refuse(&r->ctx, r->rid, r->id, in, &out);
	json_decref(in);
	reply_core(r, rc, 200, out);
}

void api_request_fulfil(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = request_fulfil(&r->ctx, r->rid, r->id, in, &out);
	json_decref(in);
	reply_core(r, rc, 200, out);
}

/*
 * The export that answers a fulfilled access or portability request, made again:
 * ?format=json (default), html (the letter, in ?lang= or the Accept-Language language) or
 * csv, sent as a download.
 */
void api_request_export(struct req *r)
{
	const char *fmt = req_arg(r, "format");
	if (!fmt)
		fmt = "json";
	if (strcmp(fmt, "json") && strcmp(fmt, "html") && strcmp(fmt, "csv")) {
		kerr_set(&r->err, KERR_INVALID, "format", "format: json, html or csv");
		reply_problem(r);
		return;
	}
	json_t *doc = NULL;
	int rc = request_export(&r->ctx, r->rid, r->id, &doc);
	if (rc || !strcmp(fmt, "json")) {
		reply_core(r, rc, 200, doc);
		return;
	}
	/* The letter speaks the subject's language unless the caller asks for another. */
	const char *asked = req_arg(r, "lang");
	int own = export_subject_lang(doc);
	enum lang lang = lang_negotiate(
	        asked && lang_from_code(asked) >= 0 ? asked
	        : own >= 0                          ? lang_code(own)
	                                            : asked,
	        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Language"));
	struct buf b = {0};
	const char *type = "text/csv; charset=utf-8";
	if (!strcmp(fmt, "html")) {
		rc = export_letter(&r->ctx, doc, lang, &b);
		type = "text/html; charset=utf-8";
	} else {
		rc = export_csv(doc, &b);
	}
	json_decref(doc);
	if (rc) {
		buf_free(&b);
		reply_core(r, rc, 200, NULL);
		return;
	}
	reply_buf(r, 200, type, &b);
	if (r->resp) {
		MHD_add_response_header(r->resp, "Content-Disposition",
		                        arena_printf(&r->mem,
		                                     "attachment; filename=\"request-%lld.%s\"",
		                                     (long long)r->id, fmt));
		if (!strcmp(fmt, "html"))
			MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
	}
}
