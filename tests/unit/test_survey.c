/*
 * Unit tests for src/core/survey.c: survey definitions (F-03), anonymous answers (F-01), the
 * raffle that cannot be linked to answers (F-02), the draw (L-03), expiry (L-04) and
 * statistics that hide small groups (F-04), driven through core/survey.h against a fresh
 * data directory with espoo-feedback (seed 001) and kemi-crm loaded. What is stored is
 * checked through the fixture's second, read-only connection and in the raw bytes of the
 * database files. The clock stands at 2026-01-01T00:00:00Z unless a test moves it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/survey.h"
#include "http/survey_limit.h"
#include "util/buf.h"
#include "util/kerr.h"

#include "fixture.h"

#define ESPOO   "espoo-feedback"
#define KEMI    "kemi-crm"
#define DAY     (int64_t)86400
#define EXAMPLE "registers/surveys/espoo-asiointi.yaml"

static const char *const register_files[] = {
        "registers/espoo-feedback.yaml",
        "registers/kemi-crm.yaml",
};

static int setup(void **state)
{
	struct fx *f = fixture_open("survey", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	*state = f;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad JSON in the test: %s: %s", jerr.text, text);
	return j;
}

/* Loads the text `yaml` into `rid`; returns the core's code and sets *id. */
static int load_text(struct fx *f, const char *rid, const char *yaml, int64_t *id, bool *created)
{
	json_t *def = NULL, *lines = NULL, *out = NULL;
	fresh(f);
	int rc = survey_parse_yaml(yaml, strlen(yaml), &def, &lines, f->ctx.err);
	if (!rc)
		rc = survey_load(&f->ctx, rid, def, &out);
	if (!rc) {
		if (id)
			*id = (int64_t)json_integer_value(json_object_get(out, "id"));
		if (created)
			*created = json_is_true(json_object_get(out, "created"));
	}
	json_decref(def);
	json_decref(lines);
	json_decref(out);
	return rc;
}

/* Loads the example survey of espoo-feedback; returns its id. */
static int64_t example(struct fx *f)
{
	size_t len;
	char *y = slurp(EXAMPLE, &len);
	int64_t id = 0;
	assert_non_null(y);
	int rc = load_text(f, ESPOO, y, &id, NULL);
	free(y);
	if (rc)
		fail_msg("loading the example: %s", f->err.message);
	return id;
}

static int answer(struct fx *f, int64_t id, const char *json)
{
	json_t *a = parse(json);
	fresh(f);
	int rc = survey_answer(&f->ctx, id, a);
	json_decref(a);
	return rc;
}

static void answer_ok(struct fx *f, int64_t id, const char *json)
{
	if (answer(f, id, json))
		fail_msg("answer %s: %s", json, f->err.message);
}

static int enter(struct fx *f, int64_t id, const char *contact)
{
	fresh(f);
	return survey_enter(&f->ctx, id, contact);
}

static void checkpoint(struct fx *f)
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/kortisto.db", f->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("cannot open %s", path);
	if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) != SQLITE_OK)
		fail_msg("checkpoint: %s", sqlite3_errmsg(db));
	int busy = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (busy != 0)
		fail_msg("the checkpoint did not complete");
}

