/*
 * Unit tests for src/core/selfservice.c: the link tokens and sessions of self-service
 * and its rate limits, driven through core/selfservice.h against a fresh data directory with
 * rauma-crm and kemi-crm loaded. What is stored is checked through the fixture's read-only
 * connection and the raw database bytes. The clock is the fixture's (2026-01-01T00:00:00Z)
 * and is moved as the global --now moves it. Tests name the promise they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/selfservice.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"
#define EMAIL "Maija.Meikalainen@Example.FI"
#define NORM  "maija.meikalainen@example.fi"

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
};

static int setup(void **state)
{
	struct fx *f = fixture_open("selfservice", register_files, 2);
	if (!f)
		return -1;
	selfservice_throttle_reset();
	*state = f;
	return 0;
}

static int64_t person_ok(struct fx *f, const char *rid, const char *json)
{
	json_t *in = json_loads(json, 0, NULL);
	int64_t id = 0;
	if (!in)
		fail_msg("test JSON does not parse: %s", json);
	fresh(f);
	int rc = person_create(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("person_create(%s) = %d: %s", json, rc, f->err.message);
	return id;
}

/* Maija in rauma-crm and kemi-crm; returns her rauma-crm id. */
static int64_t maija(struct fx *f, int64_t *kemi_id)
{
	int64_t r = person_ok(f, RAUMA,
	                      "{\"subject_group\": \"consenting_person\", \"source\": \"customer\","
	                      " \"first_name\": \"Maija\", \"last_name\": \"Meikäläinen\","
	                      " \"email\": \"" EMAIL "\"}");
	int64_t k = person_ok(f, KEMI,
	                      "{\"subject_group\": \"client_company_contact\", \"source\": "
	                      "\"subject\", \"first_name\": \"Maija\", \"last_name\": "
	                      "\"Meikäläinen\", \"email\": \"" NORM "\"}");
	if (kemi_id)
		*kemi_id = k;
	return r;
}

static void link_for(struct fx *f, char token[SELFSERVICE_TOKEN_LEN + 1])
{
	struct ss_subject *s;
	size_t n;
	fresh(f);
	assert_int_equal(selfservice_find(&f->ctx, NORM, &s, &n), 0);
	assert_true(n > 0);
	assert_int_equal(selfservice_link_create(&f->ctx, s, n, token), 0);
	assert_int_equal(strlen(token), SELFSERVICE_TOKEN_LEN);
}

/* proves R-05: the link is looked up by the address in every register, normalised */
static void test_find_every_register(void **state)
{
	struct fx *f = *state;
	int64_t kid, rid = maija(f, &kid);
	struct ss_subject *s;
	size_t n;
	fresh(f);
	assert_int_equal(selfservice_find(&f->ctx, NORM, &s, &n), 0);
	assert_int_equal(n, 2);
	bool saw_r = false, saw_k = false;
	for (size_t i = 0; i < n; i++) {
		saw_r |= !strcmp(s[i].rid, RAUMA) && s[i].person_id == rid;
		saw_k |= !strcmp(s[i].rid, KEMI) && s[i].person_id == kid;
	}
	assert_true(saw_r && saw_k);
	fresh(f);
	assert_int_equal(selfservice_find(&f->ctx, "nobody@example.fi", &s, &n), 0);
	assert_int_equal(n, 0);
}

/* proves R-05: only a keyed hash of the token is stored, never the token or the address */
static void test_token_not_stored(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1];
	maija(f, NULL);
	link_for(f, token);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM selfservice_tokens WHERE kind = 'link'"
	                         " AND length(hash) = 32 AND expires_at = "
	                         "'2026-01-01T00:15:00Z'",
	                         ""),
	                 1);
	assert_false(db_files_contain(f, token));
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM selfservice_tokens WHERE subjects LIKE "
	                         "'%example%'",
	                         ""),
	                 0);
	assert_true(raw_int(f,
	                    "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'"
	                    " AND action = 'selfservice_link'",
	                    "") == 2);
}

/* proves R-05: a link opens once, and starts a session of the persons it matched */
static void test_link_single_use(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1];
	char again[SELFSERVICE_TOKEN_LEN + 1];
	struct ss_subject *s;
	size_t n;
	maija(f, NULL);
	link_for(f, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
	assert_int_equal(strlen(session), SELFSERVICE_TOKEN_LEN);
	assert_string_not_equal(session, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, again), KERR_CONFLICT);
	assert_string_equal(again, "");
	fresh(f);
	assert_int_equal(selfservice_session(&f->ctx, session, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(f->ctx.actor->name, SELFSERVICE_ACTOR);
	/* the link token is not a session token */
	fresh(f);
	assert_int_equal(selfservice_session(&f->ctx, token, &s, &n), KERR_UNAUTH);
}

/* proves R-05: a link is valid 15 minutes by the global clock (--now) */
static void test_link_expires(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1];
	maija(f, NULL);
	link_for(f, token);
	fresh(f);
	kctx_set_now(&f->ctx, NOW + SELFSERVICE_LINK_SECONDS);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), KERR_NOTFOUND);
	assert_non_null(strstr(f->err.message, "expired"));
	/* one second earlier it would have opened */
	link_for(f, token);
	fresh(f);
	kctx_set_now(&f->ctx, NOW + 2 * SELFSERVICE_LINK_SECONDS - 1);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
}

