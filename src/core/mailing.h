/*
 * Mailings (M-03 … M-05) and the rule of who may receive marketing e-mail (Information Society
 * Code 917/2014 §200, docs/marketing.md): a natural person only with a prior, unwithdrawn
 * e-mail consent for the mailing's purpose; a contact person of an organisation (a subject
 * group of kind organisation_contact on a basis other than consent) only while they have an
 * active affiliation; nobody who is banned (email or all), restricted, passivated, suppressed
 * or without an e-mail address. The rule is applied when the audience is resolved and again
 * for each recipient just before their message is sent.
 *
 * Sending is at most once: each recipient row is marked 'sending' in a committed transaction
 * before the message goes to the SMTP server and 'sent' after, and a row found 'sending' when
 * a send resumes becomes 'unknown' and is not sent again.
 */
#ifndef KORTISTO_MAILING_H
#define KORTISTO_MAILING_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;
struct keys;

/* ---------------------------------------------------------------- signed links */

enum mlink_kind { MLINK_UNSUBSCRIBE = 'u', MLINK_OPEN = 'o', MLINK_CONFIRM = 'c' };

#define MLINK_MAX 64 /* a token's length with its NUL */

/* Writes the token of `kind` for `id` (a recipient row, or a consent for MLINK_CONFIRM): the
 * id and kind, and a crypto_auth tag under a key derived from the data directory's key, in
 * base64url (no padding). */
void mlink_make(const struct keys *k, enum mlink_kind kind, int64_t id, char out[MLINK_MAX]);

/* Checks `token` in constant time; sets *id. Returns false for anything but a valid token of
 * `kind`. */
bool mlink_open(const struct keys *k, enum mlink_kind kind, const char *token, int64_t *id);

/* ---------------------------------------------------------------- mailings */

/*
 * Creates a draft mailing of register `rid` from `in`: purpose (a declared direct-marketing
 * purpose), subject, text (plain-text body), optionally html, from, from_name, track_opens
 * (bool; needs record type newsletter_open in the declaration) and audience ({"lists": [ids],
 * "segment": {"groups": [...], "organisation_id": N, "attributes": {"field": "value"},
 * "events": {"event_ids": [ids], "attended": bool}}}; the segment's filters combine, and
 * events selects persons whose registration for one of the register's events stands, with
 * attended: true only those who attended a session of it). Placeholders {{first_name}},
 * {{last_name}}, {{organisation}} are checked: any other is KERR_INVALID naming it, as is an
 * event id the register does not have ("audience.segment.events.event_ids[i]"). Sets *id.
 * Returns 0 or KERR_*.
 */
int mailing_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* The mailing with its recipients' states counted and its opens, in *out (caller decrefs). */
int mailing_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* The register's mailings as {"items": [...]} in *out. */
int mailing_list(struct kctx *ctx, const char *rid, json_t **out);

/*
 * Resolves the audience of mailing `id` now without sending: {"recipients": n, "excluded":
 * {"not_selected": n, "passivated": n, "restricted": n, "banned": n, "no_consent": n,
 * "no_active_role": n, "purpose_not_declared": n, "no_email": n}, "sample": {subject, text,
 * html}} (the sample is rendered with example values, never a person's data).
 */
int mailing_preview(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* How a send runs. */
struct mailing_send_opts {
	double rate;      /* messages per second; 0 = as fast as the server takes them */
	int max_attempts; /* tries of a recipient the server defers (4xx); 0 = 5 */
	int backoff_ms;   /* first wait after a deferral, doubled each time; 0 = 1000 */
	/* NULL, or set (by another thread) to stop after the message in progress: the rows left
	 * pending are sent by the next send of the mailing. */
	const atomic_bool *stop;
};

/*
 * Sends mailing `id` (a manager's step): resolves and records the recipients when it is a
 * draft, then sends to each pending recipient through the configured SMTP server, re-checking
 * the rule for each just before. Resuming a send that was interrupted marks the rows it left
 * 'sending' as 'unknown' (at most once). Needs smtp_url and public_url. It is
 * mailing_send_start() and then mailing_send_run(). Returns 0 and the mailing as mailing_get()
 * gives it in *out (may be NULL), or KERR_*.
 */
int mailing_send(struct kctx *ctx, const char *rid, int64_t id, const struct mailing_send_opts *o,
                 json_t **out);

/*
 * The quick first part of mailing_send(), what the API does in the request: checks public_url,
 * the sender and smtp_url, refuses a mailing already sent (KERR_CONFLICT), and when the mailing
 * is a draft resolves and records its recipients (state draft → sending) in one transaction.
 * A mailing already 'sending' is left as it is, to be resumed. Returns 0 or KERR_*.
 */
int mailing_send_start(struct kctx *ctx, const char *rid, int64_t id);

/*
 * The second part of mailing_send(): sends to each pending recipient of mailing `id`, which
 * must be 'sending' (else KERR_CONFLICT), after marking the rows an interrupted send left
 * 'sending' as 'unknown'. When o->stop is set it returns 0 after the message in progress with
 * the mailing still 'sending'. Returns 0 and the mailing as mailing_get() gives it in *out
 * (may be NULL), or KERR_*.
 */
int mailing_send_run(struct kctx *ctx, const char *rid, int64_t id,
                     const struct mailing_send_opts *o, json_t **out);

/* The mailings of every register in state 'sending' (left by a stopped server), the oldest
 * first, as [{"register": rid, "id": n}] in *out (caller decrefs). Returns 0 or KERR_*. */
int mailing_sending(struct kctx *ctx, json_t **out);

/* The recipients of mailing `id` with their state (person ids only), {"items": [...]}. */
int mailing_recipients(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* ---------------------------------------------------------------- the public links */

/* Checks an unsubscribe token without acting on it (the confirm page). Returns 0 or
 * KERR_NOTFOUND. */
int mailing_unsubscribe_check(struct kctx *ctx, const char *token);

/*
 * Acts on an unsubscribe token at once: bans the recipient's e-mail marketing in the
 * register (source "unsubscribe:mailing:N"), withdraws their e-mail consents and ends their
 * subscriptions, and writes the usage-log entry, in one transaction. Unsubscribing twice is
 * not an error. Returns 0 or KERR_NOTFOUND for a token that is not valid.
 */
int mailing_unsubscribe(struct kctx *ctx, const char *token);

/* Logs one open of the message a pixel token names, when its mailing tracks opens (M-04): a
 * newsletter_open record of the person (so retention rules over the type delete it) and the
 * open row pointing at it, with one usage-log entry, in one transaction. Returns 0 (also when
 * opens are not tracked, or the declaration no longer keeps them for the person) or
 * KERR_NOTFOUND for a token not valid. */
int mailing_open_hit(struct kctx *ctx, const char *token);

#endif
