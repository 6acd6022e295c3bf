/*
 * The context every core call takes: who acts (actor), for which declared purpose, on which
 * connection, with which request memory, at what time, and where the first error goes.
 * core/ is the only door to personal data; cli/ and http/ build a kctx and call core.
 */
#ifndef KORTISTO_CTX_H
#define KORTISTO_CTX_H

#include <stdbool.h>
#include <stdint.h>

struct arena;
struct kapp;
struct kerr;
struct store;
struct search_batch;

enum actor_kind {
	ACTOR_OPERATOR, /* the operator at the command line on the server itself */
	ACTOR_USER,     /* a staff user signed in with a session */
	ACTOR_TOKEN,    /* an integration using a user's API token */
	ACTOR_SYSTEM,   /* a job of kortisto itself, e.g. system:retention */
	ACTOR_ANON,     /* an HTTP client not (yet) signed in: sign-in, public pages */
	ACTOR__MAX
};

/* The name of ACTOR_ANON, recorded as created_by of the persons the public pages add (the
 * subscribe page, an event's registration page): retention recognises them by it. */
#define ACTOR_ANON_NAME "anonymous"

struct actor {
	enum actor_kind kind;
	const char *name; /* "operator:alice", "user:maija", "token:12", "system:import" */
	int64_t user_id;  /* ACTOR_USER, ACTOR_TOKEN: the account; else 0 */
	int64_t token_id; /* ACTOR_TOKEN: the token; else 0 */
};

struct usage_entry;
struct decl_recipient;

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
	const char *request_id;            /* HTTP request id, or NULL */
	const char *client;                /* client address of an HTTP request, or NULL */
	/* Where reads are logged (usage_read): the HTTP server queues them for the group-
	 * committing log writer; NULL writes each read in its own transaction (CLI). */
	int (*usage_sink)(struct kctx *ctx, const struct usage_entry *e);
	void *usage_arg;
	/* A processor account sees only the categories this declared processor is given (S-09);
	 * NULL: every category. */
	const struct decl_recipient *processor;
	bool may_reveal; /* may see sensitive fields and the henkilötunnus in full */
	/* may see and change restricted and passivated subjects: a manager of the register or
	 * the operator, who handle restrictions */
	bool sees_restricted;
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
