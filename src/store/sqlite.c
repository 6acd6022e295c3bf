/*
 * SQLite implementation of the store. One connection per worker thread; every statement of
 * the table in statements.c is prepared lazily, once per connection, and reused. Writes take
 * the lock at once (BEGIN IMMEDIATE) so two writers never deadlock on a lock upgrade.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST__MAX];
};

int store_start(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		return -1;
	return sqlite3_initialize() == SQLITE_OK ? 0 : -1;
}

static int db_error(struct store *s, int rc, struct kerr *err, const char *what)
{
	int code = KERR_INTERNAL;
	int prim = rc & 0xff;
	if (prim == SQLITE_CONSTRAINT)
		code = KERR_CONFLICT;
	else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		code = KERR_BUSY;
	/* SQLite's messages name tables and columns, never bound values. */
	return kerr_set(err, code, NULL, "%s: %s", what,
	                s ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static int exec_simple(struct store *s, const char *sql, struct kerr *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int code = (rc & 0xff) == SQLITE_BUSY ? KERR_BUSY : KERR_INTERNAL;
		kerr_set(err, code, NULL, "database: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

int store_exec_script(struct store *s, const char *sql, struct kerr *err)
{
	return exec_simple(s, sql, err);
}

static int migrate(struct store *s, struct kerr *err)
{
	int rc = exec_simple(s,
	                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
	                     " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	                     " applied_at TEXT NOT NULL) STRICT",
	                     err);
	if (rc)
		return rc;
	for (int i = 0; i < nmigrations; i++) {
		sqlite3_stmt *st = NULL;
		int have = 0;
		if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_migrations WHERE version = ?",
		                       -1, &st, NULL) != SQLITE_OK)
			return db_error(s, SQLITE_ERROR, err, "migrations");
		sqlite3_bind_int64(st, 1, migrations[i].version);
		have = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (have)
			continue;
		if ((rc = exec_simple(s, "BEGIN IMMEDIATE", err)))
			return rc;
		if ((rc = exec_simple(s, migrations[i].sql, err))) {
			exec_simple(s, "ROLLBACK", NULL);
			return kerr_set(err, rc, NULL, "migration %s failed", migrations[i].name);
		}
		if (sqlite3_prepare_v2(s->db,
		                       "INSERT INTO schema_migrations(version, name, applied_at)"
		                       " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
		                       -1, &st, NULL) != SQLITE_OK) {
			exec_simple(s, "ROLLBACK", NULL);
			return db_error(s, SQLITE_ERROR, err, "migrations");
		}
		sqlite3_bind_int64(st, 1, migrations[i].version);
		sqlite3_bind_text(st, 2, migrations[i].name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			exec_simple(s, "ROLLBACK", NULL);
			return db_error(s, rc, err, "migrations");
		}
		if ((rc = exec_simple(s, "COMMIT", err)))
			return rc;
	}
	return 0;
}

