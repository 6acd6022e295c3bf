/*
 * Sign-in, sessions, API tokens and roles (S-01, S-02, S-03). Session and API tokens are 256
 * random bits shown once and stored only as SHA-256 hashes. Resolving a token on a request is
 * read-only and costs one indexed lookup (session or token, its user and the commitment state
 * in one statement) plus one for the role; the last-seen time is written separately and at
 * most once a minute. Failed sign-ins are throttled per account name and per client address
 * with a growing delay and then a lock, the same way for names that exist and names that do
 * not, so neither timing nor answers tell which accounts exist.
 */
#include "core/account.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/timeutil.h"

#define TOKEN_RANDOM_BYTES 32
#define TOKEN_MAX_LEN      63 /* what fits the 64-byte buffers of the interface */
#define PASSWORD_MAX_BYTES 1024
#define DELAY_MAX          300 /* seconds: the longest delay between failed attempts */

static const char unauth_signin[] = "wrong user name, password or code";
static const char unauth_session[] = "not signed in, or the session has ended: sign in again";

/* ---------------------------------------------------------------- tokens */

/* Writes `prefix` and 32 random bytes in unpadded base64url to out (64 bytes). */
static void token_new(const char *prefix, char out[64])
{
	unsigned char raw[TOKEN_RANDOM_BYTES];
	size_t plen = strlen(prefix);
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, plen);
	sodium_bin2base64(out + plen, 64 - plen, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

/* Hashes a token of kind `prefix` ("ks_", "kt_"); false when it cannot be one. */
static bool token_hash(const char *token, const char *prefix, unsigned char h[32])
{
	size_t n = token ? strlen(token) : 0;
	if (n < 4 || n > TOKEN_MAX_LEN || strncmp(token, prefix, 3) != 0)
		return false;
	crypto_hash_sha256(h, (const unsigned char *)token, n);
	return true;
}

/* ---------------------------------------------------------------- roles */

const char *role_name(enum role r)
{
	static const char *const names[ROLE__MAX] = {
	        [ROLE_NONE] = "none",     [ROLE_PROCESSOR] = "processor", [ROLE_VIEWER] = "viewer",
	        [ROLE_EDITOR] = "editor", [ROLE_MANAGER] = "manager",
	};
	return r >= ROLE_NONE && r < ROLE__MAX ? names[r] : "none";
}

int role_parse(const char *s, enum role *out)
{
	for (int r = ROLE_PROCESSOR; s && r < ROLE__MAX; r++)
		if (strcmp(s, role_name((enum role)r)) == 0) {
			*out = (enum role)r;
			return 0;
		}
	return -1;
}

/* A user's role under a token's cap (see auth_role in account.h). */
static enum role role_capped(enum role user, enum role cap)
{
	if (cap == ROLE_NONE || user == ROLE_NONE)
		return user;
	if (user == ROLE_PROCESSOR)
		return ROLE_PROCESSOR;
	if (cap == ROLE_PROCESSOR)
		return ROLE_NONE;
	return user < cap ? user : cap;
}

enum role auth_role(struct kctx *ctx, const struct principal *p, const char *rid,
                    const char **processor)
{
	enum role r = ROLE_NONE;
	struct query *q;

	if (processor)
		*processor = NULL;
	if (!p || p->user_id <= 0 || !rid)
		return ROLE_NONE;
	if (p->token_register && strcmp(p->token_register, rid) != 0)
		return ROLE_NONE;
	q = store_query(ctx->db, ST_GRANT_ACTIVE);
	q_int(q, 1, p->user_id);
	q_text(q, 2, rid);
	if (q_step(q, ctx->err) == 1) {
		if (role_parse(q_col_text(q, 0), &r) != 0)
			r = ROLE_NONE;
		if (r == ROLE_PROCESSOR && processor)
			*processor = arena_strdup(ctx->mem, q_col_text(q, 1));
	}
	q_done(q);
	r = role_capped(r, p->token_role);
	if (r != ROLE_PROCESSOR && processor)
		*processor = NULL;
	return r;
}

int auth_roles(struct kctx *ctx, const struct principal *p, json_t **out)
{
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, ST_GRANT_OF_USER);
	int rc;

	q_int(q, 1, p->user_id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *rid = q_col_text(q, 0);
		enum role r = ROLE_NONE;
		if (p->token_register && strcmp(p->token_register, rid) != 0)
			continue;
		if (role_parse(q_col_text(q, 1), &r) != 0)
			continue;
		r = role_capped(r, p->token_role);
		if (r == ROLE_NONE)
			continue;
		json_array_append_new(list,
		                      json_pack("{s:s, s:s, s:s?}", "register", rid, "role",
		                                role_name(r), "processor",
		                                r == ROLE_PROCESSOR ? q_col_text(q, 2) : NULL));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

/* ---------------------------------------------------------------- sign-in throttling */

struct throttle {
	bool exists;
	int64_t failures, last_failure, next_allowed, locked_until, user_id;
};

/* The throttle keys of an attempt: the account name (as a keyed hash, so names typed at the
 * sign-in form are never stored) and the client address. */
struct throttle_keys {
	char user[5 + 2 * FIELD_HASH_BYTES + 1];
	const char *addr; /* NULL without a client address */
};

static void throttle_keys(struct kctx *ctx, const char *name, struct throttle_keys *k)
{
	unsigned char h[FIELD_HASH_BYTES];
	field_hash(&ctx->app->keys, name, strlen(name), h);
	memcpy(k->user, "user:", 5);
	sodium_bin2hex(k->user + 5, sizeof(k->user) - 5, h, sizeof(h));
	k->addr =
	        ctx->client && *ctx->client ? arena_printf(ctx->mem, "addr:%s", ctx->client) : NULL;
}

static int throttle_get(struct kctx *ctx, const char *key, struct throttle *t)
{
	struct query *q = store_query(ctx->db, ST_THROTTLE_GET);
	int rc;
	memset(t, 0, sizeof(*t));
	q_text(q, 1, key);
	if ((rc = q_step(q, ctx->err)) == 1) {
		t->exists = true;
		t->failures = q_col_int(q, 0);
		t->last_failure = q_col_int(q, 1);
		t->next_allowed = q_col_int(q, 2);
		t->locked_until = q_col_int(q, 3);
		t->user_id = q_col_int(q, 4);
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* Whether the failures of `t` are so old they no longer count. */
static bool throttle_stale(struct kctx *ctx, const struct throttle *t)
{
	return ctx->now - t->last_failure >= ctx->app->cfg.signin_lock_seconds;
}

/* Seconds until `t` allows an attempt (0: now). */
static int64_t throttle_wait(struct kctx *ctx, const struct throttle *t)
{
	if (!t->exists)
		return 0;
	if (t->locked_until > ctx->now)
		return t->locked_until - ctx->now;
	if (t->locked_until || throttle_stale(ctx, t))
		return 0;
	return t->next_allowed > ctx->now ? t->next_allowed - ctx->now : 0;
}

/* The longest wait of the account and address keys. */
static int throttle_check(struct kctx *ctx, const struct throttle_keys *k, int64_t *wait)
{
	struct throttle t;
	int rc;
	*wait = 0;
	if ((rc = throttle_get(ctx, k->user, &t)))
		return rc;
	*wait = throttle_wait(ctx, &t);
	if (k->addr) {
		if ((rc = throttle_get(ctx, k->addr, &t)))
			return rc;
		int64_t w = throttle_wait(ctx, &t);
		if (w > *wait)
			*wait = w;
	}
	return 0;
}

/* Logs the end of a lock: of the account when the key names one, else of a client. */
static int log_lock(struct kctx *ctx, const char *action, int64_t user_id)
{
	return usage_record(ctx, action, NULL, user_id ? "user" : "client", user_id, NULL);
}

/* A client address gets this many times the failures of one account name before it must
 * wait or is locked: the staff of an office often share one address. */
#define ADDR_ALLOWANCE 5

/* Records one failed attempt on `key` (inside the write transaction); `allowance` multiplies
 * the configured thresholds. */
static int throttle_fail(struct kctx *ctx, const char *key, int64_t user_id, int allowance)
{
	const struct config *cfg = &ctx->app->cfg;
	const int64_t delay_after = (int64_t)cfg->signin_delay_after * allowance;
	const int64_t lock_after = (int64_t)cfg->signin_lock_after * allowance;
	struct throttle t;
	int rc;

	if ((rc = throttle_get(ctx, key, &t)))
		return rc;
	int64_t failures = t.failures;
	if (t.exists && t.locked_until && t.locked_until <= ctx->now) {
		/* A lock that ran out before the sweep saw it ends here. */
		if ((rc = log_lock(ctx, "signin.unlock", t.user_id)))
			return rc;
		failures = 0;
	} else if (!t.exists || throttle_stale(ctx, &t)) {
		failures = 0;
	}
	failures++;
	int64_t next = ctx->now, locked = 0;
	if (failures >= delay_after) {
		int64_t exp = failures - delay_after;
		int64_t delay = exp >= 9 ? DELAY_MAX : (int64_t)1 << exp;
		next = ctx->now + (delay < DELAY_MAX ? delay : DELAY_MAX);
	}
	if (failures >= lock_after) {
		locked = ctx->now + cfg->signin_lock_seconds;
		if ((rc = log_lock(ctx, "signin.lock", user_id)))
			return rc;
	}
	struct query *q = store_query(ctx->db, ST_THROTTLE_PUT);
	q_text(q, 1, key);
	q_int(q, 2, failures);
	q_int(q, 3, ctx->now);
	q_int(q, 4, next);
	if (locked)
		q_int(q, 5, locked);
	if (user_id)
		q_int(q, 6, user_id);
	return q_exec(q, ctx->err);
}

/* Forgets the failures of `key` after a successful sign-in. */
static int throttle_clear(struct kctx *ctx, const char *key)
{
	struct throttle t;
	int rc;
	if ((rc = throttle_get(ctx, key, &t)))
		return rc;
	if (!t.exists)
		return 0;
	if (t.locked_until && (rc = log_lock(ctx, "signin.unlock", t.user_id)))
		return rc;
	struct query *q = store_query(ctx->db, ST_THROTTLE_DELETE);
	q_text(q, 1, key);
	return q_exec(q, ctx->err);
}

/* ---------------------------------------------------------------- sign-in */

/* An Argon2id hash of a random password, verified against when the user is unknown or has
 * no password, so those cases take the same time as a wrong password. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void dummy_init(void)
{
	unsigned char pw[32];
	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw),
	                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

static int throttled(struct kctx *ctx, struct signin_result *out, int64_t wait)
{
	out->retry_after = wait;
	return kerr_set(ctx->err, KERR_THROTTLED, NULL,
	                "too many failed sign-ins: try again in %lld second%s", (long long)wait,
	                wait == 1 ? "" : "s");
}

/* Logs a sign-in event of account `u` (NULL: a name that is no account) as that user, so
 * that `audit show --user NAME` lists it; the request itself has no identity yet. */
static int log_signin(struct kctx *ctx, const char *action, const struct account_row *u,
                      const char *reason)
{
	if (!u)
		return usage_record(ctx, action, NULL, "client", 0, reason);
	const struct actor *anon = ctx->actor;
	struct actor as = {ACTOR_USER, arena_printf(ctx->mem, "user:%s", u->name), u->id, 0};
	ctx->actor = &as;
	int rc = usage_record(ctx, action, NULL, "user", u->id, reason);
	ctx->actor = anon;
	return rc;
}

/* The outcome of the password check, carried into the write transaction. */
struct attempt {
	const struct throttle_keys *keys;
	const char *name, *otp;
	bool found, password_ok;
	struct account_row user; /* when found */
	struct signin_result *out;
	bool throttled;
	bool failed;
};

static int session_create(struct kctx *ctx, const struct account_row *u, struct signin_result *out)
{
	unsigned char h[32];
	const char *restriction;
	int rc;

	if ((rc = account_restriction(ctx, u, &restriction)))
		return rc;
	token_new("ks_", out->token);
	token_new("", out->csrf);
	token_hash(out->token, "ks_", h);
	out->expires = ctx->now + ctx->app->cfg.session_lifetime;
	out->restriction = restriction;
	struct query *q = store_query(ctx->db, ST_SESSION_INSERT);
	q_blob(q, 1, h, sizeof(h));
	q_int(q, 2, u->id);
	q_text(q, 3, out->csrf);
	q_int(q, 4, ctx->now);
	q_int(q, 5, out->expires);
	q_text(q, 6, restriction);
	return q_exec(q, ctx->err);
}

static int signin_tx(struct kctx *ctx, struct attempt *a)
{
	const char *why = NULL;
	struct account_row u = {0};
	int64_t wait;
	int rc;

	/* A failure recorded by a concurrent attempt since the first check counts now. */
	if ((rc = throttle_check(ctx, a->keys, &wait)))
		return rc;
	if (wait > 0) {
		a->throttled = true;
		throttled(ctx, a->out, wait);
		return 0;
	}
	bool ok = a->password_ok;
	if (!a->found) {
		why = "unknown_user";
	} else {
		if ((rc = account_read(ctx, a->user.id, NULL, &u)) < 0)
			return rc;
		if (rc == 0 || !u.pw_hash || !a->user.pw_hash || strcmp(u.pw_hash, a->user.pw_hash))
			ok = false; /* removed or changed since the check */
		if (rc == 0)
			why = "unknown_user";
		else if (!u.active)
			why = "inactive";
		else if (!u.pw_hash)
			why = "no_password";
		else if (!ok)
			why = "password";
	}
	if (ok && u.totp_confirmed) {
		bool match = false;
		int64_t step = 0;
		if ((rc = account_totp_match(ctx, u.totp_sealed, u.totp_sealed_len,
		                             u.totp_last_step, a->otp, &match, &step)))
			return rc;
		if (match) {
			struct query *q = store_query(ctx->db, ST_USER_TOTP_STEP);
			q_int(q, 1, u.id);
			q_int(q, 2, step);
			if ((rc = q_exec(q, ctx->err)))
				return rc;
			match = store_changes(ctx->db) == 1;
		}
		if (!match) {
			ok = false;
			why = "otp";
		}
	}
	if (!ok) {
		int64_t uid = a->found && why && strcmp(why, "unknown_user") ? u.id : 0;
		a->failed = true;
		if ((rc = throttle_fail(ctx, a->keys->user, uid, 1)) ||
		    (a->keys->addr && (rc = throttle_fail(ctx, a->keys->addr, 0, ADDR_ALLOWANCE))))
			return rc;
		return log_signin(ctx, "signin.fail", uid ? &u : NULL, why);
	}
	if ((rc = throttle_clear(ctx, a->keys->user)) || (rc = session_create(ctx, &u, a->out)))
		return rc;
	return log_signin(ctx, "signin", &u, a->out->restriction);
}

int auth_signin(struct kctx *ctx, const char *name, const char *password, const char *otp,
                struct signin_result *out)
{
	struct throttle_keys keys;
	struct attempt a = {.keys = &keys, .name = name, .otp = otp, .out = out};
	int64_t wait;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return kerr_set(ctx->err, KERR_INVALID, "name", "name: required");
	if (!password || !*password)
		return kerr_set(ctx->err, KERR_INVALID, "password", "password: required");
	throttle_keys(ctx, name, &keys);

	/* 1. A throttled attempt is refused before any password work. */
	if ((rc = throttle_check(ctx, &keys, &wait)))
		return rc;
	if (wait > 0)
		return throttled(ctx, out, wait);

	/* 2. The password, outside any transaction: Argon2id takes tens of milliseconds and
	 *    must not hold the write lock. Unknown users cost the same through the dummy. */
	if ((rc = account_read(ctx, 0, name, &a.user)) < 0)
		return rc;
	a.found = rc == 1;
	pthread_once(&dummy_once, dummy_init);
	const char *hash = a.found && a.user.pw_hash ? a.user.pw_hash : dummy_hash;
	/* An over-long password is still hashed (its first bytes), then refused. */
	size_t plen = strlen(password), n = plen < PASSWORD_MAX_BYTES ? plen : PASSWORD_MAX_BYTES;
	bool verified = crypto_pwhash_str_verify(hash, password, n) == 0;
	a.password_ok = verified && plen == n && a.found && a.user.pw_hash && a.user.active;

	/* 3. The outcome: a session, or the failure counted; both logged. */
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = signin_tx(ctx, &a))) {
		store_rollback(ctx->db);
		memset(out->token, 0, sizeof(out->token));
		return rc;
	}
	if (a.throttled) {
		store_rollback(ctx->db);
		return KERR_THROTTLED;
	}
	if ((rc = store_commit(ctx->db, ctx->err))) {
		sodium_memzero(out, sizeof(*out));
		return rc;
	}
	if (a.failed)
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_signin);
	return 0;
}

/* ---------------------------------------------------------------- sessions */

int auth_session(struct kctx *ctx, const char *token, struct principal *out, bool *touch)
{
	const struct config *cfg = &ctx->app->cfg;
	unsigned char h[32];
	bool ok = false;
	int rc;

	memset(out, 0, sizeof(*out));
	*touch = false;
	if (!token_hash(token, "ks_", h))
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_session);
	struct query *q = store_query(ctx->db, ST_SESSION_AUTH);
	q_blob(q, 1, h, sizeof(h));
	if ((rc = q_step(q, ctx->err)) == 1) {
		int64_t last_seen = q_col_int(q, 5), expires = q_col_int(q, 6);
		ok = q_col_int(q, 3) != 0 && ctx->now < expires &&
		     ctx->now - last_seen < cfg->session_idle;
		out->user_id = q_col_int(q, 0);
		out->user_name = arena_strdup(ctx->mem, q_col_text(q, 1));
		out->admin = q_col_int(q, 2) != 0;
		out->csrf = arena_strdup(ctx->mem, q_col_text(q, 4));
		out->restriction = arena_strdup(ctx->mem, q_col_text(q, 7));
		out->commitment_accepted = (int)q_col_int(q, 8);
		out->commitment_current = (int)q_col_int(q, 9);
		out->expires = expires;
		int64_t every = cfg->session_idle / 2 < 60 ? cfg->session_idle / 2 : 60;
		*touch = ok && ctx->now - last_seen >= every;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_session);
	}
	return 0;
}

