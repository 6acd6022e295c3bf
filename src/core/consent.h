/*
 * Consents (M-01, R-12): a subject's consent for one declared purpose on one channel, with the
 * exact text shown, its version, when, and through what it was given (a public form, a staff
 * user, an import, an e-mail), and its withdrawal. A consent given through a public form is
 * pending until the subject follows the signed confirmation link (double opt-in); a pending
 * consent never counts and stops being confirmable after CONSENT_CONFIRM_DAYS. Withdrawal
 * takes effect in the same transaction: the next audience resolution no longer sees it.
 */
#ifndef KORTISTO_CONSENT_H
#define KORTISTO_CONSENT_H

#include <jansson.h>
#include <stdint.h>

struct kctx;

#define CONSENT_CONFIRM_DAYS 7

/* The channels of direct marketing a consent or a marketing ban names: email, post, phone,
 * sms, then NULL. A ban may also name "all". */
extern const char *const consent_channels[];

/*
 * Records a consent of person `pid` of register `rid` from `in`: purpose (a purpose the
 * declaration gives the person's subject group), channel (email, post, phone, sms), text and
 * text_version (required), and optionally source (staff — the default —, form, import or
 * email), form (a form or list id) and double_opt_in (true: pending until confirmed; the
 * default for source form). The actor is recorded as source_user, ctx->client as
 * source_client. Writes the usage-log entry in the same transaction. Sets *id; when the
 * consent is pending and `token` is not NULL, writes the confirmation token (NUL-terminated,
 * at most CONSENT_TOKEN_MAX bytes) there. Returns 0 or KERR_* (KERR_NOTFOUND for an unknown
 * person, KERR_REFUSED for an undeclared purpose, KERR_INVALID naming the field).
 */
#define CONSENT_TOKEN_MAX 64
int consent_give(struct kctx *ctx, const char *rid, int64_t pid, json_t *in, int64_t *id,
                 char *token);

/*
 * Mails the double opt-in link PUBLIC_URL/p/confirm/TOKEN to `to`: `lead` (the request, in
 * fi / sv / en) and the link, then `title` and `text` (what is consented to), then the note
 * that the message can be ignored; `title` is also the subject. Outside any transaction,
 * after the consent is committed. KERR_INVALID when public_url, smtp_url or mail_from is not
 * set, else the mailer's error.
 */
int consent_mail_link(struct kctx *ctx, const char *to, const char *lead, const char *title,
                      const char *text, const char *token);

/*
 * The confirmation mail of pending consent `id` of `rid` whose token consent_give() wrote:
 * to the e-mail address of the consent's person, with the consent's text. KERR_REFUSED
 * (field "email") when the person has no e-mail address, else as consent_mail_link().
 */
int consent_mail_confirmation(struct kctx *ctx, const char *rid, int64_t id, const char *token);

/* As consent_give() inside the caller's write transaction. */
int consent_give_tx(struct kctx *ctx, const char *rid, int64_t pid, json_t *in, int64_t *id,
                    char *token);

/* The consents of person `pid`, oldest first, as {"items": [...]} in *out (caller decrefs);
 * each item says whether it counts now ("active"). Logs the read. Returns 0 or KERR_*. */
int consent_list(struct kctx *ctx, const char *rid, int64_t pid, json_t **out);

/* As consent_list(), logging the read with `reason` (a code such as "self_service", never
 * free text; may be NULL). */
int consent_list_reason(struct kctx *ctx, const char *rid, int64_t pid, const char *reason,
                        json_t **out);

/* One consent as JSON in *out (caller decrefs). Returns 0 or KERR_NOTFOUND. */
int consent_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/*
 * Withdraws consent `id` at once: `in` may give how (staff, email, written, phone,
 * unsubscribe, in_person; default staff). When it was an e-mail consent and no other e-mail
 * consent of the person for the same purpose still counts, their subscriptions to lists of
 * that purpose end with it (ended_how = how). Withdrawing one already withdrawn is KERR_CONFLICT.
 * Writes the usage-log entry in the same transaction. Returns 0 or KERR_*.
 */
int consent_withdraw(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/*
 * R-12, inside the caller's write transaction: withdraws every consent of person `pid` for
 * the purposes in JSON array `purposes` (NULL or empty: every purpose), pending ones too,
 * recording `how` (e.g. "request:12") and the actor, and ends the person's subscriptions to
 * lists of those purposes. Writes one usage-log entry (consent_withdraw, entity person) when
 * anything was withdrawn or ended. Sets *withdrawn to the number of consents withdrawn and
 * *remaining to the number that still count. Returns 0 or KERR_*.
 */
int consent_withdraw_person_tx(struct kctx *ctx, const char *rid, int64_t pid, json_t *purposes,
                               const char *how, int *withdrawn, int *remaining);

/*
 * Confirms the pending consent a confirmation token names (the link of the double opt-in
 * mail). Sets *rid_out (arena) and *id. Returns 0, KERR_NOTFOUND for a token that is not
 * valid, or KERR_REFUSED when the consent expired, was withdrawn or is already confirmed.
 */
int consent_confirm(struct kctx *ctx, const char *token, const char **rid_out, int64_t *id);

#endif
