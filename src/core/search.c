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