int auth_bearer(struct kctx *ctx, const char *token, struct principal *out, bool *touch)
{
	unsigned char h[32];
	bool ok = false;
	int rc;

	memset(out, 0, sizeof(*out));
	*touch = false;
	if (!token_hash(token, "kt_", h))
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, "not a valid API token");
	struct query *q = store_query(ctx->db, ST_TOKEN_AUTH);
	q_blob(q, 1, h, sizeof(h));
	if ((rc = q_step(q, ctx->err)) == 1) {
		int64_t expires = q_col_null(q, 7) ? 0 : q_col_int(q, 7);
		ok = q_col_int(q, 4) != 0 && q_col_null(q, 8) && (!expires || ctx->now < expires);
		out->token_id = q_col_int(q, 0);
		out->user_id = q_col_int(q, 1);
		out->user_name = arena_strdup(ctx->mem, q_col_text(q, 2));
		out->token_register = arena_strdup(ctx->mem, q_col_text(q, 5));
		out->token_role = ROLE_NONE;
		if (!q_col_null(q, 6) && role_parse(q_col_text(q, 6), &out->token_role) != 0)
			ok = false;
		out->admin = q_col_int(q, 3) != 0 && !out->token_register &&
		             out->token_role == ROLE_NONE;
		out->commitment_accepted = (int)q_col_int(q, 10);
		out->commitment_current = (int)q_col_int(q, 11);
		out->expires = expires;
		*touch = ok && (q_col_null(q, 9) || ctx->now - q_col_int(q, 9) >= 60);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return kerr_set(ctx->err, KERR_UNAUTH, NULL,
		                "the API token is unknown, expired or revoked");
	}
	return 0;
}

