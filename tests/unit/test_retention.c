/*
 * Unit tests for src/core/retention.c: the seed registers' retention rules driven through the
 * public core functions at chosen times (ctx->now, as --now sets it), against a fresh data
 * directory with rauma-crm, kemi-crm, espoo-talent-hub, sospro-marketing and the template's
 * example-crm loaded. What a run did is checked through a second, read-only connection and
 * by reading the archive package from disk, never through the code under test.
 * Tests name the promise of PROMISES.md they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/affiliation.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/org.h"
#include "core/person.h"
#include "core/register.h"
#include "core/request.h"
#include "core/retention.h"
#include "core/sublist.h"
#include "decl/decl.h"
#include "util/kerr.h"
#include "util/timeutil.h"

#include "fixture.h"

#define RAUMA   "rauma-crm"
#define KEMI    "kemi-crm"
#define ESPOO   "espoo-talent-hub"
#define SOSPRO  "sospro-marketing"
#define EXAMPLE "example-crm"

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",        "registers/kemi-crm.yaml",
        "registers/espoo-talent-hub.yaml", "registers/sospro-marketing.yaml",
        "registers/TEMPLATE.yaml",
};

static int setup(void **state)
{
	struct fx *f = fixture_open("retention", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	*state = f;
	return 0;
}

/* ---------------------------------------------------------------- helpers */

/* Sets the fixture's clock to day `day` (YYYY-MM-DD), as --now does. */
static void at(struct fx *f, const char *day)
{
	int64_t t;
	assert_int_equal(time_parse_iso8601(day, &t), 0);
	kctx_set_now(&f->ctx, t);
}

static int64_t person(struct fx *f, const char *rid, const char *body)
{
	json_error_t jerr;
	json_t *in = json_loads(body, 0, &jerr);
	int64_t id = 0;
	assert_non_null(in);
	fresh(f);
	if (person_create(&f->ctx, rid, in, &id) != 0)
		fail_msg("person_create %s: %s", rid, f->err.message);
	json_decref(in);
	return id;
}

static int64_t event(struct fx *f, const char *rid, int64_t id, const char *type, const char *on)
{
	int64_t rec = 0;
	fresh(f);
	if (retention_event_add(&f->ctx, rid, id, type, on, &rec) != 0)
		fail_msg("retention_event_add %s %s: %s", rid, type, f->err.message);
	return rec;
}

/* Runs retention over every register; returns the run's summary (caller decrefs). */
static json_t *run(struct fx *f)
{
	struct retention_opts o = {0};
	json_t *out = NULL;
	fresh(f);
	if (retention_run(&f->ctx, &o, &out) != 0)
		fail_msg("retention_run: %s", f->err.message);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "done");
	return out;
}

/* The count `key` of rule part (rid, rule, part) in a run summary. */
static int64_t summary_count(json_t *run, const char *rid, const char *rule, const char *part,
                             const char *key)
{
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(run, "rules"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "register")), rid) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "rule")), rule) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "part")), part) == 0)
			return json_integer_value(json_object_get(r, key));
	}
	fail_msg("no %s %s %s in the run summary", rid, rule, part);
	return -1;
}

/* The plan's part (rid, rule, part). */
static json_t *plan_part(json_t *plan, const char *rid, const char *rule, const char *part)
{
	size_t i, k, j;
	json_t *reg, *r, *p;
	json_array_foreach (json_object_get(plan, "registers"), i, reg) {
		if (strcmp(json_string_value(json_object_get(reg, "register")), rid) != 0)
			continue;
		json_array_foreach (json_object_get(reg, "rules"), k, r) {
			if (strcmp(json_string_value(json_object_get(r, "rule")), rule) != 0)
				continue;
			json_array_foreach (json_object_get(r, "parts"), j, p) {
				if (strcmp(json_string_value(json_object_get(p, "part")), part) ==
				    0)
					return p;
			}
		}
	}
	fail_msg("no %s %s %s in the plan", rid, rule, part);
	return NULL;
}

static bool exists(struct fx *f, int64_t id)
{
	return raw_int(f, "SELECT count(*) FROM persons WHERE id = ?1", "i", id) == 1;
}

/* How many usage-log entries of RETENTION_ACTOR with `action` name person `id`, `rule`. */
static int64_t logged(struct fx *f, const char *action, int64_t id, const char *rule)
{
	return raw_int(f,
	               "SELECT count(*) FROM usage_log WHERE actor = 'system:retention'"
	               " AND action = ?1 AND entity = 'person' AND entity_id = ?2 AND reason = ?3",
	               "sis", action, id, rule);
}

/* Counts of every table retention may touch, to compare before and after. */
static int64_t footprint(struct fx *f)
{
	return raw_int(f,
	               "SELECT (SELECT count(*) FROM persons) * 1000000000"
	               " + (SELECT count(*) FROM contact_points) * 10000000"
	               " + (SELECT count(*) FROM person_records) * 100000"
	               " + (SELECT count(*) FROM affiliations) * 1000"
	               " + (SELECT count(*) FROM anonymized_records) * 100"
	               " + (SELECT count(*) FROM retention_runs) * 10"
	               " + (SELECT count(*) FROM change_history)",
	               "");
}

#define RAUMA_CONTACT "\"subject_group\": \"organisation_contact\", \"source\": \"customer\""

/* ---------------------------------------------------------------- L-02: Rauma */

/* proves L-02: a Rauma person is anonymized exactly ten years after their last customer
 * event (one day before they are kept), a person in an ongoing service relationship is kept
 * by the declared exception, and the anonymized person is gone as a person. */
