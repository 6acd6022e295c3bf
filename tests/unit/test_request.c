/*
 * Unit tests for src/core/request.c: data-subject requests (R-02 … R-12) driven only through
 * the public functions of core/request.h against a real data directory made fresh for every
 * test (rauma-crm, kemi-crm and sospro-marketing loaded). What a step writes is checked
 * through the fixture's second, read-only SQLite connection, never through the code under
 * test. The fixture's clock stands at 2026-01-01T00:00:00Z unless a test moves it.
 * Tests name the promise of PROMISES.md they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/affiliation.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/export.h"
#include "core/org.h"
#include "core/person.h"
#include "core/request.h"
#include "core/search.h"
#include "decl/decl.h"
#include "util/buf.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA  "rauma-crm"
#define KEMI   "kemi-crm"
#define SOSPRO "sospro-marketing"

#define DAY (int64_t)86400

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
        "registers/sospro-marketing.yaml",
};

/* A consenting private person of rauma-crm (basis a), and a company person (basis f). */
#define RAUMA_A "\"subject_group\": \"consenting_person\", \"source\": \"customer\""
#define RAUMA_F "\"subject_group\": \"organisation_contact\", \"source\": \"public_web\""
#define KEMI_E  "\"subject_group\": \"client_company_contact\", \"source\": \"subject\""

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Asserts that member `key` of `o` is the string `want`; fails, not crashes, when absent. */
#define assert_jstr(o, key, want)                                                                  \
	do {                                                                                       \
		const char *got_ = jstr((o), (key));                                               \
		if (!got_)                                                                         \
			fail_msg("\"%s\" is absent or not a string (want \"%s\")", (key), (want)); \
		assert_string_equal(got_, (want));                                                 \
	} while (0)

static void set_now(struct fx *f, int64_t t)
{
	kctx_set_now(&f->ctx, t);
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

static int req_new(struct fx *f, const char *rid, const char *json, int64_t *id)
{
	json_t *in = parse(json);
	int64_t tmp = 0;
	fresh(f);
	int rc = request_create(&f->ctx, rid, in, id ? id : &tmp);
	json_decref(in);
	return rc;
}

static int64_t req_new_ok(struct fx *f, const char *rid, const char *json)
{
	int64_t id = 0;
	int rc = req_new(f, rid, json, &id);
	if (rc)
		fail_msg("request_create(%s) = %d: %s", json, rc, f->err.message);
	assert_true(id > 0);
	return id;
}

/* A request of `type` in rauma-crm for person `pid`, received now by e-mail. */
static int64_t req_for(struct fx *f, const char *rid, const char *type, int64_t pid,
                       const char *details)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\": \"%s\", \"channel\": \"email\", \"person_id\": %" PRId64 "%s%s}", type,
	         pid, details ? ", \"details\": " : "", details ? details : "");
	return req_new_ok(f, rid, body);
}

typedef int (*step_fn)(struct kctx *, const char *, int64_t, json_t *);

static int do_step(struct fx *f, step_fn fn, const char *rid, int64_t id, const char *json)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = fn(&f->ctx, rid, id, in);
	json_decref(in);
	return rc;
}

static void step_ok(struct fx *f, step_fn fn, const char *rid, int64_t id, const char *json)
{
	int rc = do_step(f, fn, rid, id, json);
	if (rc)
		fail_msg("step(%s) on request %" PRId64 " = %d: %s", json, id, rc, f->err.message);
}

static int fulfil(struct fx *f, const char *rid, int64_t id, json_t **out)
{
	json_t *in = json_object();
	fresh(f);
	int rc = request_fulfil(&f->ctx, rid, id, in, out);
	json_decref(in);
	return rc;
}

static json_t *fulfil_ok(struct fx *f, const char *rid, int64_t id)
{
	json_t *out = NULL;
	int rc = fulfil(f, rid, id, &out);
	if (rc)
		fail_msg("request_fulfil(%" PRId64 ") = %d: %s", id, rc, f->err.message);
	assert_non_null(out);
	return out;
}

static int refuse(struct fx *f, const char *rid, int64_t id, const char *json, json_t **out)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = request_refuse(&f->ctx, rid, id, in, out);
	json_decref(in);
	return rc;
}

static void verify_ok(struct fx *f, const char *rid, int64_t id)
{
	step_ok(f, request_verify, rid, id, "{\"method\": \"strong_auth\"}");
}

static json_t *get_ok(struct fx *f, const char *rid, int64_t id)
{
	json_t *o = NULL;
	fresh(f);
	int rc = request_get(&f->ctx, rid, id, &o);
	if (rc)
		fail_msg("request_get(%" PRId64 ") = %d: %s", id, rc, f->err.message);
	assert_non_null(o);
	return o;
}

static const char *state_of(struct fx *f, int64_t id, char buf[32])
{
	return raw_text(f, buf, 32, "SELECT state FROM requests WHERE id = ?1", id);
}

static int64_t persons_with_id(struct fx *f, int64_t pid)
{
	return raw_int(f, "SELECT count(*) FROM persons WHERE id = ?1", "i", pid);
}

static int64_t steps_of(struct fx *f, int64_t id)
{
	return raw_int(f, "SELECT count(*) FROM request_steps WHERE request_id = ?1", "i", id);
}

static int64_t log_rows(struct fx *f)
{
	return raw_int(f, "SELECT count(*) FROM usage_log", "");
}

static int64_t log_rows_for(struct fx *f, const char *action, int64_t id)
{
	return raw_int(f,
	               "SELECT count(*) FROM usage_log WHERE action = ?1 AND entity = 'request'"
	               " AND entity_id = ?2",
	               "si", action, id);
}

/* The last step's action of request `id`. */
static const char *last_step(struct fx *f, int64_t id, char buf[32])
{
	return raw_text(f, buf, 32,
	                "SELECT action FROM request_steps WHERE request_id = ?1"
	                " ORDER BY id DESC LIMIT 1",
	                id);
}

/* Asserts that `fn` failed with `code` on field `field`. */
static void assert_err(struct fx *f, int rc, int code, const char *field)
{
	if (rc != code)
		fail_msg("rc %d (want %d): %s", rc, code, f->err.message);
	if (field) {
		if (!f->err.field[0])
			fail_msg("no field in the error (want %s): %s", field, f->err.message);
		assert_string_equal(f->err.field, field);
	}
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fx *f = fixture_open("request", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	f->ctx.purpose = "customer_contact";
	*state = f;
	return 0;
}

/* BASE with the first `find` replaced by `repl`; fails the test when absent. */
static char *subst(const char *in, const char *find, const char *repl)
{
	const char *at = strstr(in, find);
	size_t a, n = strlen(in), fl = strlen(find), r = strlen(repl);
	if (!at)
		fail_msg("test bug: '%s' not in the input", find);
	a = (size_t)(at - in);
	char *out = malloc(n - fl + r + 1);
	assert_non_null(out);
	memcpy(out, in, a);
	memcpy(out + a, repl, r);
	memcpy(out + a + r, at + fl, n - a - fl + 1);
	return out;
}

/* kemi-crm as it would be if its public-task data (basis e) were kept ten years from
 * creation instead of "until the subject asks" (R-07: the law obliges keeping). */
static char variant_path[64];

static int setup_kept(void **state)
{
	size_t len = 0;
	char *y = slurp("registers/kemi-crm.yaml", &len);
	if (!y)
		return -1;
	char *v =
	        subst(y, "    - id: until-request\n      from: until_request\n      action: none\n",
	              "    - id: archive-10y\n      after: P10Y\n      from: created\n"
	              "      action: delete\n");
	free(y);
	snprintf(variant_path, sizeof(variant_path), "/tmp/kortisto-kemi-10y-XXXXXX");
	int fd = mkstemp(variant_path);
	if (fd < 0) {
		free(v);
		return -1;
	}
	size_t n = strlen(v);
	bool ok = write(fd, v, n) == (ssize_t)n;
	close(fd);
	free(v);
	const char *const files[] = {variant_path};
	struct fx *f = ok ? fixture_open("request-kept", files, 1) : NULL;
	unlink(variant_path);
	if (!f)
		return -1;
	f->ctx.purpose = "customer_relations";
	*state = f;
	return 0;
}

/* rauma-crm, a second register of the same controller (the city of Rauma) and kemi-crm,
 * another controller's: for the access export across registers (R-01). */
#define RAUMA2 "rauma-toinen"

static int setup_controller(void **state)
{
	size_t len = 0;
	char *y = slurp("registers/rauma-crm.yaml", &len);
	if (!y)
		return -1;
	char *v = subst(y, "\nid: rauma-crm\n", "\nid: " RAUMA2 "\n");
	free(y);
	snprintf(variant_path, sizeof(variant_path), "/tmp/kortisto-rauma2-XXXXXX");
	int fd = mkstemp(variant_path);
	if (fd < 0) {
		free(v);
		return -1;
	}
	size_t n = strlen(v);
	bool ok = write(fd, v, n) == (ssize_t)n;
	close(fd);
	free(v);
	const char *const files[] = {"registers/rauma-crm.yaml", variant_path,
	                             "registers/kemi-crm.yaml"};
	struct fx *f = ok ? fixture_open("request-controller", files, 3) : NULL;
	unlink(variant_path);
	if (!f)
		return -1;
	f->ctx.purpose = "customer_contact";
	*state = f;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Due dates (R-02)                                                                           */
/* ------------------------------------------------------------------------------------------ */

static void expect_due(const char *received, int y, int m, int d, const char *want)
{
	char out[11] = "";
	struct duration dur = {y, m, d};
	int rc = request_due_date(received, dur, out);
	if (rc != 0)
		fail_msg("request_due_date(%s, P%dY%dM%dD) = %d", received, y, m, d, rc);
	if (strcmp(out, want) != 0)
		fail_msg("request_due_date(%s, P%dY%dM%dD) = %s, want %s", received, y, m, d, out,
		         want);
}

/* proves R-02: one calendar month, clamped to the last day of a shorter month. */
static void test_due_month_end_clamps(void **state)
{
	(void)state;
	expect_due("2026-01-31", 0, 1, 0, "2026-02-28");
	expect_due("2026-03-31", 0, 1, 0, "2026-04-30");
	expect_due("2026-01-15", 0, 1, 0, "2026-02-15");
}

/* proves R-02: 31 January + 1 month is 29 February in a leap year. */
static void test_due_leap_year(void **state)
{
	(void)state;
	expect_due("2028-01-31", 0, 1, 0, "2028-02-29");
	expect_due("2100-01-31", 0, 1, 0, "2100-02-28"); /* not a leap year */
	expect_due("2000-01-31", 0, 1, 0, "2000-02-29");
}

/* proves R-02: a month across the year end. */
static void test_due_year_end(void **state)
{
	(void)state;
	expect_due("2026-12-15", 0, 1, 0, "2027-01-15");
	expect_due("2026-12-31", 0, 1, 0, "2027-01-31");
}

/* proves R-02: Sospro's 30 days are days, not a month. */
static void test_due_thirty_days(void **state)
{
	(void)state;
	expect_due("2026-02-10", 0, 0, 30, "2026-03-12");
	expect_due("2028-02-10", 0, 0, 30, "2028-03-11");
	expect_due("2026-12-15", 0, 0, 30, "2027-01-14");
}

/* proves R-02: a time counts its date in UTC. */
static void test_due_from_time(void **state)
{
	(void)state;
	expect_due("2026-01-31T23:59:59Z", 0, 1, 0, "2026-02-28");
	/* 23:30 at UTC-2 is 01:30 on 1 February UTC. */
	expect_due("2026-01-31T23:30:00-02:00", 0, 1, 0, "2026-03-01");
	/* 00:30 at UTC+2 is still 31 January UTC. */
	expect_due("2026-02-01T00:30:00+02:00", 0, 1, 0, "2026-02-28");
}

/* proves R-02: an extension counts from the first due date. */
static void test_due_extension_arithmetic(void **state)
{
	(void)state;
	expect_due("2026-02-28", 0, 2, 0, "2026-04-28");
	expect_due("2026-03-31", 0, 2, 0, "2026-05-31");
	expect_due("2026-12-31", 0, 2, 0, "2027-02-28");
}

/* Not a date: -1, and nothing written past the buffer. */
static void test_due_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",          "yesterday", "2026-02-30",           "2026-13-01",
	        "2026-1-31", "31.1.2026", "2026-01-31T25:00:00Z", "2026-01-31x"};
	struct duration m1 = {0, 1, 0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[11] = "untouched";
		if (request_due_date(bad[i], m1, out) != -1)
			fail_msg("request_due_date(\"%s\") accepted it: %s", bad[i], out);
	}
	char out[11];
	assert_int_equal(request_due_date(NULL, m1, out), -1);
}

