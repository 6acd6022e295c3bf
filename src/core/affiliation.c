/*
 * Affiliation service. Both ends must exist in the same register; dates are validated and
 * the end date may not precede the start. Changes keep history like persons do.
 */
#include "core/affiliation.h"

#include <inttypes.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/scope.h"
#include "core/fields.h"
#include "core/person.h"
#include "core/retention.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"

enum aff_col { AC_TITLE, AC_START, AC_END, AC_END_REASON, AC__MAX };

static const char *const aff_cols[AC__MAX] = {"title", "start_date", "end_date", "end_reason"};

static const char *const end_reasons[] = {"employment_ended", "role_changed", "organisation_closed",
                                          "other"};

struct aff_rec {
	int64_t person_id, org_id;
	const char *v[AC__MAX];
};

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * Checks that row `id` of statement `st` (by register and id) exists; when `column` >= 0,
 * copies that column's text into *value (ctx->mem). KERR_NOTFOUND names `field`.
 */
static int lookup(struct kctx *ctx, enum stmt_id st, const char *rid, int64_t id, const char *field,
                  const char *what, int column, const char **value)
{
	struct query *q = store_query(ctx->db, st);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1 && column >= 0)
		*value = arena_strdup(ctx->mem, q_col_text(q, column));
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, field,
		                "%s: %s %" PRId64 " not found in register '%s'", field, what, id,
		                rid);
	return 0;
}

/* The subject group of person `id`, which decides whether a title applies. */
static int person_group(struct kctx *ctx, const char *rid, int64_t id, const char **group)
{
	return lookup(ctx, ST_PERSON_SUMMARY, rid, id, "person_id", "person", 3, group);
}

static int get_id(struct kctx *ctx, json_t *in, const char *key, int64_t *out)
{
	json_t *v = json_object_get(in, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, key, "%s: required, a positive integer id",
		                key);
	*out = json_integer_value(v);
	return 0;
}

static int rec_apply(struct kctx *ctx, const struct decl *d, const char *rid, struct aff_rec *r,
                     json_t *in, bool create, const char *group)
{
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (in, key, v) {
		int c = -1;
		for (int i = 0; i < AC__MAX; i++)
			if (strcmp(aff_cols[i], key) == 0)
				c = i;
		if (create &&
		    (strcmp(key, "person_id") == 0 || strcmp(key, "organisation_id") == 0))
			continue;
		if (c < 0)
			return kerr_set(ctx->err, KERR_REFUSED, key,
			                "field '%s' is not a field of an affiliation", key);
		if (json_is_null(v)) {
			r->v[c] = NULL;
			continue;
		}
		if (!json_is_string(v) || json_string_length(v) > 256)
			return kerr_set(ctx->err, KERR_INVALID, key, "%s: must be a string", key);
		const char *s = json_string_value(v);
		if (c == AC_TITLE) {
			const struct decl_field *f;
			json_t *norm = NULL;
			if ((rc = field_declared(ctx, d, rid, "title", group, "title", &f)) ||
			    (rc = field_check(ctx, f, v, "title", &norm)))
				return rc;
			json_decref(norm);
		} else if (c == AC_START || c == AC_END) {
			if ((rc = check_date(ctx, s, key)))
				return rc;
		} else {
			bool ok = false;
			for (size_t i = 0; i < sizeof(end_reasons) / sizeof(end_reasons[0]); i++)
				ok = ok || strcmp(end_reasons[i], s) == 0;
			if (!ok)
				return kerr_set(
				        ctx->err, KERR_INVALID, key,
				        "end_reason: one of employment_ended, role_changed, "
				        "organisation_closed, other");
		}
		r->v[c] = arena_strdup(ctx->mem, s);
	}
	if (r->v[AC_START] && r->v[AC_END] && strcmp(r->v[AC_END], r->v[AC_START]) < 0)
		return kerr_set(ctx->err, KERR_INVALID, "end_date",
		                "end_date: must not be before start_date");
	if (r->v[AC_END_REASON] && !r->v[AC_END])
		return kerr_set(ctx->err, KERR_INVALID, "end_reason",
		                "end_reason: give end_date as well");
	return 0;
}

/* The usage-log entry of a change of affiliation `id`, naming its person as the subject, so
 * "who changed what about this person" finds it. */
