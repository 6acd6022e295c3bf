/*
 * Self-service links and sessions of data subjects (see selfservice.h). The one design
 * decision to know: a token is never stored, only a keyed hash of it under a domain prefix,
 * and the address a link was asked for is never stored either, only the ids of the persons
 * it matched; so the database alone lets no one in and tells no one who asked.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/export.h"
#include "core/person.h"
#include "core/request.h"
#include "core/selfservice.h"
#include "decl/notice_text.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/mail.h"
#include "util/timeutil.h"
#include "util/validate.h"
#include "util/xmalloc.h"

const struct actor selfservice_actor = {ACTOR_SYSTEM, SELFSERVICE_ACTOR, 0, 0};

/* ---------------------------------------------------------------- rate limits */

/*
 * A fixed table of counters, each keyed by the first 16 bytes of a keyed BLAKE2b hash of
 * "a:" + address or "c:" + client address under a key made at random when the table is first
 * used. A full table reuses the slot whose window is oldest, which can only forget a count,
 * never invent one.
 */
#define SLOTS 1024

struct slot {
	unsigned char key[16];
	int64_t since; /* start of the slot's window; 0: free */
	int count;
};

static struct {
	pthread_mutex_t lock;
	bool keyed;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct slot v[SLOTS];
} limits = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void limit_key(const char *prefix, const char *s, unsigned char out[16])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, limits.key, sizeof(limits.key), 16);
	crypto_generichash_update(&st, (const unsigned char *)prefix, strlen(prefix));
	crypto_generichash_update(&st, (const unsigned char *)s, strlen(s));
	crypto_generichash_final(&st, out, 16);
}

/* Counts one hit of `key` at `now`; returns the seconds to wait when it is over `max`. */
static int64_t limit_hit(const unsigned char key[16], int64_t now, int max)
{
	struct slot *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &limits.v[i];
		if (s->since && now - s->since >= SELFSERVICE_LIMIT_WINDOW)
			s->since = 0; /* the window is over */
		if (s->since && sodium_memcmp(s->key, key, 16) == 0) {
			if (s->count >= max)
				return s->since + SELFSERVICE_LIMIT_WINDOW - now;
			s->count++;
			return 0;
		}
		if (!s->since && !free_slot)
			free_slot = s;
		if (s->since && (!oldest || s->since < oldest->since))
			oldest = s;
	}
	struct slot *s = free_slot ? free_slot : oldest;
	memcpy(s->key, key, 16);
	s->since = now > 0 ? now : 1;
	s->count = 1;
	return 0;
}

int selfservice_throttle(struct kctx *ctx, const char *email, const char *client,
                         int64_t *retry_after)
{
	unsigned char ka[16], kc[16];
	int64_t wait = 0;

	*retry_after = 0;
	pthread_mutex_lock(&limits.lock);
	if (!limits.keyed) {
		randombytes_buf(limits.key, sizeof(limits.key));
		limits.keyed = true;
	}
	limit_key("a:", email, ka);
	if (client)
		limit_key("c:", client, kc);
	/* The client's count goes first: one client asking for many addresses is stopped
	 * before it can use up their counts. */
	if (client)
		wait = limit_hit(kc, ctx->now, SELFSERVICE_LIMIT_CLIENT);
	if (!wait)
		wait = limit_hit(ka, ctx->now, SELFSERVICE_LIMIT_ADDRESS);
	pthread_mutex_unlock(&limits.lock);
	if (!wait)
		return 0;
	*retry_after = wait > 0 ? wait : 1;
	return kerr_set(ctx->err, KERR_THROTTLED, NULL,
	                "too many links asked for; try again in %lld minutes",
	                (long long)((*retry_after + 59) / 60));
}

void selfservice_throttle_reset(void)
{
	pthread_mutex_lock(&limits.lock);
	memset(limits.v, 0, sizeof(limits.v));
	pthread_mutex_unlock(&limits.lock);
}

/* ---------------------------------------------------------------- tokens */

/* Keyed hash of a token of kind `domain` ("link", "session", "csrf"): the prefix keeps the
 * hashes of one use from ever standing for another. */