static void test_rauma_anonymized_ten_years_after_last_event(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, RAUMA,
	                   "{" RAUMA_CONTACT ", \"first_name\": \"Päivi\", \"last_name\":"
	                   " \"Virtanen\", \"email\": \"paivi.virtanen@example.fi\"}");
	int64_t b =
	        person(f, RAUMA,
	               "{" RAUMA_CONTACT ", \"first_name\": \"Olli\", \"last_name\": \"Jatkuva\","
	               " \"ongoing_relationship\": true}");
	/* The events: a service order and later a meeting move the last customer event; an
	 * older billing record does not move it back. */
	at(f, "2026-03-15");
	event(f, RAUMA, a, "service_order", "2026-01-10");
	event(f, RAUMA, a, "customer_contact", "2026-03-15");
	event(f, RAUMA, a, "billing", "2026-02-01");
	event(f, RAUMA, b, "service_order", "2026-03-15");
	char buf[32];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT last_customer_event FROM persons WHERE id = ?1", a),
	                    "2026-03-15");

	/* One day before the ten years are over: kept. */
	at(f, "2036-03-14");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "acted"), 0);
	json_decref(r);
	assert_true(exists(f, a));

	/* On the day: anonymized; the ongoing relationship keeps b. */
	at(f, "2036-03-15");
	r = run(f);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "acted"), 1);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "excepted"), 1);
	json_decref(r);
	assert_false(exists(f, a));
	assert_true(exists(f, b));
	/* Every personal value, contact point, record, history row and index entry is gone. */
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", a), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM person_records WHERE person_id = ?1", "i", a), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity = 'person'"
	                         " AND entity_id = ?1",
	                         "i", a),
	                 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_search WHERE person_search MATCH"
	                         " 'virtanen OR paivi'",
	                         ""),
	                 0);
	/* What is kept names no one: the group and the counts of records. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM anonymized_records WHERE register_id = ?1"
	                         " AND rule_id = 'anonymize-10y' AND subject_group ="
	                         " 'organisation_contact' AND stats = ?2",
	                         "ss", RAUMA,
	                         "{\"records\":{\"billing\":1,\"customer_contact\":1,"
	                         "\"service_order\":1}}"),
	                 1);
	/* Never a person again. */
	fresh(f);
	json_t *p = NULL;
	assert_int_equal(person_get(&f->ctx, RAUMA, a, 0, &p), KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "virtanen", NULL, NULL, 0, &p), 0);
	assert_int_equal(json_array_size(json_object_get(p, "items")), 0);
	json_decref(p);
	/* Logged as the system, with the rule. */
	assert_int_equal(logged(f, "anonymize", a, "anonymize-10y"), 1);
}

/* proves L-02: anonymisation keeps only the fields the declaration marks statistical. */
static void test_anonymize_keeps_only_statistical_fields(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, EXAMPLE,
	                   "{\"subject_group\": \"company_contact\", \"source\": \"subject\","
	                   " \"first_name\": \"Aino\", \"last_name\": \"Tilastollinen\","
	                   " \"email\": \"aino@example.fi\", \"hetu\": \"131052-308T\","
	                   " \"municipality\": \"Rauma\", \"language\": \"fi\"}");
	event(f, EXAMPLE, a, "appointment", "2026-01-01");
	at(f, "2036-01-01");
	json_decref(run(f));
	assert_false(exists(f, a));
	char buf[256];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT stats FROM anonymized_records WHERE id > ?1", 0),
	                    "{\"municipality\":\"Rauma\",\"records\":{\"appointment\":1}}");
}

/* proves L-02: a customer event of an undeclared type, a survey type or a future day is
 * refused; a record type that is not a customer event leaves last_customer_event alone. */
static void test_events_checked_against_declaration(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, RAUMA, "{" RAUMA_CONTACT ", \"last_name\": \"Tapahtuma\"}");
	int64_t id;
	fresh(f);
	assert_int_equal(retention_event_add(&f->ctx, RAUMA, a, "shoe_fitting", NULL, &id),
	                 KERR_REFUSED);
	fresh(f);
	assert_int_equal(retention_event_add(&f->ctx, RAUMA, a, "billing", "2030-01-01", &id),
	                 KERR_INVALID);
	fresh(f);
	assert_int_equal(retention_event_add(&f->ctx, RAUMA, a, "billing", "2026-13-01", &id),
	                 KERR_INVALID);
	fresh(f);
	assert_int_equal(retention_event_add(&f->ctx, RAUMA, 999, "billing", NULL, &id),
	                 KERR_NOTFOUND);
	event(f, RAUMA, a, "directory_listing", NULL);
	char buf[32];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT coalesce(last_customer_event, 'none') FROM persons"
	                             " WHERE id = ?1",
	                             a),
	                    "none");
	event(f, RAUMA, a, "billing", NULL);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT last_customer_event FROM persons WHERE id = ?1", a),
	                    "2026-01-01");
}

/* ---------------------------------------------------------------- L-07: Espoo */

/* Reads package directory `dir` as a third party would: every file the manifest lists has
 * the recorded SHA-256, size and line count. Returns the number of files. */
static size_t verify_package(const char *dir, json_t **manifest)
{
	char path[1024];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	json_t *m = json_load_file(path, 0, &jerr);
	assert_non_null(m);
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(m, "files"), i, e) {
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dir,
		         json_string_value(json_object_get(e, "name")));
		char *text = slurp(path, &len);
		assert_non_null(text);
		unsigned char h[crypto_hash_sha256_BYTES];
		char hex[65];
		crypto_hash_sha256(h, (const unsigned char *)text, len);
		for (size_t k = 0; k < sizeof(h); k++)
			snprintf(hex + 2 * k, 3, "%02x", h[k]);
		assert_string_equal(hex, json_string_value(json_object_get(e, "sha256")));
		assert_int_equal(len, json_integer_value(json_object_get(e, "bytes")));
		int64_t lines = 0;
		for (size_t k = 0; k < len; k++)
			lines += text[k] == '\n';
		assert_int_equal(lines, json_integer_value(json_object_get(e, "records")));
		free(text);
	}
	*manifest = m;
	return json_array_size(json_object_get(m, "files"));
}

/* The one package directory under the register's archive directory. */
static void package_dir(struct fx *f, const char *rid, char *out, size_t n)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/archive/%s", f->dir, rid);
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			assert_null(strstr(e->d_name, ".tmp"));
			snprintf(out, n, "%s/%s", dir, e->d_name);
			found++;
		}
	closedir(d);
	assert_int_equal(found, 1);
}

/* proves L-07, L-01: Espoo Talent Hub's archive_then_delete writes a package (JSON Lines per
 * record type and a manifest with counts and SHA-256 checksums) that verifies, and only then
 * is the person gone with their records. */
static void test_espoo_archive_then_delete(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO,
	                   "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                   " \"first_name\": \"Arkisto\", \"last_name\": \"Henkilö\","
	                   " \"municipality\": \"Espoo\"}");
	event(f, ESPOO, a, "appointment", "2026-01-01");
	event(f, ESPOO, a, "customer_note", "2026-01-01");
	at(f, "2035-12-31");
	json_decref(run(f));
	assert_true(exists(f, a));

	at(f, "2036-01-01");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, ESPOO, "person-10y", "person", "acted"), 1);
	assert_int_equal(summary_count(r, ESPOO, "person-10y", "person", "archived"), 1);
	json_decref(r);
	assert_false(exists(f, a));
	assert_int_equal(raw_int(f, "SELECT count(*) FROM person_records", ""), 0);
	assert_int_equal(logged(f, "archive", a, "person-10y"), 1);
	assert_int_equal(logged(f, "delete", a, "person-10y"), 1);

	char dir[512], path[600];
	json_t *m;
	package_dir(f, ESPOO, dir, sizeof(dir));
	assert_int_equal(verify_package(dir, &m), 3); /* person, appointment, customer_note */
	assert_string_equal(json_string_value(json_object_get(m, "rule")), "person-10y");
	assert_int_equal(json_integer_value(json_object_get(m, "subjects")), 1);
	json_decref(m);
	/* The package holds the person in full, for the archive. */
	size_t len;
	snprintf(path, sizeof(path), "%s/person.jsonl", dir);
	char *text = slurp(path, &len);
	assert_non_null(strstr(text, "\"Arkisto\""));
	free(text);
}

