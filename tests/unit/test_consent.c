/*
 * Unit tests for src/core/consent.c: consents (M-01, R-12) given, listed, withdrawn and
 * confirmed through the functions of core/consent.h against a fresh data directory with
 * espoo-talent-hub and rauma-crm. What a call wrote is checked through the fixture's second,
 * read-only connection. Tests name the promise they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "core/consent.h"
#include "core/mailing.h"
#include "core/person.h"
#include "core/request.h"
#include "core/sublist.h"
#include "util/kerr.h"

#include "fixture.h"

#define ESPOO "espoo-talent-hub"
#define RAUMA "rauma-crm"
#define DAY   (int64_t)86400

static const char *const register_files[] = {"registers/espoo-talent-hub.yaml",
                                             "registers/rauma-crm.yaml"};

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

static int64_t person_ok(struct fx *f, const char *rid, const char *json)
{
	json_t *in = parse(json);
	int64_t id = 0;
	fresh(f);
	int rc = person_create(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("person_create(%s) = %d: %s", json, rc, f->err.message);
	return id;
}

static int give(struct fx *f, const char *rid, int64_t pid, const char *json, int64_t *id,
                char *token)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = consent_give(&f->ctx, rid, pid, in, id, token);
	json_decref(in);
	return rc;
}

#define NEWSLETTER                                                                                 \
	"{\"purpose\": \"newsletters\", \"channel\": \"email\", \"text\": \"Haluan "               \
	"uutiskirjeen\","                                                                          \
	" \"text_version\": \"2026-1\""

static int setup(void **state)
{
	*state = fixture_open("consent", register_files, 2);
	return *state ? 0 : -1;
}

static int64_t individual(struct fx *f)
{
	return person_ok(f, ESPOO,
	                 "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                 " \"first_name\": \"Iida\", \"email\": \"iida@example.fi\"}");
}

/* proves M-01: a consent is kept with its exact text, version, purpose, channel, time,
 * source and the user who recorded it, and the usage log names it. */
static void test_give_records_everything(void **state)
{
	struct fx *f = *state;
	int64_t pid = individual(f), id = 0;
	char tok[CONSENT_TOKEN_MAX], buf[200];
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER ", \"form\": \"lomake-7\"}", &id, tok), 0);
	assert_string_equal(tok, ""); /* staff: no confirmation needed */
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT text FROM consents WHERE id = ?1", id),
	        "Haluan uutiskirjeen");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf),
	                 "SELECT purpose || '|' || channel || '|' || text_version || '|'"
	                 " || source_kind || '|' || source_form || '|' || source_user ||"
	                 " '|' || state || '|' || given_at FROM consents WHERE id = ?1",
	                 id),
	        "newsletters|email|2026-1|staff|lomake-7|operator:test|confirmed|"
	        "2026-01-01T00:00:00Z");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'consent_give'"
	                         " AND entity = 'consent' AND entity_id = ?1",
	                         "i", id),
	                 1);
	json_t *list = NULL;
	fresh(f);
	assert_int_equal(consent_list(&f->ctx, ESPOO, pid, &list), 0);
	assert_int_equal(json_array_size(json_object_get(list, "items")), 1);
	assert_true(json_is_true(
	        json_object_get(json_array_get(json_object_get(list, "items"), 0), "active")));
	json_decref(list);
}

