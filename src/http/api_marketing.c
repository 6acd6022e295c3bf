/*
 * JSON API of consents and mailings: REG/persons/{id}/consents, REG/consents/{id} and
 * REG/mailings. Each handler makes one call into core/consent.c or core/mailing.c, which
 * check the declaration and write the usage-log entries; who may call each route (an editor
 * drafts and previews, a manager sends) is in the route table. A send is only started in the
 * request and runs in the server's sender thread (http/sendq.c).
 */
#include <string.h>

#include "core/consent.h"
#include "core/mailing.h"
#include "core/sublist.h"
#include "http/http.h"
#include "http/sendq.h"

static void add_location(struct req *r, const char *collection, int64_t id)
{
	if (r->resp)
		MHD_add_response_header(r->resp, "Location",
		                        arena_printf(&r->mem, "/api/v1/registers/%s/%s/%lld",
		                                     r->rid, collection, (long long)id));
}

void api_consent_list(struct req *r)
{
	json_t *out = NULL;
	int rc = consent_list(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_consent_give(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	int64_t id = 0;
	char token[CONSENT_TOKEN_MAX];
	if (!in)
		return;
	int rc = consent_give(&r->ctx, r->rid, r->id, in, &id, token);
	json_decref(in);
	if (!rc)
		rc = consent_get(&r->ctx, r->rid, id, &out);
	/* The confirmation link of a pending consent goes to the subject, never in the answer:
	 * mailed to their address now. The consent is kept either way; one whose mail did not
	 * leave expires unconfirmed, and the answer says which. */
	if (!rc && token[0]) {
		struct kerr keep = *r->ctx.err;
		bool mailed = consent_mail_confirmation(&r->ctx, r->rid, id, token) == 0;
		*r->ctx.err = keep;
		json_object_set_new(out, "confirmation_mailed", json_boolean(mailed));
	}
	reply_core(r, rc, 201, out);
	if (!rc)
		add_location(r, "consents", id);
}

void api_consent_get(struct req *r)
{
	json_t *out = NULL;
	int rc = consent_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_consent_withdraw(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = consent_withdraw(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (!rc)
		rc = consent_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_mailing_create(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	int64_t id = 0;
	if (!in)
		return;
	int rc = mailing_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	if (!rc)
		rc = mailing_get(&r->ctx, r->rid, id, &out);
	reply_core(r, rc, 201, out);
	if (!rc)
		add_location(r, "mailings", id);
}

void api_mailing_list(struct req *r)
{
	json_t *out = NULL;
	int rc = mailing_list(&r->ctx, r->rid, &out);
	reply_core(r, rc, 200, out);
}

void api_mailing_get(struct req *r)
{
	json_t *out = NULL;
	int rc = mailing_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_mailing_preview(struct req *r)
{
	json_t *out = NULL;
	int rc = mailing_preview(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

/* The send runs in the server's sender thread: the answer is 202 with the mailing, whose
 * recipient counts show the progress at its Location. */
void api_mailing_send(struct req *r)
{
	json_t *out = NULL;
	int rc = sendq_submit(server_sendq(r->srv), &r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 202, out);
	if (!rc)
		add_location(r, "mailings", r->id);
}

void api_mailing_rcpt(struct req *r)
{
	json_t *out = NULL;
	int rc = mailing_recipients(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_list_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	if (!in)
		return;
	int rc = sublist_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	reply_core(r, rc, 201, rc ? NULL : json_pack("{s:I}", "id", (json_int_t)id));
}

void api_list_list(struct req *r)
{
	json_t *out = NULL;
	int rc = sublist_list(&r->ctx, r->rid, &out);
	reply_core(r, rc, 200, out);
}
