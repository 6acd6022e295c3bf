/*
 * Staff accounts: users, their passwords and their second factor (S-01, S-02, S-03).
 * Passwords are Argon2id strings (libsodium); the policy, the history and the age limit are
 * checked here. The slow Argon2id work is done before the write transaction, which then only
 * stores the result if the stored hash is still the one that was checked, so a password
 * change never holds SQLite's single write lock for the length of a hash.
 */
#include "core/account.h"

#include <oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

extern const char common_passwords[];
extern const unsigned long common_passwords_len;

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 1024
#define TOTP_SECRET_BYTES  20
#define TOTP_PERIOD        30
#define TOTP_DIGITS        6

/* ---------------------------------------------------------------- reading users */

static const unsigned char *blob_copy(struct kctx *ctx, struct query *q, int i, size_t *n)
{
	*n = q_col_bytes(q, i);
	if (q_col_null(q, i) || *n == 0)
		return NULL;
	unsigned char *p = arena_alloc(ctx->mem, *n);
	memcpy(p, q_col_blob(q, i), *n);
	return p;
}

int account_read(struct kctx *ctx, int64_t id, const char *name, struct account_row *out)
{
	struct query *q = store_query(ctx->db, id ? ST_USER_GET : ST_USER_BY_NAME);
	int rc;

	memset(out, 0, sizeof(*out));
	if (id)
		q_int(q, 1, id);
	else
		q_text(q, 1, name);
	if ((rc = q_step(q, ctx->err)) == 1) {
		out->id = q_col_int(q, 0);
		out->name = arena_strdup(ctx->mem, q_col_text(q, 1));
		out->admin = q_col_int(q, 2) != 0;
		out->active = q_col_int(q, 3) != 0;
		out->pw_hash = arena_strdup(ctx->mem, q_col_text(q, 4));
		out->pw_changed_at = q_col_int(q, 5);
		out->must_change = q_col_int(q, 6) != 0;
		out->totp_sealed = blob_copy(ctx, q, 7, &out->totp_sealed_len);
		out->totp_confirmed = q_col_int(q, 8) != 0 && out->totp_sealed;
		out->totp_last_step = q_col_int(q, 9);
		out->totp_pending = blob_copy(ctx, q, 10, &out->totp_pending_len);
	}
	q_done(q);
	return rc;
}

int account_get(struct kctx *ctx, int64_t id, struct account_row *u)
{
	int rc = account_read(ctx, id, NULL, u);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "user", "user %lld not found",
		                (long long)id);
	return rc < 0 ? rc : 0;
}

int account_find(struct kctx *ctx, const char *name, int64_t *id)
{
	struct account_row u;
	int rc = account_read(ctx, 0, name, &u);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "user", "user '%s' not found", name);
	if (rc < 0)
		return rc;
	*id = u.id;
	return 0;
}

/* ---------------------------------------------------------------- who may */

int account_actor(struct kctx *ctx, struct principal *p)
{
	const struct actor *a = ctx->actor;
	struct account_row u;
	int rc;

	memset(p, 0, sizeof(*p));
	if (a->kind == ACTOR_OPERATOR) {
		p->admin = true;
		p->user_name = a->name;
		return 0;
	}
	if ((a->kind != ACTOR_USER && a->kind != ACTOR_TOKEN) || a->user_id <= 0)
		goto forbidden;
	if ((rc = account_read(ctx, a->user_id, NULL, &u)) < 0)
		return rc;
	if (rc == 0 || !u.active)
		goto forbidden;
	p->user_id = u.id;
	p->user_name = u.name;
	p->admin = u.admin;
	if (a->kind == ACTOR_TOKEN) {
		struct query *q = store_query(ctx->db, ST_TOKEN_GET);
		bool valid = false;
		q_int(q, 1, a->token_id);
		if ((rc = q_step(q, ctx->err)) == 1) {
			valid = q_col_int(q, 0) == u.id && q_col_null(q, 4) &&
			        (q_col_null(q, 3) || q_col_int(q, 3) > ctx->now);
			p->token_id = a->token_id;
			p->token_register = arena_strdup(ctx->mem, q_col_text(q, 1));
			p->token_role = ROLE_NONE;
			if (!q_col_null(q, 2) && role_parse(q_col_text(q, 2), &p->token_role) != 0)
				valid = false;
		}
		q_done(q);
		if (rc < 0)
			return rc;
		if (!valid)
			goto forbidden;
		p->admin = p->admin && !p->token_register && p->token_role == ROLE_NONE;
	}
	return 0;
forbidden:
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "no right to change accounts");
}