/* The columns of `table`, comma-separated, read from the schema. */
static void columns(struct fx *f, const char *table, char *out, size_t n)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	char sql[128];
	size_t len = 0;
	snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(db));
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW)
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "",
		                        (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ------------------------------------------------------------------------------------------ */
/* Definitions (F-03)                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* proves F-03: free text, rating scales, single and multiple choice and background questions
 * in fi, sv and en load; a change makes a new version and closes the old one, so published
 * questions never change under their answers. */
static void test_definition_versions(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *y = slurp(EXAMPLE, &len);
	int64_t id1, id2, id3;
	bool created;
	char buf[64];

	assert_int_equal(load_text(f, ESPOO, y, &id1, &created), 0);
	assert_true(created);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT state FROM surveys WHERE id = ?1", id1),
	        "open");
	answer_ok(f, id1,
	          "{\"satisfaction\": 4, \"channel\": \"visit\", \"topics\": "
	          "[\"permits\", \"advice\"], \"feedback\": \"Hyvä\", \"age\": "
	          "\"age-30-64\", \"tongue\": \"sv\"}");
	/* The same definition again is no new version. */
	assert_int_equal(load_text(f, ESPOO, y, &id2, &created), 0);
	assert_false(created);
	assert_int_equal(id2, id1);
	/* A changed question is a new version; the old one keeps its answer but takes no more. */
	char *changed = strdup(y);
	char *p = strstr(changed, "Vapaa palaute");
	assert_non_null(p);
	memcpy(p, "Vapaa PALAUTE", 13);
	assert_int_equal(load_text(f, ESPOO, changed, &id3, &created), 0);
	assert_true(created);
	assert_int_not_equal(id3, id1);
	assert_int_equal(raw_int(f, "SELECT version FROM surveys WHERE id = ?1", "i", id3), 2);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT state FROM surveys WHERE id = ?1", id1),
	        "closed");
	assert_int_equal(answer(f, id1, "{\"satisfaction\": 3}"), KERR_CONFLICT);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM survey_answers WHERE survey_id = ?1", "i", id1),
	        1);
	answer_ok(f, id3, "{\"satisfaction\": 3}");
	free(changed);
	free(y);
}

/* proves F-03: a bad definition is refused with the field and the line named, and nothing
 * is written. */