static void token_hash(struct kctx *ctx, const char *domain, const char *token,
                       unsigned char out[FIELD_HASH_BYTES])
{
	char buf[32 + SELFSERVICE_TOKEN_LEN + 2];
	int n = snprintf(buf, sizeof(buf), "selfservice-%s:%s", domain, token);
	field_hash(&ctx->app->keys, buf, n > 0 ? (size_t)n : 0, out);
	sodium_memzero(buf, sizeof(buf));
}

static void token_new(char out[SELFSERVICE_TOKEN_LEN + 1])
{
	unsigned char raw[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memcpy(out, b64, SELFSERVICE_TOKEN_LEN + 1);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
}

/* Whether `s` has the form of a token: 43 characters of unpadded base64url. */
static bool token_form(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= SELFSERVICE_TOKEN_LEN ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n == SELFSERVICE_TOKEN_LEN;
}

static char *subjects_text(const struct ss_subject *s, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "register", s[i].rid, "person",
		                                   (json_int_t)s[i].person_id));
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

static int subjects_parse(struct kctx *ctx, const char *text, struct ss_subject **out, size_t *n)
{
	json_t *a = json_loads(text ? text : "", 0, NULL), *v;
	size_t i;
	*out = NULL;
	*n = 0;
	if (!json_is_array(a)) {
		json_decref(a);
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "a self-service token is damaged");
	}
	*out = arena_calloc(ctx->mem, json_array_size(a) + 1, sizeof(**out));
	json_array_foreach (a, i, v) {
		const char *rid = json_string_value(json_object_get(v, "register"));
		json_int_t pid = json_integer_value(json_object_get(v, "person"));
		if (!rid || pid <= 0)
			continue;
		(*out)[*n].rid = arena_strdup(ctx->mem, rid);
		(*out)[*n].person_id = (int64_t)pid;
		(*n)++;
	}
	json_decref(a);
	return 0;
}

/* Logs `action` (reason `reason`) on each subject, inside the caller's write transaction. */
static int log_subjects(struct kctx *ctx, const char *action, const char *reason,
                        const struct ss_subject *s, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct usage_entry e = {.action = action,
		                        .rid = s[i].rid,
		                        .entity = "person",
		                        .entity_id = s[i].person_id,
		                        .subjects = &s[i].person_id,
		                        .nsubjects = 1,
		                        .reason = reason};
		rc = usage_append(ctx, &e);
	}
	return rc;
}

static int insert_token(struct kctx *ctx, const char *kind, const char *token, const char *subjects,
                        int64_t seconds)
{
	unsigned char h[FIELD_HASH_BYTES];
	char expires[21];
	time_format_iso8601(ctx->now + seconds, expires);
	token_hash(ctx, kind, token, h);
	struct query *q = store_query(ctx->db, ST_SS_INSERT);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, kind);
	q_text(q, 3, subjects);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, expires);
	return q_exec(q, ctx->err);
}

/* ---------------------------------------------------------------- links and sessions */

int selfservice_find(struct kctx *ctx, const char *email, struct ss_subject **subjects, size_t *n)
{
	const struct registry *regs = app_registers(ctx->app);
	int rc;
	*subjects = NULL;
	*n = 0;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	for (size_t i = 0; i < regs->n; i++) {
		int64_t pid = 0;
		if ((rc = person_find_contact(ctx, regs->v[i].id, "email", email, &pid)))
			break;
		if (!pid)
			continue;
		if (!*subjects)
			*subjects = arena_calloc(ctx->mem, regs->n, sizeof(**subjects));
		(*subjects)[*n].rid = arena_strdup(ctx->mem, regs->v[i].id);
		(*subjects)[*n].person_id = pid;
		(*n)++;
	}
	store_rollback(ctx->db);
	return rc;
}

/* Deletes the links and sessions that have expired, in a write transaction of its own. */
static int purge(struct kctx *ctx)
{
	int rc = store_begin_write(ctx->db, ctx->err);
	if (rc)
		return rc;
	struct query *q = store_query(ctx->db, ST_SS_PURGE);
	q_text(q, 1, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err))) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