int account_require_admin(struct kctx *ctx)
{
	struct principal p;
	int rc = account_actor(ctx, &p);
	if (rc)
		return rc;
	if (!p.admin)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "only an admin may do this");
	return 0;
}

/* Whether the actor is user `user_id` acting through a session (not a token). */
static bool actor_is_user(struct kctx *ctx, int64_t user_id)
{
	return ctx->actor->kind == ACTOR_USER && ctx->actor->user_id == user_id;
}

/* The user themselves through a session, or an admin. */
static int require_self_or_admin(struct kctx *ctx, int64_t user_id)
{
	if (actor_is_user(ctx, user_id)) {
		struct principal p;
		return account_actor(ctx, &p); /* still active */
	}
	return account_require_admin(ctx);
}

/* ---------------------------------------------------------------- password policy */

/* Copies `s` (n bytes) folded to lower case: ASCII and the upper-case letters of Latin-1
 * (À–Þ, so Ä, Ö and Å too), which covers the Finnish and Swedish alphabets. */
static void fold(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c + 32);
		} else if (c == 0xC3 && i + 1 < n) {
			unsigned char d = (unsigned char)s[i + 1];
			out[i++] = (char)c;
			c = (d >= 0x80 && d <= 0x9E && d != 0x97) ? (unsigned char)(d + 32) : d;
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/* Whether folded `pw` is a line of the embedded list (lines starting with '#' are notes). */
static bool is_common(const char *pw, size_t n)
{
	const char *p = common_passwords, *end = common_passwords + common_passwords_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t len = (size_t)(e - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len == n && *p != '#' && memcmp(p, pw, n) == 0)
			return true;
		p = e + 1;
	}
	return false;
}

int password_policy_check(struct kctx *ctx, const char *user, const char *password)
{
	char folded[PASSWORD_MAX_BYTES + 1], name[80];
	size_t n;
	int rc = 0;

	if (!password || !*password)
		return kerr_set(ctx->err, KERR_INVALID, "password", "password: required");
	n = strlen(password);
	if (n > PASSWORD_MAX_BYTES)
		return kerr_set(ctx->err, KERR_INVALID, "password",
		                "password: must be at most %d bytes", PASSWORD_MAX_BYTES);
	if (!utf8_valid(password, n))
		return kerr_set(ctx->err, KERR_INVALID, "password",
		                "password: must be valid UTF-8 text");
	if (utf8_chars(password, n) < PASSWORD_MIN_CHARS)
		return kerr_set(ctx->err, KERR_INVALID, "password",
		                "password: must be at least %d characters long",
		                PASSWORD_MIN_CHARS);
	fold(password, n, folded);
	if (user && *user && strlen(user) < sizeof(name)) {
		fold(user, strlen(user), name);
		if (strstr(folded, name))
			rc = kerr_set(ctx->err, KERR_INVALID, "password",
			              "password: must not contain the user name");
	}
	if (!rc && is_common(folded, n))
		rc = kerr_set(
		        ctx->err, KERR_INVALID, "password",
		        "password: is on the list of commonly used passwords; choose another");
	sodium_memzero(folded, sizeof(folded));
	return rc;
}

/* Hashes `pw` with Argon2id (interactive limits). */
static int password_hash(struct kctx *ctx, const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL,
		                "not enough memory to hash the password");
	return 0;
}

