/*
 * Processor scope: a processor's grant names a recipient of kind processor in the
 * declaration, and that entry lists the categories it may process. Fields outside them are
 * removed from every view before it leaves core/.
 */
#include "core/scope.h"

#include <string.h>

#include "core/ctx.h"
#include "decl/decl.h"
#include "util/kerr.h"

/* Members of a person view that are not declared fields but describe the record itself. */
static const char *const record_members[] = {
        "id",         "register", "subject_group",       "legal_basis",
        "source",     "status",   "created_at",          "updated_at",
        "created_by", "version",  "last_customer_event",
};

bool scope_all(const struct kctx *ctx)
{
	/* A processor entry without categories is not limited by category. */
	return !ctx->processor || ctx->processor->categories.n == 0;
}

bool scope_field_visible(const struct kctx *ctx, const struct decl *d, const char *field)
{
	if (scope_all(ctx))
		return true;
	const struct decl_field *f = decl_field(d, field);
	if (!f || !f->category)
		return false;
	const struct str_list *cats = &ctx->processor->categories;
	for (size_t i = 0; i < cats->n; i++)
		if (strcmp(cats->v[i], f->category->id) == 0)
			return true;
	return false;
}

static bool is_record_member(const char *key)
{
	for (size_t i = 0; i < sizeof(record_members) / sizeof(record_members[0]); i++)
		if (strcmp(key, record_members[i]) == 0)
			return true;
	return false;
}

/* Contact point kinds are named like their fields, except the address. */
static const char *cp_field(const char *kind)
{
	return strcmp(kind, "postal") == 0 ? "postal_address" : kind;
}

void scope_filter_person(const struct kctx *ctx, const struct decl *d, json_t *p)
{
	const char *key;
	json_t *v, *tmp;
	if (!ctx->processor || !json_is_object(p))
		return;
	/* A processor never sees old values, whatever its categories. */
	json_object_del(p, "history");
	if (scope_all(ctx))
		return;
	json_object_foreach_safe (p, tmp, key, v) {
		if (is_record_member(key))
			continue;
		if (strcmp(key, "attributes") == 0) {
			const char *ak;
			json_t *av, *atmp;
			json_object_foreach_safe (v, atmp, ak, av) {
				if (!scope_field_visible(ctx, d, ak))
					json_object_del(v, ak);
			}
		} else if (strcmp(key, "contact_points") == 0) {
			size_t i = 0;
			while (i < json_array_size(v)) {
				const char *kind = json_string_value(
				        json_object_get(json_array_get(v, i), "kind"));
				if (kind && scope_field_visible(ctx, d, cp_field(kind)))
					i++;
				else
					json_array_remove(v, i);
			}
		} else if (strcmp(key, "affiliations") == 0) {
			if (!scope_field_visible(ctx, d, "organisation"))
				json_object_del(p, key);
			else if (!scope_field_visible(ctx, d, "title")) {
				size_t i;
				json_t *a;
				json_array_foreach (v, i, a)
					json_object_del(a, "title");
			}
		} else if (!scope_field_visible(ctx, d, key)) {
			json_object_del(p, key);
		}
	}
}

int scope_filter_buf(struct kctx *ctx, const struct decl *d, struct buf *b, size_t mark, bool page)
{
	json_error_t jerr;
	if (!ctx->processor)
		return 0;
	json_t *j = json_loadb(b->p + mark, b->len - mark, 0, &jerr);
	if (!j)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "processor view: bad JSON");
	if (page) {
		size_t i;
		json_t *item;
		json_array_foreach (json_object_get(j, "items"), i, item)
			scope_filter_person(ctx, d, item);
	} else {
		scope_filter_person(ctx, d, j);
	}
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "processor view: out of memory");
	b->len = mark;
	buf_puts(b, text);
	free(text);
	return 0;
}
