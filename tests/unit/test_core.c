/*
 * Unit tests for src/core: persons, organisations, affiliations, registers and imports,
 * driven only through the public core functions against a real data directory made fresh
 * for every test (rauma-crm, kemi-crm and espoo-talent-hub loaded). What the core writes is
 * checked independently through a second, read-only SQLite connection and by reading the
 * database files' bytes, so a test cannot be fooled by the code it tests.
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

#include "audit/usage.h"
#include "core/affiliation.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/import.h"
#include "core/org.h"
#include "core/person.h"
#include "core/register.h"
#include "core/search.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"
#define ESPOO "espoo-talent-hub"

/* Henkilötunnus from DOMAIN.md and one built with the check rule below. */
#define HETU_A        "131052-308T"
#define HETU_A_MASKED "131052-****"

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
        "registers/espoo-talent-hub.yaml",
};

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Builds a henkilötunnus from its parts with the check character computed from the rule in
 * DOMAIN.md §5, independently of the code under test. */
static void make_hetu(char out[12], int d, int m, int yy, char sign, int ind)
{
	static const char checks[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
	long num = ((long)d * 10000 + m * 100 + yy) * 1000 + ind;
	char tmp[48];
	int n = snprintf(tmp, sizeof(tmp), "%02d%02d%02d%c%03d%c", d, m, yy, sign, ind,
	                 checks[num % 31]);
	assert_int_equal(n, 11);
	memcpy(out, tmp, 12);
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
	return j;
}

static int create(struct fx *f, const char *rid, const char *json, int64_t *id)
{
	json_t *in = parse(json);
	int64_t tmp = 0;
	fresh(f);
	int rc = person_create(&f->ctx, rid, in, id ? id : &tmp);
	json_decref(in);
	return rc;
}

static int64_t create_ok(struct fx *f, const char *rid, const char *json)
{
	int64_t id = 0;
	int rc = create(f, rid, json, &id);
	if (rc)
		fail_msg("person_create(%s) = %d: %s", json, rc, f->err.message);
	assert_true(id > 0);
	return id;
}

static int update(struct fx *f, const char *rid, int64_t id, const char *json)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = person_update(&f->ctx, rid, id, in);
	json_decref(in);
	return rc;
}

static void update_ok(struct fx *f, const char *rid, int64_t id, const char *json)
{
	int rc = update(f, rid, id, json);
	if (rc)
		fail_msg("person_update(%s) = %d: %s", json, rc, f->err.message);
}

static json_t *get_ok(struct fx *f, const char *rid, int64_t id, unsigned flags)
{
	json_t *o = NULL;
	fresh(f);
	int rc = person_get(&f->ctx, rid, id, flags, &o);
	if (rc)
		fail_msg("person_get(%" PRId64 ") = %d: %s", id, rc, f->err.message);
	assert_non_null(o);
	return o;
}

static const char *jget(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Asserts that member `key` of `o` is the string `want`; fails, not crashes, when absent. */
#define assert_jstr(o, key, want)                                                                  \
	do {                                                                                       \
		const char *got_ = jget((o), (key));                                               \
		if (!got_)                                                                         \
			fail_msg("\"%s\" is absent or not a string (want \"%s\")", (key), (want)); \
		assert_string_equal(got_, (want));                                                 \
	} while (0)

/* Every person of `rid`, through person_find page by page. */
static size_t count_persons(struct fx *f, const char *rid)
{
	const char *cursor = NULL;
	size_t n = 0;
	char keep[32];
	for (int pages = 0; pages < 1000; pages++) {
		json_t *out = NULL;
		fresh(f);
		int rc = person_find(&f->ctx, rid, NULL, NULL, cursor, 0, &out);
		if (rc)
			fail_msg("person_find = %d: %s", rc, f->err.message);
		n += json_array_size(json_object_get(out, "items"));
		const char *next = jget(out, "next");
		if (next)
			snprintf(keep, sizeof(keep), "%s", next);
		json_decref(out);
		if (!next)
			return n;
		cursor = keep;
	}
	fail_msg("person_find never ends");
	return 0;
}

/* ---------------------------------------------------------------- a second connection */

/* Whether any column of any row of any table (FTS shadow tables included) contains the
 * bytes of `needle`. Reports the first place it is found in *where. */
static bool raw_anywhere(struct fx *f, const char *needle, const char *skip_table, char *where,
                         size_t wsz)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *tables = NULL;
	bool found = false;
	size_t nlen = strlen(needle);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table'"
	                                    " ORDER BY name",
	                                    -1, &tables, NULL),
	                 SQLITE_OK);
	while (!found && sqlite3_step(tables) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		if (skip_table && strcmp(name, skip_table) == 0)
			continue;
		char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
			sqlite3_free(sql);
			continue; /* e.g. a virtual table's config the reader cannot scan */
		}
		while (!found && sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const void *p = sqlite3_column_blob(st, c);
				int n = sqlite3_column_bytes(st, c);
				if (p && n > 0 && memmem(p, (size_t)n, needle, nlen)) {
					snprintf(where, wsz, "%s.%s", name,
					         sqlite3_column_name(st, c));
					found = true;
					break;
				}
			}
		}
		sqlite3_finalize(st);
		sqlite3_free(sql);
	}
	sqlite3_finalize(tables);
	sqlite3_close(db);
	return found;
}

/* Usage-log entries of changes (reads are logged too, and counted apart). */
static int64_t usage_rows(struct fx *f)
{
	return raw_int(
	        f,
	        "SELECT count(*) FROM usage_log WHERE action <> 'read' AND action <> 'search'"
	        " AND action <> 'reveal'",
	        "");
}

static int64_t history_rows(struct fx *f, const char *entity, int64_t id)
{
	return raw_int(f,
	               "SELECT count(*) FROM change_history WHERE entity = ?1 AND entity_id = ?2",
	               "si", entity, id);
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fx *f = fixture_open("test", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	f->ctx.purpose = "customer_contact";
	*state = f;
	return 0;
}

#define RAUMA_PERSON "\"subject_group\": \"consenting_person\", \"source\": \"customer\""

/* ------------------------------------------------------------------------------------------ */
/* Legal basis and the declaration as the allow-list                                          */
/* ------------------------------------------------------------------------------------------ */

/* proves M-01: the legal basis follows the subject group declared in the register. */
static void test_legal_basis_from_subject_group(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *rid, *group, *source, *basis;
	} cases[] = {
	        {RAUMA, "consenting_person", "customer", "a"},
	        {RAUMA, "contract_party", "customer", "b"},
	        {RAUMA, "organisation_contact", "public_web", "f"},
	        {KEMI, "client_company_contact", "subject", "e"},
	        {ESPOO, "individual", "subject", "a"},
	        {ESPOO, "company_contact", "public_sources", "e"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[256];
		snprintf(
		        body, sizeof(body),
		        "{\"subject_group\": \"%s\", \"source\": \"%s\", \"first_name\": \"P%zu\"}",
		        cases[i].group, cases[i].source, i);
		int64_t id = create_ok(f, cases[i].rid, body);
		json_t *p = get_ok(f, cases[i].rid, id, 0);
		assert_jstr(p, "legal_basis", cases[i].basis);
		assert_jstr(p, "subject_group", cases[i].group);
		json_decref(p);
		/* What is stored, not only what is shown. */
		assert_int_equal(raw_int(f,
		                         "SELECT count(*) FROM persons WHERE id = ?1 AND"
		                         " legal_basis = ?2 AND register_id = ?3",
		                         "iss", id, cases[i].basis, cases[i].rid),
		                 1);
	}
}

/* proves M-01: the caller cannot choose the basis; only the subject group gives it. */
static void test_legal_basis_cannot_be_given(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, RAUMA, "{" RAUMA_PERSON ", \"legal_basis\": \"f\"}", NULL),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "legal_basis");
	assert_int_equal(count_persons(f, RAUMA), 0);
}

/* proves M-01: changing the subject group changes the basis and is recorded. */
static void test_legal_basis_follows_group_change(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"last_name\": \"Vaihtaja\"}");
	update_ok(f, RAUMA, id, "{\"subject_group\": \"organisation_contact\"}");
	json_t *p = get_ok(f, RAUMA, id, PERSON_HISTORY);
	assert_jstr(p, "legal_basis", "f");
	json_t *h = json_array_get(json_object_get(p, "history"), 0);
	assert_jstr(h, "field", "subject_group");
	assert_jstr(h, "old", "consenting_person");
	assert_jstr(h, "new", "organisation_contact");
	json_decref(p);
}

static void test_subject_group_required_and_declared(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create(f, RAUMA, "{\"source\": \"customer\"}", NULL), KERR_INVALID);
	assert_string_equal(f->err.field, "subject_group");
	assert_int_equal(
	        create(f, RAUMA, "{\"subject_group\": \"pets\", \"source\": \"customer\"}", NULL),
	        KERR_REFUSED);
	assert_string_equal(f->err.field, "subject_group");
	/* A group of another register is not a group of this one. */
	assert_int_equal(create(f, RAUMA,
	                        "{\"subject_group\": \"client_company_contact\","
	                        " \"source\": \"customer\"}",
	                        NULL),
	                 KERR_REFUSED);
	assert_int_equal(create(f, RAUMA, "{\"subject_group\": \"consenting_person\"}", NULL),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "source");
	assert_int_equal(create(f, RAUMA,
	                        "{\"subject_group\": \"consenting_person\", \"source\": \"x\"}",
	                        NULL),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "source");
	assert_int_equal(count_persons(f, RAUMA), 0);
}