/* proves L-07: when the package cannot be written, nothing is deleted and the run fails. */
static void test_archive_failure_deletes_nothing(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO,
	                   "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                   " \"first_name\": \"Säilyvä\"}");
	snprintf(f->app->cfg.archive_dir, sizeof(f->app->cfg.archive_dir), "%s/no/such/dir",
	         f->dir);
	at(f, "2036-01-01");
	struct retention_opts o = {0};
	fresh(f);
	assert_int_equal(retention_run(&f->ctx, &o, NULL), KERR_INTERNAL);
	assert_string_equal(f->err.field, "archive_dir");
	assert_true(exists(f, a));
	assert_int_equal(logged(f, "delete", a, "person-10y"), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM retention_runs WHERE status = 'failed'", ""), 1);
	/* With a directory it can write to, the next run archives and deletes. */
	f->app->cfg.archive_dir[0] = '\0';
	json_decref(run(f));
	assert_false(exists(f, a));
}

/* proves L-07: a record rule archives and deletes the records, the person stays. */
static void test_espoo_records_archived_after_ten_years(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO,
	                   "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                   " \"first_name\": \"Pysyvä\"}");
	event(f, ESPOO, a, "chat_message", NULL);
	at(f, "2034-06-01");
	event(f, ESPOO, a, "appointment", NULL); /* keeps the person until 2044 */
	at(f, "2036-01-01");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, ESPOO, "logs-10y", "chat_message", "acted"), 1);
	assert_int_equal(summary_count(r, ESPOO, "records-10y", "appointment", "acted"), 0);
	json_decref(r);
	assert_true(exists(f, a));
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE record_type ="
	                         " 'chat_message'",
	                         ""),
	                 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE record_type ="
	                         " 'appointment'",
	                         ""),
	                 1);
}

/* ---------------------------------------------------------------- L-05: Sospro */

static int64_t org(struct fx *f, const char *rid)
{
	json_error_t jerr;
	json_t *in = json_loads("{\"name\": \"Kunta Oy\", \"source\": \"public\"}", 0, &jerr);
	int64_t id = 0;
	fresh(f);
	if (org_create(&f->ctx, rid, in, &id))
		fail_msg("org_create: %s", f->err.message);
	json_decref(in);
	return id;
}

static int64_t affiliation(struct fx *f, const char *rid, int64_t p, int64_t o)
{
	char body[128];
	json_error_t jerr;
	snprintf(body, sizeof(body), "{\"person_id\": %lld, \"organisation_id\": %lld}",
	         (long long)p, (long long)o);
	json_t *in = json_loads(body, 0, &jerr);
	int64_t id = 0;
	fresh(f);
	if (affiliation_create(&f->ctx, rid, in, &id))
		fail_msg("affiliation_create: %s", f->err.message);
	json_decref(in);
	return id;
}

static int end_affiliation(struct fx *f, const char *rid, int64_t id, const char *reason)
{
	char body[128];
	json_error_t jerr;
	snprintf(body, sizeof(body), "{\"end_date\": \"%.10s\", \"end_reason\": \"%s\"}",
	         f->ctx.now_iso, reason);
	json_t *in = json_loads(body, 0, &jerr);
	fresh(f);
	int rc = affiliation_update(&f->ctx, rid, id, in);
	json_decref(in);
	return rc;
}

#define SOSPRO_CONTACT "\"subject_group\": \"municipality_contact\", \"source\": \"subject\""

/* proves L-05: ending a Sospro contact's only employment deletes them at once, as the
 * declaration says; a contact with another open affiliation stays. */
static void test_sospro_employment_ended_deleted(void **state)
{
	struct fx *f = *state;
	int64_t o1 = org(f, SOSPRO), o2 = org(f, SOSPRO);
	int64_t a = person(f, SOSPRO, "{" SOSPRO_CONTACT ", \"first_name\": \"Lähtijä\"}");
	int64_t b = person(f, SOSPRO, "{" SOSPRO_CONTACT ", \"first_name\": \"Kaksi\"}");
	int64_t aa = affiliation(f, SOSPRO, a, o1);
	int64_t b1 = affiliation(f, SOSPRO, b, o1);
	int64_t b2 = affiliation(f, SOSPRO, b, o2);
	at(f, "2026-06-01");

	assert_int_equal(end_affiliation(f, SOSPRO, aa, "employment_ended"), 0);
	assert_false(exists(f, a));
	assert_int_equal(logged(f, "delete", a, "delete-on-employment-end"), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM affiliations WHERE person_id = ?1", "i", a), 0);

	/* A held contact stays when the employment ends. */
	int64_t h = person(f, SOSPRO, "{" SOSPRO_CONTACT ", \"first_name\": \"Pidetty\"}");
	int64_t ha = affiliation(f, SOSPRO, h, o1);
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, SOSPRO, h, "tilintarkastus"), 0);
	assert_int_equal(end_affiliation(f, SOSPRO, ha, "employment_ended"), 0);
	assert_true(exists(f, h));

	/* b still works for o2: kept. */
	assert_int_equal(end_affiliation(f, SOSPRO, b1, "employment_ended"), 0);
	assert_true(exists(f, b));
	/* The second ends for another reason: not at once, but the sweep finds that b has no
	 * affiliation left. */
	assert_int_equal(end_affiliation(f, SOSPRO, b2, "role_changed"), 0);
	assert_true(exists(f, b));
	json_t *r = run(f);
	assert_int_equal(summary_count(r, SOSPRO, "delete-on-employment-end", "person", "acted"),
	                 1);
	assert_int_equal(summary_count(r, SOSPRO, "delete-on-employment-end", "person", "held"), 1);
	json_decref(r);
	assert_false(exists(f, b));
	assert_true(exists(f, h));

	/* A contact entered with an employment that has already ended goes at once too. */
	int64_t c = person(f, SOSPRO, "{" SOSPRO_CONTACT ", \"first_name\": \"Entinen\"}");
	char body[160];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64
	         ", \"end_date\": \"2026-05-31\", \"end_reason\": \"employment_ended\"}",
	         c, o2);
	json_t *in = json_loads(body, 0, NULL);
	int64_t ca = 0;
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, SOSPRO, in, &ca), 0);
	json_decref(in);
	assert_false(exists(f, c));
	assert_int_equal(logged(f, "delete", c, "delete-on-employment-end"), 1);
}

/* ---------------------------------------------------------------- passivation */

