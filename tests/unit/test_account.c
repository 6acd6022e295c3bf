/*
 * Unit tests for staff accounts (src/core/account.c, auth.c, grant.c): the password policy,
 * history and age, sign-in and its throttling, sessions, API tokens and their caps, the second
 * factor, grants and the confidentiality commitment. Each test runs against a fresh data
 * directory (rauma-crm and kemi-crm loaded) and drives time through ctx->now. What the code
 * writes is checked through a second, read-only SQLite connection and the database files'
 * bytes. Tests name the promise of PROMISES.md they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <oath.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"
#define DAY   86400

#define PW_A "vihreä-kivi-rantaan-42"
#define PW_B "sininen-lokki-lentää-17"
#define PW_C "punainen-tupa-perunamaa-9"
#define PW_D "kaukana-kaikuu-huuto-3"

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
};

/* ---------------------------------------------------------------- helpers */

static void at(struct fx *f, int64_t t)
{
	kctx_set_now(&f->ctx, t);
}

static void as_operator(struct fx *f)
{
	f->actor = (struct actor){ACTOR_OPERATOR, "operator:test", 0, 0};
}

static void as_user(struct fx *f, int64_t id, const char *name)
{
	f->actor = (struct actor){ACTOR_USER, name, id, 0};
}

static void as_token(struct fx *f, int64_t user_id, int64_t token_id)
{
	f->actor = (struct actor){ACTOR_TOKEN, "token:test", user_id, token_id};
}

static int64_t usage_count(struct fx *f, const char *action, const char *entity, int64_t id)
{
	return raw_int(f,
	               "SELECT count(*) FROM usage_log WHERE action = ?1 AND entity IS ?2"
	               " AND (?3 = 0 OR entity_id = ?3)",
	               "ssi", action, entity, id);
}

static int64_t add_user(struct fx *f, const char *name, bool admin, const char *pw)
{
	int64_t id = 0;
	struct actor keep = f->actor;
	as_operator(f);
	fresh(f);
	int rc = account_add(&f->ctx, name, admin, pw, &id);
	if (rc)
		fail_msg("account_add(%s) = %d: %s", name, rc, f->err.message);
	f->actor = keep;
	assert_true(id > 0);
	return id;
}

static int signin(struct fx *f, const char *name, const char *pw, const char *otp,
                  struct signin_result *res)
{
	struct actor keep = f->actor;
	f->actor = (struct actor){ACTOR_ANON, "api", 0, 0};
	fresh(f);
	int rc = auth_signin(&f->ctx, name, pw, otp, res);
	f->actor = keep;
	return rc;
}

static void signin_ok(struct fx *f, const char *name, const char *pw, const char *otp,
                      struct signin_result *res)
{
	int rc = signin(f, name, pw, otp, res);
	if (rc)
		fail_msg("auth_signin(%s) = %d: %s", name, rc, f->err.message);
	assert_memory_equal(res->token, "ks_", 3);
}

static int session(struct fx *f, const char *token, struct principal *p, bool *touch)
{
	bool t;
	fresh(f);
	return auth_session(&f->ctx, token, p, touch ? touch : &t);
}

static void grant_ok(struct fx *f, int64_t uid, const char *rid, enum role role,
                     const char *processor)
{
	struct actor keep = f->actor;
	as_operator(f);
	fresh(f);
	int rc = grant_add(&f->ctx, uid, rid, role, processor);
	if (rc)
		fail_msg("grant_add = %d: %s", rc, f->err.message);
	f->actor = keep;
}

static int64_t token_ok(struct fx *f, int64_t uid, const char *rid, enum role cap, int64_t expires,
                        char token[64])
{
	int64_t id = 0;
	struct actor keep = f->actor;
	as_operator(f);
	fresh(f);
	int rc = token_create(&f->ctx, uid, rid, cap, expires, token, &id);
	if (rc)
		fail_msg("token_create = %d: %s", rc, f->err.message);
	f->actor = keep;
	assert_memory_equal(token, "kt_", 3);
	return id;
}

/* The TOTP code of the base32 secret in an otpauth:// URI for time `t`, computed with
 * liboath directly, independently of the code under test. */
