/*
 * Self-service of data subjects (R-05, issue 5): a person asks at /p/me for a link to their
 * data by giving an e-mail address; when the address is a contact point in any register,
 * kortisto mails a single-use link valid 15 minutes, and opening it starts a short session in
 * which the person sees the registers they are in, downloads their access export and files
 * requests, verified by that link (method email_link). Tokens are 32 random bytes; only a
 * keyed hash of each is stored, and the address itself never is: a link row keeps the ids of
 * the persons it matched. Asking is rate limited in memory per keyed hash of the address and
 * of the client address, and answers the same whether the address is known or not.
 *
 * Everything a session does runs as the self-service actor (SELFSERVICE_ACTOR), which may
 * read and export only the persons the session's link matched; that check is here, in core.
 */
#ifndef KORTISTO_SELFSERVICE_H
#define KORTISTO_SELFSERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decl/decl.h"

struct kctx;
struct actor;

/* The actor of everything a self-service session does, in the usage log and request steps. */
#define SELFSERVICE_ACTOR "system:selfservice"
extern const struct actor selfservice_actor;

#define SELFSERVICE_LINK_SECONDS    900  /* a mailed link opens within 15 minutes */
#define SELFSERVICE_SESSION_SECONDS 1800 /* a session the link opened lasts 30 minutes */
#define SELFSERVICE_TOKEN_LEN       43   /* 32 bytes in unpadded base64url */

/* Rate limits of asking for a link, per window of SELFSERVICE_LIMIT_WINDOW seconds. */
#define SELFSERVICE_LIMIT_ADDRESS 3  /* links asked for one address */
#define SELFSERVICE_LIMIT_CLIENT  10 /* links asked from one client address */
#define SELFSERVICE_LIMIT_WINDOW  900

/* A person a link matched: register and person id (strings in ctx->mem). */
struct ss_subject {
	const char *rid;
	int64_t person_id;
};

/*
 * Counts one asking for a link for normalised address `email` from client address `client`
 * (may be NULL) at ctx->now. Returns 0, or KERR_THROTTLED with *retry_after (seconds) set
 * when either has asked too often in the current window. The counters live in this
 * process's memory, keyed by a keyed hash under a random key made at start: neither the
 * address nor the client address is kept.
 */
int selfservice_throttle(struct kctx *ctx, const char *email, const char *client,
                         int64_t *retry_after);

/* Forgets every counter (tests). */
void selfservice_throttle_reset(void);

/*
 * The persons whose e-mail contact point is normalised address `email`, in every loaded
 * register: *subjects (ctx->mem; NULL when none) and *n. Reads ids only and logs nothing.
 */
int selfservice_find(struct kctx *ctx, const char *email, struct ss_subject **subjects, size_t *n);

/*
 * Makes a link for `n` (≥ 1) subjects: writes a new token to `token` and stores its keyed
 * hash with the subjects' ids, expiring SELFSERVICE_LINK_SECONDS after ctx->now, and logs
 * action "selfservice_link" on each person. Expired links and sessions are deleted on the
 * way. Returns 0 or KERR_*.
 */
int selfservice_link_create(struct kctx *ctx, const struct ss_subject *subjects, size_t n,
                            char token[SELFSERVICE_TOKEN_LEN + 1]);

/*
 * Opens link `link`: marks it used (a link opens once) and starts a session of the same
 * subjects, writing its token to `session`. Logs action "signin" (reason "email_link") on
 * each person. KERR_NOTFOUND when the link is not one kortisto made or has expired (the
 * message tells which), KERR_CONFLICT when it was opened already.
 */
int selfservice_link_open(struct kctx *ctx, const char *link,
                          char session[SELFSERVICE_TOKEN_LEN + 1]);

/*
 * The subjects of live session `session` (*subjects in ctx->mem). Sets ctx->actor to the
 * self-service actor, which may reveal and see restricted data of these subjects only: it is
 * their own. KERR_UNAUTH when there is no such session or it has ended.
 */
int selfservice_session(struct kctx *ctx, const char *session, struct ss_subject **subjects,
                        size_t *n);

/* As selfservice_session, for showing the person which registers hold them: logs a read
 * (reason "self_service") of each subject, through ctx->usage_sink when set. */
int selfservice_registers(struct kctx *ctx, const char *session, struct ss_subject **subjects,
                          size_t *n);

/* Ends session `session` (nothing when there is none). */
int selfservice_session_end(struct kctx *ctx, const char *session);

/* The CSRF token of session `session`: 64 hex digits, a keyed hash of the session token, so
 * nothing more is stored. */
void selfservice_csrf(struct kctx *ctx, const char *session, char out[65]);