/* Loads the template's register again with `action: passivate` as its rule's action. */
static void load_passivating_template(struct fx *f)
{
	size_t len = 0;
	char *text = slurp("registers/TEMPLATE.yaml", &len);
	char *at = text ? strstr(text, "action: anonymize ") : NULL;
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = true;
	assert_non_null(at);
	memcpy(at, "action: passivate ", 18);
	fresh(f);
	if (register_load(&f->ctx, "passivate.yaml", text, len, &dg, &version, &unchanged, NULL) ||
	    version != 2 || app_load_registers(f->app, f->db, true, NULL, &f->err))
		fail_msg("loading the passivating template: %s %s", f->err.message,
		         dg.n ? dg.v[0].message : "");
	decl_diags_free(&dg);
	free(text);
}

/* proves R-08, L-01: a passivating rule erases the person and keeps only a keyed hash of
 * their e-mail address, never the address itself. */
static void test_passivate_keeps_only_keyed_hashes(void **state)
{
	struct fx *f = *state;
	load_passivating_template(f);
	int64_t a = person(f, EXAMPLE,
	                   "{\"subject_group\": \"company_contact\", \"source\": \"subject\","
	                   " \"first_name\": \"Passiivi\", \"last_name\": \"Henkilö\","
	                   " \"email\": \"passiivi@example.fi\"}");
	at(f, "2036-01-01");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "acted"), 1);
	json_decref(r);
	assert_false(exists(f, a));
	assert_int_equal(logged(f, "passivate", a, "anonymize-10y"), 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM suppressions WHERE register_id = ?1"
	                         " AND kind = 'email' AND length(hash) = 32",
	                         "s", EXAMPLE),
	                 1);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM suppressions WHERE"
	                " instr(hash, CAST('passiivi' AS BLOB)) > 0 OR source != 'anonymize-10y'",
	                ""),
	        0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM anonymized_records", ""), 0);
}

/* ---------------------------------------------------------------- from consent withdrawal */

/* Returns `text` with the first `from` replaced by `to` (heap; the caller frees). */
static char *replaced(char *text, const char *from, const char *to)
{
	char *at = text ? strstr(text, from) : NULL;
	assert_non_null(at);
	size_t head = (size_t)(at - text), flen = strlen(from), tlen = strlen(to);
	size_t tail = strlen(at + flen);
	char *out = malloc(head + tlen + tail + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	memcpy(out + head, to, tlen);
	memcpy(out + head + tlen, at + flen, tail + 1);
	free(text);
	return out;
}

/* Loads the template's register again with its rule deleting individuals a month after they
 * withdrew consent. */
static void load_consent_template(struct fx *f)
{
	size_t len = 0;
	char *text = slurp("registers/TEMPLATE.yaml", &len);
	text = replaced(text, "groups: [company_contact]", "groups: [individual]");
	text = replaced(text, "after: P10Y", "after: P1M");
	text = replaced(text, "from: last_customer_event", "from: consent_withdrawn");
	text = replaced(text, "action: anonymize ", "action: delete ");
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = true;
	fresh(f);
	if (register_load(&f->ctx, "consent.yaml", text, strlen(text), &dg, &version, &unchanged,
	                  NULL) ||
	    version != 2 || app_load_registers(f->app, f->db, true, NULL, &f->err))
		fail_msg("loading the consent template: %s %s", f->err.message,
		         dg.n ? dg.v[0].message : "");
	decl_diags_free(&dg);
	free(text);
}

static int64_t give(struct fx *f, int64_t pid, bool double_opt_in)
{
	char body[240];
	int64_t id = 0;
	char token[CONSENT_TOKEN_MAX];
	snprintf(body, sizeof(body),
	         "{\"purpose\": \"marketing\", \"channel\": \"email\", \"text\": \"Uutiskirje\","
	         " \"text_version\": \"1\", \"double_opt_in\": %s}",
	         double_opt_in ? "true" : "false");
	json_t *in = json_loads(body, 0, NULL);
	fresh(f);
	if (consent_give(&f->ctx, EXAMPLE, pid, in, &id, token))
		fail_msg("consent_give: %s", f->err.message);
	json_decref(in);
	return id;
}

static void withdraw(struct fx *f, int64_t consent)
{
	json_t *in = json_pack("{s:s}", "how", "email");
	fresh(f);
	if (consent_withdraw(&f->ctx, EXAMPLE, consent, in))
		fail_msg("consent_withdraw: %s", f->err.message);
	json_decref(in);
}

#define EXAMPLE_INDIVIDUAL                                                                         \
	"\"subject_group\": \"individual\", \"source\": \"subject\", \"last_name\": \"Suostuja\""

/* proves L-01: a rule counted from consent withdrawal acts the declared period after the
 * person's last withdrawal, and only once no consent of theirs is in force: a consent given
 * again, one still waiting for confirmation, or none ever given keeps the person. */
static void test_consent_withdrawn_rule(void **state)
{
	struct fx *f = *state;
	load_consent_template(f);
	at(f, "2026-01-01");
	int64_t a = person(f, EXAMPLE, "{" EXAMPLE_INDIVIDUAL ", \"first_name\": \"Aino\"}");
	int64_t b = person(f, EXAMPLE, "{" EXAMPLE_INDIVIDUAL ", \"first_name\": \"Bertta\"}");
	int64_t c = person(f, EXAMPLE, "{" EXAMPLE_INDIVIDUAL ", \"first_name\": \"Cecilia\"}");
	int64_t d = person(f, EXAMPLE, "{" EXAMPLE_INDIVIDUAL ", \"first_name\": \"Daniel\"}");
	int64_t e = person(f, EXAMPLE, "{" EXAMPLE_INDIVIDUAL ", \"first_name\": \"Eeva\"}");
	int64_t ca = give(f, a, false), cb1 = give(f, b, false), cc = give(f, c, false);
	give(f, b, false);
	int64_t ce = give(f, e, false);
	(void)d; /* never gave consent */

	/* a, e and one of b's two consents are withdrawn on 2026-02-01, c's on 02-20; e asks
	 * again on 02-27 but never confirms. */
	at(f, "2026-02-01");
	withdraw(f, ca);
	withdraw(f, cb1);
	withdraw(f, ce);
	at(f, "2026-02-20");
	withdraw(f, cc);
	at(f, "2026-02-27");
	give(f, e, true); /* pending until 03-06 */

	/* 2026-02-28: a month has not passed for anyone. */
	at(f, "2026-02-28");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "acted"), 0);
	json_decref(r);
	/* 2026-03-01: a is due, exactly a month after; the plan shows it first. */
	at(f, "2026-03-01");
	json_t *plan = NULL;
	fresh(f);
	assert_int_equal(retention_plan(&f->ctx, EXAMPLE, &plan), 0);
	json_t *pp = plan_part(plan, EXAMPLE, "anonymize-10y", "person");
	assert_int_equal(json_integer_value(json_object_get(pp, "due")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(pp, "sample"), 0)), a);
	json_decref(plan);
	assert_true(exists(f, a));
	r = run(f);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "acted"), 1);
	json_decref(r);
	assert_false(exists(f, a));
	assert_int_equal(logged(f, "delete", a, "anonymize-10y"), 1);
	assert_true(exists(f, c));
	assert_true(exists(f, e));
	/* 2026-03-20: c too, and e, whose request expired unconfirmed on 03-06. */
	at(f, "2026-03-20");
	r = run(f);
	json_decref(r);
	assert_false(exists(f, c));
	assert_false(exists(f, e));
	/* A year on: b keeps a consent, d never gave one. */
	at(f, "2027-03-01");
	r = run(f);
	json_decref(r);
	assert_true(exists(f, b));
	assert_true(exists(f, d));
}