int store_open(const char *path, bool create, struct store **out, struct kerr *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	*out = NULL;
	if (rc != SQLITE_OK) {
		kerr_set(err, KERR_INTERNAL, NULL, "cannot open database %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		store_close(s);
		return KERR_INTERNAL;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	rc = exec_simple(s,
	                 "PRAGMA journal_mode = WAL;"
	                 "PRAGMA synchronous = FULL;"
	                 "PRAGMA foreign_keys = ON;"
	                 "PRAGMA secure_delete = ON;"
	                 "PRAGMA temp_store = MEMORY;"
	                 "PRAGMA cache_size = -65536;"
	                 /* No memory map: the usage log is written all the time, every commit
	                  * makes each reader start again from an empty page cache, and
	                  * through a map that means page faults and remapping as the file grows
	                  * — measured 2.5 times slower for signed-in, logged person reads than
	                  * pread (docs/bench.md). */
	                 "PRAGMA mmap_size = 0;",
	                 err);
	if (!rc)
		rc = migrate(s, err);
	if (rc) {
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST__MAX; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s);
}

static int tx(struct store *s, enum stmt_id id, struct kerr *err)
{
	return q_exec(store_query(s, id), err);
}

int store_begin_read(struct store *s, struct kerr *err)
{
	return tx(s, ST_TX_BEGIN, err);
}

int store_begin_write(struct store *s, struct kerr *err)
{
	return tx(s, ST_TX_BEGIN_IMMEDIATE, err);
}

int store_commit(struct store *s, struct kerr *err)
{
	int rc = tx(s, ST_TX_COMMIT, err);
	if (rc)
		store_rollback(s);
	return rc;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		tx(s, ST_TX_ROLLBACK, NULL);
}

int store_savepoint(struct store *s, struct kerr *err)
{
	return tx(s, ST_TX_SAVEPOINT, err);
}

int store_release(struct store *s, struct kerr *err)
{
	return tx(s, ST_TX_RELEASE, err);
}

void store_rollback_savepoint(struct store *s)
{
	tx(s, ST_TX_ROLLBACK_TO, NULL);
	tx(s, ST_TX_RELEASE, NULL);
}

struct query *store_query(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmts[id];
	if (!st) {
		const char *sql = stmt_sql(id);
		int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK) {
			/* Statements are static text tested by every build; failing here is a bug. */
			fprintf(stderr, "kortisto: cannot prepare statement %d: %s\n", (int)id,
			        sqlite3_errmsg(s->db));
			abort();
		}
		s->stmts[id] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return (struct query *)st;
}

#define ST(q) ((sqlite3_stmt *)(q))

void q_text(struct query *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(ST(q), i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(ST(q), i);
}

void q_textn(struct query *q, int i, const char *s, size_t n)
{
	sqlite3_bind_text64(ST(q), i, s, n, SQLITE_STATIC, SQLITE_UTF8);
}

void q_int(struct query *q, int i, int64_t v)
{
	sqlite3_bind_int64(ST(q), i, v);
}

void q_blob(struct query *q, int i, const void *p, size_t n)
{
	if (p)
		sqlite3_bind_blob64(ST(q), i, p, n, SQLITE_STATIC);
	else
		sqlite3_bind_null(ST(q), i);
}

void q_null(struct query *q, int i)
{
	sqlite3_bind_null(ST(q), i);
}

int q_step(struct query *q, struct kerr *err)
{
	int rc = sqlite3_step(ST(q));
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	sqlite3 *db = sqlite3_db_handle(ST(q));
	int prim = rc & 0xff;
	int code = prim == SQLITE_CONSTRAINT                        ? KERR_CONFLICT
	           : (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? KERR_BUSY
	                                                            : KERR_INTERNAL;
	kerr_set(err, code, NULL, "database: %s", sqlite3_errmsg(db));
	sqlite3_reset(ST(q));
	return code;
}

int q_exec(struct query *q, struct kerr *err)
{
	int rc;
	while ((rc = q_step(q, err)) == 1)
		;
	sqlite3_reset(ST(q));
	return rc;
}

const char *q_col_text(struct query *q, int i)
{
	return (const char *)sqlite3_column_text(ST(q), i);
}

size_t q_col_bytes(struct query *q, int i)
{
	return (size_t)sqlite3_column_bytes(ST(q), i);
}

const void *q_col_blob(struct query *q, int i)
{
	return sqlite3_column_blob(ST(q), i);
}

int64_t q_col_int(struct query *q, int i)
{
	return sqlite3_column_int64(ST(q), i);
}

bool q_col_null(struct query *q, int i)
{
	return sqlite3_column_type(ST(q), i) == SQLITE_NULL;
}

void q_done(struct query *q)
{
	sqlite3_reset(ST(q));
}

int64_t store_last_id(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

int store_changes(struct store *s)
{
	return sqlite3_changes(s->db);
}
