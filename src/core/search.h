/*
 * The full-text search index of persons and organisations (SQLite FTS5, diacritics and case
 * folded). Erasure must leave no word of a deleted record in the index: FTS5 keeps deleted
 * words in its segments until they are merged, so a deletion marks the index for a purge,
 * which rewrites it soon after, outside the request that deleted.
 */
#ifndef KORTISTO_SEARCH_H
#define KORTISTO_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;

enum search_index { SEARCH_PERSONS, SEARCH_ORGS, SEARCH__MAX };

/*
 * Writes the index entry of record `id` (replacing its old one when `replace`), `body`
 * being its searchable words. Inside the caller's write transaction. When the context has
 * a search batch (ctx->search_batch), the write is queued until search_flush(): FTS5 writes
 * out its pending words at every savepoint it takes part in, so an import that indexes
 * row by row inside per-row savepoints would write one tiny index segment per row.
 */
int search_put(struct kctx *ctx, enum search_index ix, int64_t id, const char *body, bool replace);

/* Removes the index entry of record `id`: at once, or queued like search_put when the
 * context has a search batch (a retention run erasing persons in batches). */
int search_remove(struct kctx *ctx, enum search_index ix, int64_t id);

/* A queue of index writes; owned by whoever created it. */
struct search_batch;
struct search_batch *search_batch_new(void);
void search_batch_free(struct search_batch *b); /* accepts NULL */
/* The queue's length, and dropping what was queued after such a mark (a rejected row). */
size_t search_batch_mark(const struct search_batch *b);
void search_batch_truncate(struct search_batch *b, size_t mark);

/* Writes every queued entry inside the caller's write transaction and empties the queue. */
int search_flush(struct kctx *ctx);

/* Builds an FTS5 prefix query from user text (an AND of word prefixes); returns it in
 * ctx->mem, or NULL with KERR_INVALID naming "q" when the text has no words. */
const char *search_query(struct kctx *ctx, const char *q);

/* Marks the index for a purge; inside the caller's write transaction. */
int search_mark_purge(struct kctx *ctx);

/* Purges the index when marked: rewrites both indexes in one write transaction so no
 * deleted word remains. *done (may be NULL) tells whether it ran. */
int search_purge(struct kctx *ctx, bool *done);

#endif