static void test_definition_errors(void **state)
{
	struct fx *f = *state;
	json_t *def = NULL, *lines = NULL, *out = NULL;
	const char *bad = "key: k\n"
	                  "title: {fi: Kysely}\n"
	                  "questions:\n"
	                  "  - id: q1\n"
	                  "    kind: rating\n"
	                  "    text: {fi: Arvio}\n"
	                  "  - id: q2\n"
	                  "    kind: singel\n"
	                  "    text: {fi: Valinta}\n";
	assert_int_equal(survey_parse_yaml(bad, strlen(bad), &def, &lines, f->ctx.err), 0);
	assert_int_equal(survey_load(&f->ctx, ESPOO, def, &out), KERR_INVALID);
	assert_string_equal(f->err.field, "questions[1].kind");
	assert_int_equal(survey_error_line(lines, f->err.field), 8);
	json_decref(def);
	json_decref(lines);

	static const char *const cases[][2] = {
	        {"key: k\ntitle: {fi: K}\nquestions: []\n", "questions"},
	        {"key: k\ntitle: {fi: K}\ncolour: red\nquestions: [{id: a, kind: text, text: T}]\n",
	         "colour"},
	        {"key: k\ntitle: {sv: K}\nquestions: [{id: a, kind: text, text: T}]\n", "title"},
	        {"key: k\ntitle: K\nquestions: [{id: a, kind: text, text: T}, {id: a, kind: text, "
	         "text: U}]\n",
	         "questions[1].id"},
	        {"key: k\ntitle: K\nquestions: [{id: a, kind: rating, min: 5, max: 5, text: T}]\n",
	         "questions[0].max"},
	        {"key: k\ntitle: K\nquestions: [{id: a, kind: single, text: T, options: [{id: x, "
	         "text: X}]}]\n",
	         "questions[0].options"},
	        {"key: k\ntitle: K\nquestions: [{id: a, kind: background, topic: shoe_size, text: "
	         "T, options: [{id: x, text: X}, {id: y, text: Y}]}]\n",
	         "questions[0].topic"},
	        {"key: k\ntitle: K\nquestions: [{id: a, kind: text, text: T, options: []}]\n",
	         "questions[0].options"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = load_text(f, ESPOO, cases[i][0], NULL, NULL);
		if (rc != KERR_INVALID || strcmp(f->err.field, cases[i][1]) != 0)
			fail_msg("case %zu: rc %d, field '%s', expected '%s' (%s)", i, rc,
			         f->err.field, cases[i][1], f->err.message);
	}
	/* YAML that does not parse names its line. */
	fresh(f);
	assert_int_equal(survey_parse_yaml("key: k\n title: [\n", 17, &def, &lines, f->ctx.err),
	                 KERR_INVALID);
	assert_non_null(strstr(f->err.message, "invalid YAML"));
	assert_true(f->err.message[0] >= '1' && f->err.message[0] <= '9');
	/* A register that declares no survey answers takes no survey. */
	assert_int_equal(load_text(f, KEMI,
	                           "key: k\ntitle: K\nquestions: [{id: a, kind: text, "
	                           "text: T}]\n",
	                           NULL, NULL),
	                 KERR_REFUSED);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM surveys", ""), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Answers (F-01)                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* proves F-01: an answer stores no identifier, no client address, no actor, no cookie and no
 * time finer than the day: its row is a random key, the register, the survey, the day and the
 * answers. */
static void test_answer_is_anonymous(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f);
	char cols[256], buf[64];
	struct actor anon = {.kind = ACTOR_ANON, .name = "anonymous:respondent-marker"};

	f->ctx.actor = &anon;
	f->ctx.client = "203.0.113.77";
	f->ctx.request_id = "req-marker-4711";
	kctx_set_now(&f->ctx, NOW + 13 * 3600 + 17 * 60 + 5);
	answer_ok(f, id, "{\"satisfaction\": 5, \"feedback\": \"kiitos\"}");
	checkpoint(f);
	columns(f, "survey_answers", cols, sizeof(cols));
	assert_string_equal(cols, "k,register_id,survey_id,day,answers");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT day FROM survey_answers WHERE survey_id = ?1", id),
	                    "2026-01-01");
	assert_int_equal(
	        raw_int(f, "SELECT length(k) FROM survey_answers WHERE survey_id = ?1", "i", id),
	        16);
	assert_false(db_files_contain(f, "203.0.113.77"));
	assert_false(db_files_contain(f, "respondent-marker"));
	assert_false(db_files_contain(f, "req-marker-4711"));
	assert_false(db_files_contain(f, "T13:17"));
	/* No row counter orders the answers: the table has no rowid. */
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	assert_int_not_equal(
	        sqlite3_prepare_v2(db, "SELECT rowid FROM survey_answers", -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* proves F-01: answers are checked against the questions; a bad one writes nothing. */
static void test_answer_validation(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f);
	static const char *const cases[][2] = {
	        {"{\"channel\": \"visit\"}", "satisfaction"},
	        {"{\"satisfaction\": 6}", "satisfaction"},
	        {"{\"satisfaction\": \"5\"}", "satisfaction"},
	        {"{\"satisfaction\": 5, \"channel\": \"fax\"}", "channel"},
	        {"{\"satisfaction\": 5, \"topics\": [\"permits\", \"permits\"]}", "topics"},
	        {"{\"satisfaction\": 5, \"topics\": \"permits\"}", "topics"},
	        {"{\"satisfaction\": 5, \"shoe\": 42}", "shoe"},
	        {"{\"satisfaction\": 5, \"age\": \"age-200\"}", "age"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = answer(f, id, cases[i][0]);
		if (rc != KERR_INVALID || strcmp(f->err.field, cases[i][1]) != 0)
			fail_msg("case %zu: rc %d, field '%s', expected '%s'", i, rc, f->err.field,
			         cases[i][1]);
	}
	assert_int_equal(answer(f, 9999, "{\"satisfaction\": 5}"), KERR_NOTFOUND);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM survey_answers", ""), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* The raffle (F-02, L-03)                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define NLINK 24

/* Byte offset of `needle` in the database file, or -1. */
static long offset_in_db(struct fx *f, const char *needle)
{
	char path[128];
	size_t len, n = strlen(needle);
	snprintf(path, sizeof(path), "%s/kortisto.db", f->dir);
	char *b = slurp(path, &len);
	long at = -1;
	for (size_t i = 0; b && i + n <= len; i++)
		if (memcmp(b + i, needle, n) == 0) {
			at = (long)i;
			break;
		}
	free(b);
	return at;
}

/* proves F-02: raffle entries cannot be linked to answers. Respondents answer and enter one
 * after another, each on a day of their own; then the test tries every pairing an attacker
 * with the database file could: a shared column or key, rowid order, key order, the order of
 * the entries in the file's pages, and timestamps. None pairs the i-th entry with the i-th
 * answer. */
static void test_raffle_cannot_be_linked(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f);
	char cols[256], contact[NLINK][40];

	for (int i = 0; i < NLINK; i++) {
		char a[128];
		kctx_set_now(&f->ctx, NOW + (int64_t)i * 3600);
		snprintf(a, sizeof(a), "{\"satisfaction\": %d, \"feedback\": \"vastaus-%02d\"}",
		         1 + i % 5, i);
		answer_ok(f, id, a);
		snprintf(contact[i], sizeof(contact[i]), "arpa%02d@example.fi", i);
		assert_int_equal(enter(f, id, contact[i]), 0);
	}
	/* Entering again with the same contact changes nothing and tells nothing. */
	assert_int_equal(enter(f, id, "ARPA03@example.fi"), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries", ""), NLINK);
	checkpoint(f);

	/* No shared key or column beyond the survey and the register; no rowid. */
	columns(f, "raffle_entries", cols, sizeof(cols));
	assert_string_equal(cols, "k,register_id,survey_id,kind,contact,winner");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM raffle_entries e JOIN survey_answers a"
	                         " ON a.k = e.k",
	                         ""),
	                 0);
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	assert_int_not_equal(
	        sqlite3_prepare_v2(db, "SELECT rowid FROM raffle_entries", -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_finalize(st);

	/* Timestamps: an entry has no date at all, and the answers only the day. */
	assert_int_equal(raw_int(f, "SELECT count(DISTINCT day) FROM survey_answers", ""), 1);

	/* Key order (the table's own order) against arrival order, for both tables. */
	int entry_rank[NLINK], answer_rank[NLINK], k = 0;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT contact FROM raffle_entries ORDER BY k", -1,
	                                    &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		entry_rank[k++] = atoi((const char *)sqlite3_column_text(st, 0) + 4);
	sqlite3_finalize(st);
	assert_int_equal(k, NLINK);
	k = 0;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT answers FROM survey_answers ORDER BY k", -1,
	                                    &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		answer_rank[k++] =
		        atoi(strstr((const char *)sqlite3_column_text(st, 0), "vastaus-") + 8);
	sqlite3_finalize(st);
	sqlite3_close(db);
	int same_pos = 0, in_order = 0;
	for (int i = 0; i < NLINK; i++) {
		same_pos += entry_rank[i] == answer_rank[i];
		in_order += entry_rank[i] == i;
	}
	/* By chance about one position matches in each; a linking order would match all. */
	assert_true(same_pos < NLINK / 2);
	assert_true(in_order < NLINK / 2);

	/* Page order: where each contact lies in the file says nothing of when it came. */
	long off[NLINK];
	int ascending = 0, descending = 0;
	for (int i = 0; i < NLINK; i++) {
		off[i] = offset_in_db(f, contact[i]);
		assert_true(off[i] >= 0);
	}
	for (int i = 1; i < NLINK; i++) {
		ascending += off[i] > off[i - 1];
		descending += off[i] < off[i - 1];
	}
	/* Arrival order would leave the offsets all rising or all falling. */
	assert_true(ascending < NLINK - 4);
	assert_true(descending < NLINK - 4);
}

/* proves L-03: the draw picks the winners, shows their contacts once and deletes every other
 * entry in the same transaction; only a manager draws; marking the winners notified deletes
 * their contacts; the draw is in the usage log. */
static void test_draw_deletes_entries(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f), deleted = 0;
	json_t *out = NULL;
	char contact[8][40];

	for (int i = 0; i < 8; i++) {
		snprintf(contact[i], sizeof(contact[i]), "voittaja%d@example.fi", i);
		assert_int_equal(enter(f, id, contact[i]), 0);
	}
	assert_int_equal(enter(f, id, "040 123 4567"), 0);
	assert_int_equal(enter(f, id, "not a contact"), KERR_INVALID);
	assert_string_equal(f->err.field, "contact");

	fx_as_user(f, "katsoja", ESPOO, ROLE_VIEWER);
	fresh(f);
	assert_int_equal(survey_draw(&f->ctx, ESPOO, id, 2, &out), KERR_FORBIDDEN);
	fx_as_user(f, "muokkaaja", ESPOO, ROLE_EDITOR);
	fresh(f);
	assert_int_equal(survey_draw(&f->ctx, ESPOO, id, 2, &out), KERR_FORBIDDEN);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries", ""), 9);

	fx_as_user(f, "johtaja", ESPOO, ROLE_MANAGER);
	fresh(f);
	assert_int_equal(survey_draw(&f->ctx, ESPOO, id, 2, &out), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "entries")), 9);
	json_t *w = json_object_get(out, "winners");
	assert_int_equal(json_array_size(w), 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries", ""), 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries WHERE winner = 1", ""), 2);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'raffle_draw'"
	                         " AND entity = 'survey' AND entity_id = ?1",
	                         "i", id),
	                 1);
	checkpoint(f);
	int gone = 0;
	for (int i = 0; i < 8; i++) {
		bool winner = false;
		size_t j;
		json_t *e;
		json_array_foreach (w, j, e)
			winner = winner || !strcmp(json_string_value(json_object_get(e, "contact")),
			                           contact[i]);
		if (!winner) {
			assert_false(db_files_contain(f, contact[i]));
			gone++;
		}
	}
	assert_true(gone >= 6);
	json_decref(out);
	out = NULL;
	/* Once drawn: no second draw, no new entries. */
	fresh(f);
	assert_int_equal(survey_draw(&f->ctx, ESPOO, id, 1, &out), KERR_CONFLICT);
	assert_int_equal(enter(f, id, "myohassa@example.fi"), KERR_CONFLICT);
	/* Notified: the winners' contacts go too. */
	fresh(f);
	assert_int_equal(survey_notified(&f->ctx, ESPOO, id, &deleted), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries", ""), 0);
	checkpoint(f);
	for (int i = 0; i < 8; i++)
		assert_false(db_files_contain(f, contact[i]));
}

