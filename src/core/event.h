/*
 * Events (E-01, E-06): own and co-organised events, physical or virtual, with sessions
 * (programme parts); registrations of persons of the register with their consent choices,
 * attendance per session, and meetings arranged between participants. Participation is a
 * customer event where the declaration names its record type (event_registration,
 * session_attendance, event_meeting): the record is written in the same transaction as the
 * participation. Sharing the registrations with the co-organiser is a disclosure to a
 * declared recipient, recorded and logged by audit/disclosure.c.
 *
 * Who may call what is in the route table and the CLI (editors create and record, viewers
 * read, managers share); here every call checks the declaration and the subjects' state.
 */
#ifndef KORTISTO_EVENT_H
#define KORTISTO_EVENT_H

#include <jansson.h>
#include <stdint.h>

#include "util/buf.h"

struct kctx;

/* The consent choices a registration may record, each true or false (NULL-terminated). */
extern const char *const event_consent_flags[];

/*
 * Creates an event of register `rid` from JSON object `in`: {title, format ("physical" |
 * "virtual"), starts_at, ends_at (RFC 3339 times, stored in UTC), place, url, co_organiser,
 * sessions: [{title, starts_at, ends_at, place, url}]}; title, format and the times are
 * required. Sessions lie within the event's time. Sets *id. KERR_NOTFOUND (register),
 * KERR_INVALID (bad or undeclared member, named), KERR_REFUSED (field "co_organiser": not a
 * recipient the register declares, or a processor or internal system).
 */
int event_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* Adds a session {title, starts_at, ends_at, place, url} to event `event_id`; sets *sid
 * (may be NULL). KERR_NOTFOUND (event), KERR_INVALID. */
int event_session_add(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in,
                      int64_t *sid);

/*
 * Event `id` as a new JSON object the caller owns: the event, its sessions, and (personal
 * data, logged as a read with the persons shown) registrations [{person_id, registered_on,
 * consents}], attendance [{session_id, person_id}] and meetings [{id, starts_at, ends_at,
 * place, parties}]. Restricted and passivated persons are left out unless ctx->sees_restricted
 * . KERR_NOTFOUND.
 */
int event_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* The events of `rid` starting on day `from` (YYYY-MM-DD, NULL: all) or later, in time order:
 * *out = {items: [event without sessions], next: cursor|null}, caller owns. No personal data.
 * KERR_NOTFOUND (register), KERR_INVALID (from, cursor). */
int event_list(struct kctx *ctx, const char *rid, const char *from, const char *cursor, int limit,
               json_t **out);

/*
 * Registers person {person_id} for event `event_id` with {registered_on (YYYY-MM-DD, not in
 * the future; default today), consents: {flag: bool}} (flags from event_consent_flags). When
 * the register declares record type event_registration, a customer event of that type on the
 * registration day is recorded in the same transaction. KERR_NOTFOUND (event, person),
 * KERR_REFUSED (person restricted or passivated: R-09; a record type's rule), KERR_CONFLICT
 * (already registered), KERR_INVALID.
 */
int event_register(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in);

/*
 * Records that person {person_id} attended session {session_id} of event `event_id`; the
 * customer event (session_attendance, where declared) falls on the session's day, which must
 * not be in the future. Errors as event_register (KERR_INVALID for a session not yet begun).
 */
int event_attend(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in);

/*
 * Arranges a meeting at event `event_id`: {parties: [2–20 person ids, each registered for the
 * event], starts_at, ends_at, place}. Each party gets an event_meeting customer event where
 * declared, on the meeting's day or today, whichever is earlier. Sets *mid (may be NULL).
 * KERR_REFUSED (field "parties": a party not registered, restricted or passivated), others as
 * event_register.
 */
int event_meeting(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in, int64_t *mid);

/*
 * Shares the registrations of event `event_id` with its co-organiser (E-06): a disclosure to
 * the declared recipient named by the event's co_organiser, with {purpose, legal_basis,
 * categories, reference (default "event:ID")} as disclosure_record() checks them. Only
 * registrants who chose share_with_co_organiser and whose processing is not restricted are
 * given out. *out (caller owns) = {disclosure, recipient, subjects, withheld}. KERR_REFUSED
 * (field "co_organiser": the event has none, or it is no longer a declared recipient; field
 * "subjects": nobody to share), and the errors of disclosure_record().
 */
int event_share(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in, json_t **out);

/* Appends event `event_id` and its sessions to `out` as an iCalendar object (RFC 5545): one
 * VEVENT for the event and one per session, times in UTC. No personal data. KERR_NOTFOUND. */
int event_ics(struct kctx *ctx, const char *rid, int64_t event_id, struct buf *out);

#endif
