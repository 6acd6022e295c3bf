/*
 * libFuzzer harness for what a client sends to sign in and to manage its account
 * (src/core/auth.c and account.c): the session cookie and the bearer token every request may
 * carry, resolved by auth_session() and auth_bearer() inside a read transaction as the server
 * does, and the user name and password the password policy checks. The first byte of an
 * input picks the target, modulo 3: 0 a session token, 1 a bearer token, 2 the policy. For
 * a token the rest is its text up to the first NUL (a header cannot carry one), where a
 * leading "@S" or "@T" stands for the genuine session or API token made at start-up, so what
 * follows a real token is tried too. For the policy the rest is "USER\0PASSWORD", or only a
 * password for the user maija.virtanen. Beyond "no crash, no leak", the harness checks the
 * contract: a token resolves exactly when it is the genuine one, anything else gives
 * KERR_UNAUTH and an empty principal; the policy accepts only valid UTF-8 of 12 to 1024 bytes
 * that does not contain the user name, and refuses with KERR_INVALID on "password".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

#define HARNESS "fuzz_auth"
#include "fuzz_datadir.h"

#define USER     "maija.virtanen"
#define PASSWORD "Kuusi-Kalaa-Uimassa-77"

static char session_token[64], api_token[64];
static int64_t user_id;

/* A fresh context acting as `actor`; its error is fz.err, which require() prints. */
static struct kctx fresh(const struct actor *actor)
{
	struct kctx c = fz.ctx;
	arena_reset(&fz.mem);
	kerr_clear(&fz.err);
	c.err = &fz.err;
	c.mem = &fz.mem;
	c.actor = actor;
	return c;
}

/* Resolves `token` as the server does (authenticate() in src/http/server.c). */
static int resolve(bool bearer, const char *token, struct principal *p, bool *touch)
{
	struct kctx c = fresh(&fz.actor);
	int rc = store_begin_read(fz.db, &fz.err);
	require(rc == 0, "store_begin_read");
	rc = bearer ? auth_bearer(&c, token, p, touch) : auth_session(&c, token, p, touch);
	store_rollback(fz.db);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const struct actor anon = {ACTOR_ANON, "api", 0, 0};
	struct signin_result res;
	struct principal p;
	bool touch;
	int64_t token_id = 0;
	fz_setup();

	struct kctx c = fresh(&fz.actor);
	if (account_add(&c, USER, false, PASSWORD, &user_id))
		die("account_add");
	c = fresh(&anon);
	if (auth_signin(&c, USER, PASSWORD, NULL, &res))
		die("auth_signin");
	memcpy(session_token, res.token, sizeof(session_token));
	c = fresh(&fz.actor);
	if (token_create(&c, user_id, NULL, ROLE_NONE, 0, api_token, &token_id))
		die("token_create");
	if (resolve(false, session_token, &p, &touch) || p.user_id != user_id ||
	    resolve(true, api_token, &p, &touch) || p.user_id != user_id || p.token_id != token_id)
		die("the genuine tokens do not resolve");
	return 0;
}

static void check_error_text(void)
{
	require(memchr(fz.err.message, '\0', sizeof(fz.err.message)) != NULL &&
	                memchr(fz.err.field, '\0', sizeof(fz.err.field)) != NULL,
	        "unterminated error text");
	require(utf8_valid(fz.err.message, strlen(fz.err.message)) &&
	                utf8_valid(fz.err.field, strlen(fz.err.field)),
	        "the error text is not valid UTF-8");
}

static void fuzz_token(bool bearer, const char *rest, size_t n)
{
	char token[256];
	size_t len = 0;
	const char *genuine = NULL;
	if (n >= 2 && rest[0] == '@' && (rest[1] == 'S' || rest[1] == 'T')) {
		genuine = rest[1] == 'S' ? session_token : api_token;
		len = strlen(genuine);
		memcpy(token, genuine, len);
		rest += 2;
		n -= 2;
	}
	size_t take = strnlen(rest, n);
	if (take > sizeof(token) - 1 - len)
		take = sizeof(token) - 1 - len;
	memcpy(token + len, rest, take);
	token[len + take] = '\0';

	struct principal p, zero;
	bool touch = true;
	memset(&p, 0xa5, sizeof(p));
	memset(&zero, 0, sizeof(zero));
	int rc = resolve(bearer, token, &p, &touch);
	check_error_text();
	bool expected = strcmp(token, bearer ? api_token : session_token) == 0;
	if (!expected) {
		require(rc == KERR_UNAUTH && fz.err.code == KERR_UNAUTH,
		        "a token that is not the genuine one did not give KERR_UNAUTH");
		require(memcmp(&p, &zero, sizeof(p)) == 0 && !touch,
		        "a refused token left a principal");
		return;
	}
	require(rc == 0, "the genuine token did not resolve");
	require(p.user_id == user_id && p.user_name && strcmp(p.user_name, USER) == 0,
	        "the genuine token resolved to someone else");
	require(bearer ? p.token_id != 0 && !p.csrf : p.token_id == 0 && p.csrf != NULL,
	        "a session resolved as a token or a token as a session");
}

/* Whether `needle` occurs in `hay`, ignoring ASCII case. */
static bool contains_ascii_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *h = hay; *h; h++) {
		size_t i = 0;
		while (i < n && h[i] &&
		       tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void fuzz_policy(const char *rest, size_t n)
{
	/* "USER\0PASSWORD", or only a password; each a C string inside the input's copy. */
	char *copy = malloc(n + 1);
	require(copy != NULL, "out of memory");
	memcpy(copy, rest, n);
	copy[n] = '\0';
	const char *user = USER, *password = copy;
	size_t first = strlen(copy);
	if (first < n) {
		user = copy;
		password = copy + first + 1;
	}

	struct kctx c = fresh(&fz.actor);
	int rc = password_policy_check(&c, user, password);
	check_error_text();
	require(rc == 0 || (rc == KERR_INVALID && fz.err.code == rc &&
	                    strcmp(fz.err.field, "password") == 0),
	        "the policy failed otherwise than with KERR_INVALID on \"password\"");
	size_t len = strlen(password), chars = 0;
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)password[i] & 0xC0) != 0x80;
	if (rc == 0) {
		require(len <= 1024 && utf8_valid(password, len) && chars >= 12,
		        "the policy accepted a password of the wrong length or not UTF-8");
		require(!(*user && strlen(user) < 80 && ascii(user) && ascii(password) &&
		          contains_ascii_nocase(password, user)),
		        "the policy accepted a password that contains the user name");
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *rest = (const char *)data + 1;
	switch (data[0] % 3) {
	case 0: fuzz_token(false, rest, size - 1); break;
	case 1: fuzz_token(true, rest, size - 1); break;
	default: fuzz_policy(rest, size - 1); break;
	}
	return 0;
}