static void totp_code(const char *uri, int64_t t, char code[7])
{
	const char *s = strstr(uri, "secret=");
	assert_non_null(s);
	s += 7;
	size_t n = strcspn(s, "&");
	char *raw = NULL;
	size_t rawlen = 0;
	assert_int_equal(oath_base32_decode(s, n, &raw, &rawlen), OATH_OK);
	assert_int_equal(rawlen, 20);
	assert_int_equal(oath_totp_generate(raw, rawlen, (time_t)t, 30, 0, 6, code), OATH_OK);
	free(raw);
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fx *f = fixture_open("acct", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	/* The settings the tests rely on, whatever the defaults become. */
	struct config *cfg = &f->app->cfg;
	cfg->password_max_age_days = 180;
	cfg->password_history = 5;
	cfg->totp_admins = false;
	cfg->totp_managers = false;
	cfg->session_idle = 1800;
	cfg->session_lifetime = 43200;
	cfg->signin_delay_after = 3;
	cfg->signin_lock_after = 5;
	cfg->signin_lock_seconds = 900;
	*state = f;
	return 0;
}

/* ---------------------------------------------------------------- passwords */

/* proves S-02: the password policy names the rule that refused a password. */
static void test_password_policy(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *user, *pw, *why; /* why: a word of the message, or NULL: accepted */
	} cases[] = {
	        {"maija", "lyhyt-sana1", "12 characters"},     /* 11 characters */
	        {"maija", "ääääöööååå1", "12 characters"},     /* 11 code points, 21 bytes */
	        {"maija", "ääääöööååå12", NULL},               /* 12 code points */
	        {"maija", "Maija-on-paras-2026", "user name"}, /* contains the name */
	        {"maija", "joku-MAIJA-vain", "user name"},
	        {"maija", "salasana1234", "commonly used"},
	        {"maija", "SalaSana1234", "commonly used"}, /* case-insensitive */
	        {"maija", "SALASANASALASANA", "commonly used"},
	        {"maija", "Password1234", "commonly used"},
	        {"maija", "QWERTYUIOP123", "commonly used"},
	        {"maija", "KESÄ2024KESÄ2024", "commonly used"}, /* Ä folded too */
	        {"maija", PW_A, NULL},
	        {NULL, "correct-horse-battery", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(f);
		int rc = password_policy_check(&f->ctx, cases[i].user, cases[i].pw);
		if (!cases[i].why) {
			if (rc)
				fail_msg("case %zu refused: %s", i, f->err.message);
			continue;
		}
		assert_int_equal(rc, KERR_INVALID);
		assert_string_equal(f->err.field, "password");
		if (!strstr(f->err.message, cases[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, f->err.message,
			         cases[i].why);
	}
	/* account_add applies the policy too, and nothing is stored. */
	fresh(f);
	assert_int_equal(account_add(&f->ctx, "maija", false, "salasana1234", NULL), KERR_INVALID);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM users", ""), 0);
}

/* proves S-02: passwords are stored as Argon2id hashes and verified against them. */
static void test_password_hash_verify(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	char buf[256];
	int64_t id = add_user(f, "maija", false, PW_A);

	raw_text(f, buf, sizeof(buf), "SELECT pw_hash FROM users WHERE id = ?1", id);
	assert_memory_equal(buf, "$argon2id$", 10);
	assert_int_equal(crypto_pwhash_str_verify(buf, PW_A, strlen(PW_A)), 0);
	assert_false(db_files_contain(f, PW_A));

	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_null(res.restriction);
	assert_int_equal(res.expires, NOW + 43200);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(usage_count(f, "signin", "user", id), 1);
	assert_int_equal(usage_count(f, "signin.fail", "user", id), 1);
	assert_int_equal(usage_count(f, "user.add", "user", id), 1);
}

static int set_pw(struct fx *f, int64_t id, const char *old, const char *pw, bool force)
{
	fresh(f);
	return account_set_password(&f->ctx, id, old, pw, force);
}

/* proves S-02: the current and the last N passwords cannot be reused. */
static void test_password_history(void **state)
{
	struct fx *f = *state;
	f->app->cfg.password_history = 1;
	int64_t id = add_user(f, "maija", false, PW_A);
	as_user(f, id, "user:maija");

	assert_int_equal(set_pw(f, id, PW_A, PW_A, false), KERR_INVALID); /* the current one */
	assert_string_equal(f->err.field, "password");
	assert_non_null(strstr(f->err.message, "used recently"));
	assert_int_equal(set_pw(f, id, PW_A, PW_B, false), 0);
	assert_int_equal(set_pw(f, id, PW_B, PW_A, false), KERR_INVALID); /* last one */
	assert_int_equal(set_pw(f, id, PW_B, PW_C, false), 0);
	/* With a history of 1, B (the last) is refused but A (older) is allowed again. */
	assert_int_equal(set_pw(f, id, PW_C, PW_B, false), KERR_INVALID);
	assert_int_equal(set_pw(f, id, PW_C, PW_A, false), 0);
	/* Only what the rule needs is kept. */
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM password_history WHERE user_id = ?1", "i", id), 1);
	/* The old password must be the current one. */
	assert_int_equal(set_pw(f, id, PW_B, PW_D, false), KERR_INVALID);
	assert_string_equal(f->err.field, "old");
	assert_int_equal(usage_count(f, "password.set", "user", id), 3);
}

/* proves S-02: a password older than password_max_age_days forces a change at sign-in. */
static void test_password_age_forces_change(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	struct principal p;
	int64_t id = add_user(f, "maija", false, PW_A);

	at(f, NOW + 180 * DAY - 1);
	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_null(res.restriction);
	at(f, NOW + 180 * DAY);
	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_non_null(res.restriction);
	assert_string_equal(res.restriction, "password");
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_string_equal(p.restriction, "password");

	/* The change lifts it. */
	as_user(f, id, "user:maija");
	assert_int_equal(set_pw(f, id, PW_A, PW_B, false), 0);
	const char *r = "unset";
	fresh(f);
	assert_int_equal(auth_session_refresh(&f->ctx, res.token, &r), 0);
	assert_null(r);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_null(p.restriction);

	/* No age limit configured: never. */
	f->app->cfg.password_max_age_days = 0;
	at(f, NOW + 3650 * DAY);
	signin_ok(f, "maija", PW_B, NULL, &res);
	assert_null(res.restriction);
}

/* proves S-02: a password set by the operator must be changed at the next sign-in, and the
 * user's sessions end when it is set. */
static void test_operator_set_password_must_change(void **state)
{
	struct fx *f = *state;
	struct signin_result res, res2;
	struct principal p;
	int64_t id = add_user(f, "maija", false, PW_A);

	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_int_equal(set_pw(f, id, NULL, PW_B, true), 0);
	assert_int_equal(session(f, res.token, &p, NULL), KERR_UNAUTH);
	assert_int_equal(raw_int(f, "SELECT must_change FROM users WHERE id = ?1", "i", id), 1);

	signin_ok(f, "maija", PW_B, NULL, &res2);
	assert_string_equal(res2.restriction, "password");
	as_user(f, id, "user:maija");
	assert_int_equal(set_pw(f, id, PW_B, PW_C, false), 0);
	assert_int_equal(raw_int(f, "SELECT must_change FROM users WHERE id = ?1", "i", id), 0);
	fresh(f);
	assert_int_equal(auth_session_refresh(&f->ctx, res2.token, NULL), 0);
	assert_int_equal(session(f, res2.token, &p, NULL), 0);
	assert_null(p.restriction);

	/* Only an admin or the operator sets another user's password without the old one. */
	int64_t other = add_user(f, "ville", false, PW_D);
	as_user(f, other, "user:ville");
	assert_int_equal(set_pw(f, id, NULL, PW_D, true), KERR_FORBIDDEN);
	assert_int_equal(set_pw(f, id, PW_C, PW_D, false), KERR_FORBIDDEN);
	/* Tokens never change passwords, not even an admin's own uncapped token. */
	int64_t admin = add_user(f, "paakayttaja", true, PW_A);
	char tok[64];
	int64_t tid = token_ok(f, admin, NULL, ROLE_NONE, 0, tok);
	as_token(f, admin, tid);
	assert_int_equal(set_pw(f, admin, PW_A, PW_D, false), KERR_FORBIDDEN);
	assert_int_equal(set_pw(f, id, NULL, PW_D, true), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(account_totp_remove(&f->ctx, id), KERR_FORBIDDEN);
	/* But it does act as an admin elsewhere. */
	fresh(f);
	assert_int_equal(account_require_admin(&f->ctx), 0);
}

/* ---------------------------------------------------------------- sign-in */

/* proves S-02: unknown user, wrong password, deactivated account and an account without a
 * password get the same answer, after the same work. */
static void test_signin_failures_identical(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	char msg[4][256];
	add_user(f, "maija", false, PW_A);
	add_user(f, "nopass", false, NULL);
	add_user(f, "gone", false, PW_A);
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "gone"), 0);

	static const char *const names[4] = {"no-such-user-xyz", "maija", "gone", "nopass"};
	for (int i = 0; i < 4; i++) {
		at(f, NOW + i * 1000); /* apart, so no throttling */
		assert_int_equal(signin(f, names[i], i == 1 ? PW_B : PW_A, NULL, &res),
		                 KERR_UNAUTH);
		snprintf(msg[i], sizeof(msg[i]), "%s", f->err.message);
		assert_string_equal(f->err.field, "");
		assert_int_equal(res.token[0], '\0');
	}
	for (int i = 1; i < 4; i++)
		assert_string_equal(msg[i], msg[0]);
	assert_string_equal(msg[0], "wrong user name, password or code");
	/* (That each case does the same Argon2id work is in auth_signin; timing it here would
	 * make the test depend on the machine's load.) */
	/* The typed name of an unknown user is stored nowhere. */
	assert_false(db_files_contain(f, "no-such-user-xyz"));
	assert_int_equal(usage_count(f, "signin.fail", "client", 0), 1);
	assert_int_equal(usage_count(f, "signin.fail", "user", 0), 3);
	/* A known account's failures are logged as that user, so `audit show --user` finds
	 * them; the unknown name's is not. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'signin.fail' AND "
	                         "user_id IS NOT NULL AND actor LIKE 'user:%'",
	                         ""),
	                 3);
}

/* proves S-02: after signin_delay_after failures each attempt waits a growing delay; after
 * signin_lock_after the account is locked, even for the right password; the lock is logged
 * and its end too. */
static void test_signin_throttle_and_lock(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	int64_t id = add_user(f, "maija", false, PW_A);
	int64_t t = NOW;

	/* Failures 1 and 2: no delay. Failure 3: 1 s. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 1);
	assert_int_equal(res.token[0], '\0');
	/* A throttled attempt is not counted. */
	assert_int_equal(
	        raw_int(f, "SELECT failures FROM signin_throttle WHERE key LIKE 'user:%'", ""), 3);
	at(f, t += 1);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH); /* 4: 2 s */
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 2);
	at(f, t += 2);
	assert_int_equal(usage_count(f, "signin.lock", "user", id), 0);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH); /* 5: locked */
	assert_int_equal(usage_count(f, "signin.lock", "user", id), 1);

	/* Locked: even the right password is refused, without being checked. */
	at(f, t + 300);
	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 900 - 300);
	assert_non_null(strstr(f->err.message, "600 seconds"));

	/* The sweep before the end leaves it; at the end it lifts it and logs that. */
	at(f, t + 899);
	fresh(f);
	assert_int_equal(auth_sweep(&f->ctx), 0);
	assert_int_equal(usage_count(f, "signin.unlock", "user", id), 0);
	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 1);
	at(f, t + 900);
	fresh(f);
	assert_int_equal(auth_sweep(&f->ctx), 0);
	assert_int_equal(usage_count(f, "signin.unlock", "user", id), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM signin_throttle", ""), 0);
	signin_ok(f, "maija", PW_A, NULL, &res);

	/* A success clears the count: three more failures are needed for a delay. */
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	signin_ok(f, "maija", PW_A, NULL, &res);

	/* Failures older than signin_lock_seconds no longer count. */
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	at(f, t + 900 + 900);
	assert_int_equal(signin(f, "maija", PW_B, NULL, &res), KERR_UNAUTH);
	signin_ok(f, "maija", PW_A, NULL, &res);
}