static void test_unknown_register_and_bad_body(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	assert_int_equal(create(f, "no-such-register", "{" RAUMA_PERSON "}", NULL), KERR_NOTFOUND);
	assert_int_equal(create(f, RAUMA, "[1, 2]", NULL), KERR_INVALID);
	assert_int_equal(create(f, RAUMA, "\"text\"", NULL), KERR_INVALID);
	id = create_ok(f, RAUMA, "{" RAUMA_PERSON "}");
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(person_get(&f->ctx, RAUMA, id + 1000, 0, &o), KERR_NOTFOUND);
	assert_null(o);
	/* Registers are apart: a person of one is not found through another. */
	fresh(f);
	assert_int_equal(person_get(&f->ctx, KEMI, id, 0, &o), KERR_NOTFOUND);
	assert_int_equal(update(f, KEMI, id, "{\"first_name\": \"X\"}"), KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, KEMI, id), KERR_NOTFOUND);
	assert_int_equal(count_persons(f, RAUMA), 1);
}

/* An undeclared field is refused with 422 and nothing is written. */
static void test_undeclared_field_refused(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *rid, *body, *field;
	} cases[] = {
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"A\", \"shoe_size\": \"44\"}",
	         "shoe_size"},
	        {RAUMA, "{" RAUMA_PERSON ", \"attributes\": {\"shoe_size\": 44}}",
	         "attributes.shoe_size"},
	        /* kemi-crm declares no henkilötunnus. */
	        {KEMI,
	         "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\","
	         " \"hetu\": \"" HETU_A "\"}",
	         "hetu"},
	        /* Declared in espoo, but only for individuals. */
	        {ESPOO,
	         "{\"subject_group\": \"company_contact\", \"source\": \"subject\","
	         " \"municipality\": \"Espoo\"}",
	         "municipality"},
	        {ESPOO,
	         "{\"subject_group\": \"individual\", \"source\": \"subject\","
	         " \"attributes\": {\"title\": \"CEO\"}}",
	         "attributes.title"},
	};
	int64_t usage = usage_rows(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t before = count_persons(f, cases[i].rid);
		int rc = create(f, cases[i].rid, cases[i].body, NULL);
		if (rc != KERR_REFUSED)
			fail_msg("case %zu: rc %d, want KERR_REFUSED (%s)", i, rc, f->err.message);
		assert_int_equal(f->err.code, KERR_REFUSED);
		assert_string_equal(f->err.field, cases[i].field);
		assert_int_equal(count_persons(f, cases[i].rid), before);
	}
	assert_int_equal(raw_int(f, "SELECT count(*) FROM persons", ""), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM contact_points", ""), 0);
	assert_int_equal(usage_rows(f), usage);
}

/* An update that would leave a field outside the new group's categories is refused. */
static void test_group_change_refused_when_fields_do_not_apply(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, ESPOO,
	                       "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                       " \"first_name\": \"Ilona\", \"municipality\": \"Espoo\"}");
	assert_int_equal(update(f, ESPOO, id, "{\"subject_group\": \"company_contact\"}"),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "municipality");
	json_t *p = get_ok(f, ESPOO, id, 0);
	assert_jstr(p, "subject_group", "individual");
	assert_jstr(p, "legal_basis", "a");
	json_decref(p);
	/* Removing the field first makes the change possible. */
	update_ok(f, ESPOO, id, "{\"municipality\": null}");
	update_ok(f, ESPOO, id, "{\"subject_group\": \"company_contact\"}");
	p = get_ok(f, ESPOO, id, 0);
	assert_jstr(p, "legal_basis", "e");
	assert_null(json_object_get(json_object_get(p, "attributes"), "municipality"));
	json_decref(p);
}

/* A merge patch is judged by its result: removing a field that does not apply to the new
 * group in the same patch that changes the group leaves a valid person, so it is accepted. */
static void test_group_change_with_removal_in_one_patch(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, ESPOO,
	                       "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                       " \"first_name\": \"Ilona\", \"municipality\": \"Espoo\"}");
	update_ok(f, ESPOO, id, "{\"subject_group\": \"company_contact\", \"municipality\": null}");
	json_t *p = get_ok(f, ESPOO, id, 0);
	assert_jstr(p, "legal_basis", "e");
	assert_null(json_object_get(json_object_get(p, "attributes"), "municipality"));
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Field types                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* Each declared type refuses what it is not, names the field, and never echoes the value. */
static void test_field_type_checks(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *rid, *body, *field, *secret;
	} cases[] = {
	        {RAUMA, "{" RAUMA_PERSON ", \"email\": \"matti.at.example.fi\"}", "email",
	         "matti.at.example.fi"},
	        {RAUMA, "{" RAUMA_PERSON ", \"email\": 42}", "email", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"phone\": \"040-12ab-567\"}", "phone", "12ab"},
	        {RAUMA, "{" RAUMA_PERSON ", \"birth_date\": \"2023-02-29\"}", "birth_date",
	         "2023-02-29"},
	        {RAUMA, "{" RAUMA_PERSON ", \"attributes\": {\"birth_date\": \"31.12.1990\"}}",
	         "attributes.birth_date", "31.12.1990"},
	        {RAUMA, "{" RAUMA_PERSON ", \"website\": \"ftp://example.fi/x\"}", "website",
	         "ftp://example.fi"},
	        {RAUMA, "{" RAUMA_PERSON ", \"ip_address\": \"300.1.2.3\"}", "ip_address",
	         "300.1.2.3"},
	        {RAUMA, "{" RAUMA_PERSON ", \"ongoing_relationship\": \"true\"}",
	         "ongoing_relationship", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"ongoing_relationship\": 1}", "ongoing_relationship",
	         NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"131052-308U\"}", "hetu", "131052"},
	        {RAUMA, "{" RAUMA_PERSON ", \"hetu\": 131052}", "hetu", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": 42}", "first_name", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"\"}", "first_name", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": \" \\t \"}", "first_name", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Ma\\u0001tti\"}", "first_name", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Ma\\u0000tti\"}", "first_name", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"last_customer_event\": \"2026-13-01\"}",
	         "last_customer_event", NULL},
	        {RAUMA, "{" RAUMA_PERSON ", \"attributes\": [1]}", "attributes", NULL},
	        {RAUMA,
	         "{" RAUMA_PERSON ", \"first_name\": \"A\", \"attributes\":"
	         " {\"first_name\": \"B\"}}",
	         "attributes.first_name", NULL},
	        {ESPOO,
	         "{\"subject_group\": \"individual\", \"source\": \"subject\","
	         " \"children_count\": \"3\"}",
	         "children_count", NULL},
	        {ESPOO,
	         "{\"subject_group\": \"individual\", \"source\": \"subject\","
	         " \"children_count\": 2.5}",
	         "children_count", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = create(f, cases[i].rid, cases[i].body, NULL);
		if (rc != KERR_INVALID)
			fail_msg("case %zu (%s): rc %d, want KERR_INVALID: %s", i, cases[i].body,
			         rc, f->err.message);
		assert_string_equal(f->err.field, cases[i].field);
		if (cases[i].secret && strstr(f->err.message, cases[i].secret))
			fail_msg("case %zu: the error echoes the rejected value: %s", i,
			         f->err.message);
	}
	/* A text longer than 1024 bytes. */
	char body[1400];
	int n = snprintf(body, sizeof(body), "{" RAUMA_PERSON ", \"last_name\": \"");
	memset(body + n, 'x', 1025);
	snprintf(body + n + 1025, sizeof(body) - (size_t)n - 1025, "\"}");
	assert_int_equal(create(f, RAUMA, body, NULL), KERR_INVALID);
	assert_string_equal(f->err.field, "last_name");

	assert_int_equal(count_persons(f, RAUMA), 0);
	assert_int_equal(count_persons(f, ESPOO), 0);
}

