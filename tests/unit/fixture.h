/*
 * The fixture the unit tests of core, accounts and audit share: a fresh data directory in /tmp
 * with the test's registers loaded, opened with a context acting as the operator. What the
 * code under test writes is checked through a second, read-only SQLite connection and by
 * reading the database files' bytes, never through the code under test, so a test cannot be
 * fooled by the code it tests. Include after <cmocka.h>; failures go through fail_msg().
 */
#ifndef KORTISTO_TESTS_FIXTURE_H
#define KORTISTO_TESTS_FIXTURE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/account.h"
#include "store/statements.h"
#include "util/arena.h"
#include "util/kerr.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z, the fixture's clock */

/* One test's world. The context points into the fixture (actor, arena, error, connection). */
struct fx {
	char dir[64];
	struct kapp *app;
	struct store *db;
	struct arena mem;
	struct kerr err;
	struct actor actor;
	struct kctx ctx;
};

/* Makes data directory /tmp/kortisto-NAME-XXXXXX, opens it with a context acting as the
 * operator "operator:test" (who may reveal sensitive fields, as cli_open gives it; no purpose,
 * request or client) at time NOW, and loads each of the `n` declaration files `registers`
 * (paths from the repository root, where the tests run) as version 1. Returns the fixture,
 * released with fixture_teardown(), or NULL after saying why on stderr. */
struct fx *fixture_open(const char *name, const char *const *registers, size_t n);

/* A cmocka teardown: closes the fixture in *state, removes its data directory and frees it.
 * Returns 0. */
int fixture_teardown(void **state);

/* Acts as the operator again, with no purpose. */
void fx_as_operator(struct fx *f);

/* Acts as staff user `name`, whom the operator creates and grants `role` on register `rid`;
 * sensitive values are revealed from editor up, as the server sets it. */
void fx_as_user(struct fx *f, const char *name, const char *rid, enum role role);

/* Forgets the previous call's error and memory, as a new request would. */
void fresh(struct fx *f);

/* Reads the whole file `path`; *len is its length. Returns a NUL-terminated copy the caller
 * frees, or NULL when it cannot be read. */
char *slurp(const char *path, size_t *len);

/* Opens the fixture's database read-only on a connection of its own, which the caller closes
 * with sqlite3_close(). Fails the test when it cannot. */
sqlite3 *raw_open(struct fx *f);

/* Runs `sql` with parameters described by `types` ('i' int64, 's' text) through a separate
 * read-only connection and returns the first column of the first row, or -1 without a row.
 * Fails the test when the SQL does not prepare. */
int64_t raw_int(struct fx *f, const char *sql, const char *types, ...);

/* As raw_int() with one int64 parameter, for a text column: copies the first column of the
 * first row into `buf` (`n` bytes, truncated) and returns `buf`, which holds "" without a row
 * or for NULL. */
const char *raw_text(struct fx *f, char *buf, size_t n, const char *sql, int64_t id);

/* Whether the bytes of the database file or its write-ahead log contain `needle`. */
bool db_files_contain(struct fx *f, const char *needle);

/* Fails the test, naming the statement, when the query plan of any of the `n` statements
 * `lookups` scans a table or sorts through a temporary B-tree (or does not prepare). */
void assert_indexed(struct fx *f, const enum stmt_id *lookups, size_t n);

#endif
