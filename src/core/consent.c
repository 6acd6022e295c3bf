/*
 * Consents (M-01, R-12). A consent row is never changed except to confirm it (double opt-in)
 * or to withdraw it, so the row is the controller's proof of what the subject agreed to, in
 * which words, when and through what (Art. 7(1)). Counting rules live in one place, the
 * audience query of stmt_marketing.inc: confirmed and not withdrawn, for the purpose and the
 * channel asked.
 */
#include "core/consent.h"

#include <inttypes.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/mailing.h"
#include "core/person.h"
#include "core/sublist.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/mail.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define MAX_CONSENT_TEXT 10000

const char *const consent_channels[] = {"email", "post", "phone", "sms", NULL};
static const char *const sources[] = {"staff", "form", "import", "email", NULL};
static const char *const hows[] = {"staff",       "email",     "written", "phone",
                                   "unsubscribe", "in_person", NULL};

static bool in_names(const char *const *names, const char *s)
{
	for (size_t i = 0; s && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

static int text_member(struct kctx *ctx, json_t *in, const char *key, size_t max, bool required,
                       const char **out)
{
	json_t *v = json_object_get(in, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return kerr_set(ctx->err, KERR_INVALID, key, "%s: required", key);
		return 0;
	}
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool ok = s && n && n <= max && strlen(s) == n && utf8_valid(s, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t';
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: must be text of 1 to %zu bytes without control characters",
		                key, max);
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

static int only_keys(struct kctx *ctx, json_t *in, const char *const *keys)
{
	const char *k;
	json_t *v;
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (in, k, v) {
		if (!in_names(keys, k))
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a member of a consent",
			                ident_valid(k, NULL) ? k : "a member");
	}
	return 0;
}

static const struct decl *reg_or_fail(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && ident_valid(rid, NULL) ? rid : "?");
	return d;
}

/* The subject group of person `pid`; restricted and passivated persons are seen only by
 * those who handle restrictions. */
static int person_group(struct kctx *ctx, const char *rid, int64_t pid, const char **group)
{
	struct query *q = store_query(ctx->db, ST_PERSON_BASIS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	int rc = q_step(q, ctx->err);
	bool visible = false;
	if (rc == 1) {
		*group = arena_strdup(ctx->mem, q_col_text(q, 0));
		visible = ctx->sees_restricted || strcmp(q_col_text(q, 2), "active") == 0;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if (!visible)
		return kerr_set(ctx->err, KERR_NOTFOUND, "person_id",
		                "person %" PRId64 " not found in register '%s'", pid, rid);
	return 0;
}

int consent_give_tx(struct kctx *ctx, const char *rid, int64_t pid, json_t *in, int64_t *id,
                    char *token)
{
	static const char *const keys[] = {"purpose", "channel", "text",          "text_version",
	                                   "source",  "form",    "double_opt_in", NULL};
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *purpose, *channel, *text, *version, *source, *form, *group;
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = text_member(ctx, in, "purpose", 64, true, &purpose)) ||
	    (rc = text_member(ctx, in, "channel", 16, true, &channel)) ||
	    (rc = text_member(ctx, in, "text", MAX_CONSENT_TEXT, true, &text)) ||
	    (rc = text_member(ctx, in, "text_version", 40, true, &version)) ||
	    (rc = text_member(ctx, in, "source", 16, false, &source)) ||
	    (rc = text_member(ctx, in, "form", 64, false, &form)))
		return rc;
	if (!in_names(consent_channels, channel))
		return kerr_set(ctx->err, KERR_INVALID, "channel",
		                "channel: email, post, phone or sms");
	if (!source)
		source = "staff";
	if (!in_names(sources, source))
		return kerr_set(ctx->err, KERR_INVALID, "source",
		                "source: staff, form, import or email");
	json_t *dbl = json_object_get(in, "double_opt_in");
	if (dbl && !json_is_boolean(dbl))
		return kerr_set(ctx->err, KERR_INVALID, "double_opt_in",
		                "double_opt_in: true or false");
	bool pending = dbl ? json_is_true(dbl) : strcmp(source, "form") == 0;
	if (!decl_purpose(d, purpose))
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: '%s' is not a purpose declared by register '%s'",
		                ident_valid(purpose, NULL) ? purpose : "?", rid);
	if ((rc = person_group(ctx, rid, pid, &group)))
		return rc;
	/* M-01: a consent is for a purpose the declaration gives the subject's group. */
	const struct decl_group *g = decl_group(d, group);
	bool declared = false;
	for (size_t i = 0; g && i < g->purposes.n; i++)
		declared = declared || strcmp(g->purposes.v[i], purpose) == 0;
	if (!declared)
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: '%s' is not declared for subject group '%s'", purpose,
		                group);

	char expires[21];
	time_format_iso8601(ctx->now + (int64_t)CONSENT_CONFIRM_DAYS * 86400, expires);
	struct query *q = store_query(ctx->db, ST_CONSENT_INSERT);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_text(q, 3, purpose);
	q_text(q, 4, channel);
	q_text(q, 5, text);
	q_text(q, 6, version);
	q_text(q, 7, ctx->now_iso);
	q_text(q, 8, source);
	q_text(q, 9, form);
	q_text(q, 10, ctx->client);
	q_text(q, 11, ctx->actor->kind == ACTOR_ANON ? NULL : ctx->actor->name);
	q_text(q, 12, pending ? "pending" : "confirmed");
	q_text(q, 13, pending ? expires : NULL);
	q_text(q, 14, pending ? NULL : ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*id = store_last_id(ctx->db);
	if (token) {
		token[0] = '\0';
		if (pending)
			mlink_make(&ctx->app->keys, MLINK_CONFIRM, *id, token);
	}
	struct usage_entry e = {
	        .action = "consent_give",
	        .rid = rid,
	        .entity = "consent",
	        .entity_id = *id,
	        .subjects = &pid,
	        .nsubjects = 1,
	};
	return usage_append(ctx, &e);
}