int selfservice_link_create(struct kctx *ctx, const struct ss_subject *subjects, size_t n,
                            char token[SELFSERVICE_TOKEN_LEN + 1])
{
	char *text;
	int rc;
	if (n == 0)
		return kerr_set(ctx->err, KERR_INVALID, NULL, "a link needs a person");
	const struct actor *caller = ctx->actor;
	token_new(token);
	text = subjects_text(subjects, n);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		goto out;
	ctx->actor = &selfservice_actor;
	struct query *q = store_query(ctx->db, ST_SS_PURGE);
	q_text(q, 1, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) ||
	    (rc = insert_token(ctx, "link", token, text, SELFSERVICE_LINK_SECONDS)) ||
	    (rc = log_subjects(ctx, "selfservice_link", "self_service", subjects, n))) {
		store_rollback(ctx->db);
		goto out;
	}
	rc = store_commit(ctx->db, ctx->err);
out:
	ctx->actor = caller;
	free(text);
	if (rc)
		sodium_memzero(token, SELFSERVICE_TOKEN_LEN + 1);
	return rc;
}

int selfservice_link_open(struct kctx *ctx, const char *link,
                          char session[SELFSERVICE_TOKEN_LEN + 1])
{
	const struct actor *caller = ctx->actor;
	unsigned char h[FIELD_HASH_BYTES];
	struct ss_subject *subs = NULL;
	size_t n = 0;
	int rc;

	session[0] = '\0';
	if (!token_form(link))
		return kerr_set(ctx->err, KERR_NOTFOUND, "t",
		                "this link is not valid; ask for a new one");
	token_hash(ctx, "link", link, h);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_SS_GET);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, "link");
	rc = q_step(q, ctx->err);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "t",
		              "this link is not valid; ask for a new one");
	else if (rc == 1 && !q_col_null(q, 2))
		rc = kerr_set(ctx->err, KERR_CONFLICT, "t",
		              "this link has been used already; ask for a new one");
	else if (rc == 1 && strcmp(q_col_text(q, 1), ctx->now_iso) <= 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "t",
		              "this link has expired (it is valid 15 minutes); ask for a new one");
	else if (rc == 1)
		rc = subjects_parse(ctx, q_col_text(q, 0), &subs, &n);
	q_done(q);
	if (rc)
		goto fail;
	q = store_query(ctx->db, ST_SS_USE);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, "link");
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	if (store_changes(ctx->db) != 1) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "t",
		              "this link has been used already; ask for a new one");
		goto fail;
	}
	token_new(session);
	char *text = subjects_text(subs, n);
	ctx->actor = &selfservice_actor;
	rc = insert_token(ctx, "session", session, text, SELFSERVICE_SESSION_SECONDS);
	free(text);
	if (!rc)
		rc = log_subjects(ctx, "signin", "email_link", subs, n);
	ctx->actor = caller;
	if (rc)
		goto fail;
	if ((rc = store_commit(ctx->db, ctx->err)))
		sodium_memzero(session, SELFSERVICE_TOKEN_LEN + 1);
	return rc;
fail:
	store_rollback(ctx->db);
	sodium_memzero(session, SELFSERVICE_TOKEN_LEN + 1);
	return rc;
}

int selfservice_session(struct kctx *ctx, const char *session, struct ss_subject **subjects,
                        size_t *n)
{
	unsigned char h[FIELD_HASH_BYTES];
	int rc;
	*subjects = NULL;
	*n = 0;
	if (!token_form(session))
		return kerr_set(ctx->err, KERR_UNAUTH, NULL,
		                "your self-service session has ended; ask for a new link");
	token_hash(ctx, "session", session, h);
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_SS_GET);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, "session");
	rc = q_step(q, ctx->err);
	if (rc == 1 && strcmp(q_col_text(q, 1), ctx->now_iso) > 0)
		rc = subjects_parse(ctx, q_col_text(q, 0), subjects, n);
	else if (rc >= 0)
		rc = kerr_set(ctx->err, KERR_UNAUTH, NULL,
		              "your self-service session has ended; ask for a new link");
	q_done(q);
	store_rollback(ctx->db);
	if (rc)
		return rc;
	/* The person's own data: everything of theirs, restricted or sensitive, and nothing of
	 * anyone else's (the callers below check the subject against the session). */
	ctx->actor = &selfservice_actor;
	ctx->may_reveal = true;
	ctx->sees_restricted = true;
	ctx->processor = NULL;
	return 0;
}