/* ------------------------------------------------------------------------------------------ */
/* Create                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* proves R-02: the due date follows the register's deadline (rauma-crm P1M). */
static void test_create_due_from_declaration_month(void **state)
{
	struct fx *f = *state;
	int64_t id = req_new_ok(f, RAUMA,
	                        "{\"type\": \"access\", \"channel\": \"written\","
	                        " \"received_at\": \"2025-10-31\"}");
	char buf[32];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT due_on FROM requests WHERE id = ?1", id),
	        "2025-11-30");
	assert_string_equal(state_of(f, id, buf), "received");
	json_t *o = get_ok(f, RAUMA, id);
	assert_jstr(o, "due_on", "2025-11-30");
	assert_jstr(o, "due", "2025-11-30");
	assert_jstr(o, "state", "received");
	assert_jstr(o, "type", "access");
	assert_jstr(o, "channel", "written");
	assert_true(json_is_null(json_object_get(o, "person_id")));
	assert_true(json_is_true(json_object_get(o, "overdue"))); /* 2025-11-30 < 2026-01-01 */
	json_t *steps = json_object_get(o, "steps");
	assert_int_equal(json_array_size(steps), 1);
	assert_jstr(json_array_get(steps, 0), "action", "received");
	assert_jstr(json_array_get(steps, 0), "actor", "operator:test");
	json_decref(o);
}

/* proves R-02: Sospro answers in 30 days, not a month. */
static void test_create_due_from_declaration_days(void **state)
{
	struct fx *f = *state;
	int64_t id = req_new_ok(f, SOSPRO,
	                        "{\"type\": \"access\", \"channel\": \"email\","
	                        " \"received_at\": \"2025-12-10\"}");
	char buf[32];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT due_on FROM requests WHERE id = ?1", id),
	        "2026-01-09");
	/* Received now by default: 2026-01-01 + 30 days. */
	id = req_new_ok(f, SOSPRO, "{\"type\": \"erasure\", \"channel\": \"written\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT due_on FROM requests WHERE id = ?1", id),
	        "2026-01-31");
	/* rauma-crm, received now: one month. */
	id = req_new_ok(f, RAUMA, "{\"type\": \"erasure\", \"channel\": \"written\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT due_on FROM requests WHERE id = ?1", id),
	        "2026-02-01");
}

/* A request cannot have been received after now. */
static void test_create_refuses_future(void **state)
{
	struct fx *f = *state;
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\","
	                   " \"received_at\": \"2026-01-02\"}",
	                   NULL),
	           KERR_INVALID, "received_at");
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\","
	                   " \"received_at\": \"2026-01-01T00:00:01Z\"}",
	                   NULL),
	           KERR_INVALID, "received_at");
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\","
	                   " \"received_at\": \"eilen\"}",
	                   NULL),
	           KERR_INVALID, "received_at");
	/* Exactly now is not the future. */
	req_new_ok(f, RAUMA,
	           "{\"type\": \"access\", \"channel\": \"email\","
	           " \"received_at\": \"2026-01-01T00:00:00Z\"}");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 1);
}

static void test_create_refuses_bad_type_channel_member(void **state)
{
	struct fx *f = *state;
	assert_err(f, req_new(f, RAUMA, "{\"type\": \"forget_me\", \"channel\": \"email\"}", NULL),
	           KERR_INVALID, "type");
	assert_err(f, req_new(f, RAUMA, "{\"channel\": \"email\"}", NULL), KERR_INVALID, "type");
	assert_err(f, req_new(f, RAUMA, "{\"type\": \"access\", \"channel\": \"fax\"}", NULL),
	           KERR_INVALID, "channel");
	assert_err(f, req_new(f, RAUMA, "{\"type\": \"access\"}", NULL), KERR_INVALID, "channel");
	assert_err(
	        f,
	        req_new(f, RAUMA,
	                "{\"type\": \"access\", \"channel\": \"email\", \"state\": \"fulfilled\"}",
	                NULL),
	        KERR_INVALID, "state");
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\","
	                   " \"subject\": {\"hetu\": \"131052-308T\"}}",
	                   NULL),
	           KERR_INVALID, "hetu");
	assert_err(f,
	           req_new(f, "no-such-register", "{\"type\": \"access\", \"channel\": \"email\"}",
	                   NULL),
	           KERR_NOTFOUND, "register");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM request_steps", ""), 0);
}

/* proves R-06: a rectification names declared fields only, and the refusal names the field. */
static void test_create_rectification_undeclared_field(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Oikaisija\"}");
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"type\": \"rectification\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"details\": {\"changes\": {\"shoe_size\": \"44\"}}}",
	         pid);
	int rc = req_new(f, RAUMA, body, NULL);
	assert_err(f, rc, KERR_REFUSED, "details.changes");
	assert_non_null(strstr(f->err.message, "shoe_size"));
	/* Without changes, or with changes that are no object. */
	snprintf(body, sizeof(body),
	         "{\"type\": \"rectification\", \"channel\": \"email\", \"person_id\": %" PRId64
	         "}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "details");
	snprintf(body, sizeof(body),
	         "{\"type\": \"rectification\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"details\": {\"changes\": {}}}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "details.changes");
	/* A member the type does not take. */
	snprintf(body, sizeof(body),
	         "{\"type\": \"erasure\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"details\": {\"changes\": {\"email\": \"x@example.fi\"}}}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "changes");
	/* A bad marketing-ban channel. */
	snprintf(body, sizeof(body),
	         "{\"type\": \"marketing_ban\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"details\": {\"channels\": [\"email\", \"pigeon\"]}}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "details.channels");
	/* An objection says what it objects to. */
	snprintf(body, sizeof(body),
	         "{\"type\": \"objection\", \"channel\": \"email\", \"person_id\": %" PRId64 "}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "details");
	snprintf(body, sizeof(body),
	         "{\"type\": \"objection\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"details\": {\"note\": \"ei\"}}",
	         pid);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_INVALID, "scope");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 0);
}

static void test_create_unknown_person(void **state)
{
	struct fx *f = *state;
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": 999}",
	                   NULL),
	           KERR_NOTFOUND, "person_id");
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": \"1\"}",
	                   NULL),
	           KERR_INVALID, "person_id");
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": -3}",
	                   NULL),
	           KERR_INVALID, "person_id");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 0);
}

/* A person of another register is not a subject of this one. */
static void test_create_person_of_other_register(void **state)
{
	struct fx *f = *state;
	int64_t kemi = person_ok(f, KEMI, "{" KEMI_E ", \"first_name\": \"Kemiläinen\"}");
	char body[160];
	snprintf(body, sizeof(body),
	         "{\"type\": \"erasure\", \"channel\": \"email\", \"person_id\": %" PRId64 "}",
	         kemi);
	assert_err(f, req_new(f, RAUMA, body, NULL), KERR_NOTFOUND, "person_id");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 0);
	/* Nor can verification name one. */
	int64_t id = req_new_ok(f, RAUMA, "{\"type\": \"erasure\", \"channel\": \"email\"}");
	snprintf(body, sizeof(body), "{\"method\": \"strong_auth\", \"person_id\": %" PRId64 "}",
	         kemi);
	assert_err(f, do_step(f, request_verify, RAUMA, id, body), KERR_NOTFOUND, "person_id");
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "received");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests WHERE person_id IS NULL", ""),
	                 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Verification (R-05)                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* proves R-05: nothing is done before the identity is verified. */
static void test_fulfil_before_verify_refused(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Varmistamaton\","
	                        " \"email\": \"varmistamaton@example.fi\"}");
	int64_t id = req_for(f, RAUMA, "erasure", pid, NULL);
	int64_t logged = log_rows(f);
	json_t *out = NULL;
	assert_err(f, fulfil(f, RAUMA, id, &out), KERR_REFUSED, "state");
	assert_null(out);
	assert_int_equal(persons_with_id(f, pid), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", pid),
	        1);
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "received");
	assert_int_equal(steps_of(f, id), 1);
	assert_int_equal(log_rows(f), logged); /* a refused step logs nothing */
	/* The same for a request that names no person yet. */
	int64_t anon = req_new_ok(f, RAUMA, "{\"type\": \"restriction\", \"channel\": \"email\"}");
	assert_err(f, fulfil(f, RAUMA, anon, NULL), KERR_REFUSED, "state");
	assert_string_equal(state_of(f, anon, buf), "received");
}

/* proves R-05: verification names the person the requester was verified to be. */
static void test_verify_needs_person(void **state)
{
	struct fx *f = *state;
	int64_t id = req_new_ok(f, RAUMA,
	                        "{\"type\": \"access\", \"channel\": \"written\","
	                        " \"subject\": {\"name\": \"Nimetön\"}}");
	assert_err(f, do_step(f, request_verify, RAUMA, id, "{\"method\": \"id_document\"}"),
	           KERR_INVALID, "person_id");
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "received");
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM requests WHERE id = ?1 AND verified_at IS NULL",
	                "i", id),
	        1);
	/* Naming the person matches the request to them and verifies it. */
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Löydetty\"}");
	char body[128];
	snprintf(body, sizeof(body),
	         "{\"method\": \"id_document\", \"person_id\": %" PRId64 ", \"note\": \"passi\"}",
	         pid);
	step_ok(f, request_verify, RAUMA, id, body);
	assert_string_equal(state_of(f, id, buf), "verified");
	assert_int_equal(raw_int(f, "SELECT person_id FROM requests WHERE id = ?1", "i", id), pid);
	json_t *o = get_ok(f, RAUMA, id);
	json_t *v = json_object_get(o, "verification");
	assert_jstr(v, "method", "id_document");
	assert_jstr(v, "by", "operator:test");
	assert_jstr(v, "at", "2026-01-01T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(o, "person_id")), pid);
	json_decref(o);
}

/* proves R-02, R-05: a verified request is started: it is in progress, handled by whoever
 * started it, and the step says who and when; an unverified request is refused, a request
 * in progress or closed is a conflict, and none of these writes a step or a log entry. The
 * extension, the refusal and the fulfilment work from in progress. */