/* ------------------------------------------------------------------------------------------ */
/* Expiry (L-04)                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* proves L-04: answers are deleted once the declared year has passed; proves L-03: raffle
 * entries, which carry no date, go once 30 days have passed from the raffle's oldest entry
 * (a later entry with them, sooner than its own 30 days); younger answers stay. */
static void test_expire_follows_declaration(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f), na, ne;

	answer_ok(f, id, "{\"satisfaction\": 4}");
	assert_int_equal(enter(f, id, "vanha@example.fi"), 0);
	kctx_set_now(&f->ctx, NOW + 10 * DAY);
	assert_int_equal(enter(f, id, "uudempi@example.fi"), 0);
	kctx_set_now(&f->ctx, NOW + 200 * DAY);
	answer_ok(f, id, "{\"satisfaction\": 2}");

	fresh(f);
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2026-01-30", &na, &ne), 0);
	assert_int_equal(na, 0);
	assert_int_equal(ne, 0);
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2026-01-31", &na, &ne), 0);
	assert_int_equal(ne, 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM raffle_entries", ""), 0);
	assert_true(raw_int(f, "SELECT raffle_since IS NULL FROM surveys WHERE id = ?1", "i", id) ==
	            1);
	/* A new entry starts the period again. */
	assert_int_equal(enter(f, id, "uusi@example.fi"), 0);
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2026-07-25", &na, &ne), 0);
	assert_int_equal(ne, 0);
	assert_int_equal(na, 0);
	/* A year and a day after the answer it is gone; the younger one stays. */
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2027-01-02", &na, &ne), 0);
	assert_int_equal(na, 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM survey_answers", ""), 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'delete'"
	                         " AND entity = 'survey_answer'",
	                         ""),
	                 1);
	fresh(f);
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2027-13-01", &na, &ne), KERR_INVALID);
	fx_as_user(f, "katsoja", ESPOO, ROLE_VIEWER);
	fresh(f);
	assert_int_equal(survey_expire(&f->ctx, ESPOO, "2030-01-01", &na, &ne), KERR_FORBIDDEN);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM survey_answers", ""), 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Statistics (F-04)                                                                          */
