/*
 * JSON API of signing in and out, the signed-in user's own account (password, second factor,
 * the confidentiality commitment) and the grants of a register. Each handler accepts only the
 * body keys it names, calls core, and replies; who may do what, the throttling and the one
 * answer for every failed sign-in are decided in core/ (core/account.h). Passwords and codes
 * are wiped from the request body and the parsed JSON as soon as core has them.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/account.h"
#include "core/app.h"
#include "http/http.h"
#include "util/timeutil.h"

/* ---------------------------------------------------------------- body helpers */

/* Replies 400 and returns false unless `in` is an object whose keys are all in `allowed`
 * (NULL terminated). */
static bool keys_or_reply(struct req *r, json_t *in, const char *const *allowed)
{
	const char *key;
	json_t *v;
	if (!json_is_object(in)) {
		kerr_set(&r->err, KERR_INVALID, NULL, "the body must be a JSON object");
		reply_problem(r);
		return false;
	}
	json_object_foreach (in, key, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed[i]) {
			char list[128] = "";
			size_t n = 0;
			for (size_t j = 0; allowed[j] && n < sizeof(list); j++) {
				int w = snprintf(list + n, sizeof(list) - n, "%s%s", j ? ", " : "",
				                 allowed[j]);
				n += w > 0 ? (size_t)w : 0;
			}
			kerr_set(&r->err, KERR_INVALID, NULL, "the body accepts only the keys %s",
			         list);
			reply_problem(r);
			return false;
		}
	}
	return true;
}

/* Member `key` as a string into *out (NULL when absent and optional); replies 400 and
 * returns false when required and absent, or not a string. */
static bool string_or_reply(struct req *r, json_t *in, const char *key, bool required,
                            const char **out)
{
	json_t *v = json_object_get(in, key);
	*out = NULL;
	if ((!v || json_is_null(v)) && !required)
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		kerr_set(&r->err, KERR_INVALID, key, "%s: required, a non-empty string", key);
		reply_problem(r);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* Overwrites the secret members of `in` and the raw body they came from. */
static void wipe(struct req *r, json_t *in, const char *const *secret)
{
	for (size_t i = 0; in && secret[i]; i++) {
		json_t *v = json_object_get(in, secret[i]);
		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v), json_string_length(v));
	}
	if (r->body.p)
		sodium_memzero(r->body.p, r->body.len);
}

static void reply_no_content(struct req *r, int rc)
{
	if (rc == 0)
		reply_text(r, 204, NULL, "", 0);
	else
		reply_problem(r);
}

static json_t *time_json(int64_t t)
{
	char iso[21];
	if (!t)
		return json_null();
	time_format_iso8601(t, iso);
	return json_string(iso);
}

/* ---------------------------------------------------------------- sessions */

void api_session_create(struct req *r)
{
	static const char *const keys[] = {"name", "password", "otp", NULL};
	static const char *const secret[] = {"password", "otp", NULL};
	struct signin_result res;
	const char *name, *password, *otp;
	json_t *in = req_json_or_reply(r);

	if (!in) {
		wipe(r, NULL, secret);
		return;
	}
	if (!keys_or_reply(r, in, keys) || !string_or_reply(r, in, "name", true, &name) ||
	    !string_or_reply(r, in, "password", true, &password) ||
	    !string_or_reply(r, in, "otp", false, &otp)) {
		wipe(r, in, secret);
		json_decref(in);
		return;
	}
	int rc = auth_signin(&r->ctx, name, password, otp, &res);
	wipe(r, in, secret);
	if (rc) {
		if (rc == KERR_THROTTLED)
			r->retry_after = res.retry_after;
		reply_problem(r);
	} else {
		reply_session_cookie(r, res.token, r->ctx.app->cfg.session_lifetime);
		reply_json(r, 201,
		           json_pack("{s:s, s:s, s:o, s:s?}", "user", name, "csrf", res.csrf,
		                     "expires", time_json(res.expires), "restriction",
		                     res.restriction));
	}
	sodium_memzero(&res, sizeof(res));
	json_decref(in);
}

void api_session_delete(struct req *r)
{
	/* A session route: the router refuses API tokens here. */
	int rc = auth_signout(&r->ctx, r->token);
	reply_session_cookie(r, "", 0);
	reply_no_content(r, rc);
}

/* ---------------------------------------------------------------- the signed-in user */

void api_me(struct req *r)
{
	const struct principal *p = &r->who;
	json_t *roles = NULL;
	int rc = auth_roles(&r->ctx, p, &roles);
	if (rc) {
		reply_problem(r);
		return;
	}
	json_t *o = json_pack("{s:s, s:b, s:o, s:{s:i, s:i}, s:s?, s:o}", "name", p->user_name,
	                      "admin", p->admin, "roles", roles, "commitment", "current",
	                      p->commitment_current, "accepted", p->commitment_accepted,
	                      "restriction", p->restriction, "expires", time_json(p->expires));
	if (p->token_id) {
		json_object_set_new(o, "token",
		                    json_pack("{s:I, s:s?, s:s?}", "id", (json_int_t)p->token_id,
		                              "register", p->token_register, "role",
		                              p->token_role ? role_name(p->token_role) : NULL));
	} else {
		json_object_set_new(o, "csrf", json_string(p->csrf));
	}
	reply_json(r, 200, o);
}