/* Valid values of every type are stored in normalised form. */
static void test_field_values_normalised(void **state)
{
	struct fx *f = *state;
	int64_t id =
	        create_ok(f, RAUMA,
	                  "{" RAUMA_PERSON ", \"first_name\": \"  Matti \","
	                  " \"email\": \" Matti.Meikalainen@Example.FI \","
	                  " \"phone\": \"040 123 4567\", \"website\": \"https://example.fi/m\","
	                  " \"ip_address\": \"192.0.2.1\", \"ongoing_relationship\": true,"
	                  " \"attributes\": {\"birth_date\": \"1990-05-17\"},"
	                  " \"last_customer_event\": \"2025-12-31\"}");
	json_t *p = get_ok(f, RAUMA, id, 0);
	assert_jstr(p, "first_name", "Matti");
	assert_jstr(p, "email", "matti.meikalainen@example.fi");
	assert_jstr(p, "phone", "+358401234567");
	assert_jstr(p, "website", "https://example.fi/m");
	assert_jstr(p, "ip_address", "192.0.2.1");
	assert_jstr(p, "last_customer_event", "2025-12-31");
	json_t *attrs = json_object_get(p, "attributes");
	assert_true(json_is_true(json_object_get(attrs, "ongoing_relationship")));
	/* birth_date is declared sensitive: shown in full only when revealed. */
	assert_string_not_equal(jget(attrs, "birth_date") ? jget(attrs, "birth_date") : "",
	                        "1990-05-17");
	json_t *full = get_ok(f, RAUMA, id, PERSON_REVEAL_SENSITIVE);
	assert_jstr(json_object_get(full, "attributes"), "birth_date", "1990-05-17");
	json_decref(full);
	/* Contact points carry their provenance. */
	json_t *cp = json_object_get(p, "contact_points");
	assert_int_equal(json_array_size(cp), 4);
	json_t *e = json_array_get(cp, 0); /* ordered by kind: email first */
	assert_jstr(e, "kind", "email");
	assert_jstr(e, "source", "customer");
	assert_jstr(e, "collected_by", "operator:test");
	assert_jstr(e, "collected_at", "2026-01-01T00:00:00Z");
	json_decref(p);

	int64_t e2 = create_ok(f, ESPOO,
	                       "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                       " \"children_count\": 3}");
	p = get_ok(f, ESPOO, e2, 0);
	json_t *cc = json_object_get(json_object_get(p, "attributes"), "children_count");
	assert_true(json_is_integer(cc));
	assert_int_equal(json_integer_value(cc), 3);
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Henkilötunnus                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* proves S-10: the henkilötunnus is encrypted at rest; its plain form is nowhere in the
 * database, neither in the column nor in the bytes of the files. */
static void test_hetu_sealed_at_rest(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}");

	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT hetu_enc, hetu_hash, hetu_masked FROM persons"
	                                    " WHERE id = ?1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 0), SQLITE_BLOB);
	const void *enc = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);
	assert_int_equal(n, 11 + FIELD_SEAL_OVERHEAD);
	assert_null(memmem(enc, (size_t)n, HETU_A, 11));
	assert_null(memmem(enc, (size_t)n, "308T", 4));
	assert_int_equal(sqlite3_column_bytes(st, 1), FIELD_HASH_BYTES);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), HETU_A_MASKED);
	sqlite3_finalize(st);
	sqlite3_close(db);

	char where[160];
	assert_false(raw_anywhere(f, HETU_A, NULL, where, sizeof(where)));
	/* The bytes of the files: the masked form is found (the search works), the plain not. */
	assert_true(db_files_contain(f, HETU_A_MASKED));
	assert_false(db_files_contain(f, HETU_A));
	assert_false(db_files_contain(f, "131052-308t"));
}

/* proves S-10: shown masked; in full only with the reveal flag and the right to it. */
static void test_hetu_masked_and_revealed(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"131052-308t\"}");

	json_t *p = get_ok(f, RAUMA, id, 0);
	assert_jstr(p, "hetu", HETU_A_MASKED);
	json_decref(p);

	p = get_ok(f, RAUMA, id, PERSON_REVEAL_SENSITIVE);
	assert_jstr(p, "hetu", HETU_A); /* stored upper-case */
	json_decref(p);

	/* A viewer (the server gives may_reveal only from editor up) sees the masked form. */
	struct actor api = {ACTOR_USER, "user:test", 1, 0};
	f->ctx.actor = &api;
	f->ctx.may_reveal = false;
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(person_get(&f->ctx, RAUMA, id, PERSON_REVEAL_SENSITIVE, &o),
	                 KERR_FORBIDDEN);
	assert_null(o);
	assert_string_equal(f->err.field, "reveal");
	p = get_ok(f, RAUMA, id, 0);
	assert_jstr(p, "hetu", HETU_A_MASKED);
	json_decref(p);
	f->ctx.may_reveal = true;
	f->ctx.actor = &f->actor;
}

/* proves S-10: searchable only by exact match of the whole code. */
static void test_hetu_found_by_exact_match_only(void **state)
{
	struct fx *f = *state;
	char other[12];
	make_hetu(other, 1, 1, 90, '-', 123);
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Hetullinen\","
	                       " \"hetu\": \"" HETU_A "\"}");
	create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Toinen\"}");

	json_t *out = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, HETU_A, NULL, 0, &out), 0);
	json_t *items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 1);
	json_t *item = json_array_get(items, 0);
	assert_int_equal(json_integer_value(json_object_get(item, "id")), id);
	/* The result never shows the code in full. */
	char *dump = json_dumps(item, JSON_COMPACT);
	assert_null(strstr(dump, HETU_A));
	assert_null(strstr(dump, "308T"));
	free(dump);
	if (json_object_get(item, "hetu"))
		assert_jstr(item, "hetu", HETU_A_MASKED);
	json_decref(out);

	/* Lower case is the same code. */
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, "131052-308t", NULL, 0, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);

	/* Another valid code finds nobody. */
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, other, NULL, 0, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);

	/* A processor whose categories do not hold the code may not ask whether it is there
	 * (proves S-09). */
	static const char *const contact_only[] = {"online"};
	const struct decl_recipient proc = {
	        .id = "p", .kind = RK_PROCESSOR, .categories = {contact_only, 1}};
	f->ctx.processor = &proc;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, HETU_A, NULL, 0, &out), KERR_FORBIDDEN);
	assert_null(out);
	f->ctx.processor = NULL;

	/* Part of a code is not a code. */
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, "131052", NULL, 0, &out), KERR_INVALID);
	assert_null(out);
	assert_string_equal(f->err.field, "hetu");

	/* Full-text search does not see the code. */
	static const char *const words[] = {"131052", "131052-308T", "308T"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		fresh(f);
		assert_int_equal(person_find(&f->ctx, RAUMA, words[i], NULL, NULL, 0, &out), 0);
		if (json_array_size(json_object_get(out, "items")) != 0)
			fail_msg("full-text search for '%s' found a person", words[i]);
		json_decref(out);
	}
}

/* A henkilötunnus is in a register at most once. */
static void test_hetu_duplicate_conflict(void **state)
{
	struct fx *f = *state;
	char other[12];
	make_hetu(other, 29, 2, 0, 'A', 2); /* 29.2.2000, individual number 002 */
	int64_t a = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}");
	int64_t usage = usage_rows(f);

	assert_int_equal(create(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"131052-308t\"}", NULL),
	                 KERR_CONFLICT);
	assert_string_equal(f->err.field, "hetu");
	assert_null(strstr(f->err.message, "308T"));
	assert_int_equal(count_persons(f, RAUMA), 1);

	/* Updating someone else to the same code conflicts too; updating oneself does not. */
	char body[128];
	snprintf(body, sizeof(body), "{" RAUMA_PERSON ", \"hetu\": \"%s\"}", other);
	int64_t b = create_ok(f, RAUMA, body);
	assert_int_equal(update(f, RAUMA, b, "{\"hetu\": \"" HETU_A "\"}"), KERR_CONFLICT);
	json_t *p = get_ok(f, RAUMA, b, PERSON_REVEAL_SENSITIVE);
	assert_jstr(p, "hetu", other);
	json_decref(p);
	assert_int_equal(usage_rows(f), usage + 1); /* only b's create */
	update_ok(f, RAUMA, a, "{\"hetu\": \"" HETU_A "\"}");
}

/* proves S-10: exact-match lookup and uniqueness keep working after the person is updated
 * in other fields (the keyed hash must survive an update that does not touch the code). */
static void test_hetu_still_found_after_update(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Ennen\", \"hetu\": \"" HETU_A
	                       "\"}");
	update_ok(f, RAUMA, id, "{\"first_name\": \"Jälkeen\"}");

	json_t *out = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, HETU_A, NULL, 0, &out), 0);
	size_t found = json_array_size(json_object_get(out, "items"));
	json_decref(out);
	if (found != 1)
		fail_msg("after an update of first_name, person_find by hetu finds %zu persons",
		         found);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM persons WHERE id = ?1 AND"
	                         " hetu_hash IS NOT NULL",
	                         "i", id),
	                 1);
	assert_int_equal(create(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}", NULL),
	                 KERR_CONFLICT);
}

/* Giving the same henkilötunnus again is no change: no history, no log entry, no version. */
static void test_update_same_hetu_is_no_change(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}");
	int64_t usage = usage_rows(f);
	update_ok(f, RAUMA, id, "{\"hetu\": \"131052-308t\"}");
	assert_int_equal(history_rows(f, "person", id), 0);
	assert_int_equal(usage_rows(f), usage);
	json_t *p = get_ok(f, RAUMA, id, 0);
	assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Change history and atomicity                                                               */
/* ------------------------------------------------------------------------------------------ */