static int touch_tx(struct kctx *ctx, const struct principal *p, const char *token)
{
	unsigned char h[32];
	struct query *q;
	if (p->token_id) {
		q = store_query(ctx->db, ST_TOKEN_TOUCH);
		q_int(q, 1, p->token_id);
		q_int(q, 2, ctx->now);
		return q_exec(q, ctx->err);
	}
	if (!token_hash(token, "ks_", h))
		return 0;
	q = store_query(ctx->db, ST_SESSION_TOUCH);
	q_blob(q, 1, h, sizeof(h));
	q_int(q, 2, ctx->now);
	return q_exec(q, ctx->err);
}

int auth_touch(struct kctx *ctx, const struct principal *p, const char *token)
{
	IN_WRITE_TX(ctx, touch_tx(ctx, p, token));
}

static int signout_tx(struct kctx *ctx, const char *token)
{
	unsigned char h[32];
	int rc;
	if (!token_hash(token, "ks_", h))
		return 0;
	struct query *q = store_query(ctx->db, ST_SESSION_USER);
	q_blob(q, 1, h, sizeof(h));
	int64_t uid = 0;
	if ((rc = q_step(q, ctx->err)) == 1)
		uid = q_col_int(q, 0);
	q_done(q);
	if (rc <= 0)
		return rc;
	q = store_query(ctx->db, ST_SESSION_DELETE);
	q_blob(q, 1, h, sizeof(h));
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "signout", NULL, "user", uid, NULL);
}

