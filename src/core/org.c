/*
 * Organisation service. The columns form one table (org_cols) that drives validation,
 * storage, history and output, so a new column is one row here and one in the schema.
 */
#include "core/org.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/scope.h"
#include "core/fields.h"
#include "core/person.h"
#include "core/search.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/validate.h"

enum org_col {
	OC_NAME,
	OC_YTUNNUS,
	OC_DEPARTMENT,
	OC_POSTAL_ADDRESS,
	OC_POSTAL_CODE,
	OC_POSTAL_CITY,
	OC_VISITING_ADDRESS,
	OC_WEBSITE,
	OC__MAX
};

enum org_check { CHK_TEXT, CHK_YTUNNUS, CHK_POSTAL, CHK_URL };

static const struct {
	const char *name;
	enum org_check check;
	bool required;
} org_cols[OC__MAX] = {
        [OC_NAME] = {"name", CHK_TEXT, true},
        [OC_YTUNNUS] = {"ytunnus", CHK_YTUNNUS, false},
        [OC_DEPARTMENT] = {"department", CHK_TEXT, false},
        [OC_POSTAL_ADDRESS] = {"postal_address", CHK_TEXT, false},
        [OC_POSTAL_CODE] = {"postal_code", CHK_POSTAL, false},
        [OC_POSTAL_CITY] = {"postal_city", CHK_TEXT, false},
        [OC_VISITING_ADDRESS] = {"visiting_address", CHK_TEXT, false},
        [OC_WEBSITE] = {"website", CHK_URL, false},
};

struct org_rec {
	const char *v[OC__MAX];
	const char *source;
};

static int col_index(const char *name)
{
	for (int i = 0; i < OC__MAX; i++)
		if (strcmp(org_cols[i].name, name) == 0)
			return i;
	return -1;
}

static int col_check(struct kctx *ctx, int c, json_t *v, const char **out)
{
	const char *name = org_cols[c].name, *why = NULL;
	*out = NULL;
	if (json_is_null(v)) {
		if (org_cols[c].required)
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: required", name);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 512 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return kerr_set(ctx->err, KERR_INVALID, name,
		                "%s: must be a non-empty string of at most 512 bytes", name);
	const char *s = json_string_value(v);
	char norm[10];
	switch (org_cols[c].check) {
	case CHK_YTUNNUS:
		if (check_ytunnus(ctx, s, name, norm))
			return KERR_INVALID;
		*out = arena_strdup(ctx->mem, norm);
		return 0;
	case CHK_POSTAL: {
		char pc[6];
		if (!postal_code_valid(s, pc, &why))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: %s", name,
			                why ? why : "must be five digits");
		*out = arena_strdup(ctx->mem, pc);
		return 0;
	}
	case CHK_URL:
		if (!url_valid(s, &why))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: %s", name,
			                why ? why : "not a valid http(s) URL");
		break;
	case CHK_TEXT:
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p < 0x20)
				return kerr_set(ctx->err, KERR_INVALID, name,
				                "%s: must not contain control characters", name);
		break;
	}
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

static int rec_apply(struct kctx *ctx, const char *rid, struct org_rec *r, json_t *in, bool create)
{
	const struct decl *d = app_register(ctx->app, rid);
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (in, key, v) {
		int c = col_index(key);
		if (strcmp(key, "source") == 0) {
			if (!json_is_string(v) || !decl_source(d, json_string_value(v)))
				return kerr_set(
				        ctx->err, KERR_REFUSED, "source",
				        "source: must be a declared source of register '%s'", rid);
			r->source = decl_source(d, json_string_value(v))->id;
		} else if (c < 0) {
			return kerr_set(ctx->err, KERR_REFUSED, key,
			                "field '%s' is not a field of an organisation", key);
		} else if ((rc = col_check(ctx, c, v, &r->v[c]))) {
			return rc;
		}
	}
	if (create && !r->source)
		return kerr_set(ctx->err, KERR_INVALID, "source",
		                "source: required, one of the register's declared sources");
	if (!r->v[OC_NAME])
		return kerr_set(ctx->err, KERR_INVALID, "name", "name: required");
	return 0;
}

/* Refuses a second organisation with the same Y-tunnus and department (a Y-tunnus may
 * appear once per department). `self` is the organisation being changed, or 0. */
static int check_duplicate(struct kctx *ctx, const char *rid, const struct org_rec *r, int64_t self)
{
	if (!r->v[OC_YTUNNUS])
		return 0;
	struct query *q = store_query(ctx->db, ST_ORG_DUPLICATE);
	q_text(q, 1, rid);
	q_text(q, 2, r->v[OC_YTUNNUS]);
	q_text(q, 3, r->v[OC_DEPARTMENT]);
	q_int(q, 4, self);
	int rc = q_step(q, ctx->err);
	int64_t other = rc == 1 ? q_col_int(q, 0) : 0;
	q_done(q);
	if (rc < 0)
		return rc;
	if (other)
		return kerr_set(ctx->err, KERR_CONFLICT, "ytunnus",
		                "ytunnus: organisation %" PRId64
		                " already has this Y-tunnus%s in register '%s'",
		                other, r->v[OC_DEPARTMENT] ? " and department" : "", rid);
	return 0;
}