/* proves R-06: a correction keeps the old value, the new value, who and why. */
static void test_update_writes_history(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Mati\","
	                       " \"email\": \"mati@example.fi\"}");
	assert_int_equal(history_rows(f, "person", id), 0);
	kctx_set_now(&f->ctx, NOW + 3600);
	update_ok(f, RAUMA, id,
	          "{\"first_name\": \"Matti\", \"email\": \"matti@example.fi\","
	          " \"reason\": \"typo corrected at the subject's request\"}");

	json_t *p = get_ok(f, RAUMA, id, PERSON_HISTORY);
	assert_jstr(p, "first_name", "Matti");
	assert_jstr(p, "email", "matti@example.fi");
	json_t *hist = json_object_get(p, "history");
	assert_int_equal(json_array_size(hist), 2);
	bool saw_name = false, saw_email = false;
	for (size_t i = 0; i < json_array_size(hist); i++) {
		json_t *h = json_array_get(hist, i);
		const char *field = jget(h, "field");
		assert_jstr(h, "actor", "operator:test");
		assert_jstr(h, "reason", "typo corrected at the subject's request");
		assert_jstr(h, "at", "2026-01-01T01:00:00Z");
		if (strcmp(field, "first_name") == 0) {
			saw_name = true;
			assert_jstr(h, "old", "Mati");
			assert_jstr(h, "new", "Matti");
		} else if (strcmp(field, "email") == 0) {
			saw_email = true;
			assert_jstr(h, "old", "mati@example.fi");
			assert_jstr(h, "new", "matti@example.fi");
		}
	}
	assert_true(saw_name && saw_email);
	assert_jstr(p, "updated_at", "2026-01-01T01:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(p, "version")), 2);
	json_decref(p);

	/* Removing a value is a change too, recorded with no new value. */
	update_ok(f, RAUMA, id, "{\"email\": null}");
	assert_int_equal(history_rows(f, "person", id), 3);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity_id = ?1 AND"
	                         " field = 'email' AND old_value = 'matti@example.fi' AND"
	                         " new_value IS NULL AND reason IS NULL",
	                         "i", id),
	                 1);
	p = get_ok(f, RAUMA, id, 0);
	assert_null(json_object_get(p, "email"));
	assert_int_equal(json_array_size(json_object_get(p, "contact_points")), 0);
	json_decref(p);
}

/* proves R-06, S-10: a corrected henkilötunnus is recorded in the history masked only. */
static void test_history_masks_hetu(void **state)
{
	struct fx *f = *state;
	char newer[12], newer_masked[12];
	make_hetu(newer, 14, 10, 52, '-', 310);
	snprintf(newer_masked, sizeof(newer_masked), "%.7s****", newer);
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}");
	char body[128];
	snprintf(body, sizeof(body), "{\"hetu\": \"%s\", \"reason\": \"wrong birth date\"}", newer);
	update_ok(f, RAUMA, id, body);

	json_t *p = get_ok(f, RAUMA, id, PERSON_HISTORY);
	json_t *h = json_array_get(json_object_get(p, "history"), 0);
	assert_jstr(h, "field", "hetu");
	assert_jstr(h, "old", HETU_A_MASKED);
	assert_jstr(h, "new", newer_masked);
	assert_jstr(h, "reason", "wrong birth date");
	json_decref(p);

	char where[160];
	if (raw_anywhere(f, HETU_A, NULL, where, sizeof(where)) ||
	    raw_anywhere(f, newer, NULL, where, sizeof(where)))
		fail_msg("a plain henkilötunnus is stored in %s", where);
	assert_false(db_files_contain(f, HETU_A));
	assert_false(db_files_contain(f, newer));

	p = get_ok(f, RAUMA, id, PERSON_REVEAL_SENSITIVE);
	assert_jstr(p, "hetu", newer);
	json_decref(p);

	/* Removing the code is recorded masked, and the code is gone. */
	update_ok(f, RAUMA, id, "{\"hetu\": null}");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity_id = ?1 AND"
	                         " field = 'hetu' AND old_value = ?2 AND new_value IS NULL",
	                         "is", id, newer_masked),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM persons WHERE id = ?1 AND hetu_enc IS NULL"
	                         " AND hetu_hash IS NULL AND hetu_masked IS NULL",
	                         "i", id),
	                 1);
}

/* proves R-06: values of fields the declaration marks sensitive are recorded masked in the
 * history (0001_core.sql, person.c). rauma-crm declares birth_date `sensitive: true`. */
static void test_history_masks_sensitive_attributes(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"birth_date\": \"1990-05-17\"}");
	update_ok(f, RAUMA, id, "{\"birth_date\": \"1990-07-15\"}");
	assert_int_equal(history_rows(f, "person", id), 1);
	char where[160];
	if (raw_anywhere(f, "1990-05-17", NULL, where, sizeof(where)))
		fail_msg("the old value of sensitive field birth_date is stored in plain in %s",
		         where);
}

/* An update that fails validation changes nothing: no row, history or log entry. */
static void test_failed_update_leaves_row_unchanged(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Ennallaan\","
	                       " \"email\": \"ennallaan@example.fi\"}");
	int64_t usage = usage_rows(f);
	kctx_set_now(&f->ctx, NOW + 60);
	static const struct {
		const char *patch;
		int rc;
	} cases[] = {
	        {"{\"first_name\": \"Muuttunut\", \"email\": \"ei osoite\"}", KERR_INVALID},
	        {"{\"first_name\": \"Muuttunut\", \"shoe_size\": \"44\"}", KERR_REFUSED},
	        {"{\"first_name\": \"Muuttunut\", \"subject_group\": \"pets\"}", KERR_REFUSED},
	        {"{\"email\": \"muuttunut@example.fi\", \"reason\": 5}", KERR_INVALID},
	        {"{\"first_name\": \"Muuttunut\", \"hetu\": \"131052-308U\"}", KERR_INVALID},
	        {"[\"first_name\"]", KERR_INVALID},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = update(f, RAUMA, id, cases[i].patch);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
	}
	json_t *p = get_ok(f, RAUMA, id, PERSON_HISTORY);
	assert_jstr(p, "first_name", "Ennallaan");
	assert_jstr(p, "email", "ennallaan@example.fi");
	assert_jstr(p, "updated_at", "2026-01-01T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
	assert_int_equal(json_array_size(json_object_get(p, "history")), 0);
	json_decref(p);
	assert_int_equal(usage_rows(f), usage);
	/* The search index still has the old name only. */
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "muuttunut", NULL, NULL, 0, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	/* An unknown id is not found and nothing is written. */
	assert_int_equal(update(f, RAUMA, id + 99, "{\"first_name\": \"X\"}"), KERR_NOTFOUND);
	assert_int_equal(usage_rows(f), usage);
}

/* An update that changes nothing writes nothing. */
static void test_update_without_change_writes_nothing(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Sama\","
	                       " \"phone\": \"+358 40 123 4567\"}");
	int64_t usage = usage_rows(f);
	update_ok(f, RAUMA, id, "{\"first_name\": \"Sama\", \"phone\": \"040 1234567\"}");
	assert_int_equal(history_rows(f, "person", id), 0);
	assert_int_equal(usage_rows(f), usage);
	json_t *p = get_ok(f, RAUMA, id, 0);
	assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Deletion                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Rows of the full-text index matching `word`, through the second connection. */
static int64_t search_count_raw(struct fx *f, const char *word)
{
	return raw_int(f, "SELECT count(*) FROM person_search WHERE person_search MATCH ?1", "s",
	               word);
}

/* proves R-07: deleting a person leaves no trace of them in the register: no contact point,
 * affiliation, search entry or history row, in any table (checked by raw SQL). */
static void test_delete_removes_every_trace(void **state)
{
	struct fx *f = *state;
	int64_t keep = create_ok(f, RAUMA,
	                         "{" RAUMA_PERSON ", \"first_name\": \"Jaava\","
	                         " \"email\": \"jaava@example.fi\"}");
	int64_t id = create_ok(f, RAUMA,
	                       "{\"subject_group\": \"organisation_contact\", \"source\":"
	                       " \"public_web\", \"first_name\": \"Poistettava\", \"last_name\":"
	                       " \"Henkilöinen\", \"email\": \"vanha.osoite@kuolema.example\","
	                       " \"phone\": \"040 765 4321\", \"hetu\": \"" HETU_A "\"}");
	update_ok(f, RAUMA, id,
	          "{\"email\": \"poisto.testi@kuolema.example\", \"first_name\": "
	          "\"Poistettavainen\"}");

	json_t *in = parse("{\"name\": \"Kuolema Oy\", \"ytunnus\": \"0112038-9\","
	                   " \"source\": \"public_web\"}");
	int64_t oid = 0, aid = 0, keep_aid = 0;
	fresh(f);
	assert_int_equal(org_create(&f->ctx, RAUMA, in, &oid), 0);
	json_decref(in);
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 ","
	         " \"title\": \"Arkistonhoitajatar\", \"start_date\": \"2020-01-01\"}",
	         id, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), 0);
	json_decref(in);
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "}", keep, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &keep_aid), 0);
	json_decref(in);
	assert_true(history_rows(f, "person", id) > 0);

	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), 0);

	assert_int_equal(raw_int(f, "SELECT count(*) FROM persons WHERE id = ?1", "i", id), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM contact_points WHERE person_id = ?1", "i", id), 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM affiliations WHERE person_id = ?1", "i", id), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM affiliations WHERE id = ?1", "i", aid),
	                 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM person_search WHERE rowid = ?1", "i", id),
	                 0);
	assert_int_equal(history_rows(f, "person", id), 0);

	static const char *const traces[] = {
	        "poisto.testi@kuolema.example",
	        "vanha.osoite@kuolema.example",
	        "Poistettava",
	        "Henkilöinen",
	        "+358407654321",
	        HETU_A_MASKED,
	        "Arkistonhoitajatar",
	};
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		char where[160];
		if (raw_anywhere(f, traces[i], NULL, where, sizeof(where)))
			fail_msg("'%s' of the deleted person is still in %s", traces[i], where);
	}

	/* The others are untouched. */
	json_t *p = get_ok(f, RAUMA, keep, 0);
	assert_jstr(p, "email", "jaava@example.fi");
	assert_int_equal(json_array_size(json_object_get(p, "affiliations")), 1);
	json_decref(p);
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(org_get(&f->ctx, RAUMA, oid, &o), 0);
	json_decref(o);
	/* Deleting again finds nobody. */
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), KERR_NOTFOUND);
}