int auth_signout(struct kctx *ctx, const char *token)
{
	IN_WRITE_TX(ctx, signout_tx(ctx, token));
}

static int refresh_tx(struct kctx *ctx, const char *token, const char **restriction)
{
	unsigned char h[32];
	struct account_row u;
	int64_t uid = 0;
	int rc;

	if (!token_hash(token, "ks_", h))
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_session);
	struct query *q = store_query(ctx->db, ST_SESSION_USER);
	q_blob(q, 1, h, sizeof(h));
	if ((rc = q_step(q, ctx->err)) == 1)
		uid = q_col_int(q, 0);
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_session);
	if ((rc = account_read(ctx, uid, NULL, &u)) < 0)
		return rc;
	if (rc == 0 || !u.active)
		return kerr_set(ctx->err, KERR_UNAUTH, NULL, unauth_session);
	if ((rc = account_restriction(ctx, &u, restriction)))
		return rc;
	q = store_query(ctx->db, ST_SESSION_RESTRICT);
	q_blob(q, 1, h, sizeof(h));
	q_text(q, 2, *restriction);
	return q_exec(q, ctx->err);
}

int auth_session_refresh(struct kctx *ctx, const char *token, const char **restriction)
{
	const char *tmp = NULL;
	if (!restriction)
		restriction = &tmp;
	*restriction = NULL;
	if (token && strncmp(token, "kt_", 3) == 0)
		return 0;
	IN_WRITE_TX(ctx, refresh_tx(ctx, token, restriction));
}

