/*
 * The log writer: one thread with its own connection that group-commits the usage-log
 * entries of concurrent reads. A request submits its entries with a callback and is
 * suspended; the writer appends every queued entry to the hash chain in one write
 * transaction, commits (durably), then calls each callback. Reads therefore never become
 * write transactions of their own, and no response leaves before its entry is on disk.
 */
#ifndef KORTISTO_LOGWRITER_H
#define KORTISTO_LOGWRITER_H

#include <stddef.h>

struct kapp;
struct kctx;
struct kerr;
struct logwriter;
struct usage_entry;

/* Starts the writer thread on a new connection to the app's database. */
int logwriter_start(struct kapp *app, struct logwriter **out, struct kerr *err);

/* Writes what is queued, stops the thread and frees the writer; accepts NULL. */
void logwriter_stop(struct logwriter *lw);

/*
 * Queues copies of entries e[0..n-1], each with the actor, purpose, time, request id and
 * client of `ctx` (copied too: nothing needs to outlive the call). Once the transaction
 * holding them committed or failed, calls done(arg, rc) on the writer thread with rc 0 or a
 * negative KERR_*. Returns 0, or KERR_* without calling `done` when it cannot queue.
 */
int logwriter_submit(struct logwriter *lw, const struct kctx *ctx, const struct usage_entry *e,
                     size_t n, void (*done)(void *arg, int rc), void *arg);

#endif