/* proves S-02: a name that does not exist is throttled and locked the same way, and the lock
 * is logged without the typed name. */
static void test_signin_throttle_unknown_name(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	int64_t t = NOW;
	for (int i = 0; i < 3; i++)
		assert_int_equal(signin(f, "ghost", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "ghost", PW_B, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 1);
	at(f, t += 1);
	assert_int_equal(signin(f, "ghost", PW_B, NULL, &res), KERR_UNAUTH);
	at(f, t += 2);
	assert_int_equal(signin(f, "ghost", PW_B, NULL, &res), KERR_UNAUTH);
	assert_int_equal(signin(f, "ghost", PW_B, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 900);
	assert_int_equal(usage_count(f, "signin.lock", "client", 0), 1);
	assert_false(db_files_contain(f, "ghost"));
}

/* proves S-02: failures from one client address throttle it across account names — after
 * five times the failures one name is allowed, since an office shares its address; other
 * addresses and the account itself are not affected. */
static void test_signin_throttle_per_address(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	char name[16];
	add_user(f, "maija", false, PW_A);
	f->ctx.client = "192.0.2.7";
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "guess%d", i);
		assert_int_equal(signin(f, name, PW_B, NULL, &res), KERR_UNAUTH);
	}
	/* Another name, and even a right password, from this address now waits. */
	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_THROTTLED);
	assert_int_equal(res.retry_after, 1);
	f->ctx.client = "198.51.100.9";
	signin_ok(f, "maija", PW_A, NULL, &res);
	/* The address is a throttle key, never a usage-log reason. */
	assert_int_equal(raw_int(f, "SELECT failures FROM signin_throttle WHERE key = ?1", "s",
	                         "addr:192.0.2.7"),
	                 15);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM usage_log WHERE reason LIKE '%192.0%'", ""), 0);
	f->ctx.client = NULL;
}

/* ---------------------------------------------------------------- sessions */

/* proves S-02: a session ends after session_idle without requests and after
 * session_lifetime in any case; its token is stored only as a hash. */