/* ---------------------------------------------------------------- API tokens */

/* The highest role of user `uid` on any register. */
static int highest_role(struct kctx *ctx, int64_t uid, enum role *out)
{
	struct query *q = store_query(ctx->db, ST_GRANT_OF_USER);
	int rc;
	*out = ROLE_NONE;
	q_int(q, 1, uid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		enum role r;
		if (role_parse(q_col_text(q, 1), &r) == 0 && r > *out)
			*out = r;
	}
	q_done(q);
	return rc;
}

struct token_args {
	int64_t user_id;
	const char *rid;
	enum role role;
	int64_t expires;
	char *token;
	int64_t id;
};

static int token_create_tx(struct kctx *ctx, struct token_args *a)
{
	struct account_row u;
	unsigned char h[32];
	int rc;

	if ((rc = account_get(ctx, a->user_id, &u)))
		return rc;
	if (!u.active)
		return kerr_set(ctx->err, KERR_REFUSED, "user", "user '%s' is deactivated", u.name);
	if (a->role != ROLE_NONE) {
		struct principal p = {.user_id = u.id};
		enum role have = ROLE_NONE;
		if (a->rid)
			have = auth_role(ctx, &p, a->rid, NULL);
		else if ((rc = highest_role(ctx, u.id, &have)) < 0)
			return rc;
		if (have == ROLE_NONE || role_capped(have, a->role) != a->role)
			return kerr_set(ctx->err, KERR_FORBIDDEN, "role",
			                "role: user '%s' has the role %s%s%s; a token cannot have "
			                "%s",
			                u.name, role_name(have), a->rid ? " on " : "",
			                a->rid ? a->rid : "", role_name(a->role));
	}
	token_new("kt_", a->token);
	token_hash(a->token, "kt_", h);
	struct query *q = store_query(ctx->db, ST_TOKEN_INSERT);
	q_blob(q, 1, h, sizeof(h));
	q_int(q, 2, u.id);
	q_text(q, 3, a->rid);
	q_text(q, 4, a->role != ROLE_NONE ? role_name(a->role) : NULL);
	q_text(q, 5, ctx->now_iso);
	q_text(q, 6, ctx->actor->name);
	if (a->expires)
		q_int(q, 7, a->expires);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	a->id = store_last_id(ctx->db);
	return usage_record(ctx, "token.create", a->rid, "user", u.id,
	                    arena_printf(ctx->mem, "token:%lld", (long long)a->id));
}

