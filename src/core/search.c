/*
 * Search queries and index purging. User text becomes a quoted FTS5 prefix query word by
 * word, so no FTS5 syntax in the text is ever interpreted. The purge uses FTS5's
 * 'optimize', which merges every segment into one and drops deleted entries; with
 * secure_delete on, SQLite also zeroes the pages it frees.
 */
#include "core/search.h"

#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

#include <stdlib.h>

const char *search_query(struct kctx *ctx, const char *q)
{
	struct buf b = BUF_INIT;
	int words = 0;
	const unsigned char *p = (const unsigned char *)q;

	while (*p && words < 16) {
		while (*p && !(*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		               (*p >= 'A' && *p <= 'Z')))
			p++;
		const unsigned char *start = p;
		while (*p && (*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		              (*p >= 'A' && *p <= 'Z')))
			p++;
		if (p == start)
			break;
		if (words++)
			buf_putc(&b, ' ');
		/* A quoted FTS5 string: the word cannot contain '"', so no escaping is needed. */
		buf_putc(&b, '"');
		buf_append(&b, start, (size_t)(p - start));
		buf_puts(&b, "\"*");
	}
	if (!words) {
		buf_free(&b);
		kerr_set(ctx->err, KERR_INVALID, "q", "q: give at least one word to search for");
		return NULL;
	}
	const char *s = arena_strndup(ctx->mem, b.p, b.len);
	buf_free(&b);
	return s;
}

int search_mark_purge(struct kctx *ctx)
{
	struct query *q = store_query(ctx->db, ST_MAINT_MARK);
	q_text(q, 1, "search_purge");
	q_text(q, 2, ctx->now_iso);
	return q_exec(q, ctx->err);
}

int search_purge(struct kctx *ctx, bool *done)
{
	int rc;
	if (done)
		*done = false;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_MAINT_PENDING);
	q_text(q, 1, "search_purge");
	rc = q_step(q, ctx->err);
	q_done(q);
	if (rc <= 0) {
		store_rollback(ctx->db);
		return rc;
	}
	q = store_query(ctx->db, ST_MAINT_DONE);
	q_text(q, 1, "search_purge");
	if ((rc = q_exec(q, ctx->err)) ||
	    (rc = q_exec(store_query(ctx->db, ST_PERSON_SEARCH_OPTIMIZE), ctx->err)) ||
	    (rc = q_exec(store_query(ctx->db, ST_ORG_SEARCH_OPTIMIZE), ctx->err))) {
		store_rollback(ctx->db);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	if (done)
		*done = true;
	return 0;
}

struct search_entry {
	enum search_index ix;
	int64_t id;
	bool replace;
	char *body;
};

struct search_batch {
	struct search_entry *v;
	size_t n, cap;
};

static const enum stmt_id put_stmt[SEARCH__MAX] = {ST_PERSON_SEARCH_INSERT, ST_ORG_SEARCH_INSERT};
static const enum stmt_id del_stmt[SEARCH__MAX] = {ST_PERSON_SEARCH_DELETE, ST_ORG_SEARCH_DELETE};

static int remove_now(struct kctx *ctx, enum search_index ix, int64_t id)
{
	struct query *q = store_query(ctx->db, del_stmt[ix]);
	q_int(q, 1, id);
	return q_exec(q, ctx->err);
}

/* Writes one entry: removes the old one when `replace`, then puts `body` (NULL: a removal
 * only, as queued by search_remove). */
static int write_entry(struct kctx *ctx, enum search_index ix, int64_t id, const char *body,
                       bool replace)
{
	int rc;
	if (replace && (rc = remove_now(ctx, ix, id)))
		return rc;
	if (!body)
		return 0;
	struct query *q = store_query(ctx->db, put_stmt[ix]);
	q_int(q, 1, id);
	q_text(q, 2, body);
	return q_exec(q, ctx->err);
}

static void batch_add(struct search_batch *b, enum search_index ix, int64_t id, const char *body,
                      bool replace)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n++] = (struct search_entry){ix, id, replace, body ? xstrdup(body) : NULL};
}

int search_put(struct kctx *ctx, enum search_index ix, int64_t id, const char *body, bool replace)
{
	if (!ctx->search_batch)
		return write_entry(ctx, ix, id, body, replace);
	batch_add(ctx->search_batch, ix, id, body, replace);
	return 0;
}

int search_remove(struct kctx *ctx, enum search_index ix, int64_t id)
{
	if (!ctx->search_batch)
		return remove_now(ctx, ix, id);
	batch_add(ctx->search_batch, ix, id, NULL, true);
	return 0;
}

struct search_batch *search_batch_new(void)
{
	return xcalloc(1, sizeof(struct search_batch));
}

void search_batch_truncate(struct search_batch *b, size_t mark)
{
	while (b && b->n > mark)
		free(b->v[--b->n].body);
}

void search_batch_free(struct search_batch *b)
{
	if (!b)
		return;
	search_batch_truncate(b, 0);
	free(b->v);
	free(b);
}

size_t search_batch_mark(const struct search_batch *b)
{
	return b ? b->n : 0;
}

int search_flush(struct kctx *ctx)
{
	struct search_batch *b = ctx->search_batch;
	int rc = 0;
	for (size_t i = 0; b && i < b->n && !rc; i++)
		rc = write_entry(ctx, b->v[i].ix, b->v[i].id, b->v[i].body, b->v[i].replace);
	search_batch_truncate(b, 0);
	return rc;
}