static void test_session_idle_and_lifetime(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	struct principal p;
	bool touch = true;
	int64_t id = add_user(f, "maija", false, PW_A);
	int64_t t = NOW;

	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_int_equal(strlen(res.token), 3 + 43);
	assert_false(db_files_contain(f, res.token));
	assert_int_equal(session(f, res.token, &p, &touch), 0);
	assert_false(touch);
	assert_int_equal(p.user_id, id);
	assert_string_equal(p.user_name, "maija");
	assert_string_equal(p.csrf, res.csrf);
	assert_int_equal(p.token_id, 0);
	assert_int_equal(p.expires, NOW + 43200);

	/* Requests keep it alive while each comes within session_idle of the last write. */
	at(f, t += 59);
	assert_int_equal(session(f, res.token, &p, &touch), 0);
	assert_false(touch);
	at(f, t += 1);
	assert_int_equal(session(f, res.token, &p, &touch), 0);
	assert_true(touch);
	at(f, t = NOW + 1799);
	assert_int_equal(session(f, res.token, &p, &touch), 0);
	assert_true(touch);
	fresh(f);
	assert_int_equal(auth_touch(&f->ctx, &p, res.token), 0);
	at(f, t + 1799);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	at(f, t + 1800);
	assert_int_equal(session(f, res.token, &p, NULL), KERR_UNAUTH);
	assert_int_equal(p.user_id, 0);

	/* Absolute lifetime: touched every 20 minutes, it still ends at sign-in + lifetime. */
	at(f, t = NOW + DAY);
	signin_ok(f, "maija", PW_A, NULL, &res);
	for (int64_t s = t + 1200; s < t + 43200; s += 1200) {
		at(f, s);
		assert_int_equal(session(f, res.token, &p, &touch), 0);
		assert_true(touch);
		fresh(f);
		assert_int_equal(auth_touch(&f->ctx, &p, res.token), 0);
	}
	at(f, t + 43200);
	assert_int_equal(session(f, res.token, &p, NULL), KERR_UNAUTH);

	/* The sweep removes ended sessions. */
	fresh(f);
	assert_int_equal(auth_sweep(&f->ctx), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions", ""), 0);

	/* Garbage and the other kind of token are refused. */
	assert_int_equal(session(f, "ks_nonsense", &p, NULL), KERR_UNAUTH);
	assert_int_equal(session(f, "", &p, NULL), KERR_UNAUTH);
	assert_int_equal(session(f, NULL, &p, NULL), KERR_UNAUTH);
}

/* proves S-02: signing out ends the session at once. */
static void test_signout(void **state)
{
	struct fx *f = *state;
	struct signin_result res, other;
	struct principal p;
	int64_t id = add_user(f, "maija", false, PW_A);
	signin_ok(f, "maija", PW_A, NULL, &res);
	signin_ok(f, "maija", PW_A, NULL, &other);
	fresh(f);
	assert_int_equal(auth_signout(&f->ctx, res.token), 0);
	assert_int_equal(session(f, res.token, &p, NULL), KERR_UNAUTH);
	assert_int_equal(session(f, other.token, &p, NULL), 0); /* the other stays */
	assert_int_equal(usage_count(f, "signout", "user", id), 1);
	fresh(f);
	assert_int_equal(auth_signout(&f->ctx, res.token), 0); /* again: a no-op */
	assert_int_equal(usage_count(f, "signout", "user", id), 1);
}

/* proves S-03: deactivation ends sessions and tokens at once and revokes every grant, with
 * who and when recorded; the account cannot sign in. */
static void test_deactivation(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	struct principal p;
	bool touch;
	char tok[64], buf[128];
	int64_t id = add_user(f, "maija", false, PW_A);
	grant_ok(f, id, RAUMA, ROLE_EDITOR, NULL);
	grant_ok(f, id, KEMI, ROLE_VIEWER, NULL);
	int64_t tid = token_ok(f, id, NULL, ROLE_NONE, 0, tok);
	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), 0);
	assert_int_equal(p.token_id, tid);

	at(f, NOW + 60);
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "maija"), 0);
	assert_int_equal(session(f, res.token, &p, NULL), KERR_UNAUTH);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), KERR_UNAUTH);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions WHERE user_id = ?1", "i", id),
	                 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM api_tokens WHERE user_id = ?1"
	                         " AND revoked_at IS NULL",
	                         "i", id),
	                 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM grants WHERE user_id = ?1 AND revoked_at ="
	                         " '2026-01-01T00:01:00Z' AND revoked_by = 'operator:test'",
	                         "i", id),
	                 2);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT deactivated_by FROM users WHERE id = ?1", id),
	        "operator:test");
	assert_int_equal(usage_count(f, "user.deactivate", "user", id), 1);
	assert_int_equal(usage_count(f, "revoke", "user", id), 2);
	assert_int_equal(usage_count(f, "token.revoke", "user", id), 1);
	struct principal q = {.user_id = id};
	assert_int_equal(auth_role(&f->ctx, &q, RAUMA, NULL), ROLE_NONE);

	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_UNAUTH);
	assert_string_equal(f->err.message, "wrong user name, password or code");
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "maija"), KERR_CONFLICT);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, RAUMA, ROLE_VIEWER, NULL), KERR_REFUSED);
}

/* ---------------------------------------------------------------- tokens */

static enum role token_role(struct fx *f, const char *tok, const char *rid, const char **proc)
{
	struct principal p;
	bool touch;
	fresh(f);
	int rc = auth_bearer(&f->ctx, tok, &p, &touch);
	if (rc)
		fail_msg("auth_bearer = %d: %s", rc, f->err.message);
	return auth_role(&f->ctx, &p, rid, proc);
}

/* proves S-01: a token never has more rights than its user: its register limit and role cap
 * apply on every request, and a cap above the user's role is refused. */
