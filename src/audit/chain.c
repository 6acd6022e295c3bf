/*
 * Auditing the usage log: verify walks the chain and names the first entry that was changed,
 * removed or reordered; anchors carry the head out of the database, signed, so a truncated
 * tail is found too; show lists entries by subject, user or register; prune removes an old
 * prefix behind a signed checkpoint. The one design decision: everything streams in id order
 * through one prepared walk, so verifying or pruning a log of millions of entries needs no
 * more memory than one entry.
 */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define HASH_HEX (USAGE_HASH_BYTES * 2 + 1)

static void hex(const unsigned char *p, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, p, n);
}

/* A row of ST_USAGE_WALK as a usage_row; pointers valid until the next step. */
static void walk_row(struct query *q, struct usage_row *r)
{
	r->id = q_col_int(q, 0);
	r->at = q_col_text(q, 1);
	r->actor = q_col_text(q, 2);
	r->user_id = q_col_int(q, 3);
	r->purpose = q_col_text(q, 4);
	r->action = q_col_text(q, 5);
	r->rid = q_col_text(q, 6);
	r->entity = q_col_text(q, 7);
	r->entity_id = q_col_int(q, 8);
	r->subjects = q_col_text(q, 9);
	r->request_id = q_col_text(q, 10);
	r->client = q_col_text(q, 11);
	r->reason = q_col_text(q, 12);
}

/* Whether the row's ids can be hashed as read: the canonical form writes 0 as NULL, which
 * kortisto stores for "none", so a stored 0 was put there by someone else. */
static bool walk_row_exact(struct query *q)
{
	return (q_col_null(q, 3) || q_col_int(q, 3) != 0) &&
	       (q_col_null(q, 8) || q_col_int(q, 8) != 0);
}

/* ---------------------------------------------------------------- checkpoints */

struct checkpoint {
	int64_t id, last_id;
	unsigned char last_hash[USAGE_HASH_BYTES];
	bool valid; /* signature matches */
};

/* The signed text of a checkpoint. */
static int checkpoint_msg(char *out, size_t n, const char *at, int64_t last_id,
                          const unsigned char hash[USAGE_HASH_BYTES])
{
	char h[HASH_HEX];
	hex(hash, USAGE_HASH_BYTES, h);
	return snprintf(out, n, "kortisto-checkpoint v1 at=%s last_id=%" PRId64 " last_hash=%s",
	                at ? at : "", last_id, h);
}

/* Reads the current row of ST_CHECKPOINT_LAST/LIST and checks its signature. */
static void checkpoint_row(const struct kctx *ctx, struct query *q, struct checkpoint *cp)
{
	char msg[256];
	memset(cp, 0, sizeof(*cp));
	cp->id = q_col_int(q, 0);
	cp->last_id = q_col_int(q, 3);
	if (q_col_bytes(q, 4) != USAGE_HASH_BYTES || q_col_bytes(q, 5) != SIGN_BYTES)
		return;
	memcpy(cp->last_hash, q_col_blob(q, 4), USAGE_HASH_BYTES);
	int n = checkpoint_msg(msg, sizeof(msg), q_col_text(q, 1), cp->last_id, cp->last_hash);
	cp->valid = n > 0 && (size_t)n < sizeof(msg) &&
	            sign_verify(ctx->app->keys.sign_pk, msg, (size_t)n, q_col_blob(q, 5));
}

/* ---------------------------------------------------------------- verify */