static void test_start_verified(void **state)
{
	struct fx *f = *state;
	char buf[64];
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Aloitettu\"}");
	int64_t id = req_for(f, RAUMA, "restriction", pid, NULL);

	/* Not verified yet: refused, nothing written. */
	int64_t logged = log_rows(f);
	assert_err(f, do_step(f, request_start, RAUMA, id, "{}"), KERR_REFUSED, "state");
	assert_string_equal(state_of(f, id, buf), "received");
	assert_int_equal(steps_of(f, id), 1);
	assert_int_equal(log_rows(f), logged);

	verify_ok(f, RAUMA, id);
	assert_err(f, do_step(f, request_start, RAUMA, id, "{\"colour\": 1}"), KERR_INVALID,
	           "colour");
	fx_as_user(f, "kasittelija", RAUMA, ROLE_EDITOR);
	step_ok(f, request_start, RAUMA, id, "{\"note\": \"otettu käsittelyyn\"}");
	fx_as_operator(f);
	assert_string_equal(state_of(f, id, buf), "in_progress");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT handler FROM requests WHERE id = ?1", id),
	        "user:kasittelija");
	assert_string_equal(last_step(f, id, buf), "started");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT actor FROM request_steps WHERE request_id = ?1"
	                             " ORDER BY id DESC LIMIT 1",
	                             id),
	                    "user:kasittelija");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT at FROM request_steps WHERE request_id = ?1"
	                             " ORDER BY id DESC LIMIT 1",
	                             id),
	                    "2026-01-01T00:00:00Z");
	assert_int_equal(log_rows_for(f, "request_started", id), 1);
	json_t *o = get_ok(f, RAUMA, id);
	assert_jstr(o, "state", "in_progress");
	assert_jstr(o, "handler", "user:kasittelija");
	json_decref(o);

	/* Started once: again, or verifying it again, is a conflict. */
	logged = log_rows(f);
	assert_err(f, do_step(f, request_start, RAUMA, id, "{}"), KERR_CONFLICT, "state");
	assert_err(f, do_step(f, request_verify, RAUMA, id, "{\"method\": \"in_person\"}"),
	           KERR_CONFLICT, "state");
	assert_int_equal(steps_of(f, id), 3);
	assert_int_equal(log_rows(f), logged);

	/* The steps after it work from in progress. */
	step_ok(f, request_extend, RAUMA, id,
	        "{\"months\": 2, \"reason\": \"Laaja pyyntö\", \"subject_told\": true}");
	assert_string_equal(state_of(f, id, buf), "in_progress");
	json_decref(fulfil_ok(f, RAUMA, id));
	assert_string_equal(state_of(f, id, buf), "fulfilled");
	int64_t other = req_for(f, RAUMA, "restriction", pid, NULL);
	verify_ok(f, RAUMA, other);
	step_ok(f, request_start, RAUMA, other, "{}");
	assert_int_equal(refuse(f, RAUMA, other, "{\"reason\": \"Ei perustetta\"}", NULL), 0);
	assert_string_equal(state_of(f, other, buf), "refused");

	/* Closed requests cannot be started. */
	const int64_t closed[] = {id, other};
	for (size_t i = 0; i < 2; i++) {
		int64_t n = steps_of(f, closed[i]);
		logged = log_rows(f);
		assert_err(f, do_step(f, request_start, RAUMA, closed[i], "{}"), KERR_CONFLICT,
		           "state");
		assert_int_equal(steps_of(f, closed[i]), n);
		assert_int_equal(log_rows(f), logged);
	}
	assert_err(f, do_step(f, request_start, RAUMA, 999999, "{}"), KERR_NOTFOUND, "id");
}

/* proves R-05: a verification is recorded once. */
static void test_verify_twice_conflict(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Kahdesti\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	verify_ok(f, RAUMA, id);
	int64_t logged = log_rows(f);
	assert_err(f, do_step(f, request_verify, RAUMA, id, "{\"method\": \"in_person\"}"),
	           KERR_CONFLICT, "state");
	char buf[64];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT verify_method FROM requests WHERE id = ?1", id),
	                    "strong_auth");
	assert_int_equal(steps_of(f, id), 2);
	assert_int_equal(log_rows(f), logged);
	/* Another person than the one the request names. */
	int64_t other = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Toinen\"}");
	int64_t id2 = req_for(f, RAUMA, "access", pid, NULL);
	char body[128];
	snprintf(body, sizeof(body), "{\"method\": \"strong_auth\", \"person_id\": %" PRId64 "}",
	         other);
	assert_err(f, do_step(f, request_verify, RAUMA, id2, body), KERR_CONFLICT, "person_id");
	assert_string_equal(state_of(f, id2, buf), "received");
}

static void test_verify_bad_method(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Menetelmä\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	assert_err(f, do_step(f, request_verify, RAUMA, id, "{\"method\": \"trust_me\"}"),
	           KERR_INVALID, "method");
	assert_err(f, do_step(f, request_verify, RAUMA, id, "{}"), KERR_INVALID, "method");
	assert_err(f,
	           do_step(f, request_verify, RAUMA, id,
	                   "{\"method\": \"strong_auth\", \"by\": \"someone\"}"),
	           KERR_INVALID, "by");
	assert_err(f, do_step(f, request_verify, RAUMA, 4242, "{\"method\": \"strong_auth\"}"),
	           KERR_NOTFOUND, "id");
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "received");
	assert_int_equal(steps_of(f, id), 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Extension (R-02)                                                                           */
/* ------------------------------------------------------------------------------------------ */

#define EXTEND2 "{\"months\": 2, \"reason\": \"Laaja pyyntö\", \"subject_told\": true}"

/* proves R-02: one extension before the first deadline, told to the subject. */
static void test_extend_once_before_due(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Jatko\"}");
	/* Received 2025-12-31: due 2026-01-31. */
	char body[160];
	snprintf(body, sizeof(body),
	         "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"received_at\": \"2025-12-31\"}",
	         pid);
	int64_t id = req_new_ok(f, RAUMA, body);
	set_now(f, NOW + 10 * DAY); /* 2026-01-11 */
	step_ok(f, request_extend, RAUMA, id, EXTEND2);
	char buf[64];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT extended_to FROM requests WHERE id = ?1", id),
	        "2026-03-31");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT due_on FROM requests WHERE id = ?1", id),
	        "2026-01-31");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT subject_told_at FROM requests WHERE id = ?1", id),
	                    "2026-01-11T00:00:00Z");
	json_t *o = get_ok(f, RAUMA, id);
	assert_jstr(o, "due", "2026-03-31");
	assert_jstr(o, "extended_to", "2026-03-31");
	assert_jstr(json_object_get(o, "extension"), "reason", "Laaja pyyntö");
	json_decref(o);
	assert_string_equal(last_step(f, id, buf), "extended");
	/* proves R-02: a second extension is refused. */
	int64_t logged = log_rows(f);
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id,
	                   "{\"months\": 1, \"reason\": \"Vielä\", \"subject_told\": true}"),
	           KERR_CONFLICT, "months");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT extended_to FROM requests WHERE id = ?1", id),
	        "2026-03-31");
	assert_int_equal(log_rows(f), logged);
}

/* proves R-02: the first deadline day itself still allows an extension; the next does not. */
static void test_extend_on_and_after_due(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Myöhässä\"}");
	int64_t late = req_for(f, RAUMA, "access", pid, NULL); /* due 2026-02-01 */
	int64_t ontime = req_for(f, RAUMA, "access", pid, NULL);
	set_now(f, NOW + 32 * DAY); /* 2026-02-02 */
	assert_err(f, do_step(f, request_extend, RAUMA, late, EXTEND2), KERR_REFUSED, "months");
	char buf[64];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf),
	                 "SELECT coalesce(extended_to, '-') FROM requests WHERE id = ?1", late),
	        "-");
	assert_int_equal(steps_of(f, late), 1);
	set_now(f, NOW + 31 * DAY + 86399); /* 2026-02-01T23:59:59Z */
	step_ok(f, request_extend, RAUMA, ontime,
	        "{\"months\": 1, \"reason\": \"Monimutkainen\", \"subject_told\": true}");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT extended_to FROM requests WHERE id = ?1", ontime),
	                    "2026-03-01");
}

/* proves R-02: the subject must have been told, and two months is the most. */
static void test_extend_needs_subject_told_and_limit(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Kertomaton\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id, "{\"months\": 1, \"reason\": \"Kiire\"}"),
	           KERR_REFUSED, "subject_told");
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id,
	                   "{\"months\": 1, \"reason\": \"Kiire\", \"subject_told\": false}"),
	           KERR_REFUSED, "subject_told");
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id,
	                   "{\"months\": 3, \"reason\": \"Kiire\", \"subject_told\": true}"),
	           KERR_INVALID, "months");
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id,
	                   "{\"months\": 0, \"reason\": \"Kiire\", \"subject_told\": true}"),
	           KERR_INVALID, "months");
	assert_err(f,
	           do_step(f, request_extend, RAUMA, id, "{\"months\": 1, \"subject_told\": true}"),
	           KERR_INVALID, "reason");
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM requests WHERE extended_to IS NULL AND id = ?1",
	                "i", id),
	        1);
	assert_int_equal(steps_of(f, id), 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Assessment and refusal (R-03, R-04)                                                        */
/* ------------------------------------------------------------------------------------------ */

/* proves R-04: a manager marks a repeated request excessive with a fee; the subject's other
 * requests are shown. */
static void test_assess_excessive_with_history(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Toistuva\"}");
	int64_t other = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Muu\"}");
	int64_t first = req_for(f, RAUMA, "access", pid, NULL);
	int64_t second = req_for(f, RAUMA, "access", pid, NULL);
	req_for(f, RAUMA, "access", other, NULL);
	int64_t third = req_for(f, RAUMA, "access", pid, NULL);
	step_ok(f, request_mark, RAUMA, third,
	        "{\"assessment\": \"excessive\", \"reason\": \"Kolmas pyyntö viikossa\","
	        " \"fee_cents\": 2500}");
	json_t *o = get_ok(f, RAUMA, third);
	json_t *a = json_object_get(o, "assessment");
	assert_jstr(a, "assessment", "excessive");
	assert_jstr(a, "reason", "Kolmas pyyntö viikossa");
	assert_int_equal(json_integer_value(json_object_get(a, "fee_cents")), 2500);
	json_t *prev = json_object_get(o, "earlier_requests");
	assert_int_equal(json_array_size(prev), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(prev, 0), "id")), first);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(prev, 1), "id")),
	                 second);
	assert_jstr(json_array_get(prev, 0), "type", "access");
	json_decref(o);
	/* The earlier request shows the marked one with its assessment. */
	o = get_ok(f, RAUMA, first);
	prev = json_object_get(o, "earlier_requests");
	assert_int_equal(json_array_size(prev), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(prev, 1), "id")), third);
	assert_jstr(json_array_get(prev, 1), "assessment", "excessive");
	json_decref(o);
	assert_int_equal(
	        raw_int(f,
	                "SELECT fee_cents FROM requests WHERE id = ?1 AND unfounded = 'excessive'",
	                "i", third),
	        2500);
	char buf[32];
	assert_string_equal(last_step(f, third, buf), "marked");
	/* Marking stays open until refused or fulfilled. */
	assert_string_equal(state_of(f, third, buf), "received");
}