static bool password_matches(const char *hash, const char *pw)
{
	return hash && crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

static bool name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 3 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- users */

struct add_args {
	const char *name;
	bool admin;
	const char *hash;
	int64_t id;
};

static int add_tx(struct kctx *ctx, struct add_args *a)
{
	struct account_row u;
	int rc = account_read(ctx, 0, a->name, &u);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return kerr_set(ctx->err, KERR_CONFLICT, "name", "user '%s' already exists",
		                a->name);
	struct query *q = store_query(ctx->db, ST_USER_INSERT);
	q_text(q, 1, a->name);
	q_int(q, 2, a->admin);
	q_text(q, 3, a->hash);
	if (a->hash)
		q_int(q, 4, ctx->now);
	q_int(q, 5, 0);
	q_text(q, 6, ctx->now_iso);
	q_text(q, 7, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	a->id = store_last_id(ctx->db);
	return usage_record(ctx, "user.add", NULL, "user", a->id, a->admin ? "admin" : NULL);
}

static int add_in_tx(struct kctx *ctx, struct add_args *a)
{
	IN_WRITE_TX(ctx, add_tx(ctx, a));
}

int account_add(struct kctx *ctx, const char *name, bool admin, const char *password, int64_t *id)
{
	char hash[crypto_pwhash_STRBYTES];
	struct add_args a = {name, admin, NULL, 0};
	int rc;

	if ((rc = account_require_admin(ctx)))
		return rc;
	if (!name_valid(name))
		return kerr_set(ctx->err, KERR_INVALID, "name",
		                "name: 3–64 characters of a-z, 0-9, '.', '_' and '-'");
	if (password) {
		if ((rc = password_policy_check(ctx, name, password)) ||
		    (rc = password_hash(ctx, password, hash)))
			return rc;
		a.hash = hash;
	}
	if ((rc = add_in_tx(ctx, &a)) == 0 && id)
		*id = a.id;
	return rc;
}

/* The active grants of user `id` as [{register, role, processor}]. */
static int user_grants(struct kctx *ctx, int64_t id, json_t *list)
{
	struct query *q = store_query(ctx->db, ST_GRANT_OF_USER);
	int rc;
	q_int(q, 1, id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?}", "register",
		                                      q_col_text(q, 0), "role", q_col_text(q, 1),
		                                      "processor", q_col_text(q, 2)));
	q_done(q);
	return rc;
}

int account_list(struct kctx *ctx, json_t **out)
{
	json_t *list = json_array();
	struct query *q;
	int rc;

	if ((rc = account_require_admin(ctx)))
		goto out;
	q = store_query(ctx->db, ST_USER_LIST);
	while ((rc = q_step(q, ctx->err)) == 1) {
		char changed[21] = "";
		bool has_pw = q_col_int(q, 4) != 0;
		if (has_pw)
			time_format_iso8601(q_col_int(q, 5), changed);
		json_t *o = json_pack(
		        "{s:I, s:s, s:b, s:b, s:b, s:s?, s:b, s:b, s:s, s:s, s:s?, s:s?, s:o}",
		        "id", (json_int_t)q_col_int(q, 0), "name", q_col_text(q, 1), "admin",
		        q_col_int(q, 2) != 0, "active", q_col_int(q, 3) != 0, "password", has_pw,
		        "password_changed", has_pw ? changed : NULL, "must_change",
		        q_col_int(q, 6) != 0, "totp", q_col_int(q, 7) != 0, "created_at",
		        q_col_text(q, 8), "created_by", q_col_text(q, 9), "deactivated_at",
		        q_col_text(q, 10), "deactivated_by", q_col_text(q, 11), "grants",
		        json_array());
		if (has_pw)
			json_object_set_new(o, "password_age_days",
			                    json_integer((ctx->now - q_col_int(q, 5)) / 86400));
		json_array_append_new(list, o);
	}
	q_done(q);
	if (rc < 0)
		goto out;
	/* The grants, one indexed lookup per user, after the user list is read. */
	size_t i;
	json_t *o;
	json_array_foreach (list, i, o) {
		rc = user_grants(ctx, json_integer_value(json_object_get(o, "id")),
		                 json_object_get(o, "grants"));
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

/* Deactivation: the account, its sessions, tokens and grants end together (S-03). */
static int deactivate_tx(struct kctx *ctx, const char *name)
{
	struct account_row u;
	struct query *q;
	int rc = account_read(ctx, 0, name, &u);

	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "user", "user '%s' not found", name);
	if (rc < 0)
		return rc;
	if (!u.active)
		return kerr_set(ctx->err, KERR_CONFLICT, "user", "user '%s' is already deactivated",
		                name);
	q = store_query(ctx->db, ST_USER_DEACTIVATE);
	q_int(q, 1, u.id);
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)) ||
	    (rc = usage_record(ctx, "user.deactivate", NULL, "user", u.id, NULL)))
		return rc;
	q = store_query(ctx->db, ST_SESSION_DELETE_USER);
	q_int(q, 1, u.id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;

	/* Tokens and grants: read the ids first, then revoke and log each. */
	size_t n = 0, cap = 8;
	int64_t *tokens = arena_calloc(ctx->mem, cap, sizeof(*tokens));
	q = store_query(ctx->db, ST_TOKEN_ACTIVE_OF_USER);
	q_int(q, 1, u.id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == cap) {
			int64_t *bigger = arena_calloc(ctx->mem, cap * 2, sizeof(*tokens));
			memcpy(bigger, tokens, cap * sizeof(*tokens));
			tokens = bigger;
			cap *= 2;
		}
		tokens[n++] = q_col_int(q, 0);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		q = store_query(ctx->db, ST_TOKEN_REVOKE);
		q_int(q, 1, tokens[i]);
		q_text(q, 2, ctx->now_iso);
		q_text(q, 3, ctx->actor->name);
		char *reason = arena_printf(ctx->mem, "token:%lld", (long long)tokens[i]);
		if ((rc = q_exec(q, ctx->err)) ||
		    (rc = usage_record(ctx, "token.revoke", NULL, "user", u.id, reason)))
			return rc;
	}

	json_t *grants = json_array();
	size_t gi;
	json_t *g;
	rc = user_grants(ctx, u.id, grants);
	json_array_foreach (grants, gi, g) {
		if (rc < 0)
			break;
		const char *rid = json_string_value(json_object_get(g, "register"));
		q = store_query(ctx->db, ST_GRANT_REVOKE);
		q_int(q, 1, u.id);
		q_text(q, 2, rid);
		q_text(q, 3, ctx->now_iso);
		q_text(q, 4, ctx->actor->name);
		if ((rc = q_exec(q, ctx->err)) == 0)
			rc = usage_record(ctx, "revoke", rid, "user", u.id,
			                  json_string_value(json_object_get(g, "role")));
	}
	json_decref(grants);
	return rc < 0 ? rc : 0;
}

