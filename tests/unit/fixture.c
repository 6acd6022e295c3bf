/*
 * The shared unit-test fixture (see fixture.h): the data directory made fresh for every test
 * and the second, read-only connection the tests check the database through. The connection
 * is opened anew for each query, so it always sees what the code under test committed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/app.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/crypto.h"

/* Loads declaration file `path` into the fixture's data directory; it must be new there. */
static int load_register_file(struct fx *f, const char *path)
{
	size_t len = 0;
	char *text = slurp(path, &len);
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = true;
	if (!text) {
		fprintf(stderr, "cannot read %s (run the tests from the repository root)\n", path);
		return -1;
	}
	fresh(f);
	int rc = register_load(&f->ctx, path, text, len, &dg, &version, &unchanged, NULL);
	if (rc || version != 1 || unchanged)
		fprintf(stderr, "register_load %s: rc %d version %d: %s %s\n", path, rc, version,
		        f->err.message, dg.n ? dg.v[0].message : "");
	decl_diags_free(&dg);
	free(text);
	return rc || version != 1 || unchanged ? -1 : 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Closes what the fixture opened and removes its data directory with everything in it
 * (archive packages live in a subdirectory). */
static void fixture_close(struct fx *f)
{
	store_close(f->db);
	app_free(f->app);
	arena_free(&f->mem);
	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
}

struct fx *fixture_open(const char *name, const char *const *registers, size_t n)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || crypto_start() != 0) {
		free(f);
		return NULL;
	}
	arena_init(&f->mem);
	snprintf(f->dir, sizeof(f->dir), "/tmp/kortisto-%s-XXXXXX", name);
	if (!mkdtemp(f->dir)) {
		free(f);
		return NULL;
	}
	if (app_init_datadir(f->dir, &f->err) || app_open(f->dir, &f->app, &f->err) ||
	    app_connect(f->app, &f->db, &f->err)) {
		fprintf(stderr, "setup: %s\n", f->err.message);
		goto fail;
	}
	f->actor = (struct actor){ACTOR_OPERATOR, "operator:test", 0, 0};
	f->ctx.db = f->db;
	f->ctx.actor = &f->actor;
	f->ctx.mem = &f->mem;
	f->ctx.err = &f->err;
	f->ctx.app = f->app;
	f->ctx.may_reveal = true;      /* the operator's right, as cli_open gives it */
	f->ctx.sees_restricted = true; /* the operator handles restrictions, as cli_open */
	kctx_set_now(&f->ctx, NOW);
	for (size_t i = 0; i < n; i++)
		if (load_register_file(f, registers[i]))
			goto fail;
	if (app_load_registers(f->app, f->db, true, NULL, &f->err)) {
		fprintf(stderr, "app_load_registers: %s\n", f->err.message);
		goto fail;
	}
	fresh(f);
	return f;
fail:
	fixture_close(f);
	return NULL;
}

int fixture_teardown(void **state)
{
	fixture_close(*state);
	return 0;
}

void fresh(struct fx *f)
{
	kerr_clear(&f->err);
	arena_reset(&f->mem);
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0, got;
	char *p = malloc(cap + 1);
	while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap + 1);
		}
	}
	fclose(f);
	if (p)
		p[n] = '\0';
	*len = n;
	return p;
}

/* ---------------------------------------------------------------- a second connection */

sqlite3 *raw_open(struct fx *f)
{
	char path[128];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/kortisto.db", f->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("cannot open %s: %s", path, sqlite3_errmsg(db));
	return db;
}

int64_t raw_int(struct fx *f, const char *sql, const char *types, ...)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	va_list ap;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("raw SQL %s: %s", sql, sqlite3_errmsg(db));
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
			                  SQLITE_TRANSIENT);
	}
	va_end(ap);
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

const char *raw_text(struct fx *f, char *buf, size_t n, const char *sql, int64_t id)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("raw SQL %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, id);
	buf[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

/* Whether the bytes of the database file with `suffix` ("" or "-wal") contain `needle`. */
static bool file_contains(struct fx *f, const char *suffix, const char *needle)
{
	char path[128];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/kortisto.db%s", f->dir, suffix);
	char *p = slurp(path, &len);
	if (!p)
		return false;
	bool hit = memmem(p, len, needle, strlen(needle)) != NULL;
	free(p);
	return hit;
}

bool db_files_contain(struct fx *f, const char *needle)
{
	return file_contains(f, "", needle) || file_contains(f, "-wal", needle);
}

void assert_indexed(struct fx *f, const enum stmt_id *lookups, size_t n)
{
	sqlite3 *db = raw_open(f);
	for (size_t i = 0; i < n; i++) {
		char sql[4096];
		sqlite3_stmt *st = NULL;
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", stmt_sql(lookups[i]));
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("statement %d: %s", (int)lookups[i], sqlite3_errmsg(db));
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *detail = (const char *)sqlite3_column_text(st, 3);
			/* A full-text MATCH is a lookup in the virtual table's own index. */
			bool match = strstr(detail, "VIRTUAL TABLE INDEX") && strstr(detail, ":M");
			if ((strstr(detail, "SCAN") && !match) || strstr(detail, "TEMP B-TREE"))
				fail_msg("statement %d scans: %s", (int)lookups[i], detail);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

void fx_as_operator(struct fx *f)
{
	f->actor = (struct actor){ACTOR_OPERATOR, "operator:test", 0, 0};
	f->ctx.may_reveal = true;
	f->ctx.sees_restricted = true;
	f->ctx.purpose = NULL;
}

void fx_as_user(struct fx *f, const char *name, const char *rid, enum role role)
{
	static char actor_name[80];
	int64_t uid = 0;
	fx_as_operator(f);
	fresh(f);
	if (account_add(&f->ctx, name, false, NULL, &uid))
		fail_msg("account_add(%s): %s", name, f->err.message);
	fresh(f);
	if (grant_add(&f->ctx, uid, rid, role, NULL))
		fail_msg("grant_add(%s): %s", name, f->err.message);
	snprintf(actor_name, sizeof(actor_name), "user:%s", name);
	f->actor = (struct actor){ACTOR_USER, actor_name, uid, 0};
	f->ctx.may_reveal = role >= ROLE_EDITOR;
	f->ctx.sees_restricted = role >= ROLE_MANAGER;
}
