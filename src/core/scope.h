/*
 * What a processor account may see (S-09): only the fields of the data categories its
 * declared processor entry is given. Everyone else sees every declared field.
 */
#ifndef KORTISTO_SCOPE_H
#define KORTISTO_SCOPE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/buf.h"

struct decl;
struct kctx;

/* Whether ctx sees every field (no processor scope, or a processor declared without a list
 * of categories). A processor never sees the change history either way. */
bool scope_all(const struct kctx *ctx);

/* Whether field `field` (a declared field id) is visible to ctx. */
bool scope_field_visible(const struct kctx *ctx, const struct decl *d, const char *field);

/* Removes from person object `p` (as person_view writes it, or a list summary) the members
 * ctx may not see; history is never shown to a processor. */
void scope_filter_person(const struct kctx *ctx, const struct decl *d, json_t *p);

/* Filters the JSON text from byte `mark` of `b` in place for a processor (does nothing for
 * anyone else): a person object, or a page {"items": [...]} of person summaries. Returns 0
 * or KERR_INTERNAL. */
int scope_filter_buf(struct kctx *ctx, const struct decl *d, struct buf *b, size_t mark, bool page);

#endif