static void test_assess_bad_input(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Arvio\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	assert_err(f,
	           do_step(f, request_mark, RAUMA, id,
	                   "{\"assessment\": \"annoying\", \"reason\": \"x\"}"),
	           KERR_INVALID, "assessment");
	assert_err(f, do_step(f, request_mark, RAUMA, id, "{\"assessment\": \"unfounded\"}"),
	           KERR_INVALID, "reason");
	assert_err(f,
	           do_step(f, request_mark, RAUMA, id,
	                   "{\"assessment\": \"excessive\", \"reason\": \"x\", \"fee_cents\": -1}"),
	           KERR_INVALID, "fee_cents");
	assert_err(
	        f,
	        do_step(f, request_mark, RAUMA, id,
	                "{\"assessment\": \"excessive\", \"reason\": \"x\", \"fee_cents\": \"5\"}"),
	        KERR_INVALID, "fee_cents");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests WHERE unfounded IS NULL", ""),
	                 1);
}

/* proves R-03: a refusal keeps its reasons and the response names the complaint authority. */
static void test_refuse_names_authority(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Kielletty\"}");
	int64_t id = req_for(f, RAUMA, "erasure", pid, NULL);
	json_t *out = NULL;
	int rc = refuse(f, RAUMA, id, "{\"reason\": \"Ilmeisen perusteeton\"}", &out);
	if (rc)
		fail_msg("refuse = %d: %s", rc, f->err.message);
	assert_jstr(out, "state", "refused");
	assert_jstr(out, "reason", "Ilmeisen perusteeton");
	json_t *ca = json_object_get(out, "complaint_authority");
	assert_jstr(ca, "name", "Tietosuojavaltuutetun toimisto");
	assert_jstr(ca, "address", "PL 800, 00531 Helsinki");
	assert_jstr(ca, "phone", "+358 29 566 6700");
	assert_jstr(ca, "email", "tietosuoja@om.fi");
	assert_jstr(ca, "web", "https://tietosuoja.fi");
	json_decref(out);
	char buf[64];
	assert_string_equal(state_of(f, id, buf), "refused");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT refusal_reason FROM requests WHERE id = ?1", id),
	                    "Ilmeisen perusteeton");
	assert_int_equal(persons_with_id(f, pid), 1);
	json_t *o = get_ok(f, RAUMA, id);
	assert_jstr(o, "refusal_reason", "Ilmeisen perusteeton");
	assert_jstr(json_object_get(o, "complaint_authority"), "name",
	            "Tietosuojavaltuutetun toimisto");
	assert_non_null(json_object_get(o, "closed_at"));
	assert_true(json_is_false(json_object_get(o, "overdue")));
	json_decref(o);
	/* kemi-crm's authority is its own declaration's (00521 as published). */
	int64_t kp = person_ok(f, KEMI, "{" KEMI_E ", \"first_name\": \"Kemi\"}");
	int64_t kid = req_for(f, KEMI, "access", kp, NULL);
	rc = refuse(f, KEMI, kid, "{\"reason\": \"Ei\"}", &out);
	assert_int_equal(rc, 0);
	assert_jstr(json_object_get(out, "complaint_authority"), "address",
	            "PL 800, 00521 Helsinki");
	json_decref(out);
	/* Without a reason, nothing. */
	int64_t id2 = req_for(f, RAUMA, "erasure", pid, NULL);
	assert_err(f, refuse(f, RAUMA, id2, "{}", NULL), KERR_INVALID, "reason");
	assert_string_equal(state_of(f, id2, buf), "received");
}

/* An open request has no complaint authority in it yet. */
static void test_open_request_has_no_authority(void **state)
{
	struct fx *f = *state;
	int64_t id = req_new_ok(f, RAUMA, "{\"type\": \"access\", \"channel\": \"email\"}");
	json_t *o = get_ok(f, RAUMA, id);
	assert_null(json_object_get(o, "complaint_authority"));
	assert_null(json_object_get(o, "earlier_requests")); /* no person matched yet */
	json_decref(o);
}

/* A closed request stays closed. */
static void test_closed_request_cannot_change(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Suljettu\"}");
	int64_t refused = req_for(f, RAUMA, "restriction", pid, NULL);
	assert_int_equal(refuse(f, RAUMA, refused, "{\"reason\": \"Ei perustetta\"}", NULL), 0);
	int64_t withdrawn = req_for(f, RAUMA, "restriction", pid, NULL);
	step_ok(f, request_withdraw, RAUMA, withdrawn, "{\"note\": \"Peruttu puhelimessa\"}");
	int64_t done = req_for(f, RAUMA, "restriction", pid, NULL);
	verify_ok(f, RAUMA, done);
	json_decref(fulfil_ok(f, RAUMA, done));
	const int64_t ids[] = {refused, withdrawn, done};
	const char *const states[] = {"refused", "withdrawn", "fulfilled"};
	for (size_t i = 0; i < 3; i++) {
		int64_t n = steps_of(f, ids[i]), logged = log_rows(f);
		char buf[32];
		assert_err(f, refuse(f, RAUMA, ids[i], "{\"reason\": \"Uudestaan\"}", NULL),
		           KERR_CONFLICT, "state");
		assert_err(f, do_step(f, request_withdraw, RAUMA, ids[i], "{}"), KERR_CONFLICT,
		           "state");
		assert_err(f, fulfil(f, RAUMA, ids[i], NULL), KERR_CONFLICT, "state");
		assert_err(f,
		           do_step(f, request_verify, RAUMA, ids[i], "{\"method\": \"in_person\"}"),
		           KERR_CONFLICT, "state");
		assert_err(f, do_step(f, request_extend, RAUMA, ids[i], EXTEND2), KERR_CONFLICT,
		           "state");
		assert_err(f,
		           do_step(f, request_mark, RAUMA, ids[i],
		                   "{\"assessment\": \"unfounded\", \"reason\": \"x\"}"),
		           KERR_CONFLICT, "state");
		assert_string_equal(state_of(f, ids[i], buf), states[i]);
		assert_int_equal(steps_of(f, ids[i]), n);
		assert_int_equal(log_rows(f), logged);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Fulfilment by type                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* proves R-06: a rectification changes the person through the change path, and the history
 * names the request. */
static void test_fulfil_rectification(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Virheellinen\","
	                        " \"email\": \"vanha@example.fi\"}");
	int64_t id = req_for(f, RAUMA, "rectification", pid,
	                     "{\"changes\": {\"first_name\": \"Oikea\","
	                     " \"email\": \"uusi@example.fi\"}}");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_jstr(out, "state", "fulfilled");
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "changed")));
	json_decref(out);
	char buf[128];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT first_name FROM persons WHERE id = ?1", pid),
	        "Oikea");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT value FROM contact_points WHERE person_id = ?1"
	                             " AND kind = 'email'",
	                             pid),
	                    "uusi@example.fi");
	char reason[32];
	snprintf(reason, sizeof(reason), "request:%" PRId64, id);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity = 'person'"
	                         " AND entity_id = ?1 AND field = 'first_name'"
	                         " AND old_value = 'Virheellinen' AND new_value = 'Oikea'"
	                         " AND reason = ?2",
	                         "is", pid, reason),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity = 'person'"
	                         " AND entity_id = ?1 AND field = 'email' AND reason = ?2",
	                         "is", pid, reason),
	                 1);
	assert_string_equal(state_of(f, id, buf), "fulfilled");
	assert_string_equal(last_step(f, id, buf), "fulfilled");
}

/* proves R-06: a correction that fails validation changes nothing and keeps the request open. */
static void test_fulfil_rectification_bad_value(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Ennallaan\","
	                        " \"email\": \"ennallaan@example.fi\"}");
	int64_t id = req_for(f, RAUMA, "rectification", pid,
	                     "{\"changes\": {\"email\": \"ei-osoite\", \"first_name\": \"Uusi\"}}");
	verify_ok(f, RAUMA, id);
	int64_t logged = log_rows(f);
	assert_err(f, fulfil(f, RAUMA, id, NULL), KERR_INVALID, "email");
	char buf[64];
	assert_string_equal(state_of(f, id, buf), "verified");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT first_name FROM persons WHERE id = ?1", pid),
	        "Ennallaan");
	assert_int_equal(log_rows(f), logged);
}

/* Moves the write-ahead log into the database file and empties it, on a connection of its
 * own, as an operator's `sqlite3 kortisto.db 'PRAGMA wal_checkpoint(TRUNCATE)'` would. */
static void checkpoint(struct fx *f)
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/kortisto.db", f->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("cannot open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) != SQLITE_OK)
		fail_msg("checkpoint: %s", sqlite3_errmsg(db));
	int busy = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (busy != 0)
		fail_msg("the checkpoint did not complete (busy %d)", busy);
}

/* Makes a rauma-crm person with contact points, an affiliation, history and a search entry. */
static int64_t rich_person(struct fx *f, int64_t *aid)
{
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Zyxwvu\", \"last_name\":"
	                        " \"Qwertyson\", \"email\": \"zyx.qwerty@example.fi\","
	                        " \"phone\": \"+358 40 987 6543\"}");
	json_t *in = parse("{\"first_name\": \"Zyxwvut\"}");
	fresh(f);
	assert_int_equal(person_update(&f->ctx, RAUMA, pid, in), 0);
	json_decref(in);
	in = parse("{\"name\": \"Qwerty Oy\", \"source\": \"public_web\"}");
	int64_t oid = 0;
	fresh(f);
	assert_int_equal(org_create(&f->ctx, RAUMA, in, &oid), 0);
	json_decref(in);
	char body[160];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64
	         ", \"title\": \"Qwertyjohtaja\"}",
	         pid, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, aid), 0);
	json_decref(in);
	assert_true(raw_int(f,
	                    "SELECT count(*) FROM change_history WHERE entity = 'person'"
	                    " AND entity_id = ?1",
	                    "i", pid) > 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM person_search WHERE rowid = ?1", "i", pid), 1);
	return pid;
}

/* proves R-07: an erasure removes the person, contact points, affiliations, history and the
 * search entry; the request stays as the proof it was answered. */
static void test_fulfil_erasure(void **state)
{
	struct fx *f = *state;
	int64_t aid = 0;
	int64_t pid = rich_person(f, &aid);
	int64_t id = req_for(f, RAUMA, "erasure", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_jstr(out, "state", "fulfilled");
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "erased")));
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", pid),
	        0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM affiliations WHERE person_id = ?1", "i", pid), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE (entity = 'person'"
	                         " AND entity_id = ?1) OR (entity = 'affiliation'"
	                         " AND entity_id = ?2)",
	                         "ii", pid, aid),
	                 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM person_search WHERE rowid = ?1", "i", pid), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_search WHERE person_search"
	                         " MATCH 'qwertyson'",
	                         ""),
	                 0);
	char buf[64];
	assert_string_equal(state_of(f, id, buf), "fulfilled");
	assert_int_equal(raw_int(f, "SELECT person_id FROM requests WHERE id = ?1", "i", id), pid);
	char reason[32];
	snprintf(reason, sizeof(reason), "request:%" PRId64, id);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'delete'"
	                         " AND entity = 'person' AND entity_id = ?1 AND reason = ?2",
	                         "is", pid, reason),
	                 1);
	/* The request can still be read after its subject is gone. */
	json_t *o = get_ok(f, RAUMA, id);
	assert_jstr(o, "state", "fulfilled");
	json_decref(o);
	/* After the purge the raw files keep none of it. */
	bool done = false;
	fresh(f);
	assert_int_equal(search_purge(&f->ctx, &done), 0);
	assert_true(done);
	static const char *const traces[] = {"zyx.qwerty@example.fi", "Qwertyson", "Zyxwvut",
	                                     "+358409876543", "Qwertyjohtaja"};
	checkpoint(f);
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		if (db_files_contain(f, traces[i]))
			fail_msg("'%s' is still in the database files after erasure and a "
			         "checkpoint",
			         traces[i]);
	}
}