int account_deactivate(struct kctx *ctx, const char *name)
{
	int rc = account_require_admin(ctx);
	if (rc)
		return rc;
	IN_WRITE_TX(ctx, deactivate_tx(ctx, name));
}

/* ---------------------------------------------------------------- passwords */

struct setpw_args {
	int64_t id;
	const char *old_hash; /* the stored hash that was checked (NULL: none was set) */
	const char *new_hash;
	bool force_change;
	bool by_other; /* set by an operator or admin: end the user's sessions */
};

static int setpw_tx(struct kctx *ctx, const struct setpw_args *a)
{
	struct query *q = store_query(ctx->db, ST_USER_SET_PASSWORD);
	int rc;
	q_int(q, 1, a->id);
	q_text(q, 2, a->new_hash);
	q_int(q, 3, ctx->now);
	q_int(q, 4, a->force_change);
	q_text(q, 5, a->old_hash);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) != 1)
		return kerr_set(ctx->err, KERR_CONFLICT, "password",
		                "password: it was changed at the same time; try again");
	if (a->old_hash) {
		q = store_query(ctx->db, ST_PWHIST_INSERT);
		q_int(q, 1, a->id);
		q_text(q, 2, a->old_hash);
		q_int(q, 3, ctx->now);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		q = store_query(ctx->db, ST_PWHIST_PRUNE);
		q_int(q, 1, a->id);
		q_int(q, 2, ctx->app->cfg.password_history);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	if (a->by_other) {
		q = store_query(ctx->db, ST_SESSION_DELETE_USER);
		q_int(q, 1, a->id);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	return usage_record(ctx, "password.set", NULL, "user", a->id,
	                    a->force_change ? "must_change" : NULL);
}

static int setpw_in_tx(struct kctx *ctx, const struct setpw_args *a)
{
	IN_WRITE_TX(ctx, setpw_tx(ctx, a));
}

/* Whether `pw` is the current password or one of the last cfg.password_history ones. */
static int password_reused(struct kctx *ctx, const struct account_row *u, const char *pw,
                           bool *reused)
{
	int limit = ctx->app->cfg.password_history, rc, n = 0;
	const char **old = arena_calloc(ctx->mem, (size_t)limit + 1, sizeof(*old));
	struct query *q = store_query(ctx->db, ST_PWHIST_RECENT);

	q_int(q, 1, u->id);
	q_int(q, 2, limit);
	while ((rc = q_step(q, ctx->err)) == 1 && n < limit)
		old[n++] = arena_strdup(ctx->mem, q_col_text(q, 0));
	q_done(q);
	if (rc < 0)
		return rc;
	*reused = password_matches(u->pw_hash, pw);
	for (int i = 0; i < n && !*reused; i++)
		*reused = password_matches(old[i], pw);
	return 0;
}

int account_set_password(struct kctx *ctx, int64_t user_id, const char *old, const char *password,
                         bool force_change)
{
	char hash[crypto_pwhash_STRBYTES];
	struct account_row u;
	bool reused = false;
	int rc;

	if (ctx->actor->kind == ACTOR_TOKEN)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "an API token cannot change a password; sign in");
	if ((rc = old ? require_self_or_admin(ctx, user_id) : account_require_admin(ctx)) ||
	    (rc = account_get(ctx, user_id, &u)))
		return rc;
	if (!u.active)
		return kerr_set(ctx->err, KERR_REFUSED, "user", "user '%s' is deactivated", u.name);
	if ((rc = password_policy_check(ctx, u.name, password)))
		return rc;
	if (old && !password_matches(u.pw_hash, old))
		return kerr_set(ctx->err, KERR_INVALID, "old", "old: not the current password");
	if ((rc = password_reused(ctx, &u, password, &reused)))
		return rc;
	if (reused)
		return kerr_set(ctx->err, KERR_INVALID, "password",
		                "password: was used recently; choose one that is not among the "
		                "last %d",
		                ctx->app->cfg.password_history + 1);
	if ((rc = password_hash(ctx, password, hash)))
		return rc;
	struct setpw_args a = {u.id, u.pw_hash, hash, force_change, old == NULL};
	return setpw_in_tx(ctx, &a);
}

