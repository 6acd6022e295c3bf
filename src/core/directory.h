/*
 * The public company and service directory (F-05): organisations of a register whose
 * declaration publishes to the directory (a recipient with id "company_directory") can be
 * listed, with a description, field of business, municipality and the contact channels the
 * company chose. Listing is the company's choice and off by default. Staff set the registered
 * contact address of a listing; the company edits its listing through a single-use link
 * mailed there (the link tokens of core/selfservice.h). Every change goes to the change
 * history and the usage log. The directory never shows anything about a person.
 */
#ifndef KORTISTO_DIRECTORY_H
#define KORTISTO_DIRECTORY_H

#include <jansson.h>
#include <stdint.h>

#include "decl/decl.h"

struct kctx;

/* The recipient id a declaration must have for its organisations to be listed. */
#define DIRECTORY_RECIPIENT DECL_DIRECTORY_RECIPIENT

/*
 * Listed organisations whose name, field of business and municipality contain `name`,
 * `field` and `municipality` (each may be NULL or empty: any; case is ignored for ASCII), by
 * name: {items: [{register, id, name, ytunnus, description, field_of_business,
 * municipality, website?, address? {street, postal_code, city}, email?, phone?}],
 * truncated}. At most 200 items. Public data only; logs nothing.
 */
int directory_search(struct kctx *ctx, const char *name, const char *field,
                     const char *municipality, json_t **out);

/*
 * The listing of organisation `org_id` of `rid` (*out, owned by the caller): {register,
 * organisation: {id, name}, listed, description, field_of_business, municipality,
 * show_website, show_address, public_email, public_phone, contact_email, updated_at,
 * updated_by}; an organisation without a listing gives the defaults (not listed). Staff
 * (the operator, an editor or manager of `rid`) or the company's own directory session.
 * KERR_NOTFOUND (register, organisation), KERR_FORBIDDEN.
 */
int directory_get(struct kctx *ctx, const char *rid, int64_t org_id, json_t **out);

/*
 * Changes the listing by `patch` (borrowed): listed, show_website, show_address (booleans),
 * description (≤ 1000 characters), field_of_business, municipality (≤ 100), public_email,
 * public_phone (the company's own channels, validated; null removes), and, for staff only,
 * contact_email. Each changed value is written to the change history (entity
 * "organisation", field "directory.KEY") and the usage log ("update", reason "directory").
 * KERR_REFUSED when the register's declaration does not publish to the directory,
 * KERR_INVALID naming the key, KERR_FORBIDDEN as directory_get (and for contact_email by the
 * company).
 */
int directory_set(struct kctx *ctx, const char *rid, int64_t org_id, json_t *patch);

/*
 * A company asks for an editing link (POST /p/directory/edit): when `email` is the contact
 * address of listings, a single-use link valid 15 minutes is mailed to it for each
 * (public_url + "/p/directory/edit/link?t=TOKEN&lang=L"); the answer is the same either
 * way, and asking is rate limited as selfservice_begin. Errors as selfservice_begin.
 */
int directory_begin(struct kctx *ctx, const char *email, const char *client, enum lang lang,
                    int64_t *retry_after);

/* Opens an editing link once and starts a 30-minute session of its listing; errors as
 * selfservice_link_open. */
int directory_link_open(struct kctx *ctx, const char *link, char session[44]);

/*
 * directory_get and directory_set for the company itself, through its live directory
 * session `session` (the listing its link was mailed for, and no other), acting as the
 * self-service actor. KERR_UNAUTH when there is no such session.
 */
int directory_own_get(struct kctx *ctx, const char *session, json_t **out);
int directory_own_set(struct kctx *ctx, const char *session, json_t *patch);

#endif