int selfservice_registers(struct kctx *ctx, const char *session, struct ss_subject **subjects,
                          size_t *n)
{
	int rc = selfservice_session(ctx, session, subjects, n);
	for (size_t i = 0; !rc && i < *n; i++) {
		struct usage_entry e = {.action = "read",
		                        .rid = (*subjects)[i].rid,
		                        .entity = "person",
		                        .entity_id = (*subjects)[i].person_id,
		                        .subjects = &(*subjects)[i].person_id,
		                        .nsubjects = 1,
		                        .reason = "self_service"};
		rc = usage_read(ctx, &e);
	}
	return rc;
}

int selfservice_session_end(struct kctx *ctx, const char *session)
{
	unsigned char h[FIELD_HASH_BYTES];
	if (!token_form(session))
		return 0;
	token_hash(ctx, "session", session, h);
	struct query *q = store_query(ctx->db, ST_SS_DELETE);
	q_blob(q, 1, h, sizeof(h));
	return q_exec(q, ctx->err);
}

void selfservice_csrf(struct kctx *ctx, const char *session, char out[65])
{
	unsigned char h[FIELD_HASH_BYTES];
	token_hash(ctx, "csrf", session ? session : "", h);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

bool selfservice_csrf_ok(struct kctx *ctx, const char *session, const char *given)
{
	char want[65];
	if (!given || strlen(given) != 64 || !token_form(session))
		return false;
	selfservice_csrf(ctx, session, want);
	return sodium_memcmp(want, given, 64) == 0;
}

/* The session's person in `rid`, or KERR_NOTFOUND. */
static int subject_in(struct kctx *ctx, const char *session, const char *rid, int64_t *pid)
{
	struct ss_subject *s;
	size_t n;
	int rc;
	*pid = 0;
	if ((rc = selfservice_session(ctx, session, &s, &n)))
		return rc;
	for (size_t i = 0; rid && i < n; i++)
		if (strcmp(s[i].rid, rid) == 0)
			*pid = s[i].person_id;
	if (!*pid)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register",
		                "register: you have no data in this register");
	return 0;
}

int selfservice_export(struct kctx *ctx, const char *session, const char *rid, json_t **out)
{
	int64_t pid;
	int rc;
	*out = NULL;
	if ((rc = subject_in(ctx, session, rid, &pid)))
		return rc;
	return export_subject(ctx, rid, pid, 0, out);
}

int selfservice_export_all(struct kctx *ctx, const char *session, json_t **out)
{
	struct ss_subject *s;
	size_t n;
	int rc;
	*out = NULL;
	if ((rc = selfservice_session(ctx, session, &s, &n)))
		return rc;
	json_t *all = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *doc;
		rc = export_subject(ctx, s[i].rid, s[i].person_id, 0, &doc);
		if (rc == KERR_NOTFOUND) { /* erased since the link was opened */
			kerr_clear(ctx->err);
			continue;
		}
		if (rc) {
			json_decref(all);
			return rc;
		}
		json_array_append_new(all,
		                      json_pack("{s:s, s:o}", "register", s[i].rid, "export", doc));
	}
	*out = json_pack("{s:o}", "registers", all);
	return 0;
}

