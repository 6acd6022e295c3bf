/*
 * Suppression list: identifiers are normalised (e-mail and phone as the validators write
 * them, names and organisations lower-cased with Finnish and Swedish letters folded and
 * spaces collapsed), prefixed with their kind so an e-mail can never match a name, and
 * hashed with the data directory's field key (libsodium keyed BLAKE2b).
 */
#include "core/suppress.h"

#include <string.h>

#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

/* Appends `s` lower-cased, Latin-1 letters folded (Ä → ä), runs of space as one. */
static void fold(struct buf *b, const char *s)
{
	bool space = false;
	while (s && (*s == ' ' || *s == '\t'))
		s++;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_putc(b, ' ');
		space = false;
		if (c >= 'A' && c <= 'Z') {
			buf_putc(b, (char)(c + 32));
		} else if (c == 0xC3 && (unsigned char)s[1] >= 0x80 &&
		           (unsigned char)s[1] <= 0x9E && (unsigned char)s[1] != 0x97) {
			/* U+00C0 … U+00DE but × : the lower-case letter is 0x20 further. */
			buf_putc(b, (char)c);
			buf_putc(b, (char)((unsigned char)s[1] + 0x20));
			s++;
		} else {
			buf_putc(b, (char)c);
		}
	}
}

/* The hash of identifier `kind`:`value`; false when there is nothing to hash. */
static bool key_of(struct kctx *ctx, const char *kind, const char *a, const char *b,
                   unsigned char out[FIELD_HASH_BYTES])
{
	struct buf k = BUF_INIT;
	char norm[300] = "";
	bool ok = true;

	buf_puts(&k, kind);
	buf_putc(&k, ':');
	if (!strcmp(kind, "email")) {
		ok = a && email_valid(a, norm, sizeof(norm), NULL);
		if (ok)
			buf_puts(&k, norm);
	} else if (!strcmp(kind, "phone")) {
		ok = a && phone_valid(a, norm, NULL);
		if (ok)
			buf_puts(&k, norm);
	} else {
		/* name: "first last" with the organisation; both must be there. */
		ok = a && *a && b && *b;
		fold(&k, a);
		buf_putc(&k, '|');
		fold(&k, b);
	}
	if (ok)
		field_hash(&ctx->app->keys, k.p, k.len, out);
	buf_free(&k);
	return ok;
}

static const char *full_name(struct kctx *ctx, const char *first, const char *last)
{
	if (!first && !last)
		return NULL;
	return arena_printf(ctx->mem, "%s %s", first ? first : "", last ? last : "");
}

/* Identifiers read from the store before any is written, in arena memory. */
struct idlist {
	const char **kind, **value;
	size_t n, cap;
};

static void idlist_add(struct kctx *ctx, struct idlist *l, const char *kind, const char *value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **k = arena_calloc(ctx->mem, cap, sizeof(*k));
		const char **v = arena_calloc(ctx->mem, cap, sizeof(*v));
		if (l->n) {
			memcpy(k, l->kind, l->n * sizeof(*k));
			memcpy(v, l->value, l->n * sizeof(*v));
		}
		l->kind = k;
		l->value = v;
		l->cap = cap;
	}
	l->kind[l->n] = kind;
	l->value[l->n++] = arena_strdup(ctx->mem, value);
}

static int put(struct kctx *ctx, const char *rid, const char *kind, const unsigned char *h,
               const char *source)
{
	struct query *q = store_query(ctx->db, ST_SUPPRESS_INSERT);
	q_text(q, 1, rid);
	q_blob(q, 2, h, FIELD_HASH_BYTES);
	q_text(q, 3, kind);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, source);
	return q_exec(q, ctx->err);
}

int suppress_person(struct kctx *ctx, const char *rid, int64_t pid, const char *source)
{
	unsigned char h[FIELD_HASH_BYTES];
	const char *first = NULL, *last = NULL;
	int rc;

	/* The e-mail and phone contact points, read first (writing uses the connection), every
	 * one of them: an identifier left out would let the person be collected again. */
	struct idlist cps = {0};
	struct query *q = store_query(ctx->db, ST_CP_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *kind = q_col_text(q, 0);
		if (kind && (!strcmp(kind, "email") || !strcmp(kind, "phone")))
			idlist_add(ctx, &cps, !strcmp(kind, "email") ? "email" : "phone",
			           q_col_text(q, 1));
	}
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cps.n; i++)
		if (key_of(ctx, cps.kind[i], cps.value[i], NULL, h) &&
		    (rc = put(ctx, rid, cps.kind[i], h, source)))
			return rc;

	q = store_query(ctx->db, ST_PERSON_SUMMARY);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	if ((rc = q_step(q, ctx->err)) == 1) {
		first = arena_strdup(ctx->mem, q_col_text(q, 1));
		last = arena_strdup(ctx->mem, q_col_text(q, 2));
	}
	q_done(q);
	if (rc < 0)
		return rc;
	const char *name = full_name(ctx, first, last);
	if (!name)
		return 0;
	struct idlist orgs = {0};
	q = store_query(ctx->db, ST_SUPPRESS_PERSON_ORGS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1)
		idlist_add(ctx, &orgs, "name", q_col_text(q, 0));
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < orgs.n; i++)
		if (key_of(ctx, "name", name, orgs.value[i], h) &&
		    (rc = put(ctx, rid, "name", h, source)))
			return rc;
	return 0;
}

static int find(struct kctx *ctx, const char *rid, const unsigned char *h, bool *hit,
                const char **kind)
{
	struct query *q = store_query(ctx->db, ST_SUPPRESS_FIND);
	q_text(q, 1, rid);
	q_blob(q, 2, h, FIELD_HASH_BYTES);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		*hit = true;
		if (kind)
			*kind = arena_strdup(ctx->mem, q_col_text(q, 0));
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int suppress_match(struct kctx *ctx, const char *rid, const struct suppress_ids *ids, bool *hit,
                   const char **kind)
{
	unsigned char h[FIELD_HASH_BYTES];
	int rc = 0;

	*hit = false;
	if (ids->email && key_of(ctx, "email", ids->email, NULL, h) &&
	    (rc = find(ctx, rid, h, hit, kind)))
		return rc;
	if (!*hit && ids->phone && key_of(ctx, "phone", ids->phone, NULL, h) &&
	    (rc = find(ctx, rid, h, hit, kind)))
		return rc;
	const char *name = full_name(ctx, ids->first_name, ids->last_name);
	for (size_t i = 0; !*hit && name && i < ids->norgs; i++)
		if (key_of(ctx, "name", name, ids->orgs[i], h) &&
		    (rc = find(ctx, rid, h, hit, kind)))
			return rc;
	return 0;
}