/* proves M-01: only declared purposes and channels, only declared members. */
static void test_give_refuses_undeclared(void **state)
{
	struct fx *f = *state;
	int64_t pid = individual(f), id;
	assert_int_equal(
	        give(f, ESPOO, pid,
	             "{\"purpose\": \"reselling\", \"channel\": \"email\", \"text\": \"x\","
	             " \"text_version\": \"1\"}",
	             &id, NULL),
	        KERR_REFUSED);
	assert_string_equal(f->err.field, "purpose");
	assert_int_equal(
	        give(f, ESPOO, pid,
	             "{\"purpose\": \"newsletters\", \"channel\": \"fax\", \"text\": \"x\","
	             " \"text_version\": \"1\"}",
	             &id, NULL),
	        KERR_INVALID);
	assert_string_equal(f->err.field, "channel");
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER ", \"colour\": \"red\"}", &id, NULL),
	                 KERR_INVALID);
	assert_int_equal(give(f, ESPOO, pid,
	                      "{\"purpose\": \"newsletters\", \"channel\": \"email\"}", &id, NULL),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "text");
	assert_int_equal(give(f, ESPOO, 999999, NEWSLETTER "}", &id, NULL), KERR_NOTFOUND);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents", ""), 0);
}

/* proves R-12: withdrawal is recorded at once with how and by whom, and only once. */
static void test_withdraw(void **state)
{
	struct fx *f = *state;
	int64_t pid = individual(f), id = 0;
	char buf[200];
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER "}", &id, NULL), 0);
	json_t *in = parse("{\"how\": \"email\"}");
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, id, in), 0);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT withdrawn_at || '|' || withdrawn_how || '|' ||"
	                             " withdrawn_by FROM consents WHERE id = ?1",
	                             id),
	                    "2026-01-01T00:00:00Z|email|operator:test");
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, id, in), KERR_CONFLICT);
	json_decref(in);
	in = parse("{\"how\": \"pigeon\"}");
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, id, in), KERR_INVALID);
	json_decref(in);
	json_t *c = NULL;
	fresh(f);
	assert_int_equal(consent_get(&f->ctx, ESPOO, id, &c), 0);
	assert_true(json_is_false(json_object_get(c, "active")));
	json_decref(c);
}

/* proves M-01: a form consent is pending until its signed link confirms it; the link works
 * once, only before it expires, and not when altered. */
static void test_double_opt_in(void **state)
{
	struct fx *f = *state;
	int64_t pid = individual(f), id = 0, got = 0;
	char tok[CONSENT_TOKEN_MAX], bad[CONSENT_TOKEN_MAX], buf[64];
	const char *rid = NULL;
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER ", \"source\": \"form\"}", &id, tok), 0);
	assert_true(strlen(tok) > 20);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT state FROM consents WHERE id = ?1", id),
	        "pending");
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, bad, &rid, &got), KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, tok, &rid, &got), 0);
	assert_int_equal(got, id);
	assert_string_equal(rid, ESPOO);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT state FROM consents WHERE id = ?1", id),
	        "confirmed");
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, tok, &rid, &got), KERR_REFUSED);

	/* expired: 8 days later the link no longer confirms */
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER ", \"source\": \"form\"}", &id, tok), 0);
	kctx_set_now(&f->ctx, NOW + 8 * DAY);
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, tok, &rid, &got), KERR_REFUSED);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT state FROM consents WHERE id = ?1", id),
	        "pending");
	kctx_set_now(&f->ctx, NOW);
}

/* proves M-03: a link token of one kind is not one of another, and a changed one is void. */
static void test_link_tokens(void **state)
{
	struct fx *f = *state;
	char tok[MLINK_MAX];
	int64_t id = 0;
	mlink_make(&f->app->keys, MLINK_UNSUBSCRIBE, 4242, tok);
	assert_true(mlink_open(&f->app->keys, MLINK_UNSUBSCRIBE, tok, &id));
	assert_int_equal(id, 4242);
	assert_false(mlink_open(&f->app->keys, MLINK_OPEN, tok, &id));
	assert_false(mlink_open(&f->app->keys, MLINK_CONFIRM, tok, &id));
	tok[3] = tok[3] == 'x' ? 'y' : 'x';
	assert_false(mlink_open(&f->app->keys, MLINK_UNSUBSCRIBE, tok, &id));
	assert_false(mlink_open(&f->app->keys, MLINK_UNSUBSCRIBE, "", &id));
	assert_false(mlink_open(&f->app->keys, MLINK_UNSUBSCRIBE, NULL, &id));
}