static void test_token_limits(void **state)
{
	struct fx *f = *state;
	char all[64], rauma_only[64], viewer[64], tok[64];
	const char *proc = NULL;
	int64_t id = add_user(f, "maija", false, PW_A);
	grant_ok(f, id, RAUMA, ROLE_EDITOR, NULL);
	grant_ok(f, id, KEMI, ROLE_PROCESSOR, "external_expert");

	token_ok(f, id, NULL, ROLE_NONE, 0, all);
	token_ok(f, id, RAUMA, ROLE_NONE, 0, rauma_only);
	token_ok(f, id, NULL, ROLE_VIEWER, 0, viewer);
	assert_false(db_files_contain(f, all));

	assert_int_equal(token_role(f, all, RAUMA, NULL), ROLE_EDITOR);
	assert_int_equal(token_role(f, all, KEMI, &proc), ROLE_PROCESSOR);
	assert_string_equal(proc, "external_expert");
	assert_int_equal(token_role(f, rauma_only, RAUMA, NULL), ROLE_EDITOR);
	assert_int_equal(token_role(f, rauma_only, KEMI, &proc), ROLE_NONE);
	assert_null(proc);
	assert_int_equal(token_role(f, viewer, RAUMA, NULL), ROLE_VIEWER);
	assert_int_equal(token_role(f, viewer, KEMI, NULL), ROLE_PROCESSOR); /* stays narrow */

	/* The cap follows the user's role down: a demoted user's tokens drop with it. */
	grant_ok(f, id, RAUMA, ROLE_VIEWER, NULL);
	assert_int_equal(token_role(f, all, RAUMA, NULL), ROLE_VIEWER);
	assert_int_equal(token_role(f, viewer, RAUMA, NULL), ROLE_VIEWER);

	/* Caps above the user's current role are refused. */
	static const struct {
		const char *rid;
		enum role cap;
	} above[] = {
	        {RAUMA, ROLE_EDITOR}, {RAUMA, ROLE_MANAGER}, {RAUMA, ROLE_PROCESSOR},
	        {KEMI, ROLE_VIEWER},  {NULL, ROLE_EDITOR},   {NULL, ROLE_MANAGER},
	};
	for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
		fresh(f);
		int64_t tid = 0;
		assert_int_equal(
		        token_create(&f->ctx, id, above[i].rid, above[i].cap, 0, tok, &tid),
		        KERR_FORBIDDEN);
		assert_int_equal(tok[0], '\0');
	}
	token_ok(f, id, KEMI, ROLE_PROCESSOR, 0, tok);
	assert_int_equal(token_role(f, tok, KEMI, NULL), ROLE_PROCESSOR);
	fresh(f);
	assert_int_equal(token_create(&f->ctx, id, "no-such-register", ROLE_NONE, 0, tok, NULL),
	                 KERR_NOTFOUND);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM api_tokens", ""), 4);
	assert_int_equal(usage_count(f, "token.create", "user", id), 4);
}

/* proves S-01: a token of an admin carries admin rights only without caps; tokens expire,
 * are revoked at once, and are listed without their secret. */
