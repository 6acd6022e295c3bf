/*
 * Usage-log entries and their hash chain. Each entry stores prev_hash, the hash of the entry
 * before it, and hash = keyed BLAKE2b(prev_hash ‖ canonical form), so changing, removing or
 * reordering an entry breaks the chain at a place `kortisto audit verify` names. The key is
 * derived from the data directory's master key: whoever can write the database but not read
 * the key file cannot forge a link.
 *
 * The one design decision: entries are chained in the writer's transaction, by the writer
 * (a change's own transaction, or the log writer's batch), so the chain is always in id order
 * without any lock of its own; SQLite's single writer is the lock.
 */
#include "audit/usage.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/selfservice.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

_Static_assert(USAGE_HASH_BYTES == crypto_generichash_BYTES, "BLAKE2b-256");

/* ---------------------------------------------------------------- canonical form */

/* Bumped whenever the canonical form changes; old entries keep verifying under theirs. */
static const char canon_tag[] = "kortisto usage-log v1\n";

/* Writes v in decimal; returns the length (at most 20). */
static size_t fmt_i64(char *out, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	return len;
}

static void put_bytes(crypto_generichash_state *st, const char *s, size_t n)
{
	char pre[24];
	size_t len = fmt_i64(pre, (int64_t)n);
	pre[len++] = ':';
	crypto_generichash_update(st, (const unsigned char *)pre, len);
	crypto_generichash_update(st, (const unsigned char *)s, n);
	crypto_generichash_update(st, (const unsigned char *)",", 1);
}

static void put_text(crypto_generichash_state *st, const char *s)
{
	if (s)
		put_bytes(st, s, strlen(s));
	else
		crypto_generichash_update(st, (const unsigned char *)"~,", 2);
}

/* An id where 0 means none (stored as NULL). */
static void put_id(crypto_generichash_state *st, int64_t v)
{
	char num[24];
	if (v == 0) {
		put_text(st, NULL);
		return;
	}
	put_bytes(st, num, fmt_i64(num, v));
}

void usage_hash(const struct keys *k, const unsigned char prev[USAGE_HASH_BYTES],
                const struct usage_row *r, unsigned char out[USAGE_HASH_BYTES])
{
	crypto_generichash_state st;
	char num[24];
	crypto_generichash_init(&st, k->audit, sizeof(k->audit), USAGE_HASH_BYTES);
	crypto_generichash_update(&st, prev, USAGE_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)canon_tag, sizeof(canon_tag) - 1);
	put_bytes(&st, num, fmt_i64(num, r->id));
	put_text(&st, r->at);
	put_text(&st, r->actor);
	put_id(&st, r->user_id);
	put_text(&st, r->purpose);
	put_text(&st, r->action);
	put_text(&st, r->rid);
	put_text(&st, r->entity);
	put_id(&st, r->entity_id);
	put_text(&st, r->subjects);
	put_text(&st, r->request_id);
	put_text(&st, r->client);
	put_text(&st, r->reason);
	crypto_generichash_final(&st, out, USAGE_HASH_BYTES);
}

int usage_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

size_t usage_ids_unique(int64_t *ids, size_t n)
{
	size_t m = 0;
	if (n)
		qsort(ids, n, sizeof(*ids), usage_id_cmp);
	for (size_t i = 0; i < n; i++)
		if (!m || ids[m - 1] != ids[i])
			ids[m++] = ids[i];
	return m;
}

size_t usage_subjects_format(const int64_t *ids, size_t n, char *out)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			out[len++] = ',';
		len += fmt_i64(out + len, ids[i]);
	}
	out[len] = '\0';
	return len;
}

/* ---------------------------------------------------------------- writing */

void usage_subjects_text(const char *entity, int64_t entity_id, const char *subjects,
                         struct buf *out)
{
	if (entity && entity_id > 0 && strcmp(entity, "person") == 0)
		buf_appendf(out, "%lld", (long long)entity_id);
	if (subjects && *subjects)
		buf_appendf(out, "%s%s", out->len ? " " : "", subjects);
}

int usage_put(struct store *db, const struct keys *k, struct usage_head *h, struct usage_row *r,
              struct kerr *err)
{
	unsigned char hash[USAGE_HASH_BYTES];
	int rc;