/* The operator, an admin, or the user themselves through a session. */
static int may_manage_tokens(struct kctx *ctx, int64_t user_id)
{
	struct principal p;
	int rc = account_actor(ctx, &p);
	if (rc)
		return rc;
	if (p.admin || (ctx->actor->kind == ACTOR_USER && p.user_id == user_id))
		return 0;
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
	                "only an admin or the user may manage the user's API tokens");
}

int token_create(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
                 int64_t expires, char token[64], int64_t *id)
{
	struct token_args a = {user_id, rid, role, expires, token, 0};
	int rc;

	memset(token, 0, 64);
	if ((rc = may_manage_tokens(ctx, user_id)))
		return rc;
	if (rid && !app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid);
	if (role < ROLE_NONE || role >= ROLE__MAX)
		return kerr_set(ctx->err, KERR_INVALID, "role", "role: unknown");
	if (expires && expires <= ctx->now)
		return kerr_set(ctx->err, KERR_INVALID, "expires",
		                "expires: must be in the future");
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = token_create_tx(ctx, &a)) || (rc = store_commit(ctx->db, ctx->err))) {
		store_rollback(ctx->db);
		sodium_memzero(token, 64);
		return rc;
	}
	if (id)
		*id = a.id;
	return 0;
}

int token_list(struct kctx *ctx, int64_t user_id, json_t **out)
{
	int rc = user_id ? may_manage_tokens(ctx, user_id) : account_require_admin(ctx);
	if (rc)
		return rc;
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, user_id ? ST_TOKEN_LIST_USER : ST_TOKEN_LIST_ALL);
	if (user_id)
		q_int(q, 1, user_id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		char expires[21] = "", used[21] = "";
		if (!q_col_null(q, 6))
			time_format_iso8601(q_col_int(q, 6), expires);
		if (!q_col_null(q, 7))
			time_format_iso8601(q_col_int(q, 7), used);
		json_array_append_new(
		        list,
		        json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "id",
		                  (json_int_t)q_col_int(q, 0), "user", q_col_text(q, 1), "register",
		                  q_col_text(q, 2), "role", q_col_text(q, 3), "created_at",
		                  q_col_text(q, 4), "created_by", q_col_text(q, 5), "expires",
		                  *expires ? expires : NULL, "last_used", *used ? used : NULL,
		                  "revoked_at", q_col_text(q, 8), "revoked_by", q_col_text(q, 9)));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

