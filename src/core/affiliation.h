/*
 * Affiliations: a person's role in an organisation (title, start, end, end reason). Ending
 * one with reason "employment_ended" is the event the retention rules of L-05 act on.
 */
#ifndef KORTISTO_AFFILIATION_H
#define KORTISTO_AFFILIATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct kctx;

/* Creates {person_id, organisation_id, title, start_date, end_date, end_reason}. The title
 * is personal data: it is accepted only when the register declares a field `title`. */
int affiliation_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);
int affiliation_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);
int affiliation_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);
/* Merge-patches title, start_date, end_date, end_reason. */
int affiliation_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch);
int affiliation_delete(struct kctx *ctx, const char *rid, int64_t id);
/* Lists affiliations, optionally of one person or organisation (0 = any). */
int affiliation_find(struct kctx *ctx, const char *rid, int64_t person_id, int64_t org_id,
                     const char *cursor, int limit, json_t **out);
/* The open affiliation of a person with an organisation; *id = 0 when none. */
int affiliation_lookup(struct kctx *ctx, const char *rid, int64_t person_id, int64_t org_id,
                       int64_t *id);

#endif