/* ---------------------------------------------------------------- TOTP (RFC 6238) */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = -1;

static void oath_start(void)
{
	oath_status = oath_init();
}

int account_totp_match(struct kctx *ctx, const unsigned char *sealed, size_t n, int64_t last_step,
                       const char *code, bool *ok, int64_t *step)
{
	char secret[TOTP_SECRET_BYTES + 1], want[TOTP_DIGITS + 1];
	int64_t cur = ctx->now / TOTP_PERIOD, found = 0;

	*ok = false;
	pthread_once(&oath_once, oath_start);
	if (oath_status != OATH_OK)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "liboath could not be initialised");
	if (!code || strlen(code) != TOTP_DIGITS)
		return 0;
	for (int i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	if (!sealed || n != TOTP_SECRET_BYTES + FIELD_SEAL_OVERHEAD ||
	    field_open(&ctx->app->keys, sealed, n, secret) != 0)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL,
		                "the second factor cannot be decrypted with this data directory's "
		                "key");
	/* Every step of the window is computed, so the time taken does not tell which. */
	for (int64_t s = cur - 1; s <= cur + 1; s++) {
		if (oath_totp_generate(secret, TOTP_SECRET_BYTES, (time_t)(s * TOTP_PERIOD),
		                       TOTP_PERIOD, 0, TOTP_DIGITS, want) != OATH_OK)
			continue;
		if (sodium_memcmp(want, code, TOTP_DIGITS) == 0 && s > last_step)
			found = s;
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(want, sizeof(want));
	if (found) {
		*ok = true;
		*step = found;
	}
	return 0;
}

