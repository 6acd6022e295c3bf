/*
 * Register declarations in the store. The declaration text is kept verbatim with its SHA-256
 * so what was published at any time can be reproduced; the parsed form lives in struct kapp.
 */
#include "core/register.h"

#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/ctx.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

int register_load(struct kctx *ctx, const char *file, const char *text, size_t len,
                  struct decl_diags *diags, int *version, bool *unchanged, char **rid_out)
{
	struct decl *d = NULL;
	char sha[65];
	int rc;

	*unchanged = false;
	*version = 0;
	if (rid_out)
		*rid_out = NULL;
	if (decl_parse(file, text, len, &d, diags) != 0)
		return kerr_set(ctx->err, KERR_INVALID, NULL, "%s: declaration has %zu error(s)",
		                file, diags->nerrors);
	sha256_hex(text, len, sha);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		goto out;

	int last = 0;
	struct query *q = store_query(ctx->db, ST_REG_VERSION_LAST);
	q_text(q, 1, d->id);
	if ((rc = q_step(q, ctx->err)) == 1) {
		last = (int)q_col_int(q, 0);
		*unchanged = strcmp(q_col_text(q, 1), sha) == 0;
		rc = 0;
	}
	q_done(q);
	if (rc < 0)
		goto fail;
	if (*unchanged) {
		*version = last;
		store_rollback(ctx->db);
		goto out;
	}
	*version = last + 1;
	if (last == 0) {
		q = store_query(ctx->db, ST_REG_INSERT);
		q_text(q, 1, d->id);
		q_int(q, 2, *version);
		q_text(q, 3, ctx->now_iso);
	} else {
		q = store_query(ctx->db, ST_REG_SET_VERSION);
		q_text(q, 1, d->id);
		q_int(q, 2, *version);
		q_text(q, 3, ctx->now_iso);
	}
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	q = store_query(ctx->db, ST_REG_VERSION_INSERT);
	q_text(q, 1, d->id);
	q_int(q, 2, *version);
	q_textn(q, 3, text, len);
	q_text(q, 4, sha);
	q_text(q, 5, d->published);
	q_text(q, 6, d->updated);
	q_text(q, 7, ctx->now_iso);
	q_text(q, 8, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;
	goto out;
fail:
	store_rollback(ctx->db);
out:
	if (!rc && rid_out)
		*rid_out = arena_strdup(ctx->mem, d->id);
	decl_free(d);
	return rc;
}

int register_list(struct kctx *ctx, json_t **out)
{
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, ST_REG_LIST);
	int rc;

	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *id = q_col_text(q, 0);
		const struct decl *d = app_register(ctx->app, id);
		json_t *o = json_pack("{s:s, s:I, s:s?, s:s?, s:s?}", "id", id, "version",
		                      (json_int_t)q_col_int(q, 1), "published", q_col_text(q, 2),
		                      "updated", q_col_text(q, 3), "loaded_at", q_col_text(q, 4));
		if (d)
			json_object_set_new(o, "name",
			                    json_string(decl_text(&d->name, LANG_FI, NULL)));
		json_array_append_new(list, o);
	}
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

int register_versions(struct kctx *ctx, const char *rid, json_t **out)
{
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, ST_REG_VERSIONS);
	int rc;

	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        list, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?}", "version",
		                        (json_int_t)q_col_int(q, 0), "published", q_col_text(q, 1),
		                        "updated", q_col_text(q, 2), "loaded_at", q_col_text(q, 3),
		                        "loaded_by", q_col_text(q, 4), "sha256", q_col_text(q, 5)));
	q_done(q);
	if (rc == 0 && json_array_size(list) == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found", rid);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

static json_t *text_json(const struct text *t)
{
	json_t *o = json_object();
	static const char *const names[LANG__MAX] = {"fi", "sv", "en"};
	for (int i = 0; i < LANG__MAX; i++)
		if (t->s[i])
			json_object_set_new(o, names[i], json_string(t->s[i]));
	return o;
}

int register_describe(struct kctx *ctx, const char *rid, json_t **out)
{
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid);
	json_t *groups = json_array(), *fields = json_array(), *sources = json_array();
	for (size_t i = 0; i < d->ngroups; i++)
		json_array_append_new(groups,
		                      json_pack("{s:s, s:o, s:s}", "id", d->groups[i].id, "name",
		                                text_json(&d->groups[i].name), "basis",
		                                decl_basis_name(d->groups[i].basis)));
	for (size_t c = 0; c < d->ncategories; c++) {
		const struct decl_category *cat = &d->categories[c];
		for (size_t i = 0; i < cat->nfields; i++) {
			const struct decl_field *f = &cat->fields[i];
			json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "id", f->id, "type",
			                      decl_field_type_name(f->type), "category", cat->id,
			                      "label", text_json(&f->label), "required",
			                      f->required, "sensitive", f->sensitive);
			if (f->values.n) {
				json_t *v = json_array();
				for (size_t k = 0; k < f->values.n; k++)
					json_array_append_new(v, json_string(f->values.v[k]));
				json_object_set_new(o, "values", v);
			}
			json_array_append_new(fields, o);
		}
	}
	for (size_t i = 0; i < d->nsources; i++)
		json_array_append_new(sources, json_pack("{s:s, s:o}", "id", d->sources[i].id,
		                                         "text", text_json(&d->sources[i].text)));
	*out = json_pack("{s:s, s:o, s:s, s:s?, s:o, s:o, s:o}", "id", d->id, "name",
	                 text_json(&d->name), "published", d->published, "updated", d->updated,
	                 "subject_groups", groups, "fields", fields, "sources", sources);
	return 0;
}
