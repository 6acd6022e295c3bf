/*
 * The server's sender of mailings: one thread that sends the mailings the API accepted, one
 * after another in the order they came, so that a request never waits for a whole mailing.
 * The queue lives in memory only; what survives a stop is the database: a mailing left
 * 'sending' is queued again when the server starts and resumed at most once (core/mailing.h).
 */
#ifndef KORTISTO_SENDQ_H
#define KORTISTO_SENDQ_H

#include <jansson.h>
#include <stdint.h>

struct kapp;
struct kctx;
struct kerr;
struct sendq;

/* The actor of a send resumed after a restart (who started it stays in started_by). */
#define SENDQ_ACTOR "system:mailer"

/*
 * Makes the send queue with the mailings a stopped server left 'sending' (as SENDQ_ACTOR);
 * sendq_run() starts its thread. The caller must have blocked the stop signals. Sets *out
 * (free with sendq_free()); returns 0 or KERR_*.
 */
int sendq_start(struct kapp *app, struct sendq **out, struct kerr *err);

/* Starts the sender thread of `q`, once the server listens: a server that cannot start sends
 * nothing. Until then submitted mailings wait in the queue. Returns 0 or KERR_INTERNAL. */
int sendq_run(struct sendq *q, struct kerr *err);

/*
 * A manager's send of mailing `id` of register `rid`: refuses one already queued or being
 * sent (KERR_CONFLICT, as a mailing already sent is refused) and any while the server stops
 * (KERR_BUSY, nothing recorded), runs mailing_send_start() in the
 * request, and queues the rest under a copy of ctx->actor. Returns 0 and the mailing as
 * mailing_get() gives it in *out (caller decrefs), or KERR_*.
 */
int sendq_submit(struct sendq *q, struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* Asks the sender to stop after the message in progress and waits for it. Mailings still
 * queued stay 'sending' in the database for the next start. Accepts NULL. */
void sendq_stop(struct sendq *q);

/* Frees the queue; after sendq_stop(), once no request can submit any more. Accepts NULL. */
void sendq_free(struct sendq *q);

#endif