static void problem(struct audit_verify *v, int64_t id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void problem(struct audit_verify *v, int64_t id, const char *fmt, ...)
{
	va_list ap;
	if (v->problem[0])
		return;
	v->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(v->problem, sizeof(v->problem), fmt, ap);
	va_end(ap);
}

/* Checks every checkpoint's signature and order; leaves the latest in *last (id 0: none). */
static int verify_checkpoints(struct kctx *ctx, struct audit_verify *v, struct checkpoint *last)
{
	struct query *q = store_query(ctx->db, ST_CHECKPOINT_LIST);
	int rc;
	memset(last, 0, sizeof(*last));
	while ((rc = q_step(q, ctx->err)) == 1) {
		struct checkpoint cp;
		checkpoint_row(ctx, q, &cp);
		if (!cp.valid)
			problem(v, cp.last_id,
			        "checkpoint %" PRId64 " (of entry %" PRId64
			        "): its signature does not "
			        "match: the checkpoint was altered",
			        cp.id, cp.last_id);
		else if (cp.last_id <= last->last_id)
			problem(v, cp.last_id,
			        "checkpoint %" PRId64 " (of entry %" PRId64 ") does not come after "
			        "the checkpoint of entry %" PRId64,
			        cp.id, cp.last_id, last->last_id);
		if (v->problem[0])
			break;
		*last = cp;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* Walks the chain from the checkpoint `cp` (id 0: from the start). */
static int verify_walk(struct kctx *ctx, const struct checkpoint *cp, struct audit_verify *v)
{
	const struct keys *k = &ctx->app->keys;
	unsigned char expect[USAGE_HASH_BYTES], hash[USAGE_HASH_BYTES];
	int64_t prev_id = cp->id ? cp->last_id : 0;
	int rc;

	memcpy(expect, cp->last_hash, USAGE_HASH_BYTES); /* zero without a checkpoint */
	struct query *q = store_query(ctx->db, ST_USAGE_WALK);
	q_int(q, 1, INT64_MIN);
	while ((rc = q_step(q, ctx->err)) == 1) {
		struct usage_row r;
		walk_row(q, &r);
		bool first = v->entries == 0;
		v->entries++;
		if (r.id <= prev_id) {
			problem(v, r.id,
			        "entry %" PRId64
			        " comes at or before the last entry removed by the "
			        "latest checkpoint (%" PRId64 "): it was inserted afterwards",
			        r.id, prev_id);
			break;
		}
		if (q_col_bytes(q, 14) != USAGE_HASH_BYTES ||
		    q_col_bytes(q, 13) != USAGE_HASH_BYTES) {
			problem(v, r.id,
			        "entry %" PRId64 " has no hash: it was inserted or altered outside "
			        "kortisto",
			        r.id);
			break;
		}
		usage_hash(k, q_col_blob(q, 13), &r, hash);
		if (!walk_row_exact(q) ||
		    sodium_memcmp(hash, q_col_blob(q, 14), USAGE_HASH_BYTES) != 0) {
			problem(v, r.id,
			        "entry %" PRId64
			        ": content changed (its hash does not match what it "
			        "holds)",
			        r.id);
			break;
		}
		if (sodium_memcmp(expect, q_col_blob(q, 13), USAGE_HASH_BYTES) != 0) {
			if (first && cp->id)
				problem(v, r.id,
				        "entry %" PRId64
				        ": the chain does not start from the latest "
				        "checkpoint (of entry %" PRId64 "): entries before %" PRId64
				        " were removed or the checkpoint was replaced",
				        r.id, cp->last_id, r.id);
			else if (first)
				problem(v, r.id,
				        "entry %" PRId64
				        ": the chain does not start at the beginning: "
				        "entries before it were removed (and no checkpoint says "
				        "so)",
				        r.id);
			else
				problem(v, r.id,
				        "entry %" PRId64 " does not link to entry %" PRId64
				        " before it: "
				        "entries between them were removed, or entries were "
				        "reordered",
				        r.id, prev_id);
			break;
		}
		memcpy(expect, q_col_blob(q, 14), USAGE_HASH_BYTES);
		prev_id = r.id;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	v->head_id = prev_id;
	memcpy(v->head_hash, expect, USAGE_HASH_BYTES);
	return 0;
}

/* Parses "key=value" token `t` for `key`; returns the value or NULL. */
static const char *token_value(const char *t, const char *key)
{
	size_t n = strlen(key);
	return strncmp(t, key, n) == 0 && t[n] == '=' ? t + n + 1 : NULL;
}

/* Checks one anchor line against the verified chain. */
static int verify_anchor(struct kctx *ctx, const struct checkpoint *cp, struct audit_verify *v,
                         char *line, long lineno)
{
	unsigned char hash[USAGE_HASH_BYTES], sig[SIGN_BYTES];
	const char *id_s = NULL, *hash_s = NULL, *at = NULL, *sig_s = NULL;
	size_t bin = 0;
	long long id = -1;
	int rc;

	char *sigp = strstr(line, " sig=");
	size_t msglen = sigp ? (size_t)(sigp - line) : 0;
	char *save = NULL;
	int ntok = 0;
	bool head_ok = false, twice = false;
	/* Every field once, and the signature last: nothing unsigned may follow it. */
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save), ntok++) {
		if (sig_s)
			twice = true;
		if (ntok == 0)
			head_ok = strcmp(t, "kortisto-anchor") == 0;
		else if (ntok == 1)
			head_ok = head_ok && strcmp(t, "v1") == 0;
		else if (token_value(t, "id"))
			twice |= id_s != NULL, id_s = token_value(t, "id");
		else if (token_value(t, "hash"))
			twice |= hash_s != NULL, hash_s = token_value(t, "hash");
		else if (token_value(t, "at"))
			twice |= at != NULL, at = token_value(t, "at");
		else if (token_value(t, "sig"))
			sig_s = token_value(t, "sig");
	}
	head_ok = head_ok && !twice;
	if (!head_ok || !sigp || !id_s || !hash_s || !at || !sig_s || !int_valid(id_s, &id, NULL) ||
	    id < 0 ||
	    sodium_hex2bin(hash, sizeof(hash), hash_s, strlen(hash_s), NULL, &bin, NULL) != 0 ||
	    bin != sizeof(hash) ||
	    sodium_hex2bin(sig, sizeof(sig), sig_s, strlen(sig_s), NULL, &bin, NULL) != 0 ||
	    bin != sizeof(sig)) {
		problem(v, 0, "anchors line %ld: not an anchor line", lineno);
		return 0;
	}
	/* strtok_r cut the line at the spaces; the signed text is what came before " sig=". */
	for (size_t i = 0; i < msglen; i++)
		if (line[i] == '\0')
			line[i] = ' ';
	if (!sign_verify(ctx->app->keys.sign_pk, line, msglen, sig)) {
		problem(v, id,
		        "anchors line %ld (entry %lld, %s): the signature does not match: the "
		        "anchor "
		        "was altered or made with another data directory's key",
		        lineno, id, at);
		return 0;
	}
	v->anchors++;
	if (id == 0)
		return 0; /* the anchor of an empty log */
	if (id > v->head_id) {
		problem(v, id,
		        "anchors line %ld: entry %lld (anchored at %s) is missing: the log ends at "
		        "entry %" PRId64
		        ", so entries after it were removed (the tail was truncated)",
		        lineno, id, at, v->head_id);
		return 0;
	}
	if (cp->id && id <= cp->last_id) {
		if (id == cp->last_id && sodium_memcmp(hash, cp->last_hash, sizeof(hash)) != 0)
			problem(v, id,
			        "anchors line %ld: entry %lld does not have the hash the "
			        "checkpoint "
			        "gives it",
			        lineno, id);
		return 0; /* pruned: the checkpoint vouches for what came before */
	}
	struct query *q = store_query(ctx->db, ST_USAGE_HASH_OF);
	q_int(q, 1, id);
	rc = q_step(q, ctx->err);
	bool found = rc == 1, same = found && q_col_bytes(q, 0) == USAGE_HASH_BYTES &&
	                             sodium_memcmp(q_col_blob(q, 0), hash, sizeof(hash)) == 0;
	q_done(q);
	if (rc < 0)
		return rc;
	if (!found)
		problem(v, id,
		        "anchors line %ld: entry %lld (anchored at %s) is missing from the log",
		        lineno, id, at);
	else if (!same)
		problem(v, id,
		        "anchors line %ld: entry %lld does not have the hash it had at %s: the log "
		        "was rewritten from entry %lld on",
		        lineno, id, at, id);
	return 0;
}

static int verify_anchors(struct kctx *ctx, const struct checkpoint *cp, const char *path,
                          struct audit_verify *v)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	long lineno = 0;
	int rc = 0;
	if (!f)
		return kerr_set(ctx->err, KERR_NOTFOUND, "anchors",
		                "cannot read anchors file %s: %s", path, strerror(errno));
	while (!v->problem[0] && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((rc = verify_anchor(ctx, cp, v, line, lineno)))
			break;
	}
	if (!rc && ferror(f))
		rc = kerr_set(ctx->err, KERR_INTERNAL, "anchors", "cannot read anchors file %s",
		              path);
	fclose(f);
	return rc;
}

int audit_verify(struct kctx *ctx, const char *anchors, struct audit_verify *out)
{
	struct checkpoint cp;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = usage_backfill(ctx)) || (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = verify_checkpoints(ctx, out, &cp)))
		goto out;
	out->checkpoint_id = cp.last_id;
	if (!out->problem[0] && (rc = verify_walk(ctx, &cp, out)))
		goto out;
	if (!out->problem[0] && anchors)
		rc = verify_anchors(ctx, &cp, anchors, out);