/* proves R-09: an editor cannot give or read consents of a restricted subject. */
static void test_restricted_hidden(void **state)
{
	struct fx *f = *state;
	int64_t pid = individual(f), id = 0, rq = 0;
	json_t *in = parse("{\"type\": \"restriction\", \"channel\": \"email\"}");
	json_object_set_new(in, "person_id", json_integer(pid));
	fresh(f);
	assert_int_equal(request_create(&f->ctx, ESPOO, in, &rq), 0);
	json_decref(in);
	in = parse("{\"method\": \"id_document\"}");
	fresh(f);
	assert_int_equal(request_verify(&f->ctx, ESPOO, rq, in), 0);
	json_decref(in);
	in = parse("{}");
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(request_fulfil(&f->ctx, ESPOO, rq, in, &out), 0);
	json_decref(in);
	json_decref(out);
	fx_as_user(f, "editori", ESPOO, ROLE_EDITOR);
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER "}", &id, NULL), KERR_NOTFOUND);
	json_t *list = NULL;
	fresh(f);
	assert_int_equal(consent_list(&f->ctx, ESPOO, pid, &list), KERR_NOTFOUND);
	assert_null(list);
	fx_as_operator(f);
}

/* proves M-03: withdrawing the consent a subscription rests on ends the subscription at once;
 * while another consent for the same purpose still counts, the subscription stays. */
static void test_withdraw_ends_subscription(void **state)
{
	struct fx *f = *state;
	json_t *in =
	        parse("{\"slug\": \"uutiset-testi\", \"name\": \"Uutiset\", \"purpose\":"
	              " \"newsletters\", \"group\": \"individual\", \"source\": \"subject\","
	              " \"consent_text\": \"Haluan uutiskirjeen\", \"consent_version\": \"1\"}");
	int64_t list = 0;
	fresh(f);
	if (sublist_create(&f->ctx, ESPOO, in, &list))
		fail_msg("sublist_create: %s", f->err.message);
	json_decref(in);
	int64_t pid = individual(f), a = 0, b = 0, confirmed = 0;
	char tok[CONSENT_TOKEN_MAX], body[300];
	const char *rid = NULL;
	snprintf(body, sizeof(body),
	         NEWSLETTER ", \"source\": \"form\", \"form\": \"list:%" PRId64 "\"}", list);
	assert_int_equal(give(f, ESPOO, pid, body, &a, tok), 0);
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, tok, &rid, &confirmed), 0);
	assert_int_equal(confirmed, a);
	const char *active = "SELECT count(*) FROM subscriptions WHERE person_id = ?1"
	                     " AND ended_at IS NULL";
	assert_int_equal(raw_int(f, active, "i", pid), 1);

	/* A second consent for newsletters (given by staff) keeps the subscription open. */
	assert_int_equal(give(f, ESPOO, pid, NEWSLETTER "}", &b, tok), 0);
	json_t *how = parse("{\"how\": \"email\"}");
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, a, how), 0);
	assert_int_equal(raw_int(f, active, "i", pid), 1);
	/* A consent for newsletters by post does not keep an e-mail list: the last e-mail
	 * consent ends it, recording how. */
	int64_t post = 0;
	assert_int_equal(give(f, ESPOO, pid,
	                      "{\"purpose\": \"newsletters\", \"channel\": \"post\", \"text\":"
	                      " \"Kirjeitse\", \"text_version\": \"1\"}",
	                      &post, tok),
	                 0);
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, b, how), 0);
	json_decref(how);
	assert_int_equal(raw_int(f, active, "i", pid), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM subscriptions WHERE person_id = ?1"
	                         " AND ended_how = 'email'",
	                         "i", pid),
	                 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_give_records_everything, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_give_refuses_undeclared, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_withdraw, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_withdraw_ends_subscription, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_double_opt_in, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_link_tokens, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_restricted_hidden, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
