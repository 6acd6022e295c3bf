/*
 * Persons: the data subjects of a register. Each person belongs to one register, one
 * declared subject group (which gives the legal basis), and holds only declared fields:
 * names and henkilötunnus in the person row (the code encrypted), contact points with their
 * provenance, and the other declared attributes. Every change leaves history and a
 * usage-log entry in its own transaction.
 */
#ifndef KORTISTO_PERSON_H
#define KORTISTO_PERSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

struct kctx;

enum person_flags {
	PERSON_REVEAL_SENSITIVE = 1 << 0, /* show the henkilötunnus and other sensitive fields
					     in full (needs the right) */
	PERSON_HISTORY = 1 << 1,          /* include the change history */
};

/*
 * Creates a person in register `rid` from JSON object `in`:
 * {subject_group, source, first_name, last_name, email, phone, hetu, …declared fields…,
 *  attributes: {…declared fields…}, last_customer_event, reason}.
 * Returns 0 and *id, or KERR_NOTFOUND (register), KERR_INVALID (bad value, named),
 * KERR_REFUSED (undeclared field), KERR_CONFLICT (henkilötunnus already in the register).
 */
int person_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* As person_create, inside a write transaction the caller holds (for imports). */
int person_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* Appends person `id` as a JSON object to `out`: fields, contact points with provenance,
 * affiliations, and with PERSON_HISTORY the change history. Sensitive values are masked
 * unless PERSON_REVEAL_SENSITIVE is given and the actor has the right (else KERR_FORBIDDEN).
 * On error `out` is left as it was. This is the fast path of GET person. */
int person_view(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, struct buf *out);

/* As person_view, as a new JSON object the caller owns. */
int person_get(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, json_t **out);

/*
 * For the data subject's own copy (core/export.c) only: the henkilötunnus of person `id` of
 * `rid` in full (*hetu in ctx->mem, NULL when none) and every attribute with the sensitive
 * ones opened (*attrs, a new object the caller decrefs). Read inside the caller's transaction. Checks no right and writes no
 * usage-log entry: the caller does both. KERR_NOTFOUND (field "id") when there is no such
 * person, KERR_INTERNAL when a sealed value cannot be opened.
 */
int person_unsealed(struct kctx *ctx, const char *rid, int64_t id, const char **hetu,
                    json_t **attrs);

/* Applies JSON merge patch `patch` (null removes a value) to person `id`. */
int person_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch);
int person_update_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch, bool *changed);

/* Deletes person `id` and every trace of them in the register (contact points,
 * affiliations, search index, change history); refused (KERR_REFUSED) for a restricted
 * person below manager and while a legal hold stands, as person_erase_tx. */
int person_delete(struct kctx *ctx, const char *rid, int64_t id);

/* What retention needs to know of a person, loaded inside the caller's transaction: the
 * subject group, every attribute (sensitive ones unsealed; the caller owns `attrs` and
 * json_decref()s it), e-mail address and phone number (NULL when none). Strings live in
 * ctx->mem. */
struct person_facts {
	const char *group, *email, *phone;
	json_t *attrs;
};

/* Fills *out for person `id` of `rid`; KERR_NOTFOUND when there is none. Logs nothing: the
 * caller (core/retention.c) logs what it does with the person. */
int person_facts_load(struct kctx *ctx, const char *rid, int64_t id, struct person_facts *out);

/* Appends person `id` in full (sensitive fields revealed, contact points, affiliations and
 * change history) to `out`, for an archive package. Logs nothing: the caller logs the
 * archiving. On error `out` is left as it was. */
int person_archive_view(struct kctx *ctx, const char *rid, int64_t id, struct buf *out);

/* Since when person `id` of `rid` is on legal hold (core/retention.h): *since is the hold's
 * time (ctx->mem), or NULL when no hold stands. Inside the caller's transaction. */
int person_held(struct kctx *ctx, const char *rid, int64_t id, const char **since);

/* Removes person `id` and every trace of them in the register (contact points,
 * affiliations and their history, records, search index entry, change history, released
 * legal holds) inside the caller's write transaction, and logs usage-log action `action`
 * ("delete", "anonymize", "passivate") with `reason` (a rule id, or NULL). KERR_NOTFOUND
 * when there is no such person, KERR_REFUSED (field "id") while a legal hold stands: no path
 * erases a held person. */
int person_erase_tx(struct kctx *ctx, const char *rid, int64_t id, const char *action,
                    const char *reason);

/* KERR_REFUSED (naming `field`) when person `id` is restricted or passivated and the
 * caller is below manager (!ctx->sees_restricted); 0 for an active or unknown person. A
 * rectification request is fulfilled through person_update_tx, whoever fulfils it. */
int person_use_allowed(struct kctx *ctx, const char *rid, int64_t id, const char *field);

/*
 * Finds persons of `rid`: by full-text query `q` (prefix match on names and e-mail, case and
 * diacritics ignored), by exact henkilötunnus `hetu`, or all when both are NULL. `cursor`
 * is the opaque value of a previous page's "next" (or NULL); `limit` is capped by the
 * configuration. *out = {items: [...], next: cursor|null}.
 */
int person_find(struct kctx *ctx, const char *rid, const char *q, const char *hetu,
                const char *cursor, int limit, json_t **out);

/* As person_find, appending the page as JSON to `out` (the fast path of the API); on error
 * `out` is left as it was. */
int person_find_view(struct kctx *ctx, const char *rid, const char *q, const char *hetu,
                     const char *cursor, int limit, struct buf *out);

/* Looks up a person of `rid` by a normalised contact point (kind "email" or "phone");
 * *id = 0 when none. Inside the caller's transaction. */
int person_find_contact(struct kctx *ctx, const char *rid, const char *kind, const char *value,
                        int64_t *id);

/* Page cursors, shared by every list: encode an id / decode (0 on a bad cursor → error). */
const char *cursor_encode(struct kctx *ctx, int64_t id);
int cursor_decode(struct kctx *ctx, const char *cursor, int64_t *id);
int page_limit(struct kctx *ctx, int limit);

#endif
