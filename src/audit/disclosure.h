/*
 * Disclosures of personal data to declared recipients (S-07), never for direct marketing,
 * telemarketing, address services or market research (M-06). A disclosure names a recipient
 * the register declares, the purpose and the legal basis the request rests on, the declared
 * categories given out and the subjects concerned; it is recorded with its subjects and a
 * usage-log entry in one transaction, or refused with nothing written.
 */
#ifndef KORTISTO_DISCLOSURE_H
#define KORTISTO_DISCLOSURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;

/* Purposes no register may disclose for, whatever its declaration says (M-06). */
extern const char *const disclosure_forbidden_purposes[];

struct disclosure_in {
	const char *recipient;         /* declared recipient id */
	const char *purpose;           /* what the recipient will use the data for */
	const char *legal_basis;       /* e.g. "julkisuuslaki 621/1999 13 §" */
	const char *const *categories; /* declared category ids given out */
	size_t ncategories;
	const int64_t *subjects; /* person ids of the register */
	size_t nsubjects;
	const char *reference; /* the recipient's reference for its request, or NULL */
};

/*
 * Records a disclosure from register `rid` and sets *id. Refused (KERR_REFUSED, with the
 * field) when the recipient is not declared or is a processor or internal system; the
 * purpose is one of disclosure_forbidden_purposes, forbidden by the declaration, a declared
 * direct-marketing purpose, or not among the recipient's purposes when it lists any; the
 * legal basis is empty or, when the declaration lists legal references, not one of them
 * (compared whole, ignoring case; the declared spelling is stored); a category is not
 * declared or not among the recipient's categories when it lists any; there are no subjects,
 * or a subject is not a person of the register or is restricted. KERR_NOTFOUND for an
 * unknown register, KERR_INVALID for malformed input. Writes nothing unless it succeeds.
 */
int disclosure_record(struct kctx *ctx, const char *rid, const struct disclosure_in *in,
                      int64_t *id);

/*
 * Reads a disclosure from a JSON object with the members recipient, purpose, legal_basis,
 * categories (array of ids), subjects (array of person ids) and reference (optional); any
 * other member is refused (KERR_INVALID with its name). Strings are borrowed from `body`,
 * arrays allocated in ctx->mem. Returns 0 or KERR_INVALID.
 */
int disclosure_from_json(struct kctx *ctx, json_t *body, struct disclosure_in *in);

/* Disclosure `id` of register `rid` as it was stored (the declared spelling of the legal
 * basis, each subject once), in the form disclosure_list gives; for the answer to the one who
 * just recorded it, so it is not a read of its own in the usage log. KERR_NOTFOUND when
 * there is none. */
int disclosure_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/*
 * Lists the disclosures of register `rid` (only those concerning person `subject` when it is
 * not 0), newest first: *out = {items: [{id, recipient, purpose, legal_basis, categories,
 * subjects, reference, at, actor}], next: cursor|null} (caller decrefs). The listing is
 * logged with the subjects it shows. Errors: KERR_NOTFOUND (register), KERR_INVALID (cursor).
 */
int disclosure_list(struct kctx *ctx, const char *rid, int64_t subject, const char *cursor,
                    int limit, json_t **out);

#endif
