/*
 * The usage log (S-04, tiedonhallintalaki 906/2019 §17): who did what to whose data, when,
 * for which purpose. A change writes its entry inside the transaction of the change, so the
 * two commit or fail together. Entries never contain personal data, only ids.
 */
#ifndef KORTISTO_USAGE_H
#define KORTISTO_USAGE_H

#include <stdint.h>

struct kctx;

/* Records `action` ("create", "update", "delete", …) on entity `entity` ("person",
 * "organisation", …) `id` of register `rid`, with `reason` (may be NULL): a code such as a
 * retention rule id, never free text, so the log holds no personal data. Must be called
 * inside the caller's write transaction. Returns 0 or a negative KERR_* with ctx->err
 * filled. */
int usage_record(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                 int64_t id, const char *reason);

#endif