/* proves L-01: a rule counted from a date field acts the declared period after the date the
 * person's field holds; a person without the date, or kept by the rule's exception, stays. */
static void test_field_date_rule(void **state)
{
	struct fx *f = *state;
	size_t len = 0;
	char *text = slurp("registers/TEMPLATE.yaml", &len);
	text = replaced(text, "      - id: ongoing_relationship\n",
	                "      - id: contract_end\n        type: date\n"
	                "        label: \"sopimus päättyy\"\n      - id: ongoing_relationship\n");
	text = replaced(text, "after: P10Y", "after: P1Y");
	text = replaced(text, "from: last_customer_event", "from: field:contract_end");
	text = replaced(text, "action: anonymize ", "action: delete ");
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = true;
	fresh(f);
	if (register_load(&f->ctx, "field.yaml", text, strlen(text), &dg, &version, &unchanged,
	                  NULL) ||
	    version != 2 || app_load_registers(f->app, f->db, true, NULL, &f->err))
		fail_msg("loading the field template: %s %s", f->err.message,
		         dg.n ? dg.v[0].message : "");
	decl_diags_free(&dg);
	free(text);

#define CONTACT "{\"subject_group\": \"company_contact\", \"source\": \"subject\", \"first_name\": "
	at(f, "2026-01-01");
	int64_t a = person(f, EXAMPLE,
	                   CONTACT "\"Sanna\", \"last_name\": \"Sopimus\","
	                           " \"contract_end\": \"2026-03-31\"}");
	int64_t b = person(f, EXAMPLE, CONTACT "\"Pertti\", \"last_name\": \"Päiväton\"}");
	int64_t c = person(f, EXAMPLE,
	                   CONTACT
	                   "\"Jatko\", \"last_name\": \"Jatkuva\","
	                   " \"contract_end\": \"2026-03-31\", \"ongoing_relationship\": true}");
#undef CONTACT
	at(f, "2027-03-30");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "acted"), 0);
	json_decref(r);
	assert_true(exists(f, a));
	at(f, "2027-03-31");
	r = run(f);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "acted"), 1);
	assert_int_equal(summary_count(r, EXAMPLE, "anonymize-10y", "person", "excepted"), 1);
	json_decref(r);
	assert_false(exists(f, a));
	assert_int_equal(logged(f, "delete", a, "anonymize-10y"), 1);
	assert_true(exists(f, b));
	assert_true(exists(f, c));
}

/* ---------------------------------------------------------------- L-06: Kemi */

/* proves L-06: "until the subject asks" takes no automatic action, however long. */
static void test_kemi_until_request_never_acts(void **state)
{
	struct fx *f = *state;
	int64_t a =
	        person(f, KEMI,
	               "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\","
	               " \"first_name\": \"Pysyy\"}");
	at(f, "2099-01-01");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, KEMI, "until-request", "person", "acted"), 0);
	json_decref(r);
	assert_true(exists(f, a));
}

/* ---------------------------------------------------------------- holds, plan, runs */

/* proves L-02: a held subject is skipped by the run and listed in the plan until released;
 * only a manager (or the operator) may hold. */
static void test_held_subject_skipped_and_listed(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, RAUMA, "{" RAUMA_CONTACT ", \"last_name\": \"Pidätetty\"}");
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, RAUMA, a, "litigation 2026/17"), 0);
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, RAUMA, a, "again"), KERR_CONFLICT);
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, RAUMA, 999, "no such person"), KERR_NOTFOUND);

	/* A signed-in user without the manager's role may not. */
	struct actor user = {ACTOR_USER, "user:nobody", 4242, 0};
	const struct actor *op = f->ctx.actor;
	f->ctx.actor = &user;
	fresh(f);
	assert_int_equal(retention_release(&f->ctx, RAUMA, a), KERR_FORBIDDEN);
	f->ctx.actor = op;

	at(f, "2036-01-01");
	json_t *plan = NULL;
	fresh(f);
	assert_int_equal(retention_plan(&f->ctx, RAUMA, &plan), 0);
	json_t *p = plan_part(plan, RAUMA, "anonymize-10y", "person");
	assert_int_equal(json_integer_value(json_object_get(p, "held")), 1);
	assert_int_equal(json_integer_value(json_object_get(p, "due")), 0);
	json_t *holds =
	        json_object_get(json_array_get(json_object_get(plan, "registers"), 0), "holds");
	assert_int_equal(json_array_size(holds), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(holds, 0), "person")),
	                 a);
	/* The plan shows ids, never the reason or anything personal. */
	char *text = json_dumps(plan, 0);
	assert_null(strstr(text, "litigation"));
	assert_null(strstr(text, "Pidätetty"));
	free(text);
	json_decref(plan);

	json_t *r = run(f);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "held"), 1);
	json_decref(r);
	assert_true(exists(f, a));

	fresh(f);
	assert_int_equal(retention_release(&f->ctx, RAUMA, a), 0);
	at(f, "2036-01-02");
	json_decref(run(f));
	assert_false(exists(f, a));
}

/* Files an erasure request for person `pid` of `rid`, verifies and fulfils it: *out is the
 * answer (caller decrefs). */
static void erasure_request(struct fx *f, const char *rid, int64_t pid, json_t **out)
{
	int64_t req = 0;
	json_t *in = json_pack("{s:s, s:s, s:I}", "type", "erasure", "channel", "written",
	                       "person_id", (json_int_t)pid);
	fresh(f);
	assert_int_equal(request_create(&f->ctx, rid, in, &req), 0);
	json_decref(in);
	in = json_pack("{s:s}", "method", "in_person");
	fresh(f);
	assert_int_equal(request_verify(&f->ctx, rid, req, in), 0);
	json_decref(in);
	in = json_object();
	fresh(f);
	if (request_fulfil(&f->ctx, rid, req, in, out))
		fail_msg("request_fulfil: %s", f->err.message);
	json_decref(in);
}

/* proves L-01, R-07: a legal hold keeps the person from every erasure, not only the sweep's:
 * a deletion is refused, an erasure request is refused naming Art. 17(3)(e); once the hold is
 * released the erasure goes through and takes the hold's reason with the person. */