/* proves R-07: the change history of a deleted person's affiliations (their title, dates,
 * why the employment ended) is a trace of them and goes with them. */
static void test_delete_removes_affiliation_history(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Siirtyvä\"}");
	json_t *in = parse("{\"name\": \"Historia Oy\", \"source\": \"public_web\"}");
	int64_t oid = 0, aid = 0;
	fresh(f);
	assert_int_equal(org_create(&f->ctx, RAUMA, in, &oid), 0);
	json_decref(in);
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 ","
	         " \"title\": \"Arkistonhoitajatar\", \"start_date\": \"2020-01-01\"}",
	         id, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), 0);
	json_decref(in);
	in = parse("{\"title\": \"Pääarkistonhoitajatar\", \"end_date\": \"2025-06-30\","
	           " \"end_reason\": \"employment_ended\"}");
	fresh(f);
	assert_int_equal(affiliation_update(&f->ctx, RAUMA, aid, in), 0);
	json_decref(in);
	assert_int_equal(history_rows(f, "affiliation", aid), 3);

	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM affiliations WHERE id = ?1", "i", aid),
	                 0);
	char where[160];
	if (raw_anywhere(f, "Arkistonhoitajatar", NULL, where, sizeof(where)))
		fail_msg("the deleted person's title is still in %s", where);
	assert_int_equal(history_rows(f, "affiliation", aid), 0);
}

/* proves R-07: erasure reaches the full-text index too. FTS5 keeps the words of a deleted
 * row in its index segments (person_search_data) until they are merged, so a deletion marks
 * the index for a purge (search.h); after the purge no normalised name or e-mail word of the
 * erased person is left in any table. */
static void test_delete_leaves_no_search_index_terms(void **state)
{
	struct fx *f = *state;
	create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Jaava\"}");
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Poistettavainen\","
	                       " \"last_name\": \"Henkilöinen\","
	                       " \"email\": \"poisto.testi@kuolemanlaakso.example\"}");
	bool done = true;
	fresh(f);
	assert_int_equal(search_purge(&f->ctx, &done), 0);
	assert_false(done); /* nothing was deleted yet */

	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), 0);
	assert_int_equal(search_count_raw(f, "poistettavainen"), 0);
	fresh(f);
	assert_int_equal(search_purge(&f->ctx, &done), 0);
	assert_true(done);
	static const char *const terms[] = {"poistettavainen", "henkiloinen", "kuolemanlaakso"};
	for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
		char where[160];
		if (raw_anywhere(f, terms[i], NULL, where, sizeof(where)))
			fail_msg("the erased person's word '%s' is still in %s", terms[i], where);
	}
	/* The others are still found, and a second purge has nothing to do. */
	assert_int_equal(search_count_raw(f, "jaava"), 1);
	fresh(f);
	assert_int_equal(search_purge(&f->ctx, &done), 0);
	assert_false(done);
}

/* proves R-07: a deleted person is no longer found by search, contact point or code. */
static void test_delete_unindexes(void **state)
{
	struct fx *f = *state;
	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Unohdettava\","
	                       " \"email\": \"unohda@example.fi\", \"hetu\": \"" HETU_A "\"}");
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), 0);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "unohdettava", NULL, NULL, 0, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, NULL, HETU_A, NULL, 0, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	int64_t found = -1;
	fresh(f);
	assert_int_equal(person_find_contact(&f->ctx, RAUMA, "email", "unohda@example.fi", &found),
	                 0);
	assert_int_equal(found, 0);
	/* The code is free again. */
	create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}");
}

/* ------------------------------------------------------------------------------------------ */
/* Organisations and affiliations                                                             */
/* ------------------------------------------------------------------------------------------ */

static int org_try(struct fx *f, const char *json, int64_t *id)
{
	json_t *in = parse(json);
	int64_t tmp = 0;
	fresh(f);
	int rc = org_create(&f->ctx, RAUMA, in, id ? id : &tmp);
	json_decref(in);
	return rc;
}

/* Organisation fields are kortisto's own: checked, normalised, and nothing else accepted. */
static void test_org_fields_checked(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	assert_int_equal(org_try(f,
	                         "{\"name\": \"Firma Oy\", \"ytunnus\": \"112038-9\","
	                         " \"postal_code\": \"26100\", \"source\": \"public_web\"}",
	                         &id),
	                 0);
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(org_get(&f->ctx, RAUMA, id, &o), 0);
	assert_jstr(o, "ytunnus", "0112038-9");
	json_decref(o);
	int64_t found = 0;
	fresh(f);
	assert_int_equal(org_lookup(&f->ctx, RAUMA, "0112038-9", NULL, NULL, &found), 0);
	assert_int_equal(found, id);

	static const struct {
		const char *body, *field;
		int rc;
	} bad[] = {
	        {"{\"ytunnus\": \"0112038-9\", \"source\": \"public_web\"}", "name", KERR_INVALID},
	        {"{\"name\": \"X\"}", "source", KERR_INVALID},
	        {"{\"name\": \"X\", \"source\": \"gossip\"}", "source", KERR_REFUSED},
	        {"{\"name\": \"X\", \"source\": \"public_web\", \"ytunnus\": \"0112038-8\"}",
	         "ytunnus", KERR_INVALID},
	        {"{\"name\": \"X\", \"source\": \"public_web\", \"postal_code\": \"261\"}",
	         "postal_code", KERR_INVALID},
	        {"{\"name\": \"X\", \"source\": \"public_web\", \"website\": \"javascript:x\"}",
	         "website", KERR_INVALID},
	        {"{\"name\": \"X\", \"source\": \"public_web\", \"ceo_hetu\": \"" HETU_A "\"}",
	         "ceo_hetu", KERR_REFUSED},
	        {"{\"name\": \"\", \"source\": \"public_web\"}", "name", KERR_INVALID},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = org_try(f, bad[i].body, NULL);
		if (rc != bad[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, bad[i].rc, f->err.message);
		assert_string_equal(f->err.field, bad[i].field);
	}
	assert_int_equal(raw_int(f, "SELECT count(*) FROM organisations", ""), 1);
}

/* Affiliations join a person and an organisation of the same register, with sane dates. */
static void test_affiliation_rules(void **state)
{
	struct fx *f = *state;
	int64_t pid = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"first_name\": \"Työntekijä\"}");
	int64_t kemi_pid = create_ok(f, KEMI,
	                             "{\"subject_group\": \"client_company_contact\","
	                             " \"source\": \"subject\"}");
	int64_t oid = 0;
	assert_int_equal(org_try(f, "{\"name\": \"Työ Oy\", \"source\": \"public_web\"}", &oid), 0);
	static const struct {
		const char *extra, *field;
		int rc;
	} bad[] = {
	        {", \"start_date\": \"2024-05-01\", \"end_date\": \"2024-04-30\"", "end_date",
	         KERR_INVALID},
	        {", \"end_reason\": \"employment_ended\"", "end_reason", KERR_INVALID},
	        {", \"end_date\": \"2024-04-30\", \"end_reason\": \"fired\"", "end_reason",
	         KERR_INVALID},
	        {", \"start_date\": \"2024-02-30\"", "start_date", KERR_INVALID},
	        {", \"salary\": \"5000\"", "salary", KERR_REFUSED},
	        {", \"title\": 7", "title", KERR_INVALID},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[256];
		snprintf(body, sizeof(body),
		         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "%s}", pid,
		         oid, bad[i].extra);
		json_t *in = parse(body);
		int64_t aid = 0;
		fresh(f);
		int rc = affiliation_create(&f->ctx, RAUMA, in, &aid);
		json_decref(in);
		if (rc != bad[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, bad[i].rc, f->err.message);
		assert_string_equal(f->err.field, bad[i].field);
	}
	/* A person of another register cannot be tied to this register's organisation. */
	char body[128];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "}", kemi_pid, oid);
	json_t *in = parse(body);
	int64_t aid = 0;
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), KERR_NOTFOUND);
	assert_string_equal(f->err.field, "person_id");
	json_decref(in);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM affiliations", ""), 0);

	/* Ending one with "employment_ended" is recorded and shown with the person. */
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 ","
	         " \"start_date\": \"2020-01-01\"}",
	         pid, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), 0);
	json_decref(in);
	in = parse("{\"end_date\": \"2025-12-31\", \"end_reason\": \"employment_ended\"}");
	fresh(f);
	assert_int_equal(affiliation_update(&f->ctx, RAUMA, aid, in), 0);
	json_decref(in);
	json_t *p = get_ok(f, RAUMA, pid, 0);
	json_t *a = json_array_get(json_object_get(p, "affiliations"), 0);
	assert_jstr(a, "end_reason", "employment_ended");
	assert_jstr(a, "end_date", "2025-12-31");
	json_decref(p);
	int64_t open_id = -1;
	fresh(f);
	assert_int_equal(affiliation_lookup(&f->ctx, RAUMA, pid, oid, &open_id), 0);
	assert_int_equal(open_id, 0); /* no longer open */
}