	r->id = h->id + 1;
	usage_hash(k, h->hash, r, hash);
	struct query *q = store_query(db, ST_USAGE_INSERT);
	q_int(q, 1, r->id);
	q_text(q, 2, r->at);
	q_text(q, 3, r->actor);
	if (r->user_id)
		q_int(q, 4, r->user_id);
	q_text(q, 5, r->purpose);
	q_text(q, 6, r->action);
	q_text(q, 7, r->rid);
	q_text(q, 8, r->entity);
	if (r->entity_id)
		q_int(q, 9, r->entity_id);
	q_text(q, 10, r->subjects);
	q_text(q, 11, r->request_id);
	q_text(q, 12, r->client);
	q_text(q, 13, r->reason);
	q_blob(q, 14, h->hash, USAGE_HASH_BYTES);
	q_blob(q, 15, hash, USAGE_HASH_BYTES);
	if ((rc = q_exec(q, err)))
		return rc;
	/* The persons it concerns, in the full-text index by person (one row per entry). */
	struct buf persons = BUF_INIT;
	usage_subjects_text(r->entity, r->entity_id, r->subjects, &persons);
	if (persons.len) {
		q = store_query(db, ST_USAGE_SUBJECT_INSERT);
		q_int(q, 1, r->id);
		q_text(q, 2, persons.p);
		rc = q_exec(q, err);
	}
	buf_free(&persons);
	if (rc)
		return rc;
	h->id = r->id;
	memcpy(h->hash, hash, USAGE_HASH_BYTES);
	return 0;
}

/* ---------------------------------------------------------------- the head */

