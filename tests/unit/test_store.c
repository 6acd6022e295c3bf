/*
 * Store tests: the schema migrates on a fresh database, every statement of the table in
 * statements.c exists and prepares against that schema, and transactions roll back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/kerr.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kortisto-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[160];
	(void)state;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

/* Every statement id has SQL text that SQLite accepts against the migrated schema. */
static void every_statement_prepares(void **state)
{
	struct store *s = NULL;
	struct kerr err = {0};
	sqlite3 *db;
	(void)state;

	assert_int_equal(store_open(path, true, &s, &err), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (int i = 0; i < ST__MAX; i++) {
		const char *sql = stmt_sql((enum stmt_id)i);
		sqlite3_stmt *st = NULL;
		if (!sql)
			fail_msg("statement %d has no SQL text", i);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("statement %d does not prepare: %s", i, sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	store_close(s);
}

/* Opening an existing database applies no migration twice. */
static void migrations_are_idempotent(void **state)
{
	struct store *s = NULL;
	struct kerr err = {0};
	(void)state;
	assert_int_equal(store_open(path, true, &s, &err), 0);
	store_close(s);
	assert_int_equal(store_open(path, false, &s, &err), 0);
	struct query *q = store_query(s, ST_REG_LIST);
	assert_int_equal(q_step(q, &err), 0);
	store_close(s);
}

/* A rolled-back write leaves nothing behind; a committed one stays. */
static void rollback_discards_writes(void **state)
{
	struct store *s = NULL;
	struct kerr err = {0};
	(void)state;
	assert_int_equal(store_open(path, true, &s, &err), 0);
	assert_int_equal(store_begin_write(s, &err), 0);
	struct query *q = store_query(s, ST_REG_INSERT);
	q_text(q, 1, "x");
	q_int(q, 2, 1);
	q_text(q, 3, "2026-01-01T00:00:00Z");
	assert_int_equal(q_exec(q, &err), 0);
	store_rollback(s);
	q = store_query(s, ST_REG_GET);
	q_text(q, 1, "x");
	assert_int_equal(q_step(q, &err), 0);
	q_done(q);

	assert_int_equal(store_begin_write(s, &err), 0);
	q = store_query(s, ST_REG_INSERT);
	q_text(q, 1, "y");
	q_int(q, 2, 1);
	q_text(q, 3, "2026-01-01T00:00:00Z");
	assert_int_equal(q_exec(q, &err), 0);
	assert_int_equal(store_commit(s, &err), 0);
	q = store_query(s, ST_REG_GET);
	q_text(q, 1, "y");
	assert_int_equal(q_step(q, &err), 1);
	q_done(q);

	/* A duplicate key is a conflict, reported without the value. */
	assert_int_equal(store_begin_write(s, &err), 0);
	q = store_query(s, ST_REG_INSERT);
	q_text(q, 1, "y");
	q_int(q, 2, 1);
	q_text(q, 3, "2026-01-01T00:00:00Z");
	assert_int_equal(q_exec(q, &err), KERR_CONFLICT);
	store_rollback(s);
	store_close(s);
}

/* Lookups of one subject's rows use an index on that subject, never a scan of the whole
 * register (which made person GET and imports slow down with the register's size). */
static void lookups_use_selective_indexes(void **state)
{
	static const enum stmt_id lookups[] = {
	        ST_PERSON_GET,
	        ST_PERSON_BY_HETU,
	        ST_CP_LIST,
	        ST_CP_FIND,
	        ST_ORG_GET,
	        ST_ORG_BY_YTUNNUS,
	        ST_ORG_BY_NAME,
	        ST_AFF_GET,
	        ST_AFF_BY_PERSON,
	        ST_AFF_FIND,
	        ST_HISTORY_LIST,
	        ST_HISTORY_DELETE,
	        ST_HISTORY_DELETE_AFFILIATIONS,
	};
	struct store *s = NULL;
	struct kerr err = {0};
	sqlite3 *db;
	(void)state;

	assert_int_equal(store_open(path, true, &s, &err), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		char sql[4096];
		sqlite3_stmt *st = NULL;
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", stmt_sql(lookups[i]));
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *detail = (const char *)sqlite3_column_text(st, 3);
			if (strstr(detail, "SCAN") || strstr(detail, "(register_id=?)") ||
			    strstr(detail, "TEMP B-TREE"))
				fail_msg("statement %d scans: %s", (int)lookups[i], detail);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(every_statement_prepares, setup, teardown),
	        cmocka_unit_test_setup_teardown(migrations_are_idempotent, setup, teardown),
	        cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),
	        cmocka_unit_test_setup_teardown(lookups_use_selective_indexes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