/* proves R-07: the requests stay as the proof they were answered, but what the requester
 * wrote about themselves or asked to correct goes with the erasure. */
static void test_fulfil_erasure_forgets_request_subject(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Kirjoittaja\","
	                        " \"email\": \"kirjoittaja@example.fi\"}");
	int64_t other = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Sivullinen\"}");
	char body[400];
	snprintf(body, sizeof(body),
	         "{\"type\": \"rectification\", \"channel\": \"written\", \"person_id\": %" PRId64
	         ", \"subject\": {\"name\": \"Kirjoittaja Kynä\", \"email\": "
	         "\"kirjoittaja@example.fi\"},"
	         " \"details\": {\"changes\": {\"first_name\": \"Kynäilijä\"}}}",
	         pid);
	int64_t rect = req_new_ok(f, RAUMA, body);
	snprintf(body, sizeof(body),
	         "{\"type\": \"access\", \"channel\": \"written\", \"person_id\": %" PRId64
	         ", \"subject\": {\"name\": \"Sivullinen Säilyvä\"}}",
	         other);
	int64_t keep = req_new_ok(f, RAUMA, body);
	snprintf(body, sizeof(body),
	         "{\"type\": \"erasure\", \"channel\": \"written\", \"person_id\": %" PRId64
	         ", \"subject\": {\"name\": \"Kirjoittaja Kynä\", \"phone\": \"040 555 1234\"}}",
	         pid);
	int64_t id = req_new_ok(f, RAUMA, body);
	verify_ok(f, RAUMA, id);
	json_decref(fulfil_ok(f, RAUMA, id));
	char buf[128];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT subject || details FROM requests WHERE id = ?1", id),
	                    "{}{}");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT subject || details FROM requests WHERE id = ?1", rect),
	                    "{}{}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT subject FROM requests WHERE id = ?1", keep),
	        "{\"name\":\"Sivullinen Säilyvä\"}");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 3);
	checkpoint(f);
	assert_false(db_files_contain(f, "Kirjoittaja Kyn"));
	assert_false(db_files_contain(f, "Kynäilijä"));
	assert_false(db_files_contain(f, "040 555 1234"));
}

/* proves R-07: the subject's marketing bans go with them. */
static void test_fulfil_erasure_removes_bans(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Kielto\"}");
	int64_t ban = req_for(f, RAUMA, "marketing_ban", pid, "{\"channels\": [\"sms\"]}");
	verify_ok(f, RAUMA, ban);
	json_decref(fulfil_ok(f, RAUMA, ban));
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM marketing_bans WHERE person_id = ?1", "i", pid),
	        1);
	int64_t id = req_for(f, RAUMA, "erasure", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_decref(fulfil_ok(f, RAUMA, id));
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM marketing_bans WHERE person_id = ?1", "i", pid),
	        0);
}

/* proves R-07, L-06: kemi-crm keeps its public-task data only until the subject asks, so an
 * erasure there deletes. */
static void test_fulfil_erasure_until_request(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, KEMI,
	                        "{" KEMI_E ", \"first_name\": \"Pyytäjä\","
	                        " \"email\": \"pyytaja@kemi.example\"}");
	int64_t id = req_for(f, KEMI, "erasure", pid, NULL);
	verify_ok(f, KEMI, id);
	json_t *out = fulfil_ok(f, KEMI, id);
	assert_jstr(out, "state", "fulfilled");
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "erased")));
	assert_null(json_object_get(out, "complaint_authority"));
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", pid),
	        0);
}

/* proves R-07: what a public task obliges to keep is kept, and the refusal says until when. */
static void test_fulfil_erasure_kept_by_public_task(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, KEMI,
	                        "{" KEMI_E ", \"first_name\": \"Säilytettävä\","
	                        " \"email\": \"sailytettava@kemi.example\"}");
	/* A consent on top of the public task: it goes, the rest stays (Art. 17(1)(b)). */
	json_t *cin = parse("{\"purpose\": \"customer_relations\", \"channel\": \"email\","
	                    " \"text\": \"Saa lähettää\", \"text_version\": \"1\"}");
	int64_t consent = 0;
	fresh(f);
	if (consent_give(&f->ctx, KEMI, pid, cin, &consent, NULL) != 0)
		fail_msg("consent_give: %s", f->err.message);
	json_decref(cin);
	int64_t id = req_for(f, KEMI, "erasure", pid, NULL);
	verify_ok(f, KEMI, id);
	json_t *out = fulfil_ok(f, KEMI, id);
	assert_jstr(out, "state", "refused");
	json_t *oc = json_object_get(out, "outcome");
	assert_true(json_is_false(json_object_get(oc, "erased")));
	assert_int_equal(json_integer_value(json_object_get(oc, "consents_withdrawn")), 1);
	assert_non_null(strstr(jstr(out, "reason"), "consents were withdrawn"));
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM consents WHERE id = ?1 AND withdrawn_at IS NOT"
	                " NULL AND withdrawn_how = 'request:' || ?2",
	                "ii", consent, id),
	        1);
	json_t *kept = json_object_get(oc, "kept");
	assert_jstr(kept, "basis", "e");
	assert_jstr(kept, "until", "2036-01-01"); /* created 2026-01-01 + P10Y */
	assert_jstr(kept, "rule", "archive-10y");
	assert_non_null(strstr(jstr(out, "reason"), "2036-01-01"));
	assert_jstr(json_object_get(out, "complaint_authority"), "name",
	            "Tietosuojavaltuutetun toimisto");
	json_decref(out);
	/* Nothing deleted. */
	assert_int_equal(persons_with_id(f, pid), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", pid),
	        1);
	char buf[64];
	assert_string_equal(state_of(f, id, buf), "refused");
	assert_string_equal(last_step(f, id, buf), "refused");
	json_t *o = get_ok(f, KEMI, id);
	assert_jstr(json_object_get(json_object_get(o, "outcome"), "kept"), "until", "2036-01-01");
	assert_non_null(json_object_get(o, "complaint_authority"));
	json_decref(o);
}

/* proves R-09: a restriction keeps the person stored but restricted; lifting is logged once. */
static void test_fulfil_restriction_and_lift(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Rajoitettu\"}");
	int64_t id = req_for(f, RAUMA, "restriction", pid, NULL);
	/* Nothing to lift before fulfilment. */
	assert_err(f, do_step(f, request_lift, RAUMA, id, "{\"note\": \"Kirje\"}"), KERR_CONFLICT,
	           "state");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "restricted")));
	json_decref(out);
	char buf[64];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "restricted");
	assert_int_equal(persons_with_id(f, pid), 1);
	/* Lifting needs a note on how the subject was told. */
	assert_err(f, do_step(f, request_lift, RAUMA, id, "{}"), KERR_INVALID, "note");
	step_ok(f, request_lift, RAUMA, id, "{\"note\": \"Kerrottu kirjeellä\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "active");
	assert_string_equal(last_step(f, id, buf), "lifted");
	assert_int_equal(log_rows_for(f, "request_lifted", id), 1);
	int64_t logged = log_rows(f);
	assert_err(f, do_step(f, request_lift, RAUMA, id, "{\"note\": \"Uudestaan\"}"),
	           KERR_CONFLICT, "state");
	assert_int_equal(log_rows(f), logged);
	assert_int_equal(log_rows_for(f, "request_lifted", id), 1);
	/* An erasure request cannot lift anything. */
	int64_t er = req_for(f, RAUMA, "access", pid, NULL);
	assert_err(f, do_step(f, request_lift, RAUMA, er, "{\"note\": \"x\"}"), KERR_CONFLICT,
	           "state");
}

/* proves R-09: lifting one restriction leaves the person restricted while another fulfilled
 * restriction (here an objection being weighed) still stands; the last lift frees them. */
static void test_lift_keeps_other_restriction(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Kahdesti\"}");
	int64_t a = req_for(f, RAUMA, "restriction", pid, NULL);
	int64_t b = req_for(f, RAUMA, "objection", pid, "{\"scope\": \"profiling\"}");
	verify_ok(f, RAUMA, a);
	verify_ok(f, RAUMA, b);
	json_decref(fulfil_ok(f, RAUMA, a));
	json_decref(fulfil_ok(f, RAUMA, b));
	char buf[64];
	step_ok(f, request_lift, RAUMA, a, "{\"note\": \"Osoite korjattu\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "restricted");
	assert_string_equal(last_step(f, a, buf), "lifted");
	/* The same restriction cannot be lifted twice. */
	assert_err(f, do_step(f, request_lift, RAUMA, a, "{\"note\": \"Uudestaan\"}"),
	           KERR_CONFLICT, "state");
	step_ok(f, request_lift, RAUMA, b, "{\"note\": \"Vastustus ratkaistu\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "active");
}

/* proves R-09: a restricted person's affiliations disappear for an editor (list, read,
 * change, delete and a new one are all refused) and stay visible to a manager. */
static void test_restriction_covers_affiliations(void **state)
{
	struct fx *f = *state;
	int64_t aid = 0;
	int64_t pid = rich_person(f, &aid);
	int64_t id = req_for(f, RAUMA, "restriction", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_decref(fulfil_ok(f, RAUMA, id));
	int64_t oid = raw_int(f, "SELECT org_id FROM affiliations WHERE id = ?1", "i", aid);
	json_t *out = NULL;
	fx_as_user(f, "editori", RAUMA, ROLE_EDITOR);
	fresh(f);
	assert_int_equal(affiliation_find(&f->ctx, RAUMA, 0, oid, NULL, 50, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	out = NULL;
	assert_err(f, affiliation_get(&f->ctx, RAUMA, aid, &out), KERR_REFUSED, "person_id");
	assert_null(out);
	json_t *in = parse("{\"title\": \"Muutettu\"}");
	assert_err(f, affiliation_update(&f->ctx, RAUMA, aid, in), KERR_REFUSED, "person_id");
	json_decref(in);
	assert_err(f, affiliation_delete(&f->ctx, RAUMA, aid), KERR_REFUSED, "person_id");
	char body[120];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "}", pid, oid);
	in = parse(body);
	int64_t nid = 0;
	assert_err(f, affiliation_create(&f->ctx, RAUMA, in, &nid), KERR_REFUSED, "person_id");
	json_decref(in);
	char buf[64];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT title FROM affiliations WHERE id = ?1", aid),
	        "Qwertyjohtaja");
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM affiliations WHERE person_id = ?1", "i", pid), 1);
	fx_as_user(f, "johtaja", RAUMA, ROLE_MANAGER);
	fresh(f);
	assert_int_equal(affiliation_find(&f->ctx, RAUMA, 0, oid, NULL, 50, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	fresh(f);
	assert_int_equal(affiliation_get(&f->ctx, RAUMA, aid, &out), 0);
	assert_jstr(out, "title", "Qwertyjohtaja");
	json_decref(out);
	fx_as_operator(f);
}

static int64_t bans(struct fx *f, int64_t pid, const char *channel)
{
	return raw_int(f,
	               "SELECT count(*) FROM marketing_bans WHERE person_id = ?1 AND channel = ?2",
	               "is", pid, channel);
}

/* proves R-11: an objection to direct marketing bans every channel, for good. */
static void test_fulfil_objection_direct_marketing(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Vastustaja\"}");
	int64_t id = req_for(f, RAUMA, "objection", pid, "{\"scope\": \"direct_marketing\"}");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *banned = json_object_get(json_object_get(out, "outcome"), "banned");
	assert_int_equal(json_array_size(banned), 1);
	assert_string_equal(json_string_value(json_array_get(banned, 0)), "all");
	json_decref(out);
	assert_int_equal(bans(f, pid, "all"), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM marketing_bans WHERE person_id = ?1", "i", pid),
	        1);
	char buf[64], src[32];
	snprintf(src, sizeof(src), "request:%" PRId64, id);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT source FROM marketing_bans WHERE person_id = ?1", pid),
	                    src);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "active");
	/* The ban is no restriction: nothing to lift. */
	assert_err(f, do_step(f, request_lift, RAUMA, id, "{\"note\": \"x\"}"), KERR_CONFLICT,
	           "state");
}

/* proves R-11: another objection restricts processing while the grounds are weighed. */
static void test_fulfil_objection_other_scope(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Punnittava\"}");
	int64_t id = req_for(f, RAUMA, "objection", pid, "{\"scope\": \"profiling of events\"}");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "restricted")));
	json_decref(out);
	char buf[64];
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "restricted");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM marketing_bans", ""), 0);
	step_ok(f, request_lift, RAUMA, id, "{\"note\": \"Perusteet punnittu\"}");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT status FROM persons WHERE id = ?1", pid),
	        "active");
}

