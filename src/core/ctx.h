/*
 * The context every core call takes: who acts (actor), for which declared purpose, on which
 * connection, with which request memory, at what time, and where the first error goes.
 * core/ is the only door to personal data; cli/ and http/ build a kctx and call core.
 */
#ifndef KORTISTO_CTX_H
#define KORTISTO_CTX_H

#include <stdint.h>

struct arena;
struct kapp;
struct kerr;
struct store;
struct search_batch;

enum actor_kind {
	ACTOR_OPERATOR, /* the operator at the command line on the server itself */
	ACTOR_API,      /* an HTTP client (accounts and roles arrive with access control) */
	ACTOR_SYSTEM,   /* a job of kortisto itself, e.g. system:retention */
	ACTOR__MAX
};

struct actor {
	enum actor_kind kind;
	const char *name; /* "operator:alice", "api:127.0.0.1", "system:import" */
};

struct kctx {
	struct store *db;                  /* this thread's connection */
	const struct actor *actor;         /* who acts */
	const char *purpose;               /* declared purpose id the operation serves, or NULL */
	struct arena *mem;                 /* request-lifetime memory */
	struct kerr *err;                  /* first error */
	const struct kapp *app;            /* configuration, keys and loaded declarations */
	int64_t now;                       /* unix seconds: the clock, or --now */
	char now_iso[21];                  /* `now` as YYYY-MM-DDTHH:MM:SSZ */
	struct search_batch *search_batch; /* NULL, or a queue of search-index writes (imports) */
};

/* Sets ctx->now (and now_iso) to `t`. */
void kctx_set_now(struct kctx *ctx, int64_t t);

/*
 * Body of a core function that runs `call` (an int expression doing the work inside a
 * transaction) in its own write transaction: commits on 0, rolls back and returns the error
 * otherwise. The caller includes store/store.h.
 */
#define IN_WRITE_TX(ctx, call)                                                                     \
	do {                                                                                       \
		int rc_ = store_begin_write((ctx)->db, (ctx)->err);                                \
		if (rc_)                                                                           \
			return rc_;                                                                \
		if ((rc_ = (call))) {                                                              \
			store_rollback((ctx)->db);                                                 \
			return rc_;                                                                \
		}                                                                                  \
		return store_commit((ctx)->db, (ctx)->err);                                        \
	} while (0)

#endif