static void test_held_subject_not_erased(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, EXAMPLE,
	                   "{\"subject_group\": \"company_contact\", \"source\": \"subject\","
	                   " \"first_name\": \"Rauno\", \"last_name\": \"Riitautettu\"}");
	json_t *cin = json_pack("{s:s, s:s, s:s, s:s}", "purpose", "marketing", "channel", "email",
	                        "text", "Uutiskirje", "text_version", "1");
	int64_t consent = 0;
	fresh(f);
	assert_int_equal(consent_give(&f->ctx, EXAMPLE, a, cin, &consent, NULL), 0);
	json_decref(cin);
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, EXAMPLE, a, "riita-asia 2026/17"), 0);
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, EXAMPLE, a), KERR_REFUSED);
	assert_string_equal(f->err.field, "id");
	assert_non_null(strstr(f->err.message, "legal hold"));
	assert_true(exists(f, a));

	json_t *out = NULL;
	erasure_request(f, EXAMPLE, a, &out);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "refused");
	assert_non_null(strstr(json_string_value(json_object_get(out, "reason")), "17(3)(e)"));
	assert_true(json_is_true(json_object_get(
	        json_object_get(json_object_get(out, "outcome"), "kept"), "legal_hold")));
	assert_non_null(json_object_get(out, "complaint_authority"));
	/* What rests on consent alone stops even so (Art. 17(1)(b)). */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "outcome"),
	                                                    "consents_withdrawn")),
	                 1);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM consents WHERE id = ?1 AND withdrawn_at IS NOT NULL",
	                "i", consent),
	        1);
	json_decref(out);
	assert_true(exists(f, a));

	fresh(f);
	assert_int_equal(retention_release(&f->ctx, EXAMPLE, a), 0);
	erasure_request(f, EXAMPLE, a, &out);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "fulfilled");
	json_decref(out);
	assert_false(exists(f, a));
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM legal_holds WHERE person_id = ?1", "i", a), 0);
}

/* proves R-09, L-02: a restricted subject is only stored: retention counts them as held and
 * leaves them until the restriction is lifted. */
static void test_restricted_subject_skipped(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, RAUMA, "{" RAUMA_CONTACT ", \"last_name\": \"Rajoitettu\"}");
	char body[160];
	int64_t req = 0;
	snprintf(body, sizeof(body),
	         "{\"type\": \"restriction\", \"channel\": \"written\", \"person_id\": %" PRId64
	         "}",
	         a);
	json_t *in = json_loads(body, 0, NULL);
	fresh(f);
	assert_int_equal(request_create(&f->ctx, RAUMA, in, &req), 0);
	json_decref(in);
	in = json_pack("{s:s}", "method", "in_person");
	fresh(f);
	assert_int_equal(request_verify(&f->ctx, RAUMA, req, in), 0);
	json_decref(in);
	in = json_object();
	fresh(f);
	assert_int_equal(request_fulfil(&f->ctx, RAUMA, req, in, NULL), 0);
	json_decref(in);

	at(f, "2036-01-01");
	json_t *r = run(f);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "held"), 1);
	json_decref(r);
	assert_true(exists(f, a));

	in = json_pack("{s:s}", "note", "kerrottu kirjeellä");
	fresh(f);
	assert_int_equal(request_lift(&f->ctx, RAUMA, req, in), 0);
	json_decref(in);
	at(f, "2036-01-02");
	json_decref(run(f));
	assert_false(exists(f, a));
}

/* proves L-01: the plan counts what is due and changes nothing. */
static void test_plan_changes_nothing(void **state)
{
	struct fx *f = *state;
	int64_t ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = person(f, RAUMA, "{" RAUMA_CONTACT ", \"email\": \"x@example.fi\"}");
	int64_t before = footprint(f);
	at(f, "2036-01-01");
	json_t *plan = NULL;
	fresh(f);
	assert_int_equal(retention_plan(&f->ctx, NULL, &plan), 0);
	json_t *p = plan_part(plan, RAUMA, "anonymize-10y", "person");
	assert_int_equal(json_integer_value(json_object_get(p, "due")), 3);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(p, "sample"), 0)),
	                 ids[0]);
	json_decref(plan);
	assert_int_equal(footprint(f), before);
	for (int i = 0; i < 3; i++)
		assert_true(exists(f, ids[i]));
}

/* proves L-01: a second run of the same day does nothing again; every action was logged
 * exactly once. */
static void test_run_twice_is_idempotent(void **state)
{
	struct fx *f = *state;
	int64_t ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = person(f, RAUMA, "{" RAUMA_CONTACT "}");
	at(f, "2036-01-01");
	struct retention_opts o = {.batch = 2};
	json_t *r = NULL;
	fresh(f);
	assert_int_equal(retention_run(&f->ctx, &o, &r), 0);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "acted"), 5);
	json_decref(r);
	r = run(f);
	assert_int_equal(summary_count(r, RAUMA, "anonymize-10y", "person", "acted"), 0);
	json_decref(r);
	for (int i = 0; i < 5; i++)
		assert_int_equal(logged(f, "anonymize", ids[i], "anonymize-10y"), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM anonymized_records", ""), 5);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM retention_runs WHERE status = 'done'", ""), 2);
}

/* proves L-01: two runs never overlap: while one holds the lock, another is refused. */
static void test_overlapping_run_refused(void **state)
{
	struct fx *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/retention.lock", f->dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	struct retention_opts o = {0};
	fresh(f);
	assert_int_equal(retention_run(&f->ctx, &o, NULL), KERR_BUSY);
	close(fd);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM retention_runs", ""), 0);
}

/* ---------------------------------------------------------------- M-01: unconfirmed consents */

#define DAY         (int64_t)86400
#define UNCONFIRMED "consent_unconfirmed"
#define NEWS_CONSENT                                                                               \
	"{\"purpose\": \"newsletters\", \"channel\": \"email\", \"text\": \"Haluan "               \
	"uutiskirjeen\", \"text_version\": \"2026-1\""

/* Espoo's newsletter list "uutiset", whose confirmation mails go to a port where no SMTP
 * server listens: a subscription then stays unconfirmed, as after a lost mail. */
static void news_list(struct fx *f)
{
	json_t *in = json_loads("{\"slug\": \"uutiset\", \"name\": \"Uutiset\", \"purpose\":"
	                        " \"newsletters\", \"group\": \"individual\", \"source\":"
	                        " \"subject\", \"consent_text\": \"Haluan uutiskirjeen\","
	                        " \"consent_version\": \"1\"}",
	                        0, NULL);
	int64_t id = 0;
	assert_non_null(in);
	fresh(f);
	if (sublist_create(&f->ctx, ESPOO, in, &id))
		fail_msg("sublist_create: %s", f->err.message);
	json_decref(in);
	snprintf(f->app->cfg.mail.url, sizeof(f->app->cfg.mail.url), "smtp://127.0.0.1:1");
	snprintf(f->app->cfg.mail.from, sizeof(f->app->cfg.mail.from), "uutiset@espoo.example.fi");
	snprintf(f->app->cfg.public_url, sizeof(f->app->cfg.public_url),
	         "https://kortisto.example.fi");
}

