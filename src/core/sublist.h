/*
 * Subscription lists (M-03): a register's newsletters people subscribe to themselves on the
 * public page /p/subscribe/{slug}. Subscribing is double opt-in: the form records a pending
 * consent with the list's exact consent text (core/consent.h) and mails a signed
 * confirmation link; only the confirmation makes the consent count and puts the person on
 * the list. Unsubscribing (core/mailing.h) ends every subscription of the person.
 */
#ifndef KORTISTO_SUBLIST_H
#define KORTISTO_SUBLIST_H

#include <jansson.h>
#include <stdint.h>

struct kctx;

/*
 * Creates a list of register `rid` from `in`: slug (the page address, 3–64 of a-z, 0-9, '-',
 * unique across registers), name, purpose (a declared direct-marketing purpose), group (a
 * subject group that has the purpose), source (a declared source), consent_text and
 * consent_version. Sets *id. Returns 0 or KERR_* (KERR_CONFLICT for a slug in use).
 */
int sublist_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* The register's lists with their number of subscribers, {"items": [...]}. */
int sublist_list(struct kctx *ctx, const char *rid, json_t **out);

/* What the public page of list `slug` shows: {name, consent_text, consent_version,
 * register}. No personal data. Returns 0 or KERR_NOTFOUND. */
int sublist_public(struct kctx *ctx, const char *slug, json_t **out);

/*
 * A subscription from the public form of list `slug`: finds the person of the list's
 * register by `email`, or adds them (with the names given, in the list's group, from its
 * source), records a pending consent with the list's text, and mails the confirmation link
 * PUBLIC_URL/p/confirm/TOKEN. Returns 0 also when nothing could be done for a reason the
 * page must not reveal (the address belongs to a restricted or erased person); KERR_INVALID
 * for a bad address or name, KERR_NOTFOUND for an unknown list, or the error of the mail.
 */
int sublist_subscribe(struct kctx *ctx, const char *slug, const char *email, const char *first_name,
                      const char *last_name);

/* Inside the caller's transaction after consent `cid` of `rid` was confirmed: when the
 * consent came from a list's form, puts the person on the list. Returns 0 or KERR_*. */
int sublist_confirmed_tx(struct kctx *ctx, const char *rid, int64_t cid);

#endif