/* proves R-05: a session ends after its lifetime and when ended */
static void test_session_ends(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1];
	struct ss_subject *s;
	size_t n;
	maija(f, NULL);
	link_for(f, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
	fresh(f);
	kctx_set_now(&f->ctx, NOW + SELFSERVICE_SESSION_SECONDS);
	assert_int_equal(selfservice_session(&f->ctx, session, &s, &n), KERR_UNAUTH);
	fresh(f);
	kctx_set_now(&f->ctx, NOW + 60);
	assert_int_equal(selfservice_session(&f->ctx, session, &s, &n), 0);
	assert_int_equal(selfservice_session_end(&f->ctx, session), 0);
	fresh(f);
	assert_int_equal(selfservice_session(&f->ctx, session, &s, &n), KERR_UNAUTH);
}

/* proves R-05: tokens that kortisto did not make, or malformed ones, open nothing */
static void test_bad_tokens(void **state)
{
	struct fx *f = *state;
	char session[SELFSERVICE_TOKEN_LEN + 1];
	struct ss_subject *s;
	size_t n;
	static const char *const bad[] = {NULL,
	                                  "",
	                                  "short",
	                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(f);
		assert_int_equal(selfservice_link_open(&f->ctx, bad[i], session), KERR_NOTFOUND);
		fresh(f);
		assert_int_equal(selfservice_session(&f->ctx, bad[i], &s, &n), KERR_UNAUTH);
	}
}

/* The CSRF token belongs to its session and compares only equal ones. */
static void test_csrf(void **state)
{
	struct fx *f = *state;
	char a[65], b[65];
	const char *s1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	const char *s2 = "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	selfservice_csrf(&f->ctx, s1, a);
	selfservice_csrf(&f->ctx, s2, b);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_true(selfservice_csrf_ok(&f->ctx, s1, a));
	assert_false(selfservice_csrf_ok(&f->ctx, s1, b));
	assert_false(selfservice_csrf_ok(&f->ctx, s1, NULL));
	assert_false(selfservice_csrf_ok(&f->ctx, s1, ""));
}

/* Asking is limited per address and per client, by the clock's window. */
static void test_throttle(void **state)
{
	struct fx *f = *state;
	int64_t wait;
	for (int i = 0; i < SELFSERVICE_LIMIT_ADDRESS; i++) {
		fresh(f);
		assert_int_equal(selfservice_throttle(&f->ctx, NORM, NULL, &wait), 0);
	}
	fresh(f);
	assert_int_equal(selfservice_throttle(&f->ctx, NORM, NULL, &wait), KERR_THROTTLED);
	assert_int_equal(wait, SELFSERVICE_LIMIT_WINDOW);
	/* another address is counted apart */
	fresh(f);
	assert_int_equal(selfservice_throttle(&f->ctx, "other@example.fi", NULL, &wait), 0);
	/* the window passes */
	kctx_set_now(&f->ctx, NOW + SELFSERVICE_LIMIT_WINDOW);
	fresh(f);
	assert_int_equal(selfservice_throttle(&f->ctx, NORM, NULL, &wait), 0);
	/* one client asking for many addresses */
	selfservice_throttle_reset();
	char addr[64];
	for (int i = 0; i < SELFSERVICE_LIMIT_CLIENT; i++) {
		snprintf(addr, sizeof(addr), "a%d@example.fi", i);
		fresh(f);
		assert_int_equal(selfservice_throttle(&f->ctx, addr, "192.0.2.7", &wait), 0);
	}
	fresh(f);
	assert_int_equal(selfservice_throttle(&f->ctx, "b@example.fi", "192.0.2.7", &wait),
	                 KERR_THROTTLED);
	fresh(f);
	assert_int_equal(selfservice_throttle(&f->ctx, "b@example.fi", "192.0.2.8", &wait), 0);
}

/* proves: a request filed in the session is verified by email_link, and a
 * marketing ban is set at once, by the self-service actor */