int account_totp_begin(struct kctx *ctx, int64_t user_id, const char **uri)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	unsigned char sealed[TOTP_SECRET_BYTES + FIELD_SEAL_OVERHEAD];
	struct account_row u;
	char *b32 = NULL;
	size_t b32len = 0;
	int rc;

	if (!actor_is_user(ctx, user_id))
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "only the user, signed in, may enrol their second factor");
	if ((rc = account_get(ctx, user_id, &u)))
		return rc;
	if (!u.active)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "the account is deactivated");
	pthread_once(&oath_once, oath_start);
	randombytes_buf(secret, sizeof(secret));
	if (oath_status != OATH_OK ||
	    oath_base32_encode((const char *)secret, sizeof(secret), &b32, &b32len) != OATH_OK) {
		sodium_memzero(secret, sizeof(secret));
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "cannot encode the TOTP secret");
	}
	field_seal(&ctx->app->keys, (const char *)secret, sizeof(secret), sealed);
	sodium_memzero(secret, sizeof(secret));
	*uri = arena_printf(ctx->mem,
	                    "otpauth://totp/kortisto:%s?secret=%.*s&issuer=kortisto&algorithm=SHA1"
	                    "&digits=%d&period=%d",
	                    u.name, (int)b32len, b32, TOTP_DIGITS, TOTP_PERIOD);
	sodium_memzero(b32, b32len);
	free(b32);

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_USER_TOTP_BEGIN);
	q_int(q, 1, user_id);
	q_blob(q, 2, sealed, sizeof(sealed));
	if ((rc = q_exec(q, ctx->err))) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

static int totp_confirm_tx(struct kctx *ctx, int64_t user_id, const char *code)
{
	struct account_row u;
	bool ok = false;
	int64_t step = 0;
	int rc;

	if ((rc = account_get(ctx, user_id, &u)))
		return rc;
	if (!u.totp_pending)
		return kerr_set(ctx->err, KERR_CONFLICT, "code",
		                "no second-factor enrolment was begun");
	if ((rc = account_totp_match(ctx, u.totp_pending, u.totp_pending_len, 0, code, &ok, &step)))
		return rc;
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, "code",
		                "code: does not match; enter the current 6-digit code (check the "
		                "device's clock)");
	struct query *q = store_query(ctx->db, ST_USER_TOTP_CONFIRM);
	q_int(q, 1, user_id);
	q_int(q, 2, step); /* the confirming code cannot be used again to sign in */
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "totp.enrol", NULL, "user", user_id, NULL);
}

int account_totp_confirm(struct kctx *ctx, int64_t user_id, const char *code)
{
	if (!actor_is_user(ctx, user_id))
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "only the user, signed in, may enrol their second factor");
	IN_WRITE_TX(ctx, totp_confirm_tx(ctx, user_id, code));
}

static int totp_remove_tx(struct kctx *ctx, int64_t user_id)
{
	struct account_row u;
	int rc;
	if ((rc = account_get(ctx, user_id, &u)))
		return rc;
	if (!u.totp_sealed && !u.totp_pending)
		return kerr_set(ctx->err, KERR_CONFLICT, "user", "user '%s' has no second factor",
		                u.name);
	struct query *q = store_query(ctx->db, ST_USER_TOTP_REMOVE);
	q_int(q, 1, user_id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "totp.remove", NULL, "user", user_id, NULL);
}

int account_totp_remove(struct kctx *ctx, int64_t user_id)
{
	int rc;
	if (ctx->actor->kind == ACTOR_TOKEN)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "an API token cannot remove a second factor; sign in");
	if ((rc = account_require_admin(ctx)))
		return rc;
	IN_WRITE_TX(ctx, totp_remove_tx(ctx, user_id));
}

/* ---------------------------------------------------------------- restrictions */

int account_restriction(struct kctx *ctx, const struct account_row *u, const char **out)
{
	const struct config *cfg = &ctx->app->cfg;
	int rc;

	*out = NULL;
	if (u->must_change ||
	    (cfg->password_max_age_days > 0 &&
	     u->pw_changed_at + (int64_t)cfg->password_max_age_days * 86400 <= ctx->now)) {
		*out = "password";
		return 0;
	}
	if (u->totp_confirmed)
		return 0;
	if (cfg->totp_admins && u->admin) {
		*out = "totp";
		return 0;
	}
	if (cfg->totp_managers) {
		struct query *q = store_query(ctx->db, ST_GRANT_MANAGER_OF_USER);
		q_int(q, 1, u->id);
		rc = q_step(q, ctx->err);
		q_done(q);
		if (rc < 0)
			return rc;
		if (rc == 1)
			*out = "totp";
	}
	return 0;
}