int selfservice_consents(struct kctx *ctx, const char *session, const char *rid, json_t **out)
{
	json_t *all = NULL, *v;
	int64_t pid;
	size_t i;
	int rc;
	*out = NULL;
	if ((rc = subject_in(ctx, session, rid, &pid)))
		return rc;
	rc = consent_list_reason(ctx, rid, pid, "self_service", &all);
	if (rc == KERR_NOTFOUND) { /* erased since the link was opened: nothing in force */
		kerr_clear(ctx->err);
		*out = json_array();
		return 0;
	}
	if (rc)
		return rc;
	*out = json_array();
	json_array_foreach (json_object_get(all, "items"), i, v) {
		if (json_is_true(json_object_get(v, "active")))
			json_array_append(*out, v);
	}
	json_decref(all);
	return 0;
}

int selfservice_bans(struct kctx *ctx, const char *session, const char *rid, json_t **out)
{
	int64_t pid;
	int rc;
	*out = NULL;
	if ((rc = subject_in(ctx, session, rid, &pid)) ||
	    (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	json_t *a = json_array();
	struct query *q = store_query(ctx->db, ST_BAN_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(a, json_pack("{s:s, s:s}", "channel", q_col_text(q, 0),
		                                   "since", q_col_text(q, 1)));
	q_done(q);
	store_rollback(ctx->db);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	if (json_array_size(a)) {
		struct usage_entry e = {.action = "read",
		                        .rid = rid,
		                        .entity = "marketing_ban",
		                        .subjects = &pid,
		                        .nsubjects = 1,
		                        .reason = "self_service"};
		if ((rc = usage_read(ctx, &e))) {
			json_decref(a);
			return rc;
		}
	}
	*out = a;
	return 0;
}

int selfservice_file(struct kctx *ctx, const char *session, const char *rid, const char *type,
                     json_t *details, int64_t *id, const char **state)
{
	int64_t pid;
	int rc, t;
	*id = 0;
	*state = NULL;
	if ((rc = subject_in(ctx, session, rid, &pid)))
		return rc;
	t = type ? request_type_parse(type) : -1;
	if (t < 0)
		return kerr_set(ctx->err, KERR_INVALID, "type", "type: not a request type");
	json_t *in = json_pack("{s:s, s:s, s:I}", "type", type, "channel", "self_service",
	                       "person_id", (json_int_t)pid);
	if (details)
		json_object_set(in, "details", details);
	rc = request_create(ctx, rid, in, id);
	json_decref(in);
	if (rc)
		return rc;
	/* the person opened a single-use link mailed to their registered address. */
	json_t *v = json_pack("{s:s, s:s}", "method", "email_link", "note",
	                      "self-service link mailed to the registered address");
	rc = request_verify(ctx, rid, *id, v);
	json_decref(v);
	if (rc)
		return rc;
	*state = "verified";
	if (t == RT_MARKETING_BAN || t == RT_CONSENT_WITHDRAWAL) {
		json_t *f = json_object();
		rc = request_fulfil(ctx, rid, *id, f, NULL);
		json_decref(f);
		if (rc)
			return rc;
		*state = "fulfilled";
	}
	return 0;
}

/* ---------------------------------------------------------------- links of other owners */

int selfservice_token_issue(struct kctx *ctx, const char *kind, const char *subjects,
                            int64_t seconds, int (*inside)(struct kctx *, void *), void *arg,
                            char token[SELFSERVICE_TOKEN_LEN + 1])
{
	int rc;
	token_new(token);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		goto fail;
	struct query *q = store_query(ctx->db, ST_SS_PURGE);
	q_text(q, 1, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) ||
	    (rc = insert_token(ctx, kind, token, subjects, seconds)) ||
	    (inside && (rc = inside(ctx, arg)))) {
		store_rollback(ctx->db);
		goto fail;
	}
	if (!(rc = store_commit(ctx->db, ctx->err)))
		return 0;
fail:
	sodium_memzero(token, SELFSERVICE_TOKEN_LEN + 1);
	return rc;
}

int selfservice_token_redeem(struct kctx *ctx, const char *link_kind, const char *link,
                             const char *session_kind, int64_t seconds,
                             char session[SELFSERVICE_TOKEN_LEN + 1], const char **subjects)
{
	unsigned char h[FIELD_HASH_BYTES];
	const char *text = NULL;
	int rc;

	session[0] = '\0';
	*subjects = NULL;
	if (!token_form(link))
		return kerr_set(ctx->err, KERR_NOTFOUND, "t",
		                "this link is not valid; ask for a new one");
	token_hash(ctx, link_kind, link, h);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_SS_GET);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, link_kind);
	rc = q_step(q, ctx->err);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "t",
		              "this link is not valid; ask for a new one");
	else if (rc == 1 && !q_col_null(q, 2))
		rc = kerr_set(ctx->err, KERR_CONFLICT, "t",
		              "this link has been used already; ask for a new one");
	else if (rc == 1 && strcmp(q_col_text(q, 1), ctx->now_iso) <= 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "t",
		              "this link has expired (it is valid 15 minutes); ask for a new one");
	else if (rc == 1) {
		text = arena_strdup(ctx->mem, q_col_text(q, 0));
		rc = 0;
	}
	q_done(q);
	if (rc)
		goto fail;
	q = store_query(ctx->db, ST_SS_USE);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, link_kind);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	if (store_changes(ctx->db) != 1) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "t",
		              "this link has been used already; ask for a new one");
		goto fail;
	}
	token_new(session);
	if ((rc = insert_token(ctx, session_kind, session, text, seconds)) ||
	    (rc = store_commit(ctx->db, ctx->err))) {
		store_rollback(ctx->db);
		sodium_memzero(session, SELFSERVICE_TOKEN_LEN + 1);
		return rc;
	}
	*subjects = text;
	return 0;