static int token_revoke_tx(struct kctx *ctx, int64_t token_id)
{
	struct query *q = store_query(ctx->db, ST_TOKEN_GET);
	int64_t uid = 0;
	bool revoked = false;
	int rc;

	q_int(q, 1, token_id);
	if ((rc = q_step(q, ctx->err)) == 1) {
		uid = q_col_int(q, 0);
		revoked = !q_col_null(q, 4);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "token", "token %lld not found",
		                (long long)token_id);
	if ((rc = may_manage_tokens(ctx, uid)))
		return rc;
	if (revoked)
		return kerr_set(ctx->err, KERR_CONFLICT, "token", "token %lld is already revoked",
		                (long long)token_id);
	q = store_query(ctx->db, ST_TOKEN_REVOKE);
	q_int(q, 1, token_id);
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "token.revoke", NULL, "user", uid,
	                    arena_printf(ctx->mem, "token:%lld", (long long)token_id));
}

int token_revoke(struct kctx *ctx, int64_t token_id)
{
	IN_WRITE_TX(ctx, token_revoke_tx(ctx, token_id));
}

/* ---------------------------------------------------------------- maintenance */

static int sweep_tx(struct kctx *ctx)
{
	const struct config *cfg = &ctx->app->cfg;
	struct query *q = store_query(ctx->db, ST_THROTTLE_UNLOCKED);
	size_t n = 0, cap = 16;
	struct ended {
		char *key;
		int64_t user_id;
	} *ended = arena_calloc(ctx->mem, cap, sizeof(*ended));
	int rc;

	q_int(q, 1, ctx->now);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == cap) {
			struct ended *bigger = arena_calloc(ctx->mem, cap * 2, sizeof(*ended));
			memcpy(bigger, ended, cap * sizeof(*ended));
			ended = bigger;
			cap *= 2;
		}
		ended[n].key = arena_strdup(ctx->mem, q_col_text(q, 0));
		ended[n++].user_id = q_col_int(q, 1);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		q = store_query(ctx->db, ST_THROTTLE_DELETE);
		q_text(q, 1, ended[i].key);
		if ((rc = q_exec(q, ctx->err)) ||
		    (rc = log_lock(ctx, "signin.unlock", ended[i].user_id)))
			return rc;
	}
	q = store_query(ctx->db, ST_THROTTLE_STALE);
	q_int(q, 1, ctx->now - cfg->signin_lock_seconds);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_SESSION_SWEEP);
	q_int(q, 1, ctx->now);
	q_int(q, 2, ctx->now - cfg->session_idle);
	return q_exec(q, ctx->err);
}

int auth_sweep(struct kctx *ctx)
{
	IN_WRITE_TX(ctx, sweep_tx(ctx));
}