/* ------------------------------------------------------------------------------------------ */

static json_t *stats(struct fx *f, int64_t id, const char *by)
{
	json_t *out = NULL;
	fresh(f);
	if (survey_stats(&f->ctx, ESPOO, id, by, &out))
		fail_msg("stats: %s", f->err.message);
	return out;
}

static json_t *question(json_t *st, const char *id)
{
	size_t i;
	json_t *q;
	json_array_foreach (json_object_get(st, "questions"), i, q)
		if (!strcmp(json_string_value(json_object_get(q, "id")), id))
			return q;
	fail_msg("no question %s", id);
	return NULL;
}

/* proves F-04: counts, means, cross-tabulation and free texts, with every group of fewer
 * than 5 answers hidden; a viewer may read them. */
static void test_stats_hide_small_groups(void **state)
{
	struct fx *f = *state;
	int64_t id = example(f);
	json_t *st, *q;

	for (int i = 0; i < 4; i++)
		answer_ok(f, id,
		          "{\"satisfaction\": 5, \"feedback\": \"salainen\", \"age\": "
		          "\"age-65-plus\"}");
	st = stats(f, id, NULL);
	assert_true(json_is_true(json_object_get(st, "answers_hidden")));
	q = question(st, "satisfaction");
	assert_true(json_is_true(json_object_get(q, "hidden")));
	assert_null(json_object_get(q, "mean"));
	assert_null(json_object_get(question(st, "feedback"), "texts"));
	json_decref(st);

	/* Six more, all 30–64: five say 4 and one says 1 (mean of all ten: 4.1). */
	for (int i = 0; i < 5; i++)
		answer_ok(f, id,
		          "{\"satisfaction\": 4, \"channel\": \"phone\", \"feedback\": "
		          "\"=HYPERLINK(1)\", \"age\": \"age-30-64\"}");
	answer_ok(f, id,
	          "{\"satisfaction\": 1, \"channel\": \"visit\", \"age\": \"age-30-64\", "
	          "\"feedback\": \"<script>alert(1)</script>\"}");
	fx_as_user(f, "katsoja", ESPOO, ROLE_VIEWER);
	st = stats(f, id, NULL);
	assert_int_equal(json_integer_value(json_object_get(st, "answers")), 10);
	q = question(st, "satisfaction");
	assert_int_equal(json_integer_value(json_object_get(q, "n")), 10);
	assert_true(json_real_value(json_object_get(q, "mean")) > 4.09 &&
	            json_real_value(json_object_get(q, "mean")) < 4.11);
	json_t *vals = json_object_get(q, "values");
	assert_true(json_is_true(json_object_get(json_array_get(vals, 0), "hidden"))); /* 1: one */
	assert_null(json_object_get(json_array_get(vals, 0), "count"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(vals, 3), "count")), 5);
	/* channel: phone 5, visit 1; 6 answered: visit would be 6 - 5, so phone hides too. */
	q = question(st, "channel");
	assert_int_equal(json_integer_value(json_object_get(q, "n")), 6);
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(q, "values"), i, v)
		assert_null(json_object_get(v, "count"));
	/* Free texts: listed once 5 or more. */
	assert_int_equal(json_array_size(json_object_get(question(st, "feedback"), "texts")), 10);
	json_decref(st);

	/* Cross-tabulated by age: 65+ has 4 answers and is hidden whole, 30–64 has 6. */
	st = stats(f, id, "age");
	json_t *groups = json_object_get(question(st, "satisfaction"), "groups");
	assert_int_equal(json_array_size(groups), 3);
	json_array_foreach (groups, i, v) {
		const char *g = json_string_value(json_object_get(v, "group"));
		if (!strcmp(g, "age-30-64"))
			assert_int_equal(json_integer_value(json_object_get(v, "n")), 6);
		else
			assert_true(json_is_true(json_object_get(v, "hidden")));
	}
	json_t *fb = json_object_get(question(st, "feedback"), "groups");
	/* Free texts are listed for the whole survey only: a group's list next to the whole
	 * list would give away the hidden groups' texts by difference. */
	json_array_foreach (fb, i, v)
		assert_null(json_object_get(v, "texts"));

	/* CSV: formulas are defused; SVG: text is escaped. */
	struct buf b = BUF_INIT;
	survey_stats_csv(st, &b);
	assert_non_null(strstr(buf_str(&b), "\"'=HYPERLINK(1)\""));
	assert_null(strstr(buf_str(&b), ",\"=HYPERLINK"));
	assert_null(strstr(buf_str(&b), "\"age-65-plus\",\"text\""));
	buf_reset(&b);
	survey_stats_svg(st, LANG_EN, &b);
	assert_non_null(strstr(buf_str(&b), "<svg"));
	assert_non_null(strstr(buf_str(&b), "How satisfied were you"));
	assert_null(strstr(buf_str(&b), "<script>"));
	buf_free(&b);
	json_decref(st);

	/* by must name a choice question. */
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(survey_stats(&f->ctx, ESPOO, id, "feedback", &out), KERR_INVALID);
	assert_string_equal(f->err.field, "by");
}