static void bind_cols(struct query *q, int first, const struct org_rec *r)
{
	for (int c = 0; c < OC__MAX; c++)
		q_text(q, first + c, r->v[c]);
}

/* Indexes the organisation's name, department and Y-tunnus for search. */
static int index_org(struct kctx *ctx, int64_t id, const struct org_rec *r, bool replace)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, r->v[OC_NAME]);
	if (r->v[OC_DEPARTMENT])
		buf_appendf(&b, " %s", r->v[OC_DEPARTMENT]);
	if (r->v[OC_YTUNNUS])
		buf_appendf(&b, " %s", r->v[OC_YTUNNUS]);
	int rc = search_put(ctx, SEARCH_ORGS, id, buf_str(&b), replace);
	buf_free(&b);
	return rc;
}

static int need_register(struct kctx *ctx, const char *rid)
{
	if (!app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	return 0;
}

/* As need_register, for reading: a processor sees organisations only when the category
 * of the declared field `organisation` is among its categories. */
static int need_register_to_read(struct kctx *ctx, const char *rid)
{
	int rc = need_register(ctx, rid);
	if (rc == 0 && !scope_field_visible(ctx, app_register(ctx->app, rid), "organisation"))
		rc = kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		              "the categories of your processor role do not include organisations");
	return rc;
}

int org_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	struct org_rec r = {0};
	int rc;
	if ((rc = need_register(ctx, rid)) || (rc = rec_apply(ctx, rid, &r, in, true)) ||
	    (rc = check_duplicate(ctx, rid, &r, 0)))
		return rc;
	struct query *q = store_query(ctx->db, ST_ORG_INSERT);
	q_text(q, 1, rid);
	bind_cols(q, 2, &r);
	q_text(q, 10, r.source);
	q_text(q, 11, ctx->now_iso);
	q_text(q, 12, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*id = store_last_id(ctx->db);
	if ((rc = index_org(ctx, *id, &r, false)))
		return rc;
	return usage_record(ctx, "create", rid, "organisation", *id, NULL);
}

int org_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	IN_WRITE_TX(ctx, org_create_tx(ctx, rid, in, id));
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Loads organisation `id`; fills `r` (strings in ctx->mem) and, when `out`, a JSON view. */
static int org_load(struct kctx *ctx, const char *rid, int64_t id, struct org_rec *r, json_t *out)
{
	struct query *q = store_query(ctx->db, ST_ORG_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc <= 0) {
		q_done(q);
		return rc < 0 ? rc
		              : kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                         "organisation %" PRId64 " not found in register '%s'", id,
		                         rid);
	}
	for (int c = 0; c < OC__MAX; c++)
		r->v[c] = arena_strdup(ctx->mem, q_col_text(q, 1 + c));
	r->source = arena_strdup(ctx->mem, q_col_text(q, 9));
	if (out) {
		json_object_set_new(out, "id", json_integer(id));
		json_object_set_new(out, "register", json_string(rid));
		for (int c = 0; c < OC__MAX; c++)
			json_object_set_new(out, org_cols[c].name, jstr(r->v[c]));
		json_object_set_new(out, "source", json_string(r->source));
		json_object_set_new(out, "created_at", json_string(q_col_text(q, 10)));
		json_object_set_new(out, "updated_at", json_string(q_col_text(q, 11)));
		json_object_set_new(out, "created_by", json_string(q_col_text(q, 12)));
		json_object_set_new(out, "version", json_integer(q_col_int(q, 13)));
	}
	q_done(q);
	return 0;
}

int org_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct org_rec r = {0};
	json_t *o = json_object();
	int rc;
	*out = NULL;
	if ((rc = need_register_to_read(ctx, rid)) || (rc = store_begin_read(ctx->db, ctx->err)))
		goto fail;
	rc = org_load(ctx, rid, id, &r, o);
	store_rollback(ctx->db);
	if (rc || (rc = usage_read(ctx, &(struct usage_entry){.action = "read",
	                                                      .rid = rid,
	                                                      .entity = "organisation",
	                                                      .entity_id = id})))
		goto fail;
	*out = o;
	return 0;
fail:
	json_decref(o);
	return rc;
}

