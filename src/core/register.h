/*
 * Registers and their declaration versions. Loading a declaration stores its YAML text as a
 * new version (every version is kept, so a notice can show its history); a text identical
 * to the current version is not stored twice.
 */
#ifndef KORTISTO_REGISTER_H
#define KORTISTO_REGISTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct kctx;
struct decl_diags;

/*
 * Parses and stores declaration text `text` (from file `file`) as the next version of its
 * register. Problems go to `diags`; on any error nothing is stored and KERR_INVALID is
 * returned. On success *version is the register's current version and *unchanged tells
 * whether the text equalled it already.
 */
int register_load(struct kctx *ctx, const char *file, const char *text, size_t len,
                  struct decl_diags *diags, int *version, bool *unchanged, char **rid_out);

/* Lists registers: [{id, name, version, published, updated, loaded_at}]; caller owns it. */
int register_list(struct kctx *ctx, json_t **out);

/* Versions of register `rid`: [{version, published, updated, loaded_at, loaded_by, sha256}]. */
int register_versions(struct kctx *ctx, const char *rid, json_t **out);

/* Describes the current declaration of `rid` for API clients: groups, fields, sources. */
int register_describe(struct kctx *ctx, const char *rid, json_t **out);

#endif