static int log_change(struct kctx *ctx, const char *action, const char *rid, int64_t id,
                      int64_t person_id)
{
	struct usage_entry e = {
	        .action = action,
	        .rid = rid,
	        .entity = "affiliation",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	return usage_append(ctx, &e);
}

int affiliation_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct aff_rec r = {0};
	int rc;
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	const char *group = NULL;
	if ((rc = get_id(ctx, in, "person_id", &r.person_id)) ||
	    (rc = get_id(ctx, in, "organisation_id", &r.org_id)) ||
	    (rc = person_group(ctx, rid, r.person_id, &group)) ||
	    (rc = person_use_allowed(ctx, rid, r.person_id, "person_id")) ||
	    (rc = lookup(ctx, ST_ORG_GET, rid, r.org_id, "organisation_id", "organisation", -1,
	                 NULL)) ||
	    (rc = rec_apply(ctx, d, rid, &r, in, true, group)))
		return rc;
	struct query *q = store_query(ctx->db, ST_AFF_INSERT);
	q_text(q, 1, rid);
	q_int(q, 2, r.person_id);
	q_int(q, 3, r.org_id);
	for (int c = 0; c < AC__MAX; c++)
		q_text(q, 4 + c, r.v[c]);
	q_text(q, 8, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*id = store_last_id(ctx->db);
	return log_change(ctx, "create", rid, *id, r.person_id);
}

/* An affiliation entered as already ended because the employment ended applies the
 * register's rules for that at once (L-05), as ending one does. */
static int create_checked(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	int rc = affiliation_create_tx(ctx, rid, in, id);
	const char *reason = json_string_value(json_object_get(in, "end_reason"));
	if (!rc && json_is_string(json_object_get(in, "end_date")) && reason &&
	    strcmp(reason, "employment_ended") == 0)
		rc = retention_affiliation_ended_tx(
		        ctx, rid, (int64_t)json_integer_value(json_object_get(in, "person_id")),
		        NULL);
	return rc;
}

int affiliation_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	IN_WRITE_TX(ctx, create_checked(ctx, rid, in, id));
}

static int aff_load(struct kctx *ctx, const char *rid, int64_t id, struct aff_rec *r, json_t *out)
{
	struct query *q = store_query(ctx->db, ST_AFF_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc <= 0) {
		q_done(q);
		return rc < 0 ? rc
		              : kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                         "affiliation %" PRId64 " not found in register '%s'", id,
		                         rid);
	}
	r->person_id = q_col_int(q, 1);
	r->org_id = q_col_int(q, 2);
	for (int c = 0; c < AC__MAX; c++)
		r->v[c] = arena_strdup(ctx->mem, q_col_text(q, 3 + c));
	if (out) {
		json_object_set_new(out, "id", json_integer(id));
		json_object_set_new(out, "register", json_string(rid));
		json_object_set_new(out, "person_id", json_integer(r->person_id));
		json_object_set_new(out, "organisation_id", json_integer(r->org_id));
		for (int c = 0; c < AC__MAX; c++)
			json_object_set_new(out, aff_cols[c], jstr(r->v[c]));
		json_object_set_new(out, "created_at", json_string(q_col_text(q, 7)));
		json_object_set_new(out, "updated_at", json_string(q_col_text(q, 8)));
		json_object_set_new(out, "version", json_integer(q_col_int(q, 9)));
	}
	q_done(q);
	return 0;
}