/* Whether `given` (may be NULL) is the CSRF token of `session`, compared in constant time. */
bool selfservice_csrf_ok(struct kctx *ctx, const char *session, const char *given);

/*
 * The access export (core/export.h) of the session's person in register `rid` (*out, owned
 * by the caller), made by the self-service actor. KERR_UNAUTH without a live session,
 * KERR_NOTFOUND (field "register") when the session has no person in `rid`.
 */
int selfservice_export(struct kctx *ctx, const char *session, const char *rid, json_t **out);

/*
 * R-01 across registers: the access exports of the session's persons in every register they
 * are in, as {registers: [{register, export}]} (*out, owned by the caller), each made and
 * logged as selfservice_export makes it; a person erased since the link was opened is left
 * out. KERR_UNAUTH without a live session. When one export fails nothing is returned.
 */
int selfservice_export_all(struct kctx *ctx, const char *session, json_t **out);

/*
 * The consents in force (confirmed and not withdrawn) of the session's person in register
 * `rid`, oldest first, as a JSON array of consents in consent_get's form (*out, owned by the
 * caller), for showing the person their own consents. The read is logged as consent_list
 * logs it, with reason "self_service". A person erased since the link was opened has none.
 * KERR_UNAUTH, KERR_NOTFOUND as selfservice_export.
 */
int selfservice_consents(struct kctx *ctx, const char *session, const char *rid, json_t **out);

/*
 * The marketing bans in force of the session's person in `rid`, as a new array of {channel
 * (email, post, phone, sms or all), since} (*out), logged as a read of the person with
 * reason "self_service"; an empty array for a person erased since the link was opened.
 * KERR_UNAUTH, KERR_NOTFOUND as selfservice_export.
 */
int selfservice_bans(struct kctx *ctx, const char *session, const char *rid, json_t **out);

/*
 * Files a request of type `type` for the session's person in `rid` through channel
 * "self_service" with `details` (may be NULL; borrowed) and verifies it by the link
 * (method email_link, R-05). A marketing ban or a consent withdrawal is fulfilled at once
 * the person asked for it and nobody has to weigh it. Sets *id and *state
 * ("verified" or "fulfilled", static). KERR_UNAUTH, KERR_NOTFOUND as selfservice_export;
 * request_create's errors for a bad type or details.
 */
int selfservice_file(struct kctx *ctx, const char *session, const char *rid, const char *type,
                     json_t *details, int64_t *id, const char **state);

/*
 * Asks for a link (POST /p/me): validates `email`, counts the asking (selfservice_throttle),
 * and when the address is found, makes a link and mails it in `lang` as
 * ctx->app->cfg.public_url + "/p/me/link?t=TOKEN&lang=xx". The mail is sent by a thread of
 * its own, so the answer takes as long whether the address is known or not. Returns 0 in
 * both cases; KERR_INVALID (field "email") for a malformed address, KERR_THROTTLED with
 * *retry_after, KERR_BUSY (field "public_url" or "smtp_url") when self-service or mail is
 * not configured.
 */
int selfservice_begin(struct kctx *ctx, const char *email, const char *client, enum lang lang,
                      int64_t *retry_after);

/*
 * The same single-use links for other owners (core/directory.c: a company editing its
 * listing). selfservice_token_issue stores a new token of kind `kind` with `subjects` (ids
 * only, JSON text), valid `seconds`, and runs `inside(ctx, arg)` (may be NULL; e.g. the
 * usage-log entry) in the same write transaction. selfservice_token_redeem opens link
 * `link` of kind `link_kind` once and starts a token of kind `session_kind` with the same
 * subjects (errors as selfservice_link_open); *subjects is in ctx->mem.
 * selfservice_token_get gives the subjects of a live token (KERR_UNAUTH otherwise).
 */
int selfservice_token_issue(struct kctx *ctx, const char *kind, const char *subjects,
                            int64_t seconds, int (*inside)(struct kctx *, void *), void *arg,
                            char token[SELFSERVICE_TOKEN_LEN + 1]);
int selfservice_token_redeem(struct kctx *ctx, const char *link_kind, const char *link,
                             const char *session_kind, int64_t seconds,
                             char session[SELFSERVICE_TOKEN_LEN + 1], const char **subjects);
int selfservice_token_get(struct kctx *ctx, const char *kind, const char *token,
                          const char **subjects);

/* Mails `text` with `subject` to `to` by a thread of its own (see selfservice_begin). */
int selfservice_mail(struct kctx *ctx, const char *to, const char *subject, const char *text);

/* Waits until the mail threads selfservice_begin started have finished (shutdown, tests). */
void selfservice_mail_drain(void);

#endif