fail:
	store_rollback(ctx->db);
	sodium_memzero(session, SELFSERVICE_TOKEN_LEN + 1);
	return rc;
}

int selfservice_token_get(struct kctx *ctx, const char *kind, const char *token,
                          const char **subjects)
{
	unsigned char h[FIELD_HASH_BYTES];
	int rc;
	*subjects = NULL;
	if (!token_form(token))
		return kerr_set(ctx->err, KERR_UNAUTH, NULL,
		                "the session has ended; ask for a new link");
	token_hash(ctx, kind, token, h);
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_SS_GET);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, kind);
	rc = q_step(q, ctx->err);
	if (rc == 1 && strcmp(q_col_text(q, 1), ctx->now_iso) > 0) {
		*subjects = arena_strdup(ctx->mem, q_col_text(q, 0));
		rc = 0;
	} else if (rc >= 0) {
		rc = kerr_set(ctx->err, KERR_UNAUTH, NULL,
		              "the session has ended; ask for a new link");
	}
	q_done(q);
	store_rollback(ctx->db);
	return rc;
}

/* ---------------------------------------------------------------- the mail */

static const char *const mail_subject[LANG__MAX] = {
        "Linkki omiin tietoihisi",
        "Länk till dina uppgifter",
        "A link to your data",
};
static const char *const mail_intro[LANG__MAX] = {
        "Pyysit linkkiä nähdäksesi tietosi rekistereissämme. Avaa linkki 15 minuutin "
        "kuluessa; se toimii vain kerran:",
        "Du bad om en länk för att se dina uppgifter i våra register. Öppna länken inom 15 "
        "minuter; den fungerar bara en gång:",
        "You asked for a link to see your data in our registers. Open it within 15 minutes; "
        "it works once:",
};
static const char *const mail_ignore[LANG__MAX] = {
        "Jos et pyytänyt linkkiä, voit jättää tämän viestin huomiotta.",
        "Om du inte bad om länken kan du lämna meddelandet utan åtgärd.",
        "If you did not ask for it, you can ignore this message.",
};

static atomic_int mail_threads;

struct mail_job {
	struct mail_config cfg;
	char *to;
	struct buf msg;
};

static void *mail_run(void *arg)
{
	struct mail_job *j = arg;
	struct mailer *m = NULL;
	struct kerr e = {0};
	int rc = mailer_open(&j->cfg, &m, &e);
	if (!rc)
		rc = mailer_send(m, j->cfg.from, j->to, &j->msg, &e);
	/* The message never names the recipient (util/mail.h). */
	if (rc)
		fprintf(stderr, "kortisto: a self-service link was not mailed: %s\n", e.message);
	mailer_free(m);
	sodium_memzero(j->msg.p, j->msg.len);
	buf_free(&j->msg);
	sodium_memzero(j->to, strlen(j->to));
	free(j->to);
	free(j);
	atomic_fetch_sub(&mail_threads, 1);
	return NULL;
}