/* proves S-01 for surveys: a processor or anyone without a role reads nothing; a viewer
 * cannot load definitions; an editor can. */
static void test_roles(void **state)
{
	struct fx *f = *state;
	json_t *out = NULL;
	int64_t id = example(f);
	fx_as_user(f, "katsoja", ESPOO, ROLE_VIEWER);
	assert_int_equal(load_text(f, ESPOO,
	                           "key: k\ntitle: K\nquestions: [{id: a, kind: text, "
	                           "text: T}]\n",
	                           NULL, NULL),
	                 KERR_FORBIDDEN);
	fresh(f);
	assert_int_equal(survey_list(&f->ctx, ESPOO, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	fx_as_user(f, "vieras", KEMI, ROLE_MANAGER); /* a manager elsewhere */
	fresh(f);
	assert_int_equal(survey_stats(&f->ctx, ESPOO, id, NULL, &out), KERR_FORBIDDEN);
	fx_as_user(f, "muokkaaja", ESPOO, ROLE_EDITOR);
	assert_int_equal(load_text(f, ESPOO,
	                           "key: k\ntitle: K\nquestions: [{id: a, kind: text, "
	                           "text: T}]\n",
	                           NULL, NULL),
	                 0);
}

/* proves F-01 for the rate limit: it counts per address in memory (never in the database),
 * stops an address at its limit until the window has passed, and leaves others alone. */
static void test_rate_limit(void **state)
{
	struct fx *f = *state;
	const int64_t t = 2000000000;
	for (int i = 0; i < SURVEY_LIMIT_MAX; i++) {
		assert_int_equal(survey_limit_check("198.51.100.7", t), 0);
		survey_limit_count("198.51.100.7", t);
	}
	assert_true(survey_limit_check("198.51.100.7", t + 1) > 0);
	assert_true(survey_limit_check("198.51.100.7", t + 1) <= SURVEY_LIMIT_WINDOW);
	assert_int_equal(survey_limit_check("198.51.100.8", t + 1), 0);
	assert_int_equal(survey_limit_check("198.51.100.7", t + SURVEY_LIMIT_WINDOW), 0);
	assert_false(db_files_contain(f, "198.51.100.7"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_definition_versions),
	        T(test_definition_errors),
	        T(test_answer_is_anonymous),
	        T(test_answer_validation),
	        T(test_raffle_cannot_be_linked),
	        T(test_draw_deletes_entries),
	        T(test_expire_follows_declaration),
	        T(test_stats_hide_small_groups),
	        T(test_roles),
	        T(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