/* proves R-11 (M-02): a marketing ban per channel, one row each. */
static void test_fulfil_marketing_ban_channels(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Kieltäjä\"}");
	int64_t id =
	        req_for(f, RAUMA, "marketing_ban", pid, "{\"channels\": [\"email\", \"post\"]}");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *banned = json_object_get(json_object_get(out, "outcome"), "banned");
	assert_int_equal(json_array_size(banned), 2);
	assert_string_equal(json_string_value(json_array_get(banned, 0)), "email");
	assert_string_equal(json_string_value(json_array_get(banned, 1)), "post");
	json_decref(out);
	assert_int_equal(bans(f, pid, "email"), 1);
	assert_int_equal(bans(f, pid, "post"), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM marketing_bans WHERE person_id = ?1", "i", pid),
	        2);
	/* Without channels: every channel. A repeated channel is no error. */
	int64_t id2 = req_for(f, RAUMA, "marketing_ban", pid, NULL);
	verify_ok(f, RAUMA, id2);
	json_decref(fulfil_ok(f, RAUMA, id2));
	assert_int_equal(bans(f, pid, "all"), 1);
	int64_t id3 = req_for(f, RAUMA, "marketing_ban", pid, "{\"channels\": [\"email\"]}");
	verify_ok(f, RAUMA, id3);
	json_decref(fulfil_ok(f, RAUMA, id3));
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM marketing_bans WHERE person_id = ?1", "i", pid),
	        3);
}

/* proves R-12: withdrawing consent erases a subject whose only basis was consent. */
static void test_fulfil_consent_withdrawal_basis_a(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Peruuttaja\","
	                        " \"email\": \"peruuttaja@example.fi\"}");
	int64_t id = req_for(f, RAUMA, "consent_withdrawal", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_jstr(out, "state", "fulfilled");
	assert_true(json_is_true(json_object_get(json_object_get(out, "outcome"), "erased")));
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", pid),
	        0);
}

/* proves R-12: a subject on another basis (legitimate interest) is kept. */
static void test_fulfil_consent_withdrawal_basis_f(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Yrityshenkilö\"}");
	int64_t id = req_for(f, RAUMA, "consent_withdrawal", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_jstr(out, "state", "fulfilled");
	json_t *oc = json_object_get(out, "outcome");
	assert_true(json_is_false(json_object_get(oc, "erased")));
	assert_jstr(oc, "basis", "f");
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 1);
}

/* Records a confirmed consent of `pid` for `purpose` by e-mail. */
static int64_t consent_ok(struct fx *f, int64_t pid, const char *purpose)
{
	char body[200];
	snprintf(body, sizeof(body),
	         "{\"purpose\": \"%s\", \"channel\": \"email\", \"text\": \"Saa lähettää\","
	         " \"text_version\": \"1\"}",
	         purpose);
	json_t *in = parse(body);
	int64_t id = 0;
	fresh(f);
	if (consent_give(&f->ctx, RAUMA, pid, in, &id, NULL) != 0)
		fail_msg("consent_give: %s", f->err.message);
	json_decref(in);
	return id;
}

static int64_t consents_open(struct fx *f, int64_t pid)
{
	return raw_int(
	        f, "SELECT count(*) FROM consents WHERE person_id = ?1 AND withdrawn_at IS NULL",
	        "i", pid);
}

/* proves R-12: a withdrawal of some purposes withdraws those consents at once (recorded as
 * the request's) and keeps a consent-based subject who still has a consent; withdrawing the
 * rest erases them. An undeclared purpose is refused when the request is made. */
static void test_fulfil_consent_withdrawal_purposes(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Osittain\","
	                        " \"email\": \"osittain@example.fi\"}");
	int64_t c1 = consent_ok(f, pid, "information");
	consent_ok(f, pid, "customer_contact");
	assert_int_equal(consents_open(f, pid), 2);
	json_t *in = parse("{\"type\": \"consent_withdrawal\", \"channel\": \"email\","
	                   " \"details\": {\"purposes\": [\"reselling\"]}}");
	json_object_set_new(in, "person_id", json_integer(pid));
	int64_t bad = 0;
	fresh(f);
	assert_err(f, request_create(&f->ctx, RAUMA, in, &bad), KERR_REFUSED, "details.purposes");
	json_decref(in);
	int64_t id =
	        req_for(f, RAUMA, "consent_withdrawal", pid, "{\"purposes\": [\"information\"]}");
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *oc = json_object_get(out, "outcome");
	assert_true(json_is_false(json_object_get(oc, "erased")));
	assert_int_equal(json_integer_value(json_object_get(oc, "withdrawn")), 1);
	assert_int_equal(json_integer_value(json_object_get(oc, "consents_left")), 1);
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 1);
	assert_int_equal(consents_open(f, pid), 1);
	char buf[64], how[32];
	snprintf(how, sizeof(how), "request:%" PRId64, id);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT withdrawn_how FROM consents WHERE id = ?1", c1),
	                    how);
	/* The rest, with no purposes named: nothing counts any more, so the subject goes. */
	int64_t id2 = req_for(f, RAUMA, "consent_withdrawal", pid, NULL);
	verify_ok(f, RAUMA, id2);
	out = fulfil_ok(f, RAUMA, id2);
	oc = json_object_get(out, "outcome");
	assert_true(json_is_true(json_object_get(oc, "erased")));
	assert_int_equal(json_integer_value(json_object_get(oc, "withdrawn")), 1);
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents WHERE person_id = ?1", "i", pid),
	                 0);
}

/* proves R-12: a subject on another basis is kept, but their consents stop counting. */
static void test_fulfil_consent_withdrawal_keeps_other_basis(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Tiedotettava\"}");
	consent_ok(f, pid, "information");
	int64_t id = req_for(f, RAUMA, "consent_withdrawal", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *oc = json_object_get(out, "outcome");
	assert_true(json_is_false(json_object_get(oc, "erased")));
	assert_int_equal(json_integer_value(json_object_get(oc, "withdrawn")), 1);
	json_decref(out);
	assert_int_equal(persons_with_id(f, pid), 1);
	assert_int_equal(consents_open(f, pid), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'consent_withdraw'"
	                         " AND entity = 'person' AND entity_id = ?1",
	                         "i", pid),
	                 1);
}

/* proves R-01: an access request is answered with the subject's complete export, logged as
 * an export of the person; the export is not stored with the request, and can be made again
 * while the request is on record. */
static void test_fulfil_access(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA,
	                        "{" RAUMA_A ", \"first_name\": \"Kysyjä\","
	                        " \"email\": \"kysyja@example.fi\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	verify_ok(f, RAUMA, id);
	int64_t exports = raw_int(f,
	                          "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                          " AND entity = 'person' AND entity_id = ?1",
	                          "i", pid);
	json_t *out = fulfil_ok(f, RAUMA, id);
	assert_jstr(out, "state", "fulfilled");
	json_t *doc = json_object_get(out, "export");
	assert_jstr(doc, "kind", "access");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "subject"), "id")),
	                 pid);
	json_t *cp = json_array_get(json_object_get(doc, "contact_points"), 0);
	assert_jstr(cp, "value", "kysyja@example.fi");
	assert_jstr(json_object_get(out, "outcome"), "export", "access");
	json_decref(out);
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "fulfilled");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                         " AND entity = 'person' AND entity_id = ?1 AND reason = 'access'",
	                         "i", pid),
	                 exports + 1);
	/* Nothing of the export is kept with the request. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM requests WHERE id = ?1"
	                         " AND (outcome LIKE '%kysyja%' OR details LIKE '%kysyja%')",
	                         "i", id),
	                 0);
	/* Made again on demand, and logged again. */
	fresh(f);
	assert_int_equal(request_export(&f->ctx, RAUMA, id, &out), 0);
	assert_jstr(out, "kind", "access");
	json_decref(out);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                         " AND entity = 'person' AND entity_id = ?1",
	                         "i", pid),
	                 exports + 2);
	/* Fulfilled once only. */
	assert_err(f, fulfil(f, RAUMA, id, NULL), KERR_CONFLICT, "state");
}

/* proves R-10: portability gives what the subject provided, for consent or contract only; a
 * subject on legitimate interest gets a refusal naming the basis, and the request stays open
 * for a refusal with reasons. */
static void test_fulfil_portability(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Siirtäjä\"}");
	int64_t id = req_for(f, RAUMA, "portability", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *doc = json_object_get(out, "export");
	assert_jstr(doc, "kind", "portability");
	assert_null(json_object_get(doc, "usage_log"));
	json_decref(out);

	int64_t other = person_ok(f, RAUMA, "{" RAUMA_F ", \"first_name\": \"Yritys\"}");
	int64_t id2 = req_for(f, RAUMA, "portability", other, NULL);
	verify_ok(f, RAUMA, id2);
	assert_err(f, fulfil(f, RAUMA, id2, NULL), KERR_REFUSED, "legal_basis");
	char buf[32];
	assert_string_equal(state_of(f, id2, buf), "verified");
	/* A request of another type has no export. */
	int64_t id3 = req_for(f, RAUMA, "restriction", other, NULL);
	fresh(f);
	assert_int_equal(request_export(&f->ctx, RAUMA, id3, &out), KERR_CONFLICT);
	/* Nor an access request before it is fulfilled. */
	fresh(f);
	assert_int_equal(request_export(&f->ctx, RAUMA, id2, &out), KERR_CONFLICT);
}

/* proves R-01, S-04: only a manager of the register (or the operator) may answer with an
 * export; an editor's attempt changes nothing and logs no export. */
/* proves R-01: an access request covers the controller's other registers by default: the
 * person with the same address in rauma-toinen is exported too (and logged), kemi-crm (another
 * controller) is not; a register the handler does not manage is named, not hidden; "this"
 * limits the export to the request's register. The letter has a section for the other
 * register in either case. */
