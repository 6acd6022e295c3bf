/*
 * The full-text search index of persons and organisations (SQLite FTS5, diacritics and case
 * folded). Erasure must leave no word of a deleted record in the index: FTS5 keeps deleted
 * words in its segments until they are merged, so a deletion marks the index for a purge,
 * which rewrites it soon after, outside the request that deleted.
 */
#ifndef KORTISTO_SEARCH_H
#define KORTISTO_SEARCH_H

#include <stdbool.h>

struct kctx;

/* Builds an FTS5 prefix query from user text (an AND of word prefixes); returns it in
 * ctx->mem, or NULL with KERR_INVALID naming "q" when the text has no words. */
const char *search_query(struct kctx *ctx, const char *q);

/* Marks the index for a purge; inside the caller's write transaction. */
int search_mark_purge(struct kctx *ctx);

/* Purges the index when marked: rewrites both indexes in one write transaction so no
 * deleted word remains. *done (may be NULL) tells whether it ran. */
int search_purge(struct kctx *ctx, bool *done);

#endif