static void test_token_expiry_revocation(void **state)
{
	struct fx *f = *state;
	struct principal p;
	bool touch;
	char plain[64], capped[64], tok[64];
	int64_t admin = add_user(f, "paakayttaja", true, PW_A);
	grant_ok(f, admin, RAUMA, ROLE_MANAGER, NULL);
	token_ok(f, admin, NULL, ROLE_NONE, 0, plain);
	token_ok(f, admin, RAUMA, ROLE_NONE, 0, capped);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, plain, &p, &touch), 0);
	assert_true(p.admin);
	assert_true(touch); /* never used yet */
	assert_null(p.csrf);
	fresh(f);
	assert_int_equal(auth_touch(&f->ctx, &p, plain), 0);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, plain, &p, &touch), 0);
	assert_false(touch);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, capped, &p, &touch), 0);
	assert_false(p.admin);
	assert_string_equal(p.token_register, RAUMA);
	/* A session token is not a bearer token and the other way round. */
	fresh(f);
	assert_int_equal(auth_session(&f->ctx, plain, &p, &touch), KERR_UNAUTH);

	/* Expiry. */
	fresh(f);
	assert_int_equal(token_create(&f->ctx, admin, NULL, ROLE_NONE, NOW, tok, NULL),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "expires");
	int64_t tid = token_ok(f, admin, NULL, ROLE_NONE, NOW + 3600, tok);
	at(f, NOW + 3599);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), 0);
	assert_int_equal(p.expires, NOW + 3600);
	at(f, NOW + 3600);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), KERR_UNAUTH);

	/* Revocation. */
	at(f, NOW + 10);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), 0);
	fresh(f);
	assert_int_equal(token_revoke(&f->ctx, tid), 0);
	fresh(f);
	assert_int_equal(auth_bearer(&f->ctx, tok, &p, &touch), KERR_UNAUTH);
	fresh(f);
	assert_int_equal(token_revoke(&f->ctx, tid), KERR_CONFLICT);
	fresh(f);
	assert_int_equal(token_revoke(&f->ctx, 9999), KERR_NOTFOUND);
	assert_int_equal(usage_count(f, "token.revoke", "user", admin), 1);

	json_t *list = NULL;
	fresh(f);
	assert_int_equal(token_list(&f->ctx, admin, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	char *text = json_dumps(list, 0);
	assert_null(strstr(text, plain + 3));
	assert_null(strstr(text, tok + 3));
	assert_non_null(strstr(text, "\"revoked_by\": \"operator:test\""));
	free(text);
	json_decref(list);

	/* Another user may neither list nor revoke them. */
	int64_t other = add_user(f, "ville", false, PW_B);
	as_user(f, other, "user:ville");
	fresh(f);
	assert_int_equal(token_list(&f->ctx, admin, &list), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(token_revoke(&f->ctx, 1), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(token_create(&f->ctx, admin, NULL, ROLE_NONE, 0, tok, NULL),
	                 KERR_FORBIDDEN);
}

/* ---------------------------------------------------------------- TOTP */

/* proves S-02: a second factor is enrolled with a code from the device, then required at
 * sign-in; a code works once. */
static void test_totp_enrol_and_signin(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	const char *uri = NULL;
	char code[7], uri_copy[256];
	int64_t id = add_user(f, "maija", false, PW_A);

	/* Only the user, signed in, enrols. */
	fresh(f);
	assert_int_equal(account_totp_begin(&f->ctx, id, &uri), KERR_FORBIDDEN);
	as_user(f, id, "user:maija");
	fresh(f);
	assert_int_equal(account_totp_begin(&f->ctx, id, &uri), 0);
	snprintf(uri_copy, sizeof(uri_copy), "%s", uri);
	assert_memory_equal(uri_copy, "otpauth://totp/kortisto:maija?secret=", 37);
	assert_non_null(strstr(uri_copy, "&issuer=kortisto&algorithm=SHA1&digits=6&period=30"));
	assert_int_equal(strcspn(uri_copy + 37, "&"), 32);
	/* The secret is stored sealed only. */
	char secret[33];
	memcpy(secret, uri_copy + 37, 32);
	secret[32] = '\0';
	assert_false(db_files_contain(f, secret));

	/* Not yet confirmed: sign-in needs no code. */
	signin_ok(f, "maija", PW_A, NULL, &res);

	fresh(f);
	assert_int_equal(account_totp_confirm(&f->ctx, id, "000000"), KERR_INVALID);
	assert_string_equal(f->err.field, "code");
	fresh(f);
	assert_int_equal(account_totp_confirm(&f->ctx, id, "12ab56"), KERR_INVALID);
	totp_code(uri_copy, NOW, code);
	fresh(f);
	assert_int_equal(account_totp_confirm(&f->ctx, id, code), 0);
	assert_int_equal(usage_count(f, "totp.enrol", "user", id), 1);
	fresh(f);
	assert_int_equal(account_totp_confirm(&f->ctx, id, code), KERR_CONFLICT);

	/* Now a code is required, and the one used to confirm is spent. */
	assert_int_equal(signin(f, "maija", PW_A, NULL, &res), KERR_UNAUTH);
	assert_string_equal(f->err.message, "wrong user name, password or code");
	assert_int_equal(signin(f, "maija", PW_A, code, &res), KERR_UNAUTH);
	at(f, NOW + 30);
	totp_code(uri_copy, NOW + 30, code);
	assert_int_equal(signin(f, "maija", PW_B, code, &res), KERR_UNAUTH); /* wrong password */
	at(f, NOW + 31);
	signin_ok(f, "maija", PW_A, code, &res);
	at(f, NOW + 200);
	assert_int_equal(signin(f, "maija", PW_A, code, &res), KERR_UNAUTH); /* too old */

	/* One step of clock skew either way is accepted, once. */
	at(f, NOW + 1000);
	totp_code(uri_copy, NOW + 1000 + 30, code);
	signin_ok(f, "maija", PW_A, code, &res);
	assert_int_equal(signin(f, "maija", PW_A, code, &res), KERR_UNAUTH); /* replay */
	assert_int_equal(usage_count(f, "signin.fail", "user", id), 5);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE reason = 'otp'", ""), 4);

	/* The operator removes it; then the password alone works again. */
	as_operator(f);
	at(f, NOW + 5000);
	fresh(f);
	assert_int_equal(account_totp_remove(&f->ctx, id), 0);
	assert_int_equal(usage_count(f, "totp.remove", "user", id), 1);
	signin_ok(f, "maija", PW_A, NULL, &res);
	fresh(f);
	assert_int_equal(account_totp_remove(&f->ctx, id), KERR_CONFLICT);
}

/* proves S-02: when the configuration requires a second factor for admins and managers, a
 * user without one may sign in only to enrol; a password restriction comes first. */
static void test_totp_required(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	struct principal p;
	const char *uri = NULL, *r = NULL;
	char code[7], uri_copy[256];
	f->app->cfg.totp_admins = true;
	f->app->cfg.totp_managers = true;
	int64_t admin = add_user(f, "paakayttaja", true, PW_A);
	int64_t mgr = add_user(f, "esihenkilo", false, PW_A);
	int64_t plain = add_user(f, "tavallinen", false, PW_A);
	grant_ok(f, mgr, KEMI, ROLE_MANAGER, NULL);
	grant_ok(f, plain, KEMI, ROLE_EDITOR, NULL);

	signin_ok(f, "esihenkilo", PW_A, NULL, &res);
	assert_string_equal(res.restriction, "totp");
	signin_ok(f, "tavallinen", PW_A, NULL, &res);
	assert_null(res.restriction);
	/* Made a manager while signed in: the open session may now only enrol too. */
	grant_ok(f, plain, KEMI, ROLE_MANAGER, NULL);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_non_null(p.restriction);
	assert_string_equal(p.restriction, "totp");
	f->app->cfg.totp_managers = false;
	signin_ok(f, "esihenkilo", PW_A, NULL, &res);
	assert_null(res.restriction);

	/* The admin must change the password first, then enrol. */
	assert_int_equal(set_pw(f, admin, NULL, PW_B, true), 0);
	signin_ok(f, "paakayttaja", PW_B, NULL, &res);
	assert_string_equal(res.restriction, "password");
	as_user(f, admin, "user:paakayttaja");
	assert_int_equal(set_pw(f, admin, PW_B, PW_C, false), 0);
	fresh(f);
	assert_int_equal(auth_session_refresh(&f->ctx, res.token, &r), 0);
	assert_string_equal(r, "totp");
	fresh(f);
	assert_int_equal(account_totp_begin(&f->ctx, admin, &uri), 0);
	snprintf(uri_copy, sizeof(uri_copy), "%s", uri);
	totp_code(uri_copy, NOW, code);
	fresh(f);
	assert_int_equal(account_totp_confirm(&f->ctx, admin, code), 0);
	fresh(f);
	assert_int_equal(auth_session_refresh(&f->ctx, res.token, &r), 0);
	assert_null(r);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_null(p.restriction);
	assert_true(p.admin);
}

/* ---------------------------------------------------------------- grants */

/* proves S-03: grants are recorded with who gave them and when; a new grant replaces the
 * old one, which stays as revoked; revocations are recorded and logged. */
static void test_grants_recorded(void **state)
{
	struct fx *f = *state;
	json_t *list = NULL;
	char buf[128];
	int64_t id = add_user(f, "maija", false, PW_A);
	struct principal p = {.user_id = id};

	/* Admins have no personal-data role unless given one. */
	int64_t admin = add_user(f, "paakayttaja", true, PW_A);
	struct principal pa = {.user_id = admin, .admin = true};
	assert_int_equal(auth_role(&f->ctx, &pa, RAUMA, NULL), ROLE_NONE);

	grant_ok(f, id, RAUMA, ROLE_EDITOR, NULL);
	assert_int_equal(auth_role(&f->ctx, &p, RAUMA, NULL), ROLE_EDITOR);
	assert_int_equal(auth_role(&f->ctx, &p, KEMI, NULL), ROLE_NONE);
	at(f, NOW + 60);
	as_user(f, admin, "user:paakayttaja");
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, RAUMA, ROLE_VIEWER, NULL), 0);
	assert_int_equal(auth_role(&f->ctx, &p, RAUMA, NULL), ROLE_VIEWER);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT revoked_by FROM grants WHERE user_id = ?1 AND"
	                             " role = 'editor'",
	                             id),
	                    "user:paakayttaja");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT granted_by || ' ' || granted_at FROM grants"
	                             " WHERE user_id = ?1 AND revoked_at IS NULL",
	                             id),
	                    "user:paakayttaja 2026-01-01T00:01:00Z");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'grant' AND"
	                         " register_id = ?1 AND entity = 'user' AND entity_id = ?2"
	                         " AND reason = 'viewer' AND actor = 'user:paakayttaja'",
	                         "si", RAUMA, id),
	                 1);

	fresh(f);
	assert_int_equal(grant_list(&f->ctx, RAUMA, false, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	fresh(f);
	assert_int_equal(grant_list(&f->ctx, RAUMA, true, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	json_t *first = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(first, "role")), "editor");
	assert_string_equal(json_string_value(json_object_get(first, "granted_by")),
	                    "operator:test");
	assert_string_equal(json_string_value(json_object_get(first, "revoked_by")),
	                    "user:paakayttaja");
	json_decref(list);

	fresh(f);
	assert_int_equal(grant_revoke(&f->ctx, id, RAUMA), 0);
	assert_int_equal(auth_role(&f->ctx, &p, RAUMA, NULL), ROLE_NONE);
	fresh(f);
	assert_int_equal(grant_revoke(&f->ctx, id, RAUMA), KERR_NOTFOUND);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'revoke' AND"
	                         " register_id = ?1 AND entity_id = ?2 AND reason = 'viewer'",
	                         "si", RAUMA, id),
	                 1);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, "no-such-register", ROLE_VIEWER, NULL),
	                 KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, RAUMA, ROLE_NONE, NULL), KERR_INVALID);
}