/* ------------------------------------------------------------------------------------------ */
/* Usage log                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Checks the newest usage-log entry and that no entry holds any of `pii`. */
static void assert_last_usage(struct fx *f, const char *action, const char *entity, int64_t id,
                              const char *const *pii, size_t npii)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	        sqlite3_prepare_v2(db,
	                           "SELECT actor, purpose, action, register_id, entity,"
	                           " entity_id, at FROM usage_log ORDER BY id DESC LIMIT 1",
	                           -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "operator:test");
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "customer_contact");
	assert_string_equal((const char *)sqlite3_column_text(st, 2), action);
	assert_string_equal((const char *)sqlite3_column_text(st, 3), RAUMA);
	assert_string_equal((const char *)sqlite3_column_text(st, 4), entity);
	assert_int_equal(sqlite3_column_int64(st, 5), id);
	assert_string_equal((const char *)sqlite3_column_text(st, 6), f->ctx.now_iso);
	sqlite3_finalize(st);

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM usage_log", -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *v = (const char *)sqlite3_column_text(st, c);
			for (size_t i = 0; v && i < npii; i++)
				if (strstr(v, pii[i]))
					fail_msg("usage_log.%s holds personal data '%s'",
					         sqlite3_column_name(st, c), pii[i]);
		}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* proves S-04 (groundwork): every create, update and delete writes exactly one usage-log
 * entry naming actor, action, register and id, and no personal data; failures write none. */
/* Every read and search of a person leaves its entry, with the ids a search returned, and the
 * per-person index finds them (S-04). */
/* proves S-04 */
static void test_reads_logged_with_subjects(void **state)
{
	struct fx *f = *state;
	int64_t a = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"last_name\": \"Luettava\"}");
	int64_t b = create_ok(f, RAUMA, "{" RAUMA_PERSON ", \"last_name\": \"Luettavampi\"}");
	json_t *p = get_ok(f, RAUMA, a, 0);
	json_decref(p);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'read' AND "
	                         "entity = 'person' AND entity_id = ?",
	                         "i", a),
	                 1);
	json_t *page = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "luettav", NULL, NULL, 10, &page), 0);
	assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
	json_decref(page);
	char want[64];
	snprintf(want, sizeof(want), "%lld,%lld", (long long)a, (long long)b);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'search' AND "
	                         "subjects = ?",
	                         "s", want),
	                 1);
	/* Who looked at b: the search. */
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM usage_subjects s JOIN usage_log l ON "
	                "l.id = s.rowid WHERE usage_subjects MATCH ? AND l.action = 'search'",
	                "s", arena_printf(&f->mem, "\"%lld\"", (long long)b)),
	        1);
}

static void test_usage_log_one_entry_per_change(void **state)
{
	struct fx *f = *state;
	static const char *const pii[] = {"Lokitettava", "loki@example.fi", "131052",
	                                  "+358401112223", "Lokitettu"};
	const size_t npii = sizeof(pii) / sizeof(pii[0]);
	int64_t n = usage_rows(f);
	assert_int_equal(n, 0);

	int64_t id = create_ok(f, RAUMA,
	                       "{" RAUMA_PERSON ", \"first_name\": \"Lokitettava\","
	                       " \"email\": \"loki@example.fi\", \"phone\": \"040 111 2223\","
	                       " \"hetu\": \"" HETU_A "\"}");
	assert_int_equal(usage_rows(f), ++n);
	assert_last_usage(f, "create", "person", id, pii, npii);

	/* Failures leave no entry. */
	assert_int_equal(create(f, RAUMA, "{" RAUMA_PERSON ", \"hetu\": \"" HETU_A "\"}", NULL),
	                 KERR_CONFLICT);
	assert_int_equal(create(f, RAUMA, "{" RAUMA_PERSON ", \"email\": \"bad\"}", NULL),
	                 KERR_INVALID);
	assert_int_equal(usage_rows(f), n);

	kctx_set_now(&f->ctx, NOW + 10);
	update_ok(f, RAUMA, id, "{\"first_name\": \"Lokitettu\", \"email\": null}");
	assert_int_equal(usage_rows(f), ++n);
	assert_last_usage(f, "update", "person", id, pii, npii);

	assert_int_equal(update(f, RAUMA, id, "{\"email\": \"bad\"}"), KERR_INVALID);
	assert_int_equal(usage_rows(f), n);

	/* Organisations and affiliations are logged the same way. */
	json_t *in = parse("{\"name\": \"Loki Oy\", \"source\": \"public_web\"}");
	int64_t oid = 0, aid = 0;
	fresh(f);
	assert_int_equal(org_create(&f->ctx, RAUMA, in, &oid), 0);
	json_decref(in);
	assert_int_equal(usage_rows(f), ++n);
	assert_last_usage(f, "create", "organisation", oid, pii, npii);
	char body[128];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "}", id, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), 0);
	json_decref(in);
	assert_int_equal(usage_rows(f), ++n);
	assert_last_usage(f, "create", "affiliation", aid, pii, npii);

	kctx_set_now(&f->ctx, NOW + 20);
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), 0);
	assert_int_equal(usage_rows(f), ++n);
	assert_last_usage(f, "delete", "person", id, pii, npii);
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, RAUMA, id), KERR_NOTFOUND);
	assert_int_equal(usage_rows(f), n);
}

/* ------------------------------------------------------------------------------------------ */
/* Search and pagination                                                                      */
/* ------------------------------------------------------------------------------------------ */

static size_t search_count(struct fx *f, const char *rid, const char *q, int64_t want_id)
{
	json_t *out = NULL;
	fresh(f);
	int rc = person_find(&f->ctx, rid, q, NULL, NULL, 0, &out);
	if (rc)
		fail_msg("person_find('%s') = %d: %s", q, rc, f->err.message);
	json_t *items = json_object_get(out, "items");
	size_t n = json_array_size(items);
	if (want_id && n > 0 &&
	    json_integer_value(json_object_get(json_array_get(items, 0), "id")) != want_id)
		fail_msg("person_find('%s') found the wrong person", q);
	json_decref(out);
	return n;
}

/* Search ignores case and diacritics and matches word prefixes, within one register. */
static void test_search_case_diacritics_prefix(void **state)
{
	struct fx *f = *state;
	int64_t id =
	        create_ok(f, RAUMA,
	                  "{" RAUMA_PERSON ", \"first_name\": \"Äijä\","
	                  " \"last_name\": \"Öhman-Åström\", \"email\": \"aija@ohman.example\"}");
	create_ok(f, RAUMA,
	          "{" RAUMA_PERSON ", \"first_name\": \"Matti\", \"last_name\": \"Virtanen\"}");
	/* The same name in another register is not found through this one. */
	create_ok(f, KEMI,
	          "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\","
	          " \"first_name\": \"Äijä\", \"last_name\": \"Öhman\"}");

	static const char *const hits[] = {
	        "Äijä",
	        "äijä",
	        "ÄIJÄ",
	        "aija",
	        "AIJA",
	        "ai",
	        "Öhman",
	        "ohman",
	        "OHM",
	        "oh",
	        "astrom",
	        "Åström",
	        "ÅS",
	        "aija ohman",
	        "ohman aija",
	        "  Äijä,  Öhm  ",
	        "aija@ohman.example",
	};
	for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++)
		if (search_count(f, RAUMA, hits[i], id) != 1)
			fail_msg("search '%s' should find Äijä Öhman-Åström once", hits[i]);

	static const char *const misses[] = {"hman", "ija", "aijax", "aija virtanen", "ström"};
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		if (search_count(f, RAUMA, misses[i], 0) != 0)
			fail_msg("search '%s' should find nobody", misses[i]);

	/* Text without a word is refused. */
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "  -- !! ", NULL, NULL, 0, &out),
	                 KERR_INVALID);
	assert_null(out);
	assert_string_equal(f->err.field, "q");
	/* Quotes and FTS operators are words or separators, never syntax. */
	assert_int_equal(search_count(f, RAUMA, "\"aija\" OR NOT *", 0), 0);
	assert_int_equal(search_count(f, RAUMA, "aija\"", id), 1);

	/* An update re-indexes: the new name is found, the old one is not. */
	update_ok(f, RAUMA, id, "{\"last_name\": \"Lindqvist\"}");
	assert_int_equal(search_count(f, RAUMA, "lindq", id), 1);
	assert_int_equal(search_count(f, RAUMA, "åström", 0), 0);
}