int consent_give(struct kctx *ctx, const char *rid, int64_t pid, json_t *in, int64_t *id,
                 char *token)
{
	IN_WRITE_TX(ctx, consent_give_tx(ctx, rid, pid, in, id, token));
}

static json_t *row_json(struct kctx *ctx, struct query *q)
{
	const char *state = q_col_text(q, 11), *expires = q_col_text(q, 12);
	bool withdrawn = !q_col_null(q, 14);
	bool active = !withdrawn && strcmp(state, "confirmed") == 0;
	bool expired = !withdrawn && strcmp(state, "pending") == 0 && expires &&
	               strcmp(expires, ctx->now_iso) <= 0;
	json_t *o = json_pack(
	        "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s?, s:s?, s:s?}, s:s, s:s?, s:s?,"
	        " s:b}",
	        "id", (json_int_t)q_col_int(q, 0), "person_id", (json_int_t)q_col_int(q, 1),
	        "purpose", q_col_text(q, 2), "channel", q_col_text(q, 3), "text", q_col_text(q, 4),
	        "text_version", q_col_text(q, 5), "given_at", q_col_text(q, 6), "source", "kind",
	        q_col_text(q, 7), "form", q_col_text(q, 8), "client", q_col_text(q, 9), "user",
	        q_col_text(q, 10), "state", expired ? "expired" : state, "expires_at", expires,
	        "confirmed_at", q_col_text(q, 13), "active", active);
	if (withdrawn)
		json_object_set_new(o, "withdrawn",
		                    json_pack("{s:s, s:s?, s:s?}", "at", q_col_text(q, 14), "how",
		                              q_col_text(q, 15), "by", q_col_text(q, 16)));
	return o;
}

int consent_list(struct kctx *ctx, const char *rid, int64_t pid, json_t **out)
{
	return consent_list_reason(ctx, rid, pid, NULL, out);
}

int consent_list_reason(struct kctx *ctx, const char *rid, int64_t pid, const char *reason,
                        json_t **out)
{
	const char *group;
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = person_group(ctx, rid, pid, &group)))
		return rc;
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_CONSENT_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(items, row_json(ctx, q));
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	struct usage_entry e = {
	        .action = "read",
	        .rid = rid,
	        .entity = "consent",
	        .subjects = &pid,
	        .nsubjects = 1,
	        .reason = reason,
	};
	if ((rc = usage_read(ctx, &e))) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}