/* proves S-01: only an admin or a manager of the register changes its grants. */
static void test_grants_who_may(void **state)
{
	struct fx *f = *state;
	int64_t mgr = add_user(f, "esihenkilo", false, PW_A);
	int64_t id = add_user(f, "maija", false, PW_A);
	grant_ok(f, mgr, KEMI, ROLE_MANAGER, NULL);
	grant_ok(f, mgr, RAUMA, ROLE_EDITOR, NULL);

	as_user(f, mgr, "user:esihenkilo");
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_EDITOR, NULL), 0);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, RAUMA, ROLE_EDITOR, NULL), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, mgr, RAUMA, ROLE_MANAGER, NULL), KERR_FORBIDDEN);
	json_t *list = NULL;
	fresh(f);
	assert_int_equal(grant_list(&f->ctx, RAUMA, false, &list), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(grant_list(&f->ctx, NULL, false, &list), KERR_FORBIDDEN);

	/* A manager's token limited to another register cannot grant here. */
	char tok[64];
	int64_t tid = token_ok(f, mgr, RAUMA, ROLE_NONE, 0, tok);
	as_token(f, mgr, tid);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_VIEWER, NULL), KERR_FORBIDDEN);

	/* Neither can an editor, nor anyone once deactivated. */
	as_user(f, id, "user:maija");
	fresh(f);
	assert_int_equal(grant_revoke(&f->ctx, mgr, KEMI), KERR_FORBIDDEN);
	as_operator(f);
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "esihenkilo"), 0);
	as_user(f, mgr, "user:esihenkilo");
	fresh(f);
	assert_int_equal(grant_revoke(&f->ctx, id, KEMI), KERR_FORBIDDEN);
}

/* proves S-09: a processor grant names a processor the register declares, and the role
 * carries it; other roles name none. */
static void test_processor_grant(void **state)
{
	struct fx *f = *state;
	const char *proc = NULL;
	int64_t id = add_user(f, "toimittaja", false, PW_A);
	struct principal p = {.user_id = id};

	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_PROCESSOR, NULL), KERR_INVALID);
	assert_string_equal(f->err.field, "processor");
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_PROCESSOR, "digipolis"), KERR_REFUSED);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_PROCESSOR, "nobody"), KERR_REFUSED);
	fresh(f);
	assert_int_equal(grant_add(&f->ctx, id, KEMI, ROLE_VIEWER, "external_expert"),
	                 KERR_INVALID);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM grants", ""), 0);

	grant_ok(f, id, KEMI, ROLE_PROCESSOR, "external_expert");
	assert_int_equal(auth_role(&f->ctx, &p, KEMI, &proc), ROLE_PROCESSOR);
	assert_string_equal(proc, "external_expert");
	grant_ok(f, id, KEMI, ROLE_VIEWER, NULL);
	assert_int_equal(auth_role(&f->ctx, &p, KEMI, &proc), ROLE_VIEWER);
	assert_null(proc);

	json_t *roles = NULL;
	grant_ok(f, id, KEMI, ROLE_PROCESSOR, "external_expert");
	fresh(f);
	assert_int_equal(auth_roles(&f->ctx, &p, &roles), 0);
	assert_int_equal(json_array_size(roles), 1);
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(roles, 0), "processor")),
	        "external_expert");
	json_decref(roles);
}

/* ---------------------------------------------------------------- the commitment */

/* proves S-05: the commitment is versioned; a user accepts only the current version, and the
 * principal of each request carries both versions. */