/* Pages follow each other through the cursor: every row exactly once, in order. */
static void test_pagination_every_row_once(void **state)
{
	struct fx *f = *state;
	enum { N = 23 };
	int64_t ids[N];
	for (int i = 0; i < N; i++) {
		char body[160];
		snprintf(body, sizeof(body),
		         "{" RAUMA_PERSON
		         ", \"first_name\": \"Sivu%02d\", \"last_name\": \"Sivutus\"}",
		         i);
		ids[i] = create_ok(f, RAUMA, body);
	}
	/* A person of another register must not appear. */
	create_ok(f, KEMI,
	          "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\","
	          " \"last_name\": \"Sivutus\"}");

	static const struct {
		const char *q;
		int limit;
	} runs[] = {{NULL, 5}, {NULL, 1}, {NULL, 23}, {NULL, 24}, {"sivutus", 4}, {"sivu", 7}};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		int seen[N] = {0};
		int total = 0, pages = 0;
		int64_t last = 0;
		char cursor[32] = "";
		for (;;) {
			json_t *out = NULL;
			fresh(f);
			int rc = person_find(&f->ctx, RAUMA, runs[r].q, NULL,
			                     cursor[0] ? cursor : NULL, runs[r].limit, &out);
			assert_int_equal(rc, 0);
			json_t *items = json_object_get(out, "items");
			assert_true(json_array_size(items) <= (size_t)runs[r].limit);
			for (size_t i = 0; i < json_array_size(items); i++) {
				int64_t id = json_integer_value(
				        json_object_get(json_array_get(items, i), "id"));
				assert_true(id > last); /* ascending, no repeats across pages */
				last = id;
				int k = -1;
				for (int j = 0; j < N; j++)
					if (ids[j] == id)
						k = j;
				if (k < 0)
					fail_msg("run %zu: id %" PRId64 " is not a rauma person", r,
					         id);
				seen[k]++;
				total++;
			}
			pages++;
			const char *next = jget(out, "next");
			if (next)
				snprintf(cursor, sizeof(cursor), "%s", next);
			else
				assert_true(json_is_null(json_object_get(out, "next")));
			json_decref(out);
			if (!next)
				break;
			assert_true(pages < 100);
		}
		assert_int_equal(total, N);
		for (int j = 0; j < N; j++)
			assert_int_equal(seen[j], 1);
		int want_pages = (N + runs[r].limit - 1) / runs[r].limit;
		/* A last page that is exactly full may be followed by an empty one, never more. */
		assert_true(pages == want_pages || pages == want_pages + 1);
	}

	/* A cursor this server did not issue is refused. */
	static const char *const bad[] = {"zzz", "c", "cXYZ", "c-1", "c12345678901234567", "1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *out = NULL;
		fresh(f);
		if (person_find(&f->ctx, RAUMA, NULL, NULL, bad[i], 5, &out) != KERR_INVALID)
			fail_msg("cursor '%s' was accepted", bad[i]);
		assert_string_equal(f->err.field, "cursor");
		assert_null(out);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Registers                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static int load_text(struct fx *f, const char *text, struct decl_diags *dg, int *version,
                     bool *unchanged)
{
	fresh(f);
	return register_load(&f->ctx, "test.yaml", text, strlen(text), dg, version, unchanged,
	                     NULL);
}

static size_t versions_of(struct fx *f, const char *rid)
{
	json_t *v = NULL;
	fresh(f);
	int rc = register_versions(&f->ctx, rid, &v);
	if (rc == KERR_NOTFOUND)
		return 0;
	assert_int_equal(rc, 0);
	size_t n = json_array_size(v);
	json_decref(v);
	return n;
}

/* N-01: loading the same text again stores nothing; a changed text is the next version. */
static void test_register_load_versions(void **state)
{
	struct fx *f = *state;
	size_t len = 0;
	char *text = slurp("registers/rauma-crm.yaml", &len);
	assert_non_null(text);
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = false;

	assert_int_equal(load_text(f, text, &dg, &version, &unchanged), 0);
	assert_true(unchanged);
	assert_int_equal(version, 1);
	assert_int_equal(versions_of(f, RAUMA), 1);
	decl_diags_free(&dg);

	char *changed = malloc(len + 64);
	snprintf(changed, len + 64, "%supdated: 2026-12-01\n", text);
	assert_int_equal(load_text(f, changed, &dg, &version, &unchanged), 0);
	assert_false(unchanged);
	assert_int_equal(version, 2);
	decl_diags_free(&dg);
	json_t *v = NULL;
	fresh(f);
	assert_int_equal(register_versions(&f->ctx, RAUMA, &v), 0);
	assert_int_equal(json_array_size(v), 2);
	json_t *v2 = json_array_get(v, 1);
	assert_int_equal(json_integer_value(json_object_get(v2, "version")), 2);
	assert_jstr(v2, "updated", "2026-12-01");
	assert_jstr(v2, "loaded_by", "operator:test");
	assert_string_not_equal(jget(v2, "sha256"), jget(json_array_get(v, 0), "sha256"));
	json_decref(v);

	/* The changed text again: unchanged, still version 2. */
	assert_int_equal(load_text(f, changed, &dg, &version, &unchanged), 0);
	assert_true(unchanged);
	assert_int_equal(version, 2);
	decl_diags_free(&dg);
	assert_int_equal(versions_of(f, RAUMA), 2);

	/* The register list shows the current version. */
	json_t *list = NULL;
	fresh(f);
	assert_int_equal(register_list(&f->ctx, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *r = json_array_get(list, i);
		if (strcmp(jget(r, "id"), RAUMA) == 0)
			assert_int_equal(json_integer_value(json_object_get(r, "version")), 2);
	}
	json_decref(list);
	free(changed);
	free(text);
}

/* A broken declaration is refused with located diagnostics and nothing is stored. */
static void test_register_load_broken(void **state)
{
	struct fx *f = *state;
	size_t len = 0;
	char *text = slurp("registers/rauma-crm.yaml", &len);
	assert_non_null(text);
	char *bad = strdup(text);
	char *at = strstr(bad, "type: phone");
	assert_non_null(at);
	memcpy(at, "type: phony", 11);
	int line = 1;
	for (const char *p = bad; p < at; p++)
		line += *p == '\n';

	struct decl_diags dg = {0};
	int version = -1;
	bool unchanged = true;
	assert_int_equal(load_text(f, bad, &dg, &version, &unchanged), KERR_INVALID);
	assert_int_equal(f->err.code, KERR_INVALID);
	assert_true(dg.nerrors >= 1);
	bool located = false;
	for (size_t i = 0; i < dg.n; i++)
		located = located || (!dg.v[i].warning && dg.v[i].line == line);
	if (!located)
		fail_msg("no error diagnostic at line %d (first: %d: %s)", line,
		         dg.n ? dg.v[0].line : 0, dg.n ? dg.v[0].message : "");
	assert_false(unchanged);
	assert_int_equal(version, 0);
	decl_diags_free(&dg);
	assert_int_equal(versions_of(f, RAUMA), 1);

	/* A broken declaration of a new register does not create it. */
	char *renamed = strdup(bad);
	char *id = strstr(renamed, "id: rauma-crm");
	assert_non_null(id);
	memcpy(id, "id: rauma-xxx", 13);
	assert_int_equal(load_text(f, renamed, &dg, &version, &unchanged), KERR_INVALID);
	decl_diags_free(&dg);
	assert_int_equal(versions_of(f, "rauma-xxx"), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM registers WHERE id = 'rauma-xxx'", ""),
	                 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM register_versions", ""), 3);

	/* Not YAML at all. */
	assert_int_equal(load_text(f, "{ [ : :", &dg, &version, &unchanged), KERR_INVALID);
	assert_true(dg.nerrors >= 1);
	decl_diags_free(&dg);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM register_versions", ""), 3);
	free(renamed);
	free(bad);
	free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* Import                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static const char import_map[] = "delimiter: \";\"\n"
                                 "subject_group: organisation_contact\n"
                                 "columns:\n"
                                 "  Etunimi: first_name\n"
                                 "  Sukunimi: last_name\n"
                                 "  Sähköposti: email\n"
                                 "  Puhelin: phone\n"
                                 "  Yritys: organisation.name\n"
                                 "  Y-tunnus: organisation.ytunnus\n"
                                 "  Asema: affiliation.title\n";

static const char import_csv_text[] =
        "Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys;Y-tunnus;Asema\n"
        "Anna;Aalto;anna.aalto@example.fi;040 123 4567;Firma Oy;0112038-9;Toimitusjohtaja\n"
        "Bertta;Berg;ei-osoite;;Firma Oy;0112038-9;Myyjä\n"
        "Cecilia;Cedar;cecilia.cedar@example.fi;;;;\n";

struct rows_seen {
	long n[IMP__MAX];
	long rejected_line;
	bool reason_ok;
	long calls;
};

static void on_row(void *arg, long line, enum import_status st, int64_t person_id,
                   const char *reason)
{
	struct rows_seen *s = arg;
	s->calls++;
	s->n[st]++;
	if (st == IMP_REJECTED) {
		s->rejected_line = line;
		s->reason_ok = reason && *reason && person_id == 0;
	}
}

static int run_import(struct fx *f, const char *map, const char *csv, struct import_stats *st,
                      struct rows_seen *seen)
{
	FILE *in = fmemopen((void *)csv, strlen(csv), "r");
	assert_non_null(in);
	memset(st, 0, sizeof(*st));
	memset(seen, 0, sizeof(*seen));
	fresh(f);
	int rc = import_csv(&f->ctx, RAUMA, "public_web", "map.yaml", map, strlen(map), in, st,
	                    on_row, NULL, seen);
	fclose(in);
	return rc;
}

static void assert_stats(const struct import_stats *st, long added, long updated, long unchanged,
                         long rejected)
{
	if (st->rows[IMP_ADDED] != added || st->rows[IMP_UPDATED] != updated ||
	    st->rows[IMP_UNCHANGED] != unchanged || st->rows[IMP_REJECTED] != rejected)
		fail_msg("import: added %ld updated %ld unchanged %ld rejected %ld, want %ld %ld "
		         "%ld %ld",
		         st->rows[IMP_ADDED], st->rows[IMP_UPDATED], st->rows[IMP_UNCHANGED],
		         st->rows[IMP_REJECTED], added, updated, unchanged, rejected);
}

/* A file whose every data row is unreadable (here: not UTF-8) still imports successfully,
 * reporting each row rejected (found by fuzz/fuzz_import.c: the header's status leaked). */
static void test_import_only_unreadable_rows(void **state)
{
	struct fx *f = *state;
	struct import_stats st;
	struct rows_seen seen;
	static const char csv[] = "Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys;Y-tunnus;Asema\n"
	                          "Matti;Virtanen;matti\xa7\xa7@example.fi;;;;\n"
	                          "Liisa;M\xe4ki;liisa@example.fi;;;;\n";
	assert_int_equal(run_import(f, import_map, csv, &st, &seen), 0);
	assert_stats(&st, 0, 0, 0, 2);
}

/* A map that is not UTF-8 is refused before libfyaml sees it (libfyaml 0.7 loops forever
 * on some such input; found by fuzz/fuzz_import.c). */
static void test_import_map_not_utf8(void **state)
{
	struct fx *f = *state;
	struct import_stats st;
	struct rows_seen seen;
	static const char map[] = "%;\xff\xff\xff\n";
	assert_int_equal(run_import(f, map, "A\nb\n", &st, &seen), KERR_INVALID);
	assert_string_equal(f->err.field, "map");
}

/* Two departments of one company (one Y-tunnus) are two organisations, and an import
 * finds each by Y-tunnus and department instead of refusing the second as a duplicate. */
static void test_import_departments_of_one_company(void **state)
{
	struct fx *f = *state;
	struct import_stats st;
	struct rows_seen seen;
	static const char map[] = "subject_group: organisation_contact\n"
	                          "columns:\n"
	                          "  Sukunimi: last_name\n"
	                          "  Sähköposti: email\n"
	                          "  Yritys: organisation.name\n"
	                          "  Y-tunnus: organisation.ytunnus\n"
	                          "  Osasto: organisation.department\n";
	static const char csv[] = "Sukunimi;Sähköposti;Yritys;Y-tunnus;Osasto\n"
	                          "Aalto;aalto@telakka.fi;Rauman Telakka Oy;0112038-9;Talous\n"
	                          "Berg;berg@telakka.fi;Rauman Telakka Oy;0112038-9;Myynti\n"
	                          "Castrén;castren@telakka.fi;Rauman Telakka Oy;0112038-9;Myynti\n";
	assert_int_equal(run_import(f, map, csv, &st, &seen), 0);
	assert_stats(&st, 3, 0, 0, 0);
	int64_t talous = 0, myynti = 0;
	fresh(f);
	assert_int_equal(org_lookup(&f->ctx, RAUMA, "0112038-9", "Talous", NULL, &talous), 0);
	assert_int_equal(org_lookup(&f->ctx, RAUMA, "0112038-9", "Myynti", NULL, &myynti), 0);
	assert_true(talous > 0 && myynti > 0 && talous != myynti);
}

/* A rejected row does not stop the others; rows go through the declaration like the API. */
static void test_import_counts_and_rejects(void **state)
{
	struct fx *f = *state;
	struct import_stats st;
	struct rows_seen seen;
	assert_int_equal(run_import(f, import_map, import_csv_text, &st, &seen), 0);
	assert_stats(&st, 2, 0, 0, 1);
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.n[IMP_ADDED], 2);
	assert_int_equal(seen.rejected_line, 3);
	assert_true(seen.reason_ok);
	assert_int_equal(count_persons(f, RAUMA), 2);

	/* proves M-01: imported organisation contacts get the group's basis. */
	int64_t anna = 0;
	fresh(f);
	assert_int_equal(
	        person_find_contact(&f->ctx, RAUMA, "email", "anna.aalto@example.fi", &anna), 0);
	assert_true(anna > 0);
	json_t *p = get_ok(f, RAUMA, anna, 0);
	assert_jstr(p, "legal_basis", "f");
	assert_jstr(p, "source", "public_web");
	assert_jstr(p, "phone", "+358401234567");
	json_t *aff = json_array_get(json_object_get(p, "affiliations"), 0);
	assert_non_null(aff);
	assert_jstr(aff, "organisation", "Firma Oy");
	assert_jstr(aff, "title", "Toimitusjohtaja");
	json_decref(p);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM organisations", ""), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM persons WHERE first_name = 'Bertta'", ""),
	                 0);
	/* One usage-log entry per row change: 2 persons, 1 organisation, 1 affiliation. */
	assert_int_equal(usage_rows(f), 4);
}

/* Importing the same file again changes nothing; a changed row is an update with history. */
static void test_import_reimport_unchanged_then_updated(void **state)
{
	struct fx *f = *state;
	struct import_stats st;
	struct rows_seen seen;
	assert_int_equal(run_import(f, import_map, import_csv_text, &st, &seen), 0);
	assert_stats(&st, 2, 0, 0, 1);
	int64_t usage = usage_rows(f);

	assert_int_equal(run_import(f, import_map, import_csv_text, &st, &seen), 0);
	assert_stats(&st, 0, 0, 2, 1);
	assert_int_equal(count_persons(f, RAUMA), 2);
	assert_int_equal(usage_rows(f), usage);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM change_history", ""), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM affiliations", ""), 1);

	static const char changed[] =
	        "Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys;Y-tunnus;Asema\n"
	        "Anna;Aalto-Berg;anna.aalto@example.fi;040 123 4567;Firma Oy;0112038-9;"
	        "Toimitusjohtaja\n"
	        "Cecilia;Cedar;CECILIA.CEDAR@example.fi;;;;\n";
	assert_int_equal(run_import(f, import_map, changed, &st, &seen), 0);
	assert_stats(&st, 0, 1, 1, 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE field = 'last_name'"
	                         " AND old_value = 'Aalto' AND new_value = 'Aalto-Berg'",
	                         ""),
	                 1);
	assert_int_equal(count_persons(f, RAUMA), 2);
}

