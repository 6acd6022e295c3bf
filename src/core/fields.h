/*
 * Values of declared fields. The register's declaration is the allow-list for personal
 * data: a value is accepted only for a declared field, of the declared type, in a category
 * that applies to the subject's group, and is stored in normalised form.
 */
#ifndef KORTISTO_FIELDS_H
#define KORTISTO_FIELDS_H

#include <jansson.h>

struct kctx;
struct decl;
struct decl_field;

/*
 * Validates JSON value `v` for field `f`; `path` names it in errors ("email",
 * "attributes.municipality"). On success returns 0 and a new reference in *norm: a string
 * (normalised: e-mail lower-cased, phone in E.164, henkilötunnus upper-case), an integer or
 * a boolean. Errors: KERR_INVALID naming `path`.
 */
int field_check(struct kctx *ctx, const struct decl_field *f, json_t *v, const char *path,
                json_t **norm);

/* Looks up field `id` in `d` and checks it applies to subject group `group`; KERR_REFUSED
 * (422) naming `path` when it is undeclared or does not apply. */
int field_declared(struct kctx *ctx, const struct decl *d, const char *rid, const char *id,
                   const char *group, const char *path, const struct decl_field **out);

/* Validators for organisation data, which kortisto itself defines (not per register). */
int check_ytunnus(struct kctx *ctx, const char *in, const char *path, char out[10]);
int check_date(struct kctx *ctx, const char *in, const char *path);

#endif