out:
	store_rollback(ctx->db);
	return rc;
}

/* ---------------------------------------------------------------- anchors */

void audit_public_key(const struct kapp *app, char out[65])
{
	hex(app->keys.sign_pk, SIGN_PUBLIC_BYTES, out);
}

/* The newest hashed entry, else the latest checkpoint's, else id 0 and zero bytes. */
static int anchor_head(struct kctx *ctx, struct usage_head *h)
{
	struct query *q = store_query(ctx->db, ST_USAGE_LAST_HASHED);
	int rc = q_step(q, ctx->err);
	memset(h, 0, sizeof(*h));
	if (rc == 1 && q_col_bytes(q, 1) == USAGE_HASH_BYTES) {
		h->id = q_col_int(q, 0);
		memcpy(h->hash, q_col_blob(q, 1), USAGE_HASH_BYTES);
	}
	q_done(q);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	q = store_query(ctx->db, ST_CHECKPOINT_LAST);
	if ((rc = q_step(q, ctx->err)) == 1 && q_col_bytes(q, 4) == USAGE_HASH_BYTES) {
		h->id = q_col_int(q, 3);
		memcpy(h->hash, q_col_blob(q, 4), USAGE_HASH_BYTES);
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int audit_anchor(struct kctx *ctx, char line[AUDIT_ANCHOR_MAX])
{
	struct usage_head h;
	unsigned char sig[SIGN_BYTES];
	char hh[HASH_HEX], sh[SIGN_BYTES * 2 + 1];
	int rc;

	if ((rc = usage_backfill(ctx)) || (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	rc = anchor_head(ctx, &h);
	store_rollback(ctx->db);
	if (rc)
		return rc;
	hex(h.hash, USAGE_HASH_BYTES, hh);
	int n = snprintf(line, AUDIT_ANCHOR_MAX, "kortisto-anchor v1 id=%" PRId64 " hash=%s at=%s",
	                 h.id, hh, ctx->now_iso);
	if (n < 0 || (size_t)n + 6 + sizeof(sh) > AUDIT_ANCHOR_MAX)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "anchor line too long");
	keys_sign(&ctx->app->keys, line, (size_t)n, sig);
	hex(sig, SIGN_BYTES, sh);
	snprintf(line + n, AUDIT_ANCHOR_MAX - (size_t)n, " sig=%s", sh);
	return 0;
}

int audit_anchor_append(struct kctx *ctx, const char *path, const char *line)
{
	int rc = 0;
	if (!path || !*path)
		path = ctx->app->cfg.audit_anchor_file;
	if (!*path)
		path = arena_printf(ctx->mem, "%s/audit-anchors.log", ctx->app->datadir);
	size_t n = strlen(line);
	char *text = arena_alloc(ctx->mem, n + 1);
	memcpy(text, line, n);
	text[n++] = '\n';
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kerr_set(ctx->err, KERR_INTERNAL, "anchors", "cannot open %s: %s", path,
		                strerror(errno));
	if (write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
		rc = kerr_set(ctx->err, KERR_INTERNAL, "anchors", "cannot write %s: %s", path,
		              strerror(errno));
	if (close(fd) != 0 && !rc)
		rc = kerr_set(ctx->err, KERR_INTERNAL, "anchors", "cannot write %s: %s", path,
		              strerror(errno));
	return rc;
}

int audit_anchor_write(struct kctx *ctx, const char *path)
{
	char line[AUDIT_ANCHOR_MAX];
	int rc = audit_anchor(ctx, line);
	return rc ? rc : audit_anchor_append(ctx, path, line);
}

/* ---------------------------------------------------------------- show */

/* The subject ids of a stored "1,2,3" as a JSON array. */
static json_t *subjects_json(const char *s)
{
	json_t *a = json_array();
	while (s && *s) {
		long long v = 0;
		char *end = NULL;
		v = strtoll(s, &end, 10);
		if (end == s)
			break;
		json_array_append_new(a, json_integer(v));
		s = *end == ',' ? end + 1 : end;
	}
	return a;
}

static json_t *opt_text(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* An entry from a row of the ST_AUDIT_* statements. */
static json_t *entry_json(struct query *q)
{
	char h[HASH_HEX] = "";
	if (q_col_bytes(q, 13) == USAGE_HASH_BYTES)
		hex(q_col_blob(q, 13), USAGE_HASH_BYTES, h);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(q_col_int(q, 0)));
	json_object_set_new(o, "at", opt_text(q_col_text(q, 1)));
	json_object_set_new(o, "actor", opt_text(q_col_text(q, 2)));
	json_object_set_new(o, "user_id",
	                    q_col_null(q, 3) ? json_null() : json_integer(q_col_int(q, 3)));
	json_object_set_new(o, "purpose", opt_text(q_col_text(q, 4)));
	json_object_set_new(o, "action", opt_text(q_col_text(q, 5)));
	json_object_set_new(o, "register", opt_text(q_col_text(q, 6)));
	json_object_set_new(o, "entity", opt_text(q_col_text(q, 7)));
	json_object_set_new(o, "entity_id",
	                    q_col_null(q, 8) ? json_null() : json_integer(q_col_int(q, 8)));
	json_object_set_new(o, "subjects", subjects_json(q_col_text(q, 9)));
	json_object_set_new(o, "request_id", opt_text(q_col_text(q, 10)));
	json_object_set_new(o, "client", opt_text(q_col_text(q, 11)));
	json_object_set_new(o, "reason", opt_text(q_col_text(q, 12)));
	json_object_set_new(o, "hash", h[0] ? json_string(h) : json_null());
	return o;
}

static int list_page(struct kctx *ctx, const struct audit_filter *f, int64_t user_id,
                     const char *since, int64_t before, int limit, json_t *items, int64_t *next)
{
	struct query *q;
	int rc, n = 0;
	int64_t last = 0;

	if (f->subject) {
		q = store_query(ctx->db, ST_AUDIT_BY_SUBJECT);
		q_text(q, 1, arena_printf(ctx->mem, "\"%lld\"", (long long)f->subject));
		q_int(q, 2, before);
		q_text(q, 3, f->rid);
		if (user_id)
			q_int(q, 4, user_id);
		q_text(q, 5, since);
		q_int(q, 6, limit + 1);
	} else if (user_id) {
		q = store_query(ctx->db, ST_AUDIT_BY_USER);
		q_int(q, 1, user_id);
		q_int(q, 2, before);
		q_text(q, 3, f->rid);
		q_text(q, 4, since);
		q_int(q, 5, limit + 1);
	} else if (f->rid) {
		q = store_query(ctx->db, ST_AUDIT_BY_REGISTER);
		q_text(q, 1, f->rid);
		q_int(q, 2, before);
		q_text(q, 3, since);
		q_int(q, 4, limit + 1);
	} else {
		q = store_query(ctx->db, ST_AUDIT_ALL);
		q_int(q, 1, before);
		q_text(q, 2, since);
		q_int(q, 3, limit + 1);
	}
	*next = 0;
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == limit) {
			*next = last;
			break;
		}
		last = q_col_int(q, 0);
		json_array_append_new(items, entry_json(q));
		n++;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int audit_list(struct kctx *ctx, const struct audit_filter *f, const char *cursor, int limit,
               json_t **out)
{
	const char *since = NULL;
	int64_t before = 0, user_id = 0, next = 0;
	json_t *items = NULL;
	int rc;

	*out = NULL;
	if (f->rid && !app_register(ctx->app, f->rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                f->rid);
	if (f->subject < 0)
		return kerr_set(ctx->err, KERR_INVALID, "subject", "subject: not a person id");
	if (f->since) {
		const char *why = NULL;
		if (!date_valid(f->since, NULL, NULL, NULL, &why) || strlen(f->since) != 10)
			return kerr_set(ctx->err, KERR_INVALID, "since", "since: %s",
			                why ? why : "not a date YYYY-MM-DD");
		since = arena_printf(ctx->mem, "%sT00:00:00Z", f->since);
	}
	if ((rc = cursor_decode(ctx, cursor, &before)))
		return rc;
	if (before == 0)
		before = INT64_MAX;
	limit = page_limit(ctx, limit);

	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if (f->user) {
		struct query *q = store_query(ctx->db, ST_AUDIT_USER_ID);
		q_text(q, 1, f->user);
		rc = q_step(q, ctx->err);
		user_id = rc == 1 ? q_col_int(q, 0) : 0;
		q_done(q);
		if (rc == 0)
			rc = kerr_set(ctx->err, KERR_NOTFOUND, "user", "user '%s' not found",
			              f->user);
		if (rc < 0)
			goto fail;
	}
	items = json_array();
	if ((rc = list_page(ctx, f, user_id, since, before, limit, items, &next)))
		goto fail;
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto fail;

	/* Who looked up whose traces is itself a use of the log. */
	struct usage_entry e = {
	        .action = "audit.show",
	        .rid = f->rid,
	        .subjects = f->subject ? &f->subject : NULL,
	        .nsubjects = f->subject ? 1 : 0,
	};
	if ((rc = usage_read(ctx, &e))) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:o}", "items", items, "next",
	                 next ? json_string(cursor_encode(ctx, next)) : json_null());
	return 0;
fail:
	store_rollback(ctx->db);
	json_decref(items);
	return rc;
}

/* ---------------------------------------------------------------- prune */

/* Removes entry `r` from the index by person, with the text usage_put gave it. */
static int subjects_remove(struct kctx *ctx, const struct usage_row *r)
{
	struct buf persons = BUF_INIT;
	int rc = 0;
	usage_subjects_text(r->entity, r->entity_id, r->subjects, &persons);
	if (persons.len) {
		struct query *q = store_query(ctx->db, ST_USAGE_SUBJECT_DELETE);
		q_int(q, 1, r->id);
		q_text(q, 2, persons.p);
		rc = q_exec(q, ctx->err);
	}
	buf_free(&persons);
	return rc;
}

/* Walks the prefix older than `cutoff`, verifying and unindexing each entry; leaves the last
 * one's id and hash in *last. */
static int prune_walk(struct kctx *ctx, const char *cutoff, struct usage_head *last,
                      int64_t *removed)
{
	const struct keys *k = &ctx->app->keys;
	unsigned char hash[USAGE_HASH_BYTES];
	struct query *cq = store_query(ctx->db, ST_CHECKPOINT_LAST);
	struct checkpoint cp = {0};
	int rc;

	if ((rc = q_step(cq, ctx->err)) == 1)
		checkpoint_row(ctx, cq, &cp);
	q_done(cq);
	if (rc < 0)
		return rc;
	if (rc == 1 && !cp.valid)
		return kerr_set(ctx->err, KERR_CONFLICT, NULL,
		                "the latest checkpoint fails verification; nothing pruned (run "
		                "kortisto audit verify)");
	last->id = cp.last_id;
	memcpy(last->hash, cp.last_hash, USAGE_HASH_BYTES);
	*removed = 0;

	struct query *q = store_query(ctx->db, ST_USAGE_WALK);
	q_int(q, 1, INT64_MIN);
	while ((rc = q_step(q, ctx->err)) == 1) {
		struct usage_row r;
		walk_row(q, &r);
		if (!r.at || strcmp(r.at, cutoff) >= 0)
			break;
		if (r.id <= last->id || !walk_row_exact(q) ||
		    q_col_bytes(q, 13) != USAGE_HASH_BYTES ||
		    q_col_bytes(q, 14) != USAGE_HASH_BYTES ||
		    sodium_memcmp(q_col_blob(q, 13), last->hash, USAGE_HASH_BYTES) != 0 ||
		    (usage_hash(k, last->hash, &r, hash),
		     sodium_memcmp(hash, q_col_blob(q, 14), USAGE_HASH_BYTES) != 0)) {
			rc = kerr_set(ctx->err, KERR_CONFLICT, NULL,
			              "entry %" PRId64 " fails verification; nothing pruned (run "
			              "kortisto audit verify)",
			              r.id);
			break;
		}
		if ((rc = subjects_remove(ctx, &r)))
			break;
		last->id = r.id;
		memcpy(last->hash, hash, USAGE_HASH_BYTES);
		(*removed)++;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int audit_prune(struct kctx *ctx, int64_t before, struct audit_pruned *out)
{
	struct usage_head head, last;
	char cutoff[21], msg[256];
	unsigned char sig[SIGN_BYTES];
	int rc;

	memset(out, 0, sizeof(*out));
	if (before == 0) {
		int days = ctx->app->cfg.usage_log_retention_days;
		if (days <= 0)
			return kerr_set(ctx->err, KERR_REFUSED, "before",
			                "usage_log_retention_days is 0: entries are kept for ever "
			                "(give a date to prune before)");
		before = ctx->now - (int64_t)days * 86400;
	}
	time_format_iso8601(before, cutoff);

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = usage_head(ctx->db, &ctx->app->keys, &head, ctx->err)) ||
	    (rc = prune_walk(ctx, cutoff, &last, &out->removed)))
		goto fail;
	if (out->removed == 0) {
		store_rollback(ctx->db);
		return 0;
	}
	struct query *q = store_query(ctx->db, ST_USAGE_DELETE_UPTO);
	q_int(q, 1, last.id);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	int n = checkpoint_msg(msg, sizeof(msg), ctx->now_iso, last.id, last.hash);
	keys_sign(&ctx->app->keys, msg, (size_t)n, sig);
	q = store_query(ctx->db, ST_CHECKPOINT_INSERT);
	q_text(q, 1, ctx->now_iso);
	q_text(q, 2, ctx->actor->name);
	q_int(q, 3, last.id);
	q_blob(q, 4, last.hash, USAGE_HASH_BYTES);
	q_blob(q, 5, sig, sizeof(sig));
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	out->checkpoint = store_last_id(ctx->db);
	out->last_id = last.id;

	/* The prune itself goes on the chain, after the newest entry (which may have been
	 * removed too: then the checkpoint holds its hash). */
	struct usage_row r = {
	        .at = ctx->now_iso,
	        .actor = ctx->actor->name,
	        .user_id = ctx->actor->user_id,
	        .purpose = ctx->purpose,
	        .action = "audit.prune",
	        .entity = "checkpoint",
	        .entity_id = out->checkpoint,
	        .request_id = ctx->request_id,
	        .client = ctx->client,
	};
	if ((rc = usage_put(ctx->db, &ctx->app->keys, &head, &r, ctx->err)))
		goto fail;
	return store_commit(ctx->db, ctx->err);
fail:
	store_rollback(ctx->db);
	memset(out, 0, sizeof(*out));
	return rc;
}