int affiliation_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct aff_rec r = {0};
	json_t *o = json_object();
	int rc;
	*out = NULL;
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found", rid);
	else
		rc = aff_load(ctx, rid, id, &r, o);
	if (rc == 0)
		rc = person_use_allowed(ctx, rid, r.person_id, "person_id");
	if (rc == 0 && !scope_field_visible(ctx, d, "title"))
		json_object_del(o, "title"); /* a processor without the title's category */
	if (rc == 0) {
		int64_t pid = json_integer_value(json_object_get(o, "person_id"));
		rc = usage_read(ctx, &(struct usage_entry){.action = "read",
		                                           .rid = rid,
		                                           .entity = "affiliation",
		                                           .entity_id = id,
		                                           .subjects = &pid,
		                                           .nsubjects = pid > 0});
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int affiliation_update_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct aff_rec old = {0}, r;
	int rc;
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((rc = aff_load(ctx, rid, id, &old, NULL)) ||
	    (rc = person_use_allowed(ctx, rid, old.person_id, "person_id")))
		return rc;
	r = old;
	const char *group = NULL;
	if ((rc = person_group(ctx, rid, old.person_id, &group)) ||
	    (rc = rec_apply(ctx, d, rid, &r, patch, false, group)))
		return rc;
	bool changed = false;
	for (int c = 0; c < AC__MAX; c++) {
		const char *a = old.v[c], *b = r.v[c];
		if ((!a && !b) || (a && b && strcmp(a, b) == 0))
			continue;
		changed = true;
		struct query *q = store_query(ctx->db, ST_HISTORY_INSERT);
		q_text(q, 1, rid);
		q_text(q, 2, "affiliation");
		q_int(q, 3, id);
		q_text(q, 4, aff_cols[c]);
		q_text(q, 5, a);
		q_text(q, 6, b);
		q_text(q, 7, ctx->actor->name);
		q_null(q, 8);
		q_text(q, 9, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	if (!changed)
		return 0;
	struct query *q = store_query(ctx->db, ST_AFF_UPDATE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	for (int c = 0; c < AC__MAX; c++)
		q_text(q, 3 + c, r.v[c]);
	q_text(q, 7, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) || (rc = log_change(ctx, "update", rid, id, old.person_id)))
		return rc;
	/* L-05: an employment that ended applies the register's rules for it at once. */
	if (r.v[AC_END] && r.v[AC_END_REASON] &&
	    strcmp(r.v[AC_END_REASON], "employment_ended") == 0)
		return retention_affiliation_ended_tx(ctx, rid, old.person_id, NULL);
	return 0;
}

int affiliation_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	IN_WRITE_TX(ctx, affiliation_update_tx(ctx, rid, id, patch));
}

static int affiliation_delete_tx(struct kctx *ctx, const char *rid, int64_t id)
{
	struct aff_rec old = {0};
	int rc;
	if ((rc = aff_load(ctx, rid, id, &old, NULL)) ||
	    (rc = person_use_allowed(ctx, rid, old.person_id, "person_id")))
		return rc;
	struct query *q = store_query(ctx->db, ST_AFF_DELETE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "affiliation %" PRId64 " not found in register '%s'", id, rid);
	q = store_query(ctx->db, ST_HISTORY_DELETE);
	q_text(q, 1, rid);
	q_text(q, 2, "affiliation");
	q_int(q, 3, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return log_change(ctx, "delete", rid, id, old.person_id);
}

int affiliation_delete(struct kctx *ctx, const char *rid, int64_t id)
{
	if (!app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	IN_WRITE_TX(ctx, affiliation_delete_tx(ctx, rid, id));
}

int affiliation_find(struct kctx *ctx, const char *rid, int64_t person_id, int64_t org_id,
                     const char *cursor, int limit, json_t **out)
{
	int64_t after = 0;
	int rc;
	*out = NULL;
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((rc = cursor_decode(ctx, cursor, &after)))
		return rc;
	limit = page_limit(ctx, limit);
	bool show_title = scope_field_visible(ctx, d, "title");
	struct query *q = store_query(ctx->db, ST_AFF_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, after);
	if (person_id > 0)
		q_int(q, 3, person_id);
	if (org_id > 0)
		q_int(q, 4, org_id);
	q_int(q, 5, limit + 1);
	q_int(q, 6, ctx->sees_restricted);
	json_t *items = json_array();
	int n = 0;
	int64_t last = 0, *pids = arena_alloc(ctx->mem, (size_t)limit * sizeof(*pids));
	bool more = false;
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == limit) {
			more = true;
			break;
		}
		last = q_col_int(q, 0);
		pids[n] = q_col_int(q, 1);
		json_t *item = json_pack(
		        "{s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)last, "person_id",
		        (json_int_t)q_col_int(q, 1), "organisation_id", (json_int_t)q_col_int(q, 2),
		        "title", jstr(q_col_text(q, 3)), "start_date", jstr(q_col_text(q, 4)),
		        "end_date", jstr(q_col_text(q, 5)), "end_reason", jstr(q_col_text(q, 6)));
		if (!show_title)
			json_object_del(item, "title"); /* a processor without its category */
		json_array_append_new(items, item);
		n++;
	}
	q_done(q);
	if (rc < 0 || (rc = usage_read(ctx, &(struct usage_entry){.action = "search",
	                                                          .rid = rid,
	                                                          .entity = "affiliation",
	                                                          .subjects = pids,
	                                                          .nsubjects = (size_t)n}))) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o, s:o}", "items", items, "next",
	                 more ? json_string(cursor_encode(ctx, last)) : json_null());
	return 0;
}

int affiliation_lookup(struct kctx *ctx, const char *rid, int64_t person_id, int64_t org_id,
                       int64_t *id)
{
	struct query *q = store_query(ctx->db, ST_AFF_FIND);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	q_int(q, 3, org_id);
	int rc = q_step(q, ctx->err);
	*id = rc == 1 ? q_col_int(q, 0) : 0;
	q_done(q);
	return rc < 0 ? rc : 0;
}