static void test_commitment(void **state)
{
	struct fx *f = *state;
	struct signin_result res;
	struct principal p;
	int v = -1;
	const char *text = NULL;
	int64_t id = add_user(f, "maija", false, PW_A);

	fresh(f);
	assert_int_equal(commitment_current(&f->ctx, &v, &text), 0);
	assert_int_equal(v, 0);
	assert_null(text);
	signin_ok(f, "maija", PW_A, NULL, &res);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_int_equal(p.commitment_current, 0);

	fresh(f);
	assert_int_equal(commitment_ensure_default(&f->ctx), 0);
	fresh(f);
	assert_int_equal(commitment_current(&f->ctx, &v, &text), 0);
	assert_int_equal(v, 1);
	assert_non_null(strstr(text, "Vaitiolositoumus"));
	assert_non_null(strstr(text, "Confidentiality commitment"));
	fresh(f);
	assert_int_equal(commitment_ensure_default(&f->ctx), 0); /* once only */
	fresh(f);
	assert_int_equal(commitment_set(&f->ctx, "Uusi teksti.\n\nNew text.\n", &v), 0);
	assert_int_equal(v, 2);
	fresh(f);
	assert_int_equal(commitment_set(&f->ctx, " \n ", &v), KERR_INVALID);
	assert_int_equal(usage_count(f, "commitment.set", "commitment", 0), 2);
	char sha[65];
	sha256_hex("Uusi teksti.\n\nNew text.\n", 24, sha);
	assert_int_equal(raw_int(f, "SELECT version FROM commitments WHERE sha256 = ?1", "s", sha),
	                 2);

	/* Only the user accepts, and only the current version. */
	fresh(f);
	assert_int_equal(commitment_accept(&f->ctx, id, 2), KERR_FORBIDDEN);
	as_user(f, id, "user:maija");
	fresh(f);
	assert_int_equal(commitment_accept(&f->ctx, id, 1), KERR_CONFLICT);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_int_equal(p.commitment_current, 2);
	assert_int_equal(p.commitment_accepted, 0);
	fresh(f);
	assert_int_equal(commitment_accept(&f->ctx, id, 2), 0);
	fresh(f);
	assert_int_equal(commitment_accept(&f->ctx, id, 2), 0); /* again: no second entry */
	assert_int_equal(usage_count(f, "commitment.accept", "user", id), 1);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_int_equal(p.commitment_accepted, 2);

	/* A new version makes the acceptance stale. */
	as_operator(f);
	fresh(f);
	assert_int_equal(commitment_set(&f->ctx, "Kolmas.\n", &v), 0);
	assert_int_equal(session(f, res.token, &p, NULL), 0);
	assert_int_equal(p.commitment_current, 3);
	assert_int_equal(p.commitment_accepted, 2);

	json_t *list = NULL;
	fresh(f);
	assert_int_equal(commitment_list(&f->ctx, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "user")),
	                    "maija");
	json_decref(list);
	as_user(f, id, "user:maija");
	fresh(f);
	assert_int_equal(commitment_set(&f->ctx, "Oma.\n", &v), KERR_FORBIDDEN);
}

/* ---------------------------------------------------------------- users */

/* proves S-01: accounts are personal and named; only an admin or the operator manages them. */
static void test_users_named_and_managed(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	static const char *const bad[] = {
	        "ab",
	        "Maija",
	        "maija virtanen",
	        "maija@example.fi",
	        "",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(f);
		assert_int_equal(account_add(&f->ctx, bad[i], false, NULL, &id), KERR_INVALID);
		assert_string_equal(f->err.field, "name");
	}
	int64_t maija = add_user(f, "maija.virtanen", false, NULL);
	fresh(f);
	assert_int_equal(account_add(&f->ctx, "maija.virtanen", false, NULL, &id), KERR_CONFLICT);
	fresh(f);
	assert_int_equal(account_find(&f->ctx, "maija.virtanen", &id), 0);
	assert_int_equal(id, maija);
	fresh(f);
	assert_int_equal(account_find(&f->ctx, "nobody", &id), KERR_NOTFOUND);

	int64_t admin = add_user(f, "paakayttaja", true, PW_A);
	grant_ok(f, maija, RAUMA, ROLE_VIEWER, NULL);
	json_t *list = NULL;
	as_user(f, admin, "user:paakayttaja");
	fresh(f);
	assert_int_equal(account_list(&f->ctx, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	json_t *m = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(m, "name")), "maija.virtanen");
	assert_false(json_is_true(json_object_get(m, "password")));
	assert_int_equal(json_array_size(json_object_get(m, "grants")), 1);
	assert_null(json_object_get(m, "pw_hash"));
	json_decref(list);
	fresh(f);
	assert_int_equal(account_add(&f->ctx, "uusi", false, NULL, &id), 0);

	as_user(f, maija, "user:maija.virtanen");
	fresh(f);
	assert_int_equal(account_add(&f->ctx, "toinen", false, NULL, &id), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(account_list(&f->ctx, &list), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "paakayttaja"), KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(account_totp_remove(&f->ctx, admin), KERR_FORBIDDEN);
	f->actor = (struct actor){ACTOR_ANON, "api", 0, 0};
	fresh(f);
	assert_int_equal(account_add(&f->ctx, "toinen", false, NULL, &id), KERR_FORBIDDEN);
	/* An account without a password cannot sign in. */
	struct signin_result res;
	assert_int_equal(signin(f, "maija.virtanen", PW_A, NULL, &res), KERR_UNAUTH);
}

/* The lookups made on every request and per account use indexes, never a scan. */
static void test_lookups_use_indexes(void **state)
{
	struct fx *f = *state;
	static const enum stmt_id lookups[] = {
	        ST_USER_BY_NAME,
	        ST_USER_GET,
	        ST_GRANT_ACTIVE,
	        ST_GRANT_OF_USER,
	        ST_GRANT_MANAGER_OF_USER,
	        ST_GRANT_LIST_REGISTER,
	        ST_GRANT_REVOKE,
	        ST_SESSION_AUTH,
	        ST_SESSION_USER,
	        ST_SESSION_TOUCH,
	        ST_SESSION_DELETE,
	        ST_SESSION_DELETE_USER,
	        ST_TOKEN_AUTH,
	        ST_TOKEN_GET,
	        ST_TOKEN_ACTIVE_OF_USER,
	        ST_TOKEN_LIST_USER,
	        ST_PWHIST_RECENT,
	        ST_PWHIST_PRUNE,
	        ST_THROTTLE_GET,
	        ST_THROTTLE_DELETE,
	        ST_THROTTLE_UNLOCKED,
	        ST_COMMITMENT_CURRENT,
	        ST_COMMITMENT_ACCEPTED,
	        ST_USER_SET_PASSWORD,
	};
	assert_indexed(f, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_password_policy),
	        T(test_password_hash_verify),
	        T(test_password_history),
	        T(test_password_age_forces_change),
	        T(test_operator_set_password_must_change),
	        T(test_signin_failures_identical),
	        T(test_signin_throttle_and_lock),
	        T(test_signin_throttle_unknown_name),
	        T(test_signin_throttle_per_address),
	        T(test_session_idle_and_lifetime),
	        T(test_signout),
	        T(test_deactivation),
	        T(test_token_limits),
	        T(test_token_expiry_revocation),
	        T(test_totp_enrol_and_signin),
	        T(test_totp_required),
	        T(test_grants_recorded),
	        T(test_grants_who_may),
	        T(test_processor_grant),
	        T(test_commitment),
	        T(test_users_named_and_managed),
	        T(test_lookups_use_indexes),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
