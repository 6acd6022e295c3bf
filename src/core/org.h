/*
 * Organisations: companies and public bodies the register's persons work for. Their fields
 * are kortisto's own (name, Y-tunnus, department, addresses, web site), validated here;
 * duplicates are found by Y-tunnus.
 */
#ifndef KORTISTO_ORG_H
#define KORTISTO_ORG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct kctx;

/* Creates an organisation from {name, ytunnus, department, postal_address, postal_code,
 * postal_city, visiting_address, website, source}; name and source are required. */
int org_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);
int org_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

int org_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* Merge-patches organisation `id`; null removes an optional value. */
int org_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch);
int org_update_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch, bool *changed);

/* Deletes the organisation and its affiliations. */
int org_delete(struct kctx *ctx, const char *rid, int64_t id);

/* Full-text search on name (and Y-tunnus), or all; paginated like person_find. */
int org_find(struct kctx *ctx, const char *rid, const char *q, const char *cursor, int limit,
             json_t **out);

/* Finds an organisation by normalised Y-tunnus and department (NULL: none), else by exact
 * name; *id = 0 when none. */
int org_lookup(struct kctx *ctx, const char *rid, const char *ytunnus, const char *department,
               const char *name, int64_t *id);

#endif
