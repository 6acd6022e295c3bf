/*
 * Subscription lists and the public subscribe form (M-03, M-01). The form never says whether
 * an address was already known, restricted or erased: every well-formed subscription answers
 * the same, and only the owner of the address can complete it by following the mailed link.
 */
#include "core/sublist.h"

#include <inttypes.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/mailing.h"
#include "core/person.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/mail.h"
#include "util/validate.h"

static bool slug_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 3 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int text_member(struct kctx *ctx, json_t *in, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(in, key);
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool ok = s && n && n <= max && strlen(s) == n && utf8_valid(s, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 || s[i] == '\n';
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: required, text of at most %zu bytes", key, max);
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

int sublist_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	static const char *const keys[] = {"slug",   "name",         "purpose",         "group",
	                                   "source", "consent_text", "consent_version", NULL};
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	const char *slug, *name, *purpose, *group, *source, *text, *version, *k;
	json_t *v;
	int rc;
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid && ident_valid(rid, NULL) ? rid : "?");
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (in, k, v) {
		bool known = false;
		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(keys[i], k) == 0;
		if (!known)
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a member of a subscription list",
			                ident_valid(k, NULL) ? k : "a member");
	}
	if ((rc = text_member(ctx, in, "slug", 64, &slug)) ||
	    (rc = text_member(ctx, in, "name", 200, &name)) ||
	    (rc = text_member(ctx, in, "purpose", 64, &purpose)) ||
	    (rc = text_member(ctx, in, "group", 64, &group)) ||
	    (rc = text_member(ctx, in, "source", 64, &source)) ||
	    (rc = text_member(ctx, in, "consent_text", 10000, &text)) ||
	    (rc = text_member(ctx, in, "consent_version", 40, &version)))
		return rc;
	if (!slug_valid(slug))
		return kerr_set(ctx->err, KERR_INVALID, "slug",
		                "slug: 3–64 characters of a-z, 0-9 and '-'");
	const struct decl_purpose *p = decl_purpose(d, purpose);
	if (!p || !p->direct_marketing)
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: '%s' is not a direct-marketing purpose of register '%s'",
		                ident_valid(purpose, NULL) ? purpose : "?", rid);
	const struct decl_group *g = decl_group(d, group);
	bool has = false;
	for (size_t i = 0; g && i < g->purposes.n; i++)
		has = has || strcmp(g->purposes.v[i], purpose) == 0;
	if (!has)
		return kerr_set(ctx->err, KERR_REFUSED, "group",
		                "group: '%s' is not a subject group of register '%s' with purpose "
		                "'%s'",
		                ident_valid(group, NULL) ? group : "?", rid, purpose);
	if (!decl_source(d, source))
		return kerr_set(ctx->err, KERR_REFUSED, "source",
		                "source: '%s' is not a declared source of register '%s'",
		                ident_valid(source, NULL) ? source : "?", rid);

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_LIST_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, slug);
	q_text(q, 3, name);
	q_text(q, 4, purpose);
	q_text(q, 5, group);
	q_text(q, 6, source);
	q_text(q, 7, text);
	q_text(q, 8, version);
	q_text(q, 9, ctx->now_iso);
	q_text(q, 10, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err))) {
		store_rollback(ctx->db);
		if (rc == KERR_CONFLICT) {
			kerr_clear(ctx->err);
			rc = kerr_set(ctx->err, KERR_CONFLICT, "slug", "slug: '%s' is in use",
			              slug);
		}
		return rc;
	}
	*id = store_last_id(ctx->db);
	if ((rc = usage_record(ctx, "list_create", rid, "list", *id, NULL))) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

int sublist_list(struct kctx *ctx, const char *rid, json_t **out)
{
	int rc;
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_LIST_LIST);
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
		                                       (json_int_t)q_col_int(q, 0), "slug",
		                                       q_col_text(q, 1), "name", q_col_text(q, 2),
		                                       "purpose", q_col_text(q, 3), "group",
		                                       q_col_text(q, 4), "consent_version",
		                                       q_col_text(q, 5), "subscribers",
		                                       (json_int_t)q_col_int(q, 6)));
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		*out = NULL;
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}

/* The list of `slug`. */
struct list {
	int64_t id;
	const char *rid, *name, *purpose, *group, *source, *text, *version;
};

static int list_load(struct kctx *ctx, const char *slug, struct list *l)
{
	if (!slug_valid(slug))
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL, "no such list");
	struct query *q = store_query(ctx->db, ST_LIST_BY_SLUG);
	q_text(q, 1, slug);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		l->id = q_col_int(q, 0);
		l->rid = arena_strdup(ctx->mem, q_col_text(q, 1));
		l->name = arena_strdup(ctx->mem, q_col_text(q, 2));
		l->purpose = arena_strdup(ctx->mem, q_col_text(q, 3));
		l->group = arena_strdup(ctx->mem, q_col_text(q, 4));
		l->source = arena_strdup(ctx->mem, q_col_text(q, 5));
		l->text = arena_strdup(ctx->mem, q_col_text(q, 6));
		l->version = arena_strdup(ctx->mem, q_col_text(q, 7));
	}
	q_done(q);
	if (rc == 0 || (rc == 1 && !app_register(ctx->app, l->rid)))
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL, "no such list");
	return rc < 0 ? rc : 0;
}