void api_me_password(struct req *r)
{
	static const char *const keys[] = {"old", "new", NULL};
	static const char *const secret[] = {"old", "new", NULL};
	const char *old, *pw, *restriction = NULL;
	json_t *in = req_json_or_reply(r);

	if (!in) {
		wipe(r, NULL, secret);
		return;
	}
	if (!keys_or_reply(r, in, keys) || !string_or_reply(r, in, "old", true, &old) ||
	    !string_or_reply(r, in, "new", true, &pw)) {
		wipe(r, in, secret);
		json_decref(in);
		return;
	}
	int rc = account_set_password(&r->ctx, r->who.user_id, old, pw, false);
	if (rc && strcmp(r->err.field, "password") == 0)
		snprintf(r->err.field, sizeof(r->err.field), "new"); /* the body member's name */
	wipe(r, in, secret);
	json_decref(in);
	if (rc == 0)
		rc = auth_session_refresh(&r->ctx, r->token, &restriction);
	reply_no_content(r, rc);
}

void api_me_totp_begin(struct req *r)
{
	const char *uri = NULL;
	int rc = account_totp_begin(&r->ctx, r->who.user_id, &uri);
	reply_core(r, rc, 200, rc ? NULL : json_pack("{s:s}", "uri", uri));
	if (uri)
		sodium_memzero((char *)uri, strlen(uri));
}

void api_me_totp_confirm(struct req *r)
{
	static const char *const keys[] = {"code", NULL};
	const char *code, *restriction = NULL;
	json_t *in = req_json_or_reply(r);

	if (!in)
		return;
	if (!keys_or_reply(r, in, keys) || !string_or_reply(r, in, "code", true, &code)) {
		json_decref(in);
		return;
	}
	int rc = account_totp_confirm(&r->ctx, r->who.user_id, code);
	json_decref(in);
	if (rc == 0)
		rc = auth_session_refresh(&r->ctx, r->token, &restriction);
	reply_no_content(r, rc);
}

void api_me_commitment_get(struct req *r)
{
	int version = 0;
	const char *text = NULL;
	int rc = commitment_current(&r->ctx, &version, &text);
	bool accepted = version == 0 || r->who.commitment_accepted >= version;
	reply_core(r, rc, 200,
	           rc ? NULL
	              : json_pack("{s:i, s:s?, s:b}", "version", version, "text", text, "accepted",
	                          accepted));
}

void api_me_commitment_accept(struct req *r)
{
	static const char *const keys[] = {"version", NULL};
	json_t *in = req_json_or_reply(r), *v;

	if (!in)
		return;
	if (!keys_or_reply(r, in, keys)) {
		json_decref(in);
		return;
	}
	v = json_object_get(in, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 1000000000) {
		json_decref(in);
		kerr_set(&r->err, KERR_INVALID, "version",
		         "version: required, the version number of the commitment accepted");
		reply_problem(r);
		return;
	}
	int rc = commitment_accept(&r->ctx, r->who.user_id, (int)json_integer_value(v));
	json_decref(in);
	reply_no_content(r, rc);
}

/* ---------------------------------------------------------------- grants of a register */

void api_grants_list(struct req *r)
{
	const char *h = req_arg(r, "history");
	json_t *list = NULL;
	if (h && strcmp(h, "true") != 0 && strcmp(h, "false") != 0) {
		kerr_set(&r->err, KERR_INVALID, "history", "history: 'true' or 'false'");
		reply_problem(r);
		return;
	}
	int rc = grant_list(&r->ctx, r->rid, h && strcmp(h, "true") == 0, &list);
	reply_core(r, rc, 200, rc ? NULL : json_pack("{s:o}", "items", list));
}

void api_grant_put(struct req *r)
{
	static const char *const keys[] = {"user", "role", "processor", NULL};
	const char *user, *role_s, *processor;
	json_t *in = req_json_or_reply(r);
	enum role role;
	int64_t uid = 0;
	int rc;

	if (!in)
		return;
	if (!keys_or_reply(r, in, keys) || !string_or_reply(r, in, "user", true, &user) ||
	    !string_or_reply(r, in, "role", true, &role_s) ||
	    !string_or_reply(r, in, "processor", false, &processor))
		goto out;
	if (role_parse(role_s, &role) != 0) {
		kerr_set(&r->err, KERR_INVALID, "role",
		         "role: one of viewer, editor, manager, processor");
		reply_problem(r);
		goto out;
	}
	if ((rc = account_find(&r->ctx, user, &uid)) == KERR_NOTFOUND) {
		kerr_clear(&r->err);
		rc = kerr_set(&r->err, KERR_INVALID, "user", "user: no user is named '%s'", user);
	}
	if (rc == 0)
		rc = grant_add(&r->ctx, uid, r->rid, role, processor);
	reply_core(r, rc, 201,
	           rc ? NULL
	              : json_pack("{s:s, s:I, s:s, s:s, s:s?}", "user", user, "user_id",
	                          (json_int_t)uid, "register", r->rid, "role", role_name(role),
	                          "processor", processor));
out:
	json_decref(in);
}

void api_grant_delete(struct req *r)
{
	reply_no_content(r, grant_revoke(&r->ctx, r->id, r->rid));
}
