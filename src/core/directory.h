/*
 * The public company and service directory (F-05): organisations of a register whose
 * declaration publishes to the directory (a recipient with id "company_directory") can be
 * listed, with a description, field of business, municipality and the contact channels the
 * company chose. Listing is the company's choice and off by default. Staff set the registered
 * contact address of a listing; the company edits its listing through a single-use link
 * mailed there (the link tokens of core/selfservice.h). Every change goes to the change
 * history and the usage log. Nothing about a person appears in the directory unless the
 * company publishes that person's role and the declaration allows it (contact_persons on
 * the recipient): then the name and title of the contact persons the company chose are
 * shown while the affiliation is current and the person neither restricted nor passivated.
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
 * municipality, website?, address? {street, postal_code, city}, email?, phone?,
 * contacts? [{name, title?}]}], truncated}. At most 200 items. contacts are the published
 * contact persons shown now (a current affiliation, an active person), only where the
 * declaration allows contact persons, at most 100 per organisation. Public data, published
 * by the company's choice; logs nothing.
 */
int directory_search(struct kctx *ctx, const char *name, const char *field,
                     const char *municipality, json_t **out);

/*
 * The listing of organisation `org_id` of `rid` (*out, owned by the caller): {register,
 * organisation: {id, name}, listed, description, field_of_business, municipality,
 * show_website, show_address, public_email, public_phone, contact_email, updated_at,
 * updated_by, contacts?}; an organisation without a listing gives the defaults (not
 * listed). Where the declaration allows contact persons, contacts lists the current
 * affiliations of the organisation's active persons to choose from, [{affiliation_id,
 * person_id, name, title, published}] by name (at most 500); showing them is logged as a
 * read naming those persons. Staff (the operator, an editor or manager of `rid`) or the
 * company's own directory session. KERR_NOTFOUND (register, organisation), KERR_FORBIDDEN.
 */
int directory_get(struct kctx *ctx, const char *rid, int64_t org_id, json_t **out);

/*
 * Changes the listing by `patch` (borrowed): listed, show_website, show_address (booleans),
 * description (≤ 1000 characters), field_of_business, municipality (≤ 100), public_email,
 * public_phone (the company's own channels, validated; null removes), for staff only,
 * contact_email, and contacts: the affiliation ids (at most 100) whose persons are
 * published, replacing the published set; each must be a current affiliation (no end date,
 * or one after today) of this organisation of an active person. Each changed value is
 * written to the change history (entity "organisation", field "directory.KEY"; for contacts
 * the ids, "1,5", never names) and the usage log ("update", reason "directory"; for
 * contacts naming the persons added and removed). KERR_REFUSED when the register's
 * declaration does not publish to the directory, or for contacts when it does not allow
 * contact persons (field "contacts"); KERR_INVALID naming the key ("contacts[i]" for a bad
 * id); KERR_FORBIDDEN as directory_get (and for contact_email by the company).
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