static void test_fulfil_access_across_registers(void **state)
{
	struct fx *f = *state;
	const char *who = "\"first_name\": \"Moni\", \"email\": \"moni.rekisteri@example.fi\"}";
	char body[256];
	snprintf(body, sizeof(body), "{" RAUMA_A ", %s", who);
	int64_t pid = person_ok(f, RAUMA, body);
	int64_t pid2 = person_ok(f, RAUMA2, body);
	snprintf(body, sizeof(body), "{" KEMI_E ", %s", who);
	int64_t kemi = person_ok(f, KEMI, body);
	int64_t bad = 0;
	assert_err(f,
	           req_new(f, RAUMA,
	                   "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": 1,"
	                   " \"details\": {\"registers\": \"some\"}}",
	                   &bad),
	           KERR_INVALID, "details.registers");

	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_t *other = json_object_get(json_object_get(out, "export"), "other_registers");
	assert_int_equal(json_array_size(other), 1);
	json_t *o = json_array_get(other, 0);
	assert_jstr(o, "register", RAUMA2);
	assert_true(json_is_true(json_object_get(o, "included")));
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(o, "export"), "subject"), "id")),
	                 pid2);
	/* The letter has the other register's section with the person held there. */
	struct buf b = BUF_INIT;
	fresh(f);
	assert_int_equal(export_letter(&f->ctx, json_object_get(out, "export"), LANG_EN, &b), 0);
	assert_non_null(strstr(b.p, "<h2 id=\"register-" RAUMA2 "\">"));
	assert_non_null(strstr(b.p, "<h3 id=\"register-" RAUMA2 "-data\">"));
	assert_non_null(strstr(b.p, "<h3 id=\"register-" RAUMA2 "-retention\">"));
	assert_non_null(strstr(strstr(b.p, "id=\"register-" RAUMA2 "\""), "moni.rekisteri@"));
	buf_free(&b);
	json_decref(out);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                         " AND register_id = ?1 AND entity_id = ?2",
	                         "si", RAUMA2, pid2),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                         " AND register_id = ?1 AND entity_id = ?2",
	                         "si", KEMI, kemi),
	                 0);

	/* A manager of rauma-crm only: rauma-toinen is named, nothing of it exported. */
	fx_as_user(f, "johtaja", RAUMA, ROLE_MANAGER);
	id = req_for(f, RAUMA, "access", pid, NULL);
	verify_ok(f, RAUMA, id);
	out = fulfil_ok(f, RAUMA, id);
	o = json_array_get(json_object_get(json_object_get(out, "export"), "other_registers"), 0);
	assert_jstr(o, "register", RAUMA2);
	assert_true(json_is_false(json_object_get(o, "included")));
	assert_null(json_object_get(o, "export"));
	/* The letter names it and says its manager answers separately, nothing of its data. */
	fresh(f);
	assert_int_equal(export_letter(&f->ctx, json_object_get(out, "export"), LANG_EN, &b), 0);
	assert_non_null(strstr(b.p, "<h2 id=\"register-" RAUMA2 "\">"));
	assert_non_null(strstr(b.p, "will answer you about it separately"));
	assert_null(strstr(b.p, "register-" RAUMA2 "-data"));
	buf_free(&b);
	json_decref(out);

	/* Limited to its own register. */
	id = req_for(f, RAUMA, "access", pid, "{\"registers\": \"this\"}");
	verify_ok(f, RAUMA, id);
	out = fulfil_ok(f, RAUMA, id);
	assert_null(json_object_get(json_object_get(out, "export"), "other_registers"));
	json_decref(out);
}

static void test_fulfil_access_needs_manager(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Rajattu\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	verify_ok(f, RAUMA, id);
	fx_as_user(f, "editori", RAUMA, ROLE_EDITOR);
	assert_err(f, fulfil(f, RAUMA, id, NULL), KERR_FORBIDDEN, NULL);
	fx_as_operator(f);
	char buf[32];
	assert_string_equal(state_of(f, id, buf), "verified");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'export'"
	                         " AND entity_id = ?1",
	                         "i", pid),
	                 0);
	fx_as_user(f, "johtaja", RAUMA, ROLE_MANAGER);
	json_t *out = fulfil_ok(f, RAUMA, id);
	json_decref(out);
	fx_as_operator(f);
}

/* proves R-03: only a refusal has reasons; the note of a fulfilment or a withdrawal is the
 * note of its step (it once went into refusal_reason, so a fulfilled request read as if
 * refused). */
static void test_fulfil_note_is_no_refusal_reason(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Huomautus\"}");
	int64_t id = req_for(f, RAUMA, "restriction", pid, NULL);
	verify_ok(f, RAUMA, id);
	json_t *in = parse("{\"note\": \"Tehty ja kerrottu\"}");
	fresh(f);
	assert_int_equal(request_fulfil(&f->ctx, RAUMA, id, in, NULL), 0);
	json_decref(in);
	char buf[64];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT note FROM request_steps WHERE request_id = ?1"
	                             " AND action = 'fulfilled'",
	                             id),
	                    "Tehty ja kerrottu");
	int64_t w = req_for(f, RAUMA, "access", pid, NULL);
	step_ok(f, request_withdraw, RAUMA, w, "{\"note\": \"Peruttu puhelimessa\"}");
	json_t *o = get_ok(f, RAUMA, id);
	json_t *ow = get_ok(f, RAUMA, w);
	const char *rr = jstr(o, "refusal_reason"), *rw = jstr(ow, "refusal_reason");
	if (rr || rw)
		fail_msg("refusal_reason of a fulfilled request is \"%s\", of a"
		         " withdrawn one \"%s\"; only a refusal has reasons",
		         rr ? rr : "(none)", rw ? rw : "(none)");
	json_decref(o);
	json_decref(ow);
}

/* ------------------------------------------------------------------------------------------ */
/* Usage log                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* proves S-04: every step writes one entry "request_STEP" naming the request and the person,
 * with the request as the reason and no free text. */
static void test_usage_log_per_step(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Lokitettu\"}");
	int64_t id = req_for(f, RAUMA, "restriction", pid, NULL);
	set_now(f, NOW + DAY);
	step_ok(f, request_extend, RAUMA, id,
	        "{\"months\": 1, \"reason\": \"SALAINEN-SYY\", \"subject_told\": true}");
	step_ok(f, request_mark, RAUMA, id,
	        "{\"assessment\": \"unfounded\", \"reason\": \"SALAINEN-ARVIO\"}");
	step_ok(f, request_verify, RAUMA, id,
	        "{\"method\": \"email_link\", \"note\": \"SALAINEN\"}");
	json_decref(fulfil_ok(f, RAUMA, id));
	step_ok(f, request_lift, RAUMA, id, "{\"note\": \"SALAINEN-KIRJE\"}");
	static const char *const actions[] = {"request_received",  "request_extended",
	                                      "request_marked",    "request_verified",
	                                      "request_fulfilled", "request_lifted"};
	char reason[32], subj[32];
	snprintf(reason, sizeof(reason), "request:%" PRId64, id);
	snprintf(subj, sizeof(subj), "%" PRId64, pid);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		int64_t n =
		        raw_int(f,
		                "SELECT count(*) FROM usage_log WHERE action = ?1"
		                " AND entity = 'request' AND entity_id = ?2 AND register_id = ?3"
		                " AND reason = ?4 AND subjects = ?5"
		                " AND actor = 'operator:test'",
		                "sisss", actions[i], id, RAUMA, reason, subj);
		if (n != 1)
			fail_msg("%" PRId64 " usage-log entries of %s naming person %s", n,
			         actions[i], subj);
	}
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE entity = 'request'"
	                         " AND action LIKE 'request_%'",
	                         ""),
	                 6);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE coalesce(reason, '') LIKE"
	                         " '%SALAINEN%'",
	                         ""),
	                 0);
	/* A withdrawal and a refusal too. */
	int64_t w = req_for(f, RAUMA, "access", pid, NULL);
	step_ok(f, request_withdraw, RAUMA, w, "{}");
	assert_int_equal(log_rows_for(f, "request_withdrawn", w), 1);
	int64_t r = req_for(f, RAUMA, "access", pid, NULL);
	assert_int_equal(refuse(f, RAUMA, r, "{\"reason\": \"Ei\"}", NULL), 0);
	assert_int_equal(log_rows_for(f, "request_refused", r), 1);
}

/* proves S-04: reading a request that names a person is a logged read of their data. */
static void test_usage_log_read(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Luettu\"}");
	int64_t id = req_for(f, RAUMA, "access", pid, NULL);
	int64_t before = log_rows_for(f, "read", id);
	json_decref(get_ok(f, RAUMA, id));
	assert_int_equal(log_rows_for(f, "read", id), before + 1);
}

/* A failed step writes no usage-log entry and no step. */
static void test_usage_log_failed_step_writes_none(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Epäonni\"}");
	int64_t id = req_for(f, RAUMA, "erasure", pid, NULL);
	int64_t logged = log_rows(f), steps = steps_of(f, id);
	assert_int_not_equal(fulfil(f, RAUMA, id, NULL), 0);
	assert_int_not_equal(do_step(f, request_extend, RAUMA, id, "{\"months\": 1}"), 0);
	assert_int_not_equal(do_step(f, request_verify, RAUMA, id, "{\"method\": \"x\"}"), 0);
	assert_int_not_equal(refuse(f, RAUMA, id, "{}", NULL), 0);
	assert_int_not_equal(req_new(f, RAUMA, "{\"type\": \"x\", \"channel\": \"email\"}", NULL),
	                     0);
	assert_int_equal(log_rows(f), logged);
	assert_int_equal(steps_of(f, id), steps);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM requests", ""), 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Lists                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static json_t *list_ok(struct fx *f, enum req_filter filter, const char *cursor, int limit)
{
	json_t *out = NULL;
	fresh(f);
	int rc = request_list(&f->ctx, RAUMA, filter, cursor, limit, &out);
	if (rc)
		fail_msg("request_list = %d: %s", rc, f->err.message);
	return out;
}

static int64_t item_id(json_t *list, size_t i)
{
	return json_integer_value(
	        json_object_get(json_array_get(json_object_get(list, "items"), i), "id"));
}

static size_t items(json_t *list)
{
	return json_array_size(json_object_get(list, "items"));
}

/* proves R-02: the late list and the overdue list (late or due within 7 days) follow the
 * clock; closed requests leave them. */