static void test_file_ban(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1];
	int64_t id;
	const char *st;
	int64_t pid = maija(f, NULL);
	link_for(f, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
	fresh(f);
	assert_int_equal(selfservice_file(&f->ctx, session, RAUMA, "marketing_ban", NULL, &id, &st),
	                 0);
	assert_string_equal(st, "fulfilled");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM requests WHERE id = ?1 AND channel = "
	                         "'self_service' AND verify_method = 'email_link' AND verified_by"
	                         " = 'system:selfservice' AND state = 'fulfilled'",
	                         "i", id),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM marketing_bans WHERE register_id = "
	                         "'rauma-crm' AND person_id = ?1 AND channel = 'all'",
	                         "i", pid),
	                 1);
	fresh(f);
	assert_int_equal(selfservice_file(&f->ctx, session, RAUMA, "erasure", NULL, &id, &st), 0);
	assert_string_equal(st, "verified");
	/* a register the session has no person in */
	fresh(f);
	assert_int_equal(
	        selfservice_file(&f->ctx, session, "sospro-marketing", "access", NULL, &id, &st),
	        KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(selfservice_file(&f->ctx, session, RAUMA, "forget", NULL, &id, &st),
	                 KERR_INVALID);
}

/* proves R-01: the session's person gets their access export, nobody else's */
static void test_export(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1];
	json_t *doc = NULL;
	int64_t pid = maija(f, NULL);
	link_for(f, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
	fresh(f);
	assert_int_equal(selfservice_export(&f->ctx, session, RAUMA, &doc), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "subject"), "id")),
	                 pid);
	json_decref(doc);
	fresh(f);
	assert_int_equal(selfservice_export(&f->ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                                    RAUMA, &doc),
	                 KERR_UNAUTH);
	assert_null(doc);
}

static void give(struct fx *f, int64_t pid, const char *purpose, const char *channel,
                 const char *source)
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "purpose", purpose, "channel", channel,
	                       "text", "Suostun", "text_version", "1", "source", source);
	int64_t id;
	fresh(f);
	int rc = consent_give(&f->ctx, RAUMA, pid, in, &id, NULL);
	json_decref(in);
	if (rc)
		fail_msg("consent_give(%s) = %d: %s", purpose, rc, f->err.message);
}

/* The purposes of consents `a`, comma-separated, into `out`. */
static const char *purposes_of(json_t *a, char *out, size_t n)
{
	size_t i, len = 0;
	json_t *v;
	out[0] = '\0';
	json_array_foreach (a, i, v) {
		int k = snprintf(out + len, n - len, "%s%s", i ? "," : "",
		                 json_string_value(json_object_get(v, "purpose")));
		if (k < 0 || (size_t)k >= n - len)
			break;
		len += (size_t)k;
	}
	return out;
}

/* proves R-12: the session shows its person the consents in force in a register, logged as
 * a read of their own, and a withdrawal of one purpose leaves the other in force */
static void test_consents(void **state)
{
	struct fx *f = *state;
	char token[SELFSERVICE_TOKEN_LEN + 1], session[SELFSERVICE_TOKEN_LEN + 1], buf[200];
	json_t *cons = NULL, *det;
	int64_t id;
	const char *st;
	int64_t pid = maija(f, NULL);
	give(f, pid, "customer_contact", "email", "staff");
	give(f, pid, "information", "sms", "staff");
	give(f, pid, "municipal_services", "post", "form"); /* pending: not in force */
	link_for(f, token);
	fresh(f);
	assert_int_equal(selfservice_link_open(&f->ctx, token, session), 0);
	fresh(f);
	assert_int_equal(selfservice_consents(&f->ctx, session, RAUMA, &cons), 0);
	assert_string_equal(purposes_of(cons, buf, sizeof(buf)), "customer_contact,information");
	json_decref(cons);
	fresh(f);
	assert_int_equal(selfservice_consents(&f->ctx, session, KEMI, &cons), 0);
	assert_int_equal(json_array_size(cons), 0);
	json_decref(cons);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE actor = "
	                         "'system:selfservice' AND action = 'read' AND entity = 'consent' "
	                         "AND reason = 'self_service' AND subjects = ?1",
	                         "i", pid),
	                 1);
	/* a register the session has no person in, and no session */
	fresh(f);
	assert_int_equal(selfservice_consents(&f->ctx, session, "sospro-marketing", &cons),
	                 KERR_NOTFOUND);
	assert_null(cons);
	fresh(f);
	assert_int_equal(selfservice_consents(&f->ctx,
	                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", RAUMA,
	                                      &cons),
	                 KERR_UNAUTH);
	/* withdrawing one purpose */
	det = json_pack("{s:[s]}", "purposes", "information");
	fresh(f);
	assert_int_equal(
	        selfservice_file(&f->ctx, session, RAUMA, "consent_withdrawal", det, &id, &st), 0);
	json_decref(det);
	assert_string_equal(st, "fulfilled");
	fresh(f);
	assert_int_equal(selfservice_consents(&f->ctx, session, RAUMA, &cons), 0);
	assert_string_equal(purposes_of(cons, buf, sizeof(buf)), "customer_contact");
	json_decref(cons);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM persons WHERE id = ?1", "i", pid), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_find_every_register, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_token_not_stored, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_link_single_use, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_link_expires, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_session_ends, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_bad_tokens, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_csrf, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_throttle, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_file_ban, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_export, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_consents, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