/* The last checkpoint as the head, or id 0 and zero bytes when there is none. */
static int head_from_checkpoint(struct store *db, struct usage_head *h, struct kerr *err)
{
	struct query *q = store_query(db, ST_CHECKPOINT_LAST);
	int rc = q_step(q, err);
	memset(h, 0, sizeof(*h));
	if (rc == 1 && q_col_bytes(q, 4) == USAGE_HASH_BYTES) {
		h->id = q_col_int(q, 3);
		memcpy(h->hash, q_col_blob(q, 4), USAGE_HASH_BYTES);
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

/*
 * Chains the entries written before the chain existed, in id order from 32 zero bytes. Only
 * called when no entry has a hash and no checkpoint exists: once the chain has begun, an
 * entry without a hash was inserted or altered behind kortisto's back, and chaining it would
 * bless it; verify reports it instead.
 */
static int backfill(struct store *db, const struct keys *k, struct usage_head *h, struct kerr *err)
{
	int rc;
	memset(h, 0, sizeof(*h));
	struct query *walk = store_query(db, ST_USAGE_WALK);
	q_int(walk, 1, INT64_MIN);
	while ((rc = q_step(walk, err)) == 1) {
		unsigned char hash[USAGE_HASH_BYTES];
		struct usage_row r = {
		        .id = q_col_int(walk, 0),
		        .at = q_col_text(walk, 1),
		        .actor = q_col_text(walk, 2),
		        .user_id = q_col_int(walk, 3),
		        .purpose = q_col_text(walk, 4),
		        .action = q_col_text(walk, 5),
		        .rid = q_col_text(walk, 6),
		        .entity = q_col_text(walk, 7),
		        .entity_id = q_col_int(walk, 8),
		        .subjects = q_col_text(walk, 9),
		        .request_id = q_col_text(walk, 10),
		        .client = q_col_text(walk, 11),
		        .reason = q_col_text(walk, 12),
		};
		usage_hash(k, h->hash, &r, hash);
		/* Into the index by person too (the row's text is used before the update below
		 * changes the table). */
		struct buf persons = BUF_INIT;
		int xrc = 0;
		usage_subjects_text(r.entity, r.entity_id, r.subjects, &persons);
		if (persons.len) {
			struct query *x = store_query(db, ST_USAGE_SUBJECT_INSERT);
			q_int(x, 1, r.id);
			q_text(x, 2, persons.p);
			xrc = q_exec(x, err);
		}
		buf_free(&persons);
		if ((rc = xrc))
			break;
		struct query *u = store_query(db, ST_USAGE_SET_HASH);
		q_int(u, 1, r.id);
		q_blob(u, 2, h->hash, USAGE_HASH_BYTES);
		q_blob(u, 3, hash, USAGE_HASH_BYTES);
		if ((rc = q_exec(u, err)))
			break;
		h->id = r.id;
		memcpy(h->hash, hash, USAGE_HASH_BYTES);
	}
	q_done(walk);
	return rc < 0 ? rc : 0;
}

int usage_head(struct store *db, const struct keys *k, struct usage_head *h, struct kerr *err)
{
	struct query *q = store_query(db, ST_USAGE_LAST);
	int rc = q_step(q, err);
	if (rc <= 0) {
		q_done(q);
		return rc < 0 ? rc : head_from_checkpoint(db, h, err);
	}
	h->id = q_col_int(q, 0);
	if (q_col_bytes(q, 1) == USAGE_HASH_BYTES) {
		memcpy(h->hash, q_col_blob(q, 1), USAGE_HASH_BYTES);
		q_done(q);
		return 0;
	}
	q_done(q);

	/* The newest entry has no hash. */
	int64_t last = h->id;
	memset(h->hash, 0, USAGE_HASH_BYTES);
	q = store_query(db, ST_USAGE_LAST_HASHED);
	rc = q_step(q, err);
	if (rc == 1 && q_col_bytes(q, 1) == USAGE_HASH_BYTES)
		memcpy(h->hash, q_col_blob(q, 1), USAGE_HASH_BYTES);
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		struct usage_head cp;
		if ((rc = head_from_checkpoint(db, &cp, err)))
			return rc;
		if (cp.id == 0)
			return backfill(db, k, h, err);
		memcpy(h->hash, cp.hash, USAGE_HASH_BYTES);
	}
	/* Damaged: link to the newest hashed entry (or the checkpoint) and leave the entries
	 * without a hash for verify to report; ids go on after the newest entry. */
	h->id = last;
	return 0;
}

/* ---------------------------------------------------------------- the entry points */

/*
 * Whether the client address of `ctx` is the data subject's own: an anonymous visitor of the
 * public pages (subscribing, confirming a consent, unsubscribing) or a self-service session
 * acting on a register's data is the subject. The log keeps its entries after the subject is
 * erased, and its chain cannot lose a column, so such an entry does not keep the address
 * . Sign-in entries (no register) keep theirs: they are about the accounts.
 */
static bool subjects_own_address(const struct kctx *ctx, const struct usage_entry *e)
{
	return e->rid && ctx->actor &&
	       (ctx->actor->kind == ACTOR_ANON || ctx->actor == &selfservice_actor);
}

int usage_append(struct kctx *ctx, const struct usage_entry *e)
{
	struct usage_head h;
	char small[512];
	char *subjects = NULL;
	int rc;

	if (e->nsubjects) {
		size_t need = e->nsubjects * 21 + 1;
		subjects = need <= sizeof(small) ? small : xmalloc(need);
		usage_subjects_format(e->subjects, e->nsubjects, subjects);
	}
	struct usage_row r = {
	        .at = ctx->now_iso,
	        .actor = ctx->actor->name,
	        .user_id = ctx->actor->user_id,
	        .purpose = ctx->purpose,
	        .action = e->action,
	        .rid = e->rid,
	        .entity = e->entity,
	        .entity_id = e->entity_id,
	        .subjects = subjects,
	        .request_id = ctx->request_id,
	        .client = subjects_own_address(ctx, e) ? NULL : ctx->client,
	        .reason = e->reason,
	};
	if ((rc = usage_head(ctx->db, &ctx->app->keys, &h, ctx->err)) == 0)
		rc = usage_put(ctx->db, &ctx->app->keys, &h, &r, ctx->err);
	if (subjects != small)
		free(subjects);
	return rc;
}

int usage_record(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                 int64_t id, const char *reason)
{
	struct usage_entry e = {action, rid, entity, id, NULL, 0, reason};
	return usage_append(ctx, &e);
}

int usage_read(struct kctx *ctx, const struct usage_entry *e)
{
	if (ctx->usage_sink)
		return ctx->usage_sink(ctx, e);
	IN_WRITE_TX(ctx, usage_append(ctx, e));
}

int usage_backfill(struct kctx *ctx)
{
	struct usage_head h;
	struct query *q = store_query(ctx->db, ST_USAGE_LAST);
	int rc = q_step(q, ctx->err);
	bool unhashed = rc == 1 && q_col_null(q, 1);
	q_done(q);
	if (rc < 0)
		return rc;
	if (!unhashed)
		return 0;
	IN_WRITE_TX(ctx, usage_head(ctx->db, &ctx->app->keys, &h, ctx->err));
}