static void test_list_filters_follow_clock(void **state)
{
	struct fx *f = *state;
	int64_t pid = person_ok(f, RAUMA, "{" RAUMA_A ", \"first_name\": \"Listattu\"}");
	char body[200];
	/* due 2026-01-10 (received 2025-12-10), due 2026-01-05, due 2026-02-01 (received now) */
	snprintf(body, sizeof(body),
	         "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"received_at\": \"2025-12-10\"}",
	         pid);
	int64_t a = req_new_ok(f, RAUMA, body);
	snprintf(body, sizeof(body),
	         "{\"type\": \"access\", \"channel\": \"email\", \"person_id\": %" PRId64
	         ", \"received_at\": \"2025-12-05\"}",
	         pid);
	int64_t b = req_new_ok(f, RAUMA, body);
	int64_t c = req_for(f, RAUMA, "access", pid, NULL);
	int64_t closed = req_for(f, RAUMA, "access", pid, NULL);
	step_ok(f, request_withdraw, RAUMA, closed, "{}");

	/* 2026-01-01: none late; due within 7 days: b (01-05) only. */
	json_t *l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 0);
	json_decref(l);
	l = list_ok(f, RQ_OVERDUE, NULL, 0);
	assert_int_equal(items(l), 1);
	assert_int_equal(item_id(l, 0), b);
	json_decref(l);
	l = list_ok(f, RQ_OPEN, NULL, 0);
	assert_int_equal(items(l), 3);
	json_decref(l);
	l = list_ok(f, RQ_ALL, NULL, 0);
	assert_int_equal(items(l), 4);
	json_decref(l);

	/* 2026-01-05: due today is not late yet. */
	set_now(f, NOW + 4 * DAY);
	l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 0);
	json_decref(l);
	/* 2026-01-06: b is late; a due within 7 days (01-10 ≤ 01-13); most urgent first. */
	set_now(f, NOW + 5 * DAY);
	l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 1);
	assert_int_equal(item_id(l, 0), b);
	assert_true(json_is_true(
	        json_object_get(json_array_get(json_object_get(l, "items"), 0), "overdue")));
	json_decref(l);
	l = list_ok(f, RQ_OVERDUE, NULL, 0);
	assert_int_equal(items(l), 2);
	assert_int_equal(item_id(l, 0), b);
	assert_int_equal(item_id(l, 1), a);
	json_decref(l);

	/* 2026-02-02: all three late, b a c. An extension takes c off the list. */
	set_now(f, NOW + 32 * DAY);
	l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 3);
	assert_int_equal(item_id(l, 0), b);
	assert_int_equal(item_id(l, 1), a);
	assert_int_equal(item_id(l, 2), c);
	json_decref(l);
	set_now(f, NOW + 20 * DAY);
	step_ok(f, request_extend, RAUMA, c, EXTEND2); /* to 2026-04-01 */
	set_now(f, NOW + 32 * DAY);
	l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 2);
	json_decref(l);
	/* Fulfilled or refused requests are never late. */
	assert_int_equal(refuse(f, RAUMA, b, "{\"reason\": \"Ei\"}", NULL), 0);
	l = list_ok(f, RQ_LATE, NULL, 0);
	assert_int_equal(items(l), 1);
	assert_int_equal(item_id(l, 0), a);
	json_decref(l);
}

/* The list of all requests pages by cursor, oldest first, without repeats. */
static void test_list_all_pages(void **state)
{
	struct fx *f = *state;
	int64_t ids[7];
	for (size_t i = 0; i < 7; i++)
		ids[i] = req_new_ok(f, RAUMA, "{\"type\": \"access\", \"channel\": \"email\"}");
	json_t *l = list_ok(f, RQ_ALL, NULL, 3);
	assert_int_equal(items(l), 3);
	assert_int_equal(item_id(l, 0), ids[0]);
	assert_int_equal(item_id(l, 2), ids[2]);
	char cursor[32];
	assert_non_null(jstr(l, "next"));
	snprintf(cursor, sizeof(cursor), "%s", jstr(l, "next"));
	json_decref(l);
	l = list_ok(f, RQ_ALL, cursor, 3);
	assert_int_equal(items(l), 3);
	assert_int_equal(item_id(l, 0), ids[3]);
	assert_int_equal(item_id(l, 2), ids[5]);
	snprintf(cursor, sizeof(cursor), "%s", jstr(l, "next"));
	json_decref(l);
	l = list_ok(f, RQ_ALL, cursor, 3);
	assert_int_equal(items(l), 1);
	assert_int_equal(item_id(l, 0), ids[6]);
	assert_true(json_is_null(json_object_get(l, "next")));
	json_decref(l);
	/* Exactly a page: no next. */
	l = list_ok(f, RQ_ALL, NULL, 7);
	assert_int_equal(items(l), 7);
	assert_true(json_is_null(json_object_get(l, "next")));
	json_decref(l);
	/* A cursor this list did not give. */
	json_t *out = NULL;
	fresh(f);
	assert_err(f, request_list(&f->ctx, RAUMA, RQ_ALL, "c12", 3, &out), KERR_INVALID, "cursor");
	fresh(f);
	assert_err(f, request_list(&f->ctx, RAUMA, RQ_ALL, "r-1", 3, &out), KERR_INVALID, "cursor");
	fresh(f);
	assert_err(f, request_list(&f->ctx, "nope", RQ_ALL, NULL, 3, &out), KERR_NOTFOUND,
	           "register");
	/* Other registers' requests are not listed. */
	req_new_ok(f, KEMI, "{\"type\": \"access\", \"channel\": \"email\"}");
	l = list_ok(f, RQ_ALL, NULL, 100);
	assert_int_equal(items(l), 7);
	json_decref(l);
}

/* proves R-02: the lists of open requests page too, most urgent first: by due date, then by
 * id among requests due the same day, each request once, and a cursor of one kind of list is
 * refused by the other. */
static void test_list_open_pages(void **state)
{
	struct fx *f = *state;
	/* Received on three days, two requests on each: due 2026-01-05, 01-10 and 02-01. */
	static const char *const days[] = {"2025-12-10", "2025-12-05", NULL};
	int64_t want[6];
	char body[160];
	for (size_t i = 0; i < 6; i++) {
		const char *day = days[i % 3];
		if (day)
			snprintf(body, sizeof(body),
			         "{\"type\": \"access\", \"channel\": \"email\", \"received_at\": "
			         "\"%s\"}",
			         day);
		else
			snprintf(body, sizeof(body),
			         "{\"type\": \"access\", \"channel\": \"email\"}");
		int64_t id = req_new_ok(f, RAUMA, body);
		/* most urgent first: 12-05 (i = 1, 4), 12-10 (0, 3), today (2, 5) */
		size_t slot = i % 3 == 1 ? 0 : i % 3 == 0 ? 2 : 4;
		want[slot + i / 3] = id;
	}
	enum req_filter filters[] = {RQ_OPEN, RQ_OVERDUE};
	size_t expect[] = {6, 2}; /* on 2026-01-01 only the two due 01-05 are due within 7 days */
	for (size_t k = 0; k < 2; k++) {
		char cursor[40] = "";
		size_t seen = 0, pages = 0;
		for (;;) {
			json_t *l = list_ok(f, filters[k], *cursor ? cursor : NULL, 2);
			for (size_t i = 0; i < items(l); i++)
				assert_int_equal(item_id(l, i), want[seen++]);
			pages++;
			const char *next = jstr(l, "next");
			if (next)
				snprintf(cursor, sizeof(cursor), "%s", next);
			json_decref(l);
			if (!next)
				break;
			assert_true(pages < 10);
		}
		assert_int_equal(seen, expect[k]);
		assert_int_equal(pages, (expect[k] + 1) / 2);
	}
	/* One page holds them all: no next. */
	json_t *l = list_ok(f, RQ_OPEN, NULL, 6);
	assert_int_equal(items(l), 6);
	assert_true(json_is_null(json_object_get(l, "next")));
	json_decref(l);
	/* Cursors this list did not give. */
	static const char *const bad[] = {
	        "r3", "d2026-13-01.1", "d2026-01-05.", "d2026-01-05.x", "d2026-01-05-1", "d.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *out = NULL;
		fresh(f);
		assert_err(f, request_list(&f->ctx, RAUMA, RQ_OPEN, bad[i], 2, &out), KERR_INVALID,
		           "cursor");
	}
	json_t *out = NULL;
	fresh(f);
	assert_err(f, request_list(&f->ctx, RAUMA, RQ_ALL, "d2026-01-05.1", 2, &out), KERR_INVALID,
	           "cursor");
}

/* Names of types and filters, both ways. */
static void test_names(void **state)
{
	(void)state;
	static const char *const types[] = {
	        "access",    "rectification",      "erasure",      "restriction", "portability",
	        "objection", "consent_withdrawal", "marketing_ban"};
	for (int i = 0; i < RT__MAX; i++) {
		assert_string_equal(request_type_name((enum req_type)i), types[i]);
		assert_int_equal(request_type_parse(types[i]), i);
	}
	assert_null(request_type_name(RT__MAX));
	assert_int_equal(request_type_parse("Access"), -1);
	assert_int_equal(request_type_parse(NULL), -1);
	assert_int_equal(request_filter_parse("overdue"), RQ_OVERDUE);
	assert_int_equal(request_filter_parse("late"), RQ_LATE);
	assert_int_equal(request_filter_parse("open"), RQ_OPEN);
	assert_int_equal(request_filter_parse("all"), RQ_ALL);
	assert_int_equal(request_filter_parse("due_soon"), -1);
	assert_int_equal(request_filter_parse(NULL), -1);
}

/* ------------------------------------------------------------------------------------------ */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_due_month_end_clamps),
	        cmocka_unit_test(test_due_leap_year),
	        cmocka_unit_test(test_due_year_end),
	        cmocka_unit_test(test_due_thirty_days),
	        cmocka_unit_test(test_due_from_time),
	        cmocka_unit_test(test_due_extension_arithmetic),
	        cmocka_unit_test(test_due_invalid),
	        cmocka_unit_test(test_names),
	        T(test_create_due_from_declaration_month),
	        T(test_create_due_from_declaration_days),
	        T(test_create_refuses_future),
	        T(test_create_refuses_bad_type_channel_member),
	        T(test_create_rectification_undeclared_field),
	        T(test_create_unknown_person),
	        T(test_create_person_of_other_register),
	        T(test_fulfil_before_verify_refused),
	        T(test_verify_needs_person),
	        T(test_verify_twice_conflict),
	        T(test_start_verified),
	        T(test_verify_bad_method),
	        T(test_extend_once_before_due),
	        T(test_extend_on_and_after_due),
	        T(test_extend_needs_subject_told_and_limit),
	        T(test_assess_excessive_with_history),
	        T(test_assess_bad_input),
	        T(test_refuse_names_authority),
	        T(test_open_request_has_no_authority),
	        T(test_closed_request_cannot_change),
	        T(test_fulfil_rectification),
	        T(test_fulfil_rectification_bad_value),
	        T(test_fulfil_erasure),
	        T(test_fulfil_erasure_removes_bans),
	        T(test_fulfil_erasure_forgets_request_subject),
	        T(test_fulfil_erasure_until_request),
	        cmocka_unit_test_setup_teardown(test_fulfil_access_across_registers,
	                                        setup_controller, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_fulfil_erasure_kept_by_public_task, setup_kept,
	                                        fixture_teardown),
	        T(test_fulfil_restriction_and_lift),
	        T(test_lift_keeps_other_restriction),
	        T(test_restriction_covers_affiliations),
	        T(test_fulfil_objection_direct_marketing),
	        T(test_fulfil_objection_other_scope),
	        T(test_fulfil_marketing_ban_channels),
	        T(test_fulfil_consent_withdrawal_basis_a),
	        T(test_fulfil_consent_withdrawal_basis_f),
	        T(test_fulfil_consent_withdrawal_purposes),
	        T(test_fulfil_consent_withdrawal_keeps_other_basis),
	        T(test_fulfil_access),
	        T(test_fulfil_portability),
	        T(test_fulfil_access_needs_manager),
	        T(test_fulfil_note_is_no_refusal_reason),
	        T(test_usage_log_per_step),
	        T(test_usage_log_read),
	        T(test_usage_log_failed_step_writes_none),
	        T(test_list_filters_follow_clock),
	        T(test_list_all_pages),
	        T(test_list_open_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