int sublist_public(struct kctx *ctx, const char *slug, json_t **out)
{
	struct list l;
	int rc = list_load(ctx, slug, &l);
	*out = rc ? NULL
	          : json_pack("{s:s, s:s, s:s, s:s}", "name", l.name, "consent_text", l.text,
	                      "consent_version", l.version, "register", l.rid);
	return rc;
}

/* In one transaction: the person (found or added) and their pending consent. Sets *token
 * empty when the subscription is silently dropped. */
static int subscribe_tx(struct kctx *ctx, const struct list *l, const char *email,
                        const char *first, const char *last, char *token)
{
	int64_t pid = 0, cid = 0;
	int rc = person_find_contact(ctx, l->rid, "email", email, &pid);
	if (rc)
		return rc;
	if (!pid) {
		json_t *p = json_pack("{s:s, s:s, s:s}", "subject_group", l->group, "source",
		                      l->source, "email", email);
		if (first)
			json_object_set_new(p, "first_name", json_string(first));
		if (last)
			json_object_set_new(p, "last_name", json_string(last));
		rc = person_create_tx(ctx, l->rid, p, &pid);
		json_decref(p);
		if (rc == KERR_SUPPRESSED) {
			/* an erased person is not collected again; the page says nothing. */
			kerr_clear(ctx->err);
			token[0] = '\0';
			return 0;
		}
		if (rc)
			return rc;
	}
	/* The form is "list:ID": the confirmation puts the person on that list. */
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "purpose", l->purpose,
	                      "channel", "email", "text", l->text, "text_version", l->version,
	                      "source", "form", "form",
	                      arena_printf(ctx->mem, "list:%" PRId64, l->id), "double_opt_in", 1);
	rc = consent_give_tx(ctx, l->rid, pid, c, &cid, token);
	json_decref(c);
	if (rc == KERR_NOTFOUND) {
		/* A restricted or passivated person: nothing is recorded, the page says nothing. */
		kerr_clear(ctx->err);
		token[0] = '\0';
		return 0;
	}
	return rc;
}

int sublist_subscribe(struct kctx *ctx, const char *slug, const char *email, const char *first_name,
                      const char *last_name)
{
	struct list l;
	char norm[255], token[CONSENT_TOKEN_MAX] = "";
	int rc = list_load(ctx, slug, &l);
	if (rc)
		return rc;
	if (!email || !email_valid(email, norm, sizeof(norm), NULL))
		return kerr_set(ctx->err, KERR_INVALID, "email", "email: an e-mail address");
	const char *base = ctx->app->cfg.public_url;
	const struct mail_config *cfg = &ctx->app->cfg.mail;
	if (!base[0] || !cfg->url[0] || !cfg->from[0])
		return kerr_set(ctx->err, KERR_INVALID, NULL,
		                "subscribing needs public_url, smtp_url and mail_from");
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = subscribe_tx(ctx, &l, norm, first_name, last_name, token))) {
		store_rollback(ctx->db);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)) || !token[0])
		return rc;

	/* The confirmation mail: after the commit, so a link never names a consent that is not
	 * there; a consent whose mail failed simply expires. */
	return consent_mail_link(ctx, norm,
	                         "Vahvista tilauksesi / Bekräfta din prenumeration / Confirm your "
	                         "subscription",
	                         l.name, l.text, token);
}

int sublist_confirmed_tx(struct kctx *ctx, const char *rid, int64_t cid)
{
	struct query *q = store_query(ctx->db, ST_CONSENT_FORM);
	q_text(q, 1, rid);
	q_int(q, 2, cid);
	int64_t pid = 0, list = 0;
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		pid = q_col_int(q, 0);
		const char *form = q_col_text(q, 1);
		long long v = 0;
		if (form && strncmp(form, "list:", 5) == 0 && int_valid(form + 5, &v, NULL))
			list = v;
	}
	q_done(q);
	if (rc < 0 || !list)
		return rc < 0 ? rc : 0;
	q = store_query(ctx->db, ST_SUB_PUT);
	q_int(q, 1, list);
	q_int(q, 2, pid);
	q_text(q, 3, rid);
	q_text(q, 4, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	struct usage_entry e = {.action = "subscribe",
	                        .rid = rid,
	                        .entity = "list",
	                        .entity_id = list,
	                        .subjects = &pid,
	                        .nsubjects = 1};
	return usage_append(ctx, &e);
}