void selfservice_mail_drain(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	for (int i = 0; i < 3000 && atomic_load(&mail_threads) > 0; i++)
		nanosleep(&ts, NULL);
}

int selfservice_mail(struct kctx *ctx, const char *to, const char *subject, const char *text)
{
	const struct config *cfg = &ctx->app->cfg;
	if (!cfg->mail.url[0] || !cfg->mail.from[0])
		return kerr_set(ctx->err, KERR_BUSY, "smtp_url",
		                "mail is not configured (smtp_url and mail_from in kortisto.conf)");
	struct mail_msg m = {
	        .from = cfg->mail.from,
	        .from_name = cfg->mail.from_name[0] ? cfg->mail.from_name : NULL,
	        .to = to,
	        .subject = subject,
	        .text = text,
	};
	struct mail_job *j = xcalloc(1, sizeof(*j));
	int rc = mail_format(&m, ctx->now, &j->msg, ctx->err);
	if (rc) {
		buf_free(&j->msg);
		free(j);
		return rc;
	}
	j->cfg = cfg->mail;
	j->to = xstrdup(to);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&mail_threads, 1);
	if (pthread_create(&t, &attr, mail_run, j) != 0) {
		atomic_fetch_sub(&mail_threads, 1);
		buf_free(&j->msg);
		free(j->to);
		free(j);
		rc = kerr_set(ctx->err, KERR_BUSY, NULL, "the link mail cannot be sent now");
	}
	pthread_attr_destroy(&attr);
	return rc;
}

/* Formats the link mail to `to` and hands it to a thread that sends it. */
static int mail_link(struct kctx *ctx, const char *to, const char *token, enum lang lang)
{
	const char *url = arena_printf(ctx->mem, "%s/p/me/link?t=%s&lang=%s",
	                               ctx->app->cfg.public_url, token, lang_code(lang));
	const char *text = arena_printf(ctx->mem, "%s\n\n%s\n\n%s\n", mail_intro[lang], url,
	                                mail_ignore[lang]);
	return selfservice_mail(ctx, to, mail_subject[lang], text);
}

int selfservice_begin(struct kctx *ctx, const char *email, const char *client, enum lang lang,
                      int64_t *retry_after)
{
	const struct config *cfg = &ctx->app->cfg;
	char norm[256], token[SELFSERVICE_TOKEN_LEN + 1];
	struct ss_subject *subs;
	size_t n;
	int rc;

	*retry_after = 0;
	if (!cfg->public_url[0])
		return kerr_set(ctx->err, KERR_BUSY, "public_url",
		                "self-service is not configured (public_url in kortisto.conf)");
	if (!cfg->mail.url[0] || !cfg->mail.from[0])
		return kerr_set(ctx->err, KERR_BUSY, "smtp_url",
		                "mail is not configured (smtp_url and mail_from in kortisto.conf)");
	if (!email || !email_valid(email, norm, sizeof(norm), NULL))
		return kerr_set(ctx->err, KERR_INVALID, "email", "email: not an e-mail address");
	if ((rc = selfservice_throttle(ctx, norm, client, retry_after)))
		return rc;
	if ((rc = selfservice_find(ctx, norm, &subs, &n)))
		goto out;
	if (n == 0) {
		/* Unknown: the same one write transaction as a link takes, deleting what has
		 * expired, so the answer takes as long (no enumeration by timing). */
		rc = purge(ctx);
		goto out;
	}
	if ((rc = selfservice_link_create(ctx, subs, n, token)))
		goto out;
	rc = mail_link(ctx, norm, token, lang);
	sodium_memzero(token, sizeof(token));
out:
	sodium_memzero(norm, sizeof(norm));
	return rc;
}
