/*
 * Data-subject requests (GDPR Art. 12 and 15–21; R-02 … R-12): a request is received through
 * a channel, gets its due date from the register's declaration, is verified (who the
 * requester is, R-05) before anything is done, may be extended once by up to two months
 * before its first deadline, may be marked manifestly unfounded or excessive, and ends
 * fulfilled, refused (with reasons and the complaint authority, R-03) or withdrawn. Every
 * step is kept with who and when, and logged in the usage log.
 *
 * Fulfilment does what the type asks, in the same transaction as closing the request:
 * rectification through the normal change path with the request in the change history,
 * erasure of every trace unless a declared basis obliges keeping (Art. 17(3)), restriction,
 * objection, marketing bans, withdrawal of consent.
 */
#ifndef KORTISTO_REQUEST_H
#define KORTISTO_REQUEST_H

#include <jansson.h>
#include <stdint.h>

#include "decl/decl.h"

struct kctx;

enum req_type {
	RT_ACCESS,
	RT_RECTIFICATION,
	RT_ERASURE,
	RT_RESTRICTION,
	RT_PORTABILITY,
	RT_OBJECTION,
	RT_CONSENT_WITHDRAWAL,
	RT_MARKETING_BAN,
	RT__MAX
};

/* Lists request_list() shows. */
enum req_filter {
	RQ_ALL,     /* every request, oldest first */
	RQ_OPEN,    /* not yet fulfilled, refused or withdrawn; most urgent first */
	RQ_OVERDUE, /* open and late or due within 7 days; most urgent first */
	RQ_LATE,    /* open and past the due date; most urgent first */
	RQ__MAX
};

/*
 * The due date of a request received at `received` (ISO 8601 date or time) with deadline
 * `deadline`: calendar months and years clamp to the month's last day (31 January + 1 month
 * = 28 or 29 February), then days are added. Writes YYYY-MM-DD to `out`; returns 0, or -1
 * when `received` is not a date.
 */
int request_due_date(const char *received, struct duration deadline, char out[11]);

/*
 * Records a new request in register `rid` from JSON `in`: {type, channel, received_at?
 * (default now; not in the future), person_id?, subject? {name, email, phone, note: what
 * the requester gave}, details? (type-specific: rectification {changes: {field: value}},
 * marketing_ban {channels: [...]}, objection {scope})}. Sets *id. Errors: KERR_NOTFOUND
 * (register, person), KERR_INVALID naming the field.
 */
int request_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* The request with its steps, the subject's earlier requests in the register, and (once
 * refused) the complaint authority; a new object the caller owns. */
int request_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* Requests of `rid` matching `filter`, a page of `limit` (1–1000; otherwise 100) after
 * `cursor` (a previous page's "next", or NULL): RQ_ALL oldest first, the lists of open
 * requests (RQ_OPEN, RQ_OVERDUE, RQ_LATE) by due date, the most urgent first. Sets *out to
 * {items, next: cursor|null}. KERR_NOTFOUND (register), KERR_INVALID (a cursor of another
 * list). */
int request_list(struct kctx *ctx, const char *rid, enum req_filter filter, const char *cursor,
                 int limit, json_t **out);

/*
 * Records the identity verification: {method: id_document | strong_auth | email_link |
 * registered_contact | in_person, person_id? (matches the subject), note?}. Only a received
 * request can be verified, and only once it names its subject.
 */
int request_verify(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/*
 * Starts the handling of a verified request {note?}: its state becomes in_progress, its
 * handler the acting user, and the step "started" is recorded with who and when.
 * KERR_REFUSED (field "state") while the requester's identity is not verified;
 * KERR_CONFLICT (field "state") when the request is already in progress or closed.
 */
int request_start(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/*
 * Extends the deadline by {months: 1 or 2, reason, subject_told: true} (Art. 12(3)): only
 * before the first deadline, only once, and only when the subject has been told.
 */
int request_extend(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/* Marks an open request {assessment: unfounded | excessive, reason, fee_cents?}. */
int request_mark(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/*
 * Refuses an open request {reason}. *out (may be NULL) is the response: the reasons and
 * the complaint authority of the declaration.
 */
int request_refuse(struct kctx *ctx, const char *rid, int64_t id, json_t *in, json_t **out);

/* Closes an open request as withdrawn by the subject {note?}. */
int request_withdraw(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/*
 * Fulfils a verified request: does what its type asks and closes it. KERR_REFUSED when the
 * identity is not verified or the type cannot be fulfilled here. An erasure that a
 * declared basis forbids (legal obligation, public task) is closed as refused, with what is
 * kept and until when. *out (may be NULL) is the outcome.
 *
 * An access or portability request is answered with the subject's export
 * (core/export.h), which only a manager of the register or the operator may make
 * (KERR_FORBIDDEN for an editor): *out then also has "export", the document. The export is
 * not kept with the request; request_export makes it again. An access export covers the
 * controller's other registers (same Y-tunnus, else same controller name) unless the
 * details say {"registers": "this"}: their persons with the subject's e-mail address or
 * telephone number are exported too, into "other_registers"; one whose register the caller
 * may not export is named with "included": false.
 */
int request_fulfil(struct kctx *ctx, const char *rid, int64_t id, json_t *in, json_t **out);

/* The export that answers fulfilled access or portability request `id`, made again from the
 * data as it is now (and logged as a new export); KERR_CONFLICT for another type or a request
 * not fulfilled. */
int request_export(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* Lifts the restriction a fulfilled restriction or objection request set {note: how the
 * subject was told}; logged as a step of that request. */
int request_lift(struct kctx *ctx, const char *rid, int64_t id, json_t *in);

/* Names of types and filters as the API and command line write them; NULL when unknown. */
const char *request_type_name(enum req_type t);
int request_type_parse(const char *s);   /* -1 when unknown */
int request_filter_parse(const char *s); /* -1 when unknown */

#endif