/* Loads consent `id` into *out and its person into *pid. */
static int load(struct kctx *ctx, const char *rid, int64_t id, json_t **out, int64_t *pid)
{
	struct query *q = store_query(ctx->db, ST_CONSENT_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		*pid = q_col_int(q, 1);
		if (out)
			*out = row_json(ctx, q);
	}
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "consent %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

int consent_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	int64_t pid;
	const char *group;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	int rc = load(ctx, rid, id, out, &pid);
	if (!rc)
		rc = person_group(ctx, rid, pid, &group);
	if (!rc) {
		struct usage_entry e = {.action = "read",
		                        .rid = rid,
		                        .entity = "consent",
		                        .entity_id = id,
		                        .subjects = &pid,
		                        .nsubjects = 1};
		rc = usage_read(ctx, &e);
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* Ends the subscriptions of `pid` to lists of `purpose` (NULL: every list), recording `how`;
 * adds the number ended to *ended. */
static int end_subscriptions(struct kctx *ctx, const char *rid, int64_t pid, const char *purpose,
                             const char *how, int *ended)
{
	struct query *q = store_query(ctx->db, ST_SUB_END_PURPOSE);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_text(q, 3, purpose);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, how);
	int rc = q_exec(q, ctx->err);
	if (!rc)
		*ended += store_changes(ctx->db);
	return rc;
}

static int withdraw_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"how", NULL};
	const char *how, *group;
	int64_t pid;
	int rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if (in && ((rc = only_keys(ctx, in, keys)) ||
	           (rc = text_member(ctx, in, "how", 16, false, &how))))
		return rc;
	if (!in)
		how = NULL;
	if (!how)
		how = "staff";
	if (!in_names(hows, how))
		return kerr_set(ctx->err, KERR_INVALID, "how",
		                "how: staff, email, written, phone, unsubscribe or in_person");
	if ((rc = load(ctx, rid, id, NULL, &pid)) || (rc = person_group(ctx, rid, pid, &group)))
		return rc;
	struct query *q = store_query(ctx->db, ST_CONSENT_WITHDRAW);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, how);
	q_text(q, 5, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return kerr_set(ctx->err, KERR_CONFLICT, "id",
		                "consent %" PRId64 " is already withdrawn", id);
	/* M-03: a list of the purpose is no longer open to a person with no consent left for
	 * it: their subscriptions end with the consent. */
	q = store_query(ctx->db, ST_CONSENT_PURPOSE_LEFT);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	const char *purpose = NULL;
	int64_t left = 0;
	if ((rc = q_step(q, ctx->err)) == 1) {
		purpose = arena_strdup(ctx->mem, q_col_text(q, 0));
		left = q_col_int(q, 1);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	int ended = 0;
	if (purpose && left == 0 && (rc = end_subscriptions(ctx, rid, pid, purpose, how, &ended)))
		return rc;
	struct usage_entry e = {
	        .action = "consent_withdraw",
	        .rid = rid,
	        .entity = "consent",
	        .entity_id = id,
	        .subjects = &pid,
	        .nsubjects = 1,
	        .reason = how,
	};
	return usage_append(ctx, &e);
}

int consent_withdraw(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	IN_WRITE_TX(ctx, withdraw_tx(ctx, rid, id, in));
}

/* Withdraws the consents of `pid` for `purpose` (NULL: all) and ends the subscriptions of
 * lists of that purpose; adds the counts of rows changed. */
static int withdraw_purpose(struct kctx *ctx, const char *rid, int64_t pid, const char *purpose,
                            const char *how, int *consents, int *subs)
{
	struct query *q = store_query(ctx->db, ST_CONSENT_WITHDRAW_PURPOSE);
	int rc;
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_text(q, 3, purpose);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, how);
	q_text(q, 6, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*consents += store_changes(ctx->db);
	return end_subscriptions(ctx, rid, pid, purpose, how, subs);
}

int consent_withdraw_person_tx(struct kctx *ctx, const char *rid, int64_t pid, json_t *purposes,
                               const char *how, int *withdrawn, int *remaining)
{
	int rc = 0, subs = 0;
	*withdrawn = *remaining = 0;
	if (!json_array_size(purposes)) {
		rc = withdraw_purpose(ctx, rid, pid, NULL, how, withdrawn, &subs);
	} else {
		size_t i;
		json_t *v;
		json_array_foreach (purposes, i, v) {
			if ((rc = withdraw_purpose(ctx, rid, pid, json_string_value(v), how,
			                           withdrawn, &subs)))
				break;
		}
	}
	if (rc)
		return rc;
	struct query *q = store_query(ctx->db, ST_CONSENT_ACTIVE_COUNT);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	if ((rc = q_step(q, ctx->err)) == 1)
		*remaining = (int)q_col_int(q, 0);
	q_done(q);
	if (rc < 0)
		return rc;
	if (*withdrawn == 0 && subs == 0)
		return 0;
	struct usage_entry e = {
	        .action = "consent_withdraw",
	        .rid = rid,
	        .entity = "person",
	        .entity_id = pid,
	        .subjects = &pid,
	        .nsubjects = 1,
	        .reason = how,
	};
	return usage_append(ctx, &e);
}

/* The register of consent `id`, read without knowing it beforehand. */
static int confirm_tx(struct kctx *ctx, int64_t id, const char **rid_out)
{
	const struct registry *reg = app_registers(ctx->app);
	int rc;
	/* A token names a consent id only; find its register among the loaded ones. */
	for (size_t i = 0; i < reg->n; i++) {
		const char *rid = reg->v[i].id;
		struct query *q = store_query(ctx->db, ST_CONSENT_CONFIRM);
		q_text(q, 1, rid);
		q_int(q, 2, id);
		q_text(q, 3, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		if (store_changes(ctx->db) == 0)
			continue;
		int64_t pid = 0;
		if ((rc = load(ctx, rid, id, NULL, &pid)))
			return rc;
		*rid_out = arena_strdup(ctx->mem, rid);
		if ((rc = sublist_confirmed_tx(ctx, rid, id)))
			return rc;
		struct usage_entry e = {
		        .action = "consent_confirm",
		        .rid = rid,
		        .entity = "consent",
		        .entity_id = id,
		        .subjects = &pid,
		        .nsubjects = 1,
		};
		return usage_append(ctx, &e);
	}
	return kerr_set(ctx->err, KERR_REFUSED, NULL,
	                "this confirmation link has expired or was already used");
}

int consent_confirm(struct kctx *ctx, const char *token, const char **rid_out, int64_t *id)
{
	if (!mlink_open(&ctx->app->keys, MLINK_CONFIRM, token, id))
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL, "this link is not valid");
	IN_WRITE_TX(ctx, confirm_tx(ctx, *id, rid_out));
}

/* ---------------------------------------------------------------- the confirmation mail */

int consent_mail_link(struct kctx *ctx, const char *to, const char *lead, const char *title,
                      const char *text, const char *token)
{
	const char *base = ctx->app->cfg.public_url;
	const struct mail_config *cfg = &ctx->app->cfg.mail;
	if (!base[0] || !cfg->url[0] || !cfg->from[0])
		return kerr_set(ctx->err, KERR_INVALID, NULL,
		                "a confirmation mail needs public_url, smtp_url and mail_from");
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	struct buf body = BUF_INIT, msg = BUF_INIT;
	buf_appendf(&body, "%s:\n%.*s/p/confirm/%s\n\n", lead, (int)n, base, token);
	buf_puts(&body, title);
	buf_puts(&body, "\n\n");
	buf_puts(&body, text);
	buf_puts(&body, "\n\nJos et pyytänyt tätä, voit jättää viestin huomiotta. / Om du inte "
	                "bett om detta kan du ignorera meddelandet. / If you did not ask for "
	                "this, ignore this message.\n");
	struct mail_msg m = {
	        .from = cfg->from,
	        .from_name = cfg->from_name[0] ? cfg->from_name : NULL,
	        .to = to,
	        .subject = title,
	        .text = buf_str(&body),
	};
	struct mailer *mailer = NULL;
	int rc = mail_format(&m, ctx->now, &msg, ctx->err);
	if (!rc)
		rc = mailer_open(cfg, &mailer, ctx->err);
	if (!rc)
		rc = mailer_send(mailer, cfg->from, to, &msg, ctx->err);
	mailer_free(mailer);
	buf_free(&body);
	buf_free(&msg);
	return rc;
}

int consent_mail_confirmation(struct kctx *ctx, const char *rid, int64_t id, const char *token)
{
	json_t *c = NULL;
	struct person_facts facts = {0};
	const char *to = NULL;
	int rc = consent_get(ctx, rid, id, &c);
	if (!rc && !(rc = store_begin_read(ctx->db, ctx->err))) {
		rc = person_facts_load(ctx, rid,
		                       (int64_t)json_integer_value(json_object_get(c, "person_id")),
		                       &facts);
		store_rollback(ctx->db);
	}
	if (!rc) {
		to = facts.email ? arena_strdup(ctx->mem, facts.email) : NULL;
		if (!to)
			rc = kerr_set(
			        ctx->err, KERR_REFUSED, "email",
			        "the person has no e-mail address to confirm the consent from");
	}
	if (!rc)
		rc = consent_mail_link(
		        ctx, to,
		        "Vahvista suostumuksesi / Bekräfta ditt samtycke / Confirm your consent",
		        "Suostumus / Samtycke / Consent",
		        json_string_value(json_object_get(c, "text")), token);
	json_decref(facts.attrs);
	json_decref(c);
	return rc;
}