int org_update_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch, bool *changed)
{
	struct org_rec old = {0}, r;
	int rc;
	*changed = false;
	if ((rc = need_register(ctx, rid)) || (rc = org_load(ctx, rid, id, &old, NULL)))
		return rc;
	r = old;
	if ((rc = rec_apply(ctx, rid, &r, patch, false)) ||
	    (rc = check_duplicate(ctx, rid, &r, id)))
		return rc;
	for (int c = 0; c < OC__MAX; c++) {
		const char *a = old.v[c], *b = r.v[c];
		if ((!a && !b) || (a && b && strcmp(a, b) == 0))
			continue;
		*changed = true;
		struct query *q = store_query(ctx->db, ST_HISTORY_INSERT);
		q_text(q, 1, rid);
		q_text(q, 2, "organisation");
		q_int(q, 3, id);
		q_text(q, 4, org_cols[c].name);
		q_text(q, 5, a);
		q_text(q, 6, b);
		q_text(q, 7, ctx->actor->name);
		q_null(q, 8);
		q_text(q, 9, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	if (!*changed)
		return 0;
	struct query *q = store_query(ctx->db, ST_ORG_UPDATE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	bind_cols(q, 3, &r);
	q_text(q, 11, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) || (rc = index_org(ctx, id, &r, true)))
		return rc;
	return usage_record(ctx, "update", rid, "organisation", id, NULL);
}

int org_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	bool changed;
	IN_WRITE_TX(ctx, org_update_tx(ctx, rid, id, patch, &changed));
}

static int org_delete_tx(struct kctx *ctx, const char *rid, int64_t id)
{
	int rc;
	if ((rc = need_register(ctx, rid)))
		return rc;
	/* Affiliations go with the organisation (cascade); their history must go first. */
	struct query *q = store_query(ctx->db, ST_HISTORY_DELETE_AFFILIATIONS);
	q_text(q, 1, rid);
	q_int(q, 2, 0);
	q_int(q, 3, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_ORG_DELETE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "organisation %" PRId64 " not found in register '%s'", id, rid);
	if ((rc = search_remove(ctx, SEARCH_ORGS, id)) || (rc = search_mark_purge(ctx)))
		return rc;
	q = store_query(ctx->db, ST_HISTORY_DELETE);
	q_text(q, 1, rid);
	q_text(q, 2, "organisation");
	q_int(q, 3, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "delete", rid, "organisation", id, NULL);
}

int org_delete(struct kctx *ctx, const char *rid, int64_t id)
{
	IN_WRITE_TX(ctx, org_delete_tx(ctx, rid, id));
}

int org_find(struct kctx *ctx, const char *rid, const char *q, const char *cursor, int limit,
             json_t **out)
{
	int64_t after = 0;
	int rc;
	*out = NULL;
	if ((rc = need_register_to_read(ctx, rid)) || (rc = cursor_decode(ctx, cursor, &after)))
		return rc;
	limit = page_limit(ctx, limit);
	const char *match = NULL;
	if (q && !(match = search_query(ctx, q)))
		return KERR_INVALID;
	struct query *st = store_query(ctx->db, match ? ST_ORG_SEARCH : ST_ORG_LIST);
	q_text(st, 1, rid);
	if (match) {
		q_text(st, 2, match);
		q_int(st, 3, after);
		q_int(st, 4, limit + 1);
	} else {
		q_int(st, 2, after);
		q_int(st, 3, limit + 1);
	}
	json_t *items = json_array();
	int n = 0;
	int64_t last = 0;
	bool more = false;
	while ((rc = q_step(st, ctx->err)) == 1) {
		if (n == limit) {
			more = true;
			break;
		}
		last = q_col_int(st, 0);
		json_array_append_new(items, json_pack("{s:I, s:s, s:o, s:o}", "id",
		                                       (json_int_t)last, "name", q_col_text(st, 1),
		                                       "ytunnus", jstr(q_col_text(st, 2)),
		                                       "department", jstr(q_col_text(st, 3))));
		n++;
	}
	q_done(st);
	if (rc < 0 || (rc = usage_read(ctx, &(struct usage_entry){.action = "search",
	                                                          .rid = rid,
	                                                          .entity = "organisation"}))) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o, s:o}", "items", items, "next",
	                 more ? json_string(cursor_encode(ctx, last)) : json_null());
	return 0;
}

int org_lookup(struct kctx *ctx, const char *rid, const char *ytunnus, const char *department,
               const char *name, int64_t *id)
{
	struct query *q = store_query(ctx->db, ytunnus ? ST_ORG_BY_YTUNNUS : ST_ORG_BY_NAME);
	q_text(q, 1, rid);
	q_text(q, 2, ytunnus ? ytunnus : name);
	if (ytunnus)
		q_text(q, 3, department);
	int rc = q_step(q, ctx->err);
	*id = rc == 1 ? q_col_int(q, 0) : 0;
	q_done(q);
	return rc < 0 ? rc : 0;
}