/* A map naming an undeclared field fails before any row is read. */
static void test_import_map_with_undeclared_field(void **state)
{
	struct fx *f = *state;
	static const char map[] = "subject_group: organisation_contact\n"
	                          "columns:\n"
	                          "  Etunimi: first_name\n"
	                          "  Kengännumero: shoe_size\n";
	struct import_stats st;
	struct rows_seen seen;
	assert_int_equal(run_import(f, map, import_csv_text, &st, &seen), KERR_INVALID);
	assert_string_equal(f->err.field, "map");
	assert_non_null(strstr(f->err.message, "shoe_size"));
	assert_non_null(strstr(f->err.message, "map.yaml:4:"));
	assert_stats(&st, 0, 0, 0, 0);
	assert_int_equal(seen.calls, 0);
	assert_int_equal(count_persons(f, RAUMA), 0);
	assert_int_equal(usage_rows(f), 0);

	/* The same for an undeclared attribute, a subject group and a source. */
	static const char map2[] = "columns:\n  Etunimi: attributes.shoe_size\n";
	assert_int_equal(run_import(f, map2, import_csv_text, &st, &seen), KERR_INVALID);
	static const char map3[] = "subject_group: pets\ncolumns:\n  Etunimi: first_name\n";
	assert_int_equal(run_import(f, map3, import_csv_text, &st, &seen), KERR_INVALID);
	FILE *in = fmemopen((void *)import_csv_text, strlen(import_csv_text), "r");
	fresh(f);
	assert_int_equal(import_csv(&f->ctx, RAUMA, "rumours", "map.yaml", import_map,
	                            strlen(import_map), in, &st, on_row, NULL, &seen),
	                 KERR_REFUSED);
	fclose(in);
	/* A map naming a column the file does not have. */
	static const char map4[] = "columns:\n  Etunimi: first_name\n  Kotikunta: last_name\n";
	assert_int_equal(run_import(f, map4, import_csv_text, &st, &seen), KERR_INVALID);
	assert_string_equal(f->err.field, "header");
	assert_int_equal(seen.calls, 0);
	assert_int_equal(count_persons(f, RAUMA), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_legal_basis_from_subject_group),
	        T(test_legal_basis_cannot_be_given),
	        T(test_legal_basis_follows_group_change),
	        T(test_subject_group_required_and_declared),
	        T(test_unknown_register_and_bad_body),
	        T(test_undeclared_field_refused),
	        T(test_group_change_refused_when_fields_do_not_apply),
	        T(test_group_change_with_removal_in_one_patch),
	        T(test_field_type_checks),
	        T(test_field_values_normalised),
	        T(test_hetu_sealed_at_rest),
	        T(test_hetu_masked_and_revealed),
	        T(test_hetu_found_by_exact_match_only),
	        T(test_hetu_duplicate_conflict),
	        T(test_hetu_still_found_after_update),
	        T(test_update_same_hetu_is_no_change),
	        T(test_update_writes_history),
	        T(test_history_masks_hetu),
	        T(test_history_masks_sensitive_attributes),
	        T(test_failed_update_leaves_row_unchanged),
	        T(test_update_without_change_writes_nothing),
	        T(test_delete_removes_every_trace),
	        T(test_delete_removes_affiliation_history),
	        T(test_delete_leaves_no_search_index_terms),
	        T(test_delete_unindexes),
	        T(test_org_fields_checked),
	        T(test_affiliation_rules),
	        T(test_usage_log_one_entry_per_change),
	        T(test_reads_logged_with_subjects),
	        T(test_search_case_diacritics_prefix),
	        T(test_pagination_every_row_once),
	        T(test_register_load_versions),
	        T(test_register_load_broken),
	        T(test_import_counts_and_rejects),
	        T(test_import_only_unreadable_rows),
	        T(test_import_departments_of_one_company),
	        T(test_import_map_not_utf8),
	        T(test_import_reimport_unchanged_then_updated),
	        T(test_import_map_with_undeclared_field),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
