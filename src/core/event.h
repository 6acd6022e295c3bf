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
 * sessions: [{title, starts_at, ends_at, place, url}], registration}; title, format and the
 * times are required. Sessions lie within the event's time. `registration` opens the public
 * page /p/events/{id}: {group (the subject group new participants are added in), source (a
 * declared source of kind subject), newsletter: {purpose (a direct-marketing purpose of the
 * group), text, text_version}} (newsletter optional). Sets *id. KERR_NOTFOUND (register),
 * KERR_INVALID (bad or undeclared member, named), KERR_REFUSED (field "co_organiser": not a
 * recipient the register declares, or a processor or internal system; "registration.group",
 * "registration.source", "registration.newsletter.purpose": not declared as needed).
 */
int event_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id);

/* Adds a session {title, starts_at, ends_at, place, url} to event `event_id`; sets *sid
 * (may be NULL). KERR_NOTFOUND (event), KERR_INVALID. */
int event_session_add(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in,
                      int64_t *sid);

/* event_get() flags. */
#define EVENT_GET_CHAT 1u /* include the chat messages (for editors and managers) */

/*
 * Event `id` as a new JSON object the caller owns: the event, its sessions, and (personal
 * data, logged as a read with the persons shown) registrations [{person_id, registered_on,
 * consents}] that stand, attendance [{session_id, person_id}], meetings [{id, starts_at,
 * ends_at, place, parties}], cancellations [{person_id, registered_on, cancelled_at,
 * cancelled_by}] (cancelled and not renewed, in the order cancelled) and, with
 * EVENT_GET_CHAT, chat [{id, session_id, person_id, at, text}].
 * Restricted and passivated persons are left out unless ctx->sees_restricted.
 * KERR_NOTFOUND.
 */
int event_get(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, json_t **out);

/*
 * The participant list of event `id` (E-01): the persons whose registration stands and who
 * chose participant_list, and who are neither restricted nor passivated (whatever the
 * caller's role: the list is for the other participants), by last and first name:
 * *out = {event: {id, title}, items: [{first_name, last_name, organisation?, title?}]},
 * organisation and title from the person's first affiliation open today. Logged as a read of
 * the event naming the persons listed, reason "participant_list". KERR_NOTFOUND.
 */
int event_participant_list(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* The events of `rid` starting on day `from` (YYYY-MM-DD, NULL: all) or later, in time order:
 * *out = {items: [event without sessions], next: cursor|null}, caller owns. No personal data.
 * KERR_NOTFOUND (register), KERR_INVALID (from, cursor). */
int event_list(struct kctx *ctx, const char *rid, const char *from, const char *cursor, int limit,
               json_t **out);

/*
 * Registers person {person_id} for event `event_id` with {registered_on (YYYY-MM-DD, not in
 * the future; default today), consents: {flag: bool}} (flags from event_consent_flags). When
 * the register declares record type event_registration, a customer event of that type on the
 * registration day is recorded in the same transaction; a cancelled registration is
 * reinstated. KERR_NOTFOUND (event, person),
 * KERR_REFUSED (person restricted or passivated: R-09; a record type's rule), KERR_CONFLICT
 * (already registered), KERR_INVALID.
 */
int event_register(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in);

/*
 * Cancels the registration of person `person_id` for event `event_id`. The registration is
 * kept with its cancellation time (it stays in the person's access export) but is no
 * participation: event_get() lists it under cancellations, event_share() leaves it out, the person's attendance
 * and meetings at the event are refused, and chat messages are no longer matched to them.
 * Registering again clears the cancellation. Logged as a "cancel" of the registration.
 * KERR_NOTFOUND (event, person, or no registration), KERR_REFUSED (person restricted or
 * passivated: R-09), KERR_CONFLICT (already cancelled).
 */
int event_cancel(struct kctx *ctx, const char *rid, int64_t event_id, int64_t person_id);

/*
 * Records that person {person_id} attended session {session_id} of event `event_id`; the
 * customer event (session_attendance, where declared) falls on the session's day, which must
 * not be in the future. Errors as event_register (KERR_INVALID for a session not yet begun;
 * KERR_REFUSED for a person whose registration for the event is cancelled).
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

/* Most chat messages one import takes, and bytes of one message's text. */
#define EVENT_CHAT_MAX      5000
#define EVENT_CHAT_TEXT_MAX 4000

/*
 * Imports the public chat of session `sid` of event `event_id` (E-01): {messages: [{at (RFC
 * 3339, not in the future), author_email or person_id, text}]}. The session must be virtual
 * (the event's format is virtual, or the session has a url), and the register must declare
 * record type chat_message: chat is kept only as that declared data (else KERR_REFUSED,
 * field "messages"). A message whose author is a registered participant of the event — the
 * person named, or the person whose e-mail is the one given — is stored tied to that person
 * with a chat_message record; anyone else's message is counted as unmatched and not stored,
 * and a restricted or passivated participant's as withheld. A message already stored
 * is counted as a duplicate. All in one transaction with its usage-log entry. *out (caller
 * owns) = {stored, unmatched, withheld, duplicates}. KERR_NOTFOUND (event, session),
 * KERR_INVALID (named; "messages[N].at" style fields say which message).
 */
int event_chat_import(struct kctx *ctx, const char *rid, int64_t event_id, int64_t sid, json_t *in,
                      json_t **out);

/*
 * What the public registration page of event `id` shows, from any register: {id, register,
 * title, format, starts_at, ends_at, place, url, sessions, co_organiser (bool), organisation
 * (whether the form asks for it: the group has the field), newsletter: {text, text_version}
 * or null}. No personal data. KERR_NOTFOUND when there is no such event, it takes no public
 * registrations, it has ended, or its register is no longer loaded.
 */
int event_public(struct kctx *ctx, int64_t id, json_t **out);

/* What a public registration did; the page answers the same for all of them. */
enum event_pub_outcome {
	EVENT_PUB_REGISTERED, /* registered (a new or a known person) */
	EVENT_PUB_ALREADY,    /* the person was already registered */
	EVENT_PUB_SKIPPED,    /* a restricted or passivated person: nothing recorded */
	EVENT_PUB_SUPPRESSED, /* an erased person's identifier: not added, counted */
	EVENT_PUB__MAX
};

/*
 * A registration from the public page of event `id`: {first_name, last_name, email,
 * organisation (only where the page asks for it), consents: {flag: bool}}. Finds the person
 * of the register by e-mail, or adds them in the event's group from its source, and registers
 * them with their choices; a newsletter choice also gives a pending consent (source form,
 * double opt-in, form "event:ID") whose confirmation link is mailed after the commit when
 * mail and public_url are configured. Returns 0 also when nothing could be done for a reason
 * the page must not reveal; *outcome (may be NULL) says which. An identifier on the
 * suppression list is never added again: the skip is counted in the usage log without
 * subjects. KERR_NOTFOUND (as event_public), KERR_INVALID (named field).
 */
int event_public_register(struct kctx *ctx, int64_t id, json_t *in,
                          enum event_pub_outcome *outcome);

#endif
