/*
 * The storage interface. core/ runs statements by id (enum stmt_id, table in statements.c),
 * binds parameters and reads columns through the functions below; no SQL text is ever built
 * from values. A struct store is one connection and belongs to one thread at a time.
 */
#ifndef KORTISTO_STORE_H
#define KORTISTO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/statements.h"

struct kerr;
struct store;
struct query; /* a prepared statement of a store; owned by the store */

/* Configures the SQLite library for kortisto's use (one connection per thread, no global
 * memory statistics, which would take a process-wide lock on every allocation). Call once
 * at start, before any connection is opened. Returns 0 or -1. */
int store_start(void);

/*
 * Opens (creating if `create`) the database at `path`, sets WAL, foreign keys, synchronous
 * FULL and a busy timeout, and applies pending migrations. Returns 0 and a store the caller
 * frees with store_close(), or a negative KERR_* with `err` filled.
 */
int store_open(const char *path, bool create, struct store **out, struct kerr *err);
void store_close(struct store *s); /* accepts NULL */

/* Transactions. store_begin_write takes the write lock at once (BEGIN IMMEDIATE). */
int store_begin_read(struct store *s, struct kerr *err);
int store_begin_write(struct store *s, struct kerr *err);
int store_commit(struct store *s, struct kerr *err);
void store_rollback(struct store *s); /* no-op outside a transaction */

/* Savepoints inside a transaction, so one part (an imported row) can fail alone. */
int store_savepoint(struct store *s, struct kerr *err);
int store_release(struct store *s, struct kerr *err);
void store_rollback_savepoint(struct store *s);

/* Returns the prepared statement `id`, reset and with bindings cleared. Never NULL. */
struct query *store_query(struct store *s, enum stmt_id id);

/* Binding: 1-based parameter index. Text and blobs are NOT copied: they must stay valid and
 * unchanged until the query has been stepped to its end or reset (q_exec, q_done, or the
 * next store_query of the same id). A NULL text binds NULL. */
void q_text(struct query *q, int i, const char *s);
void q_textn(struct query *q, int i, const char *s, size_t n);
void q_int(struct query *q, int i, int64_t v);
void q_blob(struct query *q, int i, const void *p, size_t n);
void q_null(struct query *q, int i);

/* Steps: returns 1 when a row is available, 0 when done, or a negative KERR_* with `err`
 * filled (KERR_CONFLICT for constraint violations, KERR_BUSY, else KERR_INTERNAL). */
int q_step(struct query *q, struct kerr *err);

/* Runs to completion a statement that returns no rows. */
int q_exec(struct query *q, struct kerr *err);

/* Column access of the current row (0-based). Text/blob pointers are valid until the next
 * step or reset of the query. */
const char *q_col_text(struct query *q, int i); /* NULL for SQL NULL */
size_t q_col_bytes(struct query *q, int i);
const void *q_col_blob(struct query *q, int i);
int64_t q_col_int(struct query *q, int i);
bool q_col_null(struct query *q, int i);

/* Resets the query now, releasing read locks it holds. */
void q_done(struct query *q);

int64_t store_last_id(struct store *s);
int store_changes(struct store *s);

/* Runs a script of statements from the migrations or tests (not for values). */
int store_exec_script(struct store *s, const char *sql, struct kerr *err);

#endif