/* Subscribes `email` to "uutiset" as the public subscribe page does (an anonymous client
 * with an address); the confirmation mail fails. Returns the person with that address. */
static int64_t subscribe(struct fx *f, const char *email)
{
	f->actor = (struct actor){ACTOR_ANON, ACTOR_ANON_NAME, 0, 0};
	f->ctx.may_reveal = false;
	f->ctx.sees_restricted = false;
	f->ctx.client = "192.0.2.7";
	fresh(f);
	int rc = sublist_subscribe(&f->ctx, "uutiset", email, "Sanna", NULL);
	f->ctx.client = NULL;
	fx_as_operator(f);
	assert_int_not_equal(rc, KERR_INVALID);
	assert_int_not_equal(rc, KERR_NOTFOUND);
	int64_t pid = raw_int(f,
	                      "SELECT person_id FROM contact_points WHERE kind = 'email'"
	                      " AND value = ?1",
	                      "s", email);
	assert_true(pid > 0);
	return pid;
}

/* Gives person `pid` of Espoo a newsletter consent with the extra members `more` (",
 * \"source\": \"form\"" …); *token gets its confirmation token when pending. */
static int64_t consent(struct fx *f, int64_t pid, const char *more, char *token)
{
	char body[400];
	int64_t id = 0;
	snprintf(body, sizeof(body), NEWS_CONSENT "%s}", more);
	json_t *in = json_loads(body, 0, NULL);
	assert_non_null(in);
	fresh(f);
	if (consent_give(&f->ctx, ESPOO, pid, in, &id, token))
		fail_msg("consent_give: %s", f->err.message);
	json_decref(in);
	return id;
}

static bool consent_exists(struct fx *f, int64_t id)
{
	return raw_int(f, "SELECT count(*) FROM consents WHERE id = ?1", "i", id) == 1;
}

/* Runs retention over every register in batches of `batch`; returns the summary. */
static json_t *run_batches(struct fx *f, int batch)
{
	struct retention_opts o = {.batch = batch};
	json_t *out = NULL;
	fresh(f);
	if (retention_run(&f->ctx, &o, &out) != 0)
		fail_msg("retention_run: %s", f->err.message);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "done");
	return out;
}

/* Copies the write-ahead log into the database file and empties it, on a connection of the
 * test's own, so what the files hold afterwards is what the database keeps. */
static void checkpoint(struct fx *f)
{
	char path[128];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/kortisto.db", f->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("checkpoint: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

#define ESPOO_PERSON                                                                               \
	"{\"subject_group\": \"individual\", \"source\": \"subject\", \"first_name\": \"Eero\","   \
	" \"email\": \"eero@example.fi\"}"

/* proves M-01: a pending consent is deleted by the first run after its confirmation link
 * expired (8 days after it was given) and kept before (6 days); a confirmed consent and a
 * withdrawn one are never touched; the deletion is logged by system:retention, naming the
 * consent and its person and no personal data; a person entered by staff stays. */
static void test_unconfirmed_consent_deleted_after_expiry(void **state)
{
	struct fx *f = *state;
	char tok[CONSENT_TOKEN_MAX], buf[80];
	const char *rid = NULL;
	int64_t got = 0;
	int64_t p = person(f, ESPOO, ESPOO_PERSON);
	int64_t old = consent(f, p, ", \"source\": \"form\"", tok);
	int64_t confirmed = consent(f, p, ", \"source\": \"form\"", tok);
	fresh(f);
	assert_int_equal(consent_confirm(&f->ctx, tok, &rid, &got), 0);
	int64_t withdrawn = consent(f, p, ", \"source\": \"form\"", tok);
	json_t *how = json_loads("{\"how\": \"email\"}", 0, NULL);
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, withdrawn, how), 0);
	json_decref(how);
	int64_t staff = consent(f, p, "", tok);
	kctx_set_now(&f->ctx, NOW + 2 * DAY);
	int64_t young = consent(f, p, ", \"source\": \"form\"", tok);

	/* Day 7 after the first: its link stopped working at this very second. */
	kctx_set_now(&f->ctx, NOW + 7 * DAY - 1);
	json_t *r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 0);
	json_decref(r);
	assert_true(consent_exists(f, old));

	kctx_set_now(&f->ctx, NOW + 8 * DAY);
	r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 1);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "person", "acted"), 0);
	json_decref(r);
	assert_false(consent_exists(f, old));
	assert_true(consent_exists(f, young)); /* 6 days old */
	assert_true(consent_exists(f, confirmed));
	assert_true(consent_exists(f, withdrawn));
	assert_true(consent_exists(f, staff));
	assert_true(exists(f, p));
	/* One entry, naming the consent and its person (the subject) and nothing else. */
	char want[80];
	snprintf(want, sizeof(want), "delete|consent|consent_unconfirmed|%" PRId64 "|%s|1", p,
	         ESPOO);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT action || '|' || entity || '|' || reason || '|'"
	                             " || subjects || '|' || register_id || '|' || count(*)"
	                             " FROM usage_log WHERE actor = 'system:retention'"
	                             " AND entity = 'consent' AND entity_id = ?1",
	                             old),
	                    want);

	/* A second run of the same day finds nothing more to do. */
	int64_t before = footprint(f);
	int64_t nconsents = raw_int(f, "SELECT count(*) FROM consents", "");
	r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 0);
	json_decref(r);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents", ""), nconsents);
	assert_int_equal(footprint(f) - before, 10); /* the run's own row */

	/* The young one goes when its own link has expired. */
	kctx_set_now(&f->ctx, NOW + 9 * DAY);
	r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 1);
	json_decref(r);
	assert_false(consent_exists(f, young));
	assert_true(consent_exists(f, confirmed) && consent_exists(f, withdrawn) &&
	            consent_exists(f, staff) && exists(f, p));
}

/* proves M-01: a person the public subscribe page added who never confirmed is erased with
 * their expired consent (their address leaves contact_points, the search index and the
 * database files), logged as a delete by system:retention; one who also has a record, an
 * affiliation or a second, confirmed consent, one entered by staff and one on legal hold are
 * kept. The plan counts all of it first and changes nothing; a run in batches of one does
 * the same as one batch would; a second run changes nothing; a released hold lets the next
 * run finish the job. */
static void test_unconfirmed_subscriber_erased(void **state)
{
	struct fx *f = *state;
	char tok[CONSENT_TOKEN_MAX];
	news_list(f);
	int64_t lone = subscribe(f, "unohtaja@example.fi");
	int64_t twice = subscribe(f, "kahdesti@example.fi");
	subscribe(f, "kahdesti@example.fi"); /* a second pending consent, the same person */
	int64_t recorded = subscribe(f, "asiakas@example.fi");
	event(f, ESPOO, recorded, "customer_contact", "2026-01-01");
	int64_t affiliated = subscribe(f, "tyossa@example.fi");
	json_t *o = json_loads("{\"name\": \"Espoon Yritys Oy\", \"source\": \"public_sources\"}",
	                       0, NULL);
	int64_t org_id = 0;
	fresh(f);
	if (org_create(&f->ctx, ESPOO, o, &org_id))
		fail_msg("org_create: %s", f->err.message);
	json_decref(o);
	affiliation(f, ESPOO, affiliated, org_id);
	int64_t consented = subscribe(f, "tilaaja@example.fi");
	consent(f, consented, "", tok); /* given to staff: confirmed at once */
	int64_t staff = person(f, ESPOO, ESPOO_PERSON);
	consent(f, staff, ", \"source\": \"form\"", tok);
	int64_t held = subscribe(f, "pidossa@example.fi");
	fresh(f);
	assert_int_equal(retention_hold(&f->ctx, ESPOO, held, "riita 2026/3"), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM persons WHERE created_by = 'anonymous'"
	                         " AND id = ?1",
	                         "i", lone),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM consents WHERE person_id = ?1"
	                         " AND source_client = '192.0.2.7' AND state = 'pending'",
	                         "i", twice),
	                 2);
	assert_true(db_files_contain(f, "unohtaja@example.fi"));

	kctx_set_now(&f->ctx, NOW + 8 * DAY);
	/* The plan: 8 consents due (the held person's kept), 2 persons; nothing changes. */
	int64_t before = footprint(f);
	int64_t nconsents = raw_int(f, "SELECT count(*) FROM consents", "");
	json_t *plan = NULL;
	fresh(f);
	assert_int_equal(retention_plan(&f->ctx, ESPOO, &plan), 0);
	json_t *pc = plan_part(plan, ESPOO, UNCONFIRMED, "consent");
	json_t *pp = plan_part(plan, ESPOO, UNCONFIRMED, "person");
	assert_int_equal(json_integer_value(json_object_get(pc, "due")), 7);
	assert_int_equal(json_integer_value(json_object_get(pc, "held")), 1);
	assert_int_equal(json_integer_value(json_object_get(pp, "due")), 2);
	json_t *sample = json_object_get(pp, "sample");
	assert_int_equal(json_array_size(sample), 2);
	assert_int_equal(json_integer_value(json_array_get(sample, 0)), lone);
	assert_int_equal(json_integer_value(json_array_get(sample, 1)), twice);
	json_decref(plan);
	assert_int_equal(footprint(f), before);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents", ""), nconsents);

	/* The run, in batches of one consent. */
	json_t *r = run_batches(f, 1);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 7);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "held"), 1);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "person", "acted"), 2);
	json_decref(r);
	assert_false(exists(f, lone));
	assert_false(exists(f, twice));
	assert_true(exists(f, recorded) && exists(f, affiliated) && exists(f, consented) &&
	            exists(f, staff) && exists(f, held));
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM contact_points WHERE value IN"
	                         " ('unohtaja@example.fi', 'kahdesti@example.fi')",
	                         ""),
	                 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_search WHERE person_search MATCH"
	                         " 'unohtaja OR kahdesti'",
	                         ""),
	                 0);
	checkpoint(f);
	assert_false(db_files_contain(f, "unohtaja@example.fi"));
	assert_int_equal(logged(f, "delete", lone, UNCONFIRMED), 1);
	assert_int_equal(logged(f, "delete", twice, UNCONFIRMED), 1);
	/* Those kept lost only their expired consents; the confirmed one stays. */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents WHERE person_id IN (?1, ?2, ?3)",
	                         "iii", recorded, affiliated, staff),
	                 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM consents WHERE person_id = ?1", "i", consented),
	        1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM consents WHERE person_id = ?1", "i", held), 1);

	/* Again: nothing more. */
	before = footprint(f);
	nconsents = raw_int(f, "SELECT count(*) FROM consents", "");
	r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 0);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "person", "acted"), 0);
	json_decref(r);
	assert_int_equal(footprint(f) - before, 10); /* the run's own row */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM consents", ""), nconsents);

	/* Once the hold is released, the next run takes the held person's consent and them. */
	fresh(f);
	assert_int_equal(retention_release(&f->ctx, ESPOO, held), 0);
	r = run(f);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "consent", "acted"), 1);
	assert_int_equal(summary_count(r, ESPOO, UNCONFIRMED, "person", "acted"), 1);
	json_decref(r);
	assert_false(exists(f, held));
}

/* Every lookup of retention reads through an index: a run over a register of a million
 * persons must not scan it once per batch or per person. */
static void test_statements_indexed(void **state)
{
	static const enum stmt_id lookups[] = {
	        ST_REC_BY_PERSON,        ST_REC_GET,         ST_REC_COUNTS,
	        ST_RET_PERSON,           ST_RET_DUE_CLOCK,   ST_RET_DUE_CREATED,
	        ST_RET_DUE_AFF_END,      ST_RET_DUE_FIELD,   ST_RET_DUE_CONSENT,
	        ST_RET_DUE_RECORDS,      ST_RET_AFF_STATE,   ST_RET_HELD,
	        ST_RET_HOLDS_ACTIVE,     ST_RET_RUN_LIST,    ST_RET_PROGRESS_GET,
	        ST_RET_PROGRESS_LIST,    ST_RET_UNCONFIRMED, ST_RET_UNCONFIRMED_DELETE,
	        ST_RET_UNCONFIRMED_LONE,
	};
	assert_indexed(*state, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_rauma_anonymized_ten_years_after_last_event),
	        T(test_anonymize_keeps_only_statistical_fields),
	        T(test_events_checked_against_declaration),
	        T(test_espoo_archive_then_delete),
	        T(test_archive_failure_deletes_nothing),
	        T(test_espoo_records_archived_after_ten_years),
	        T(test_sospro_employment_ended_deleted),
	        T(test_passivate_keeps_only_keyed_hashes),
	        T(test_consent_withdrawn_rule),
	        T(test_field_date_rule),
	        T(test_kemi_until_request_never_acts),
	        T(test_held_subject_skipped_and_listed),
	        T(test_held_subject_not_erased),
	        T(test_restricted_subject_skipped),
	        T(test_plan_changes_nothing),
	        T(test_run_twice_is_idempotent),
	        T(test_overlapping_run_refused),
	        T(test_unconfirmed_consent_deleted_after_expiry),
	        T(test_unconfirmed_subscriber_erased),
	        T(test_statements_indexed),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
