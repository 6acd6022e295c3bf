/*
 * The data subject's copy of their data: the access export (GDPR Art. 15, R-01) of everything
 * one register holds about a person, and the portability export (Art. 20, R-10) of what the
 * person provided themselves, as one JSON document; its CSV form; and a readable letter in
 * Finnish, Swedish or English with the Art. 15(1)(a)–(h) information from the declaration.
 * The request workflow calls these when it fulfils a request. Only a manager of the register
 * or the operator may export, and every export is a logged read of personal data (S-04).
 */
#ifndef KORTISTO_EXPORT_H
#define KORTISTO_EXPORT_H

#include <jansson.h>
#include <stdint.h>

#include "decl/decl.h"
#include "util/buf.h"

struct kctx;

enum export_flags {
	EXPORT_PORTABLE = 1 << 0, /* Art. 20: only what the subject provided, for processing on
	                           * consent or contract */
};

/* The purpose an export is logged with when the caller gave none (ctx->purpose NULL): it
 * serves the subject's own request, not a purpose the register declares. */
#define EXPORT_PURPOSE "data_subject_request"

/*
 * Everything register `rid` holds about person `person_id`, as a new JSON object the caller
 * owns (*out; NULL on error):
 *
 *   {format: "kortisto-export/1", kind: "access"|"portability",
 *    register: {id, name, version}, generated_at,
 *    subject: {id, names: {first_name, last_name}, subject_group: {id, name},
 *              legal_basis: {basis, article, text}, source: {id, kind}, status, created_at,
 *              updated_at, last_customer_event,
 *              attributes: [{field, label, category, value, sensitive, source}]},
 *    contact_points: [{kind, field, label, value, source, collected_at, collected_by}],
 *    affiliations: [{id, organisation: {id, name, ytunnus, department}, title, start_date,
 *                    end_date, end_reason}],
 *    change_history: [{at, entity, entity_id, field, old, new, actor, reason}],
 *    consents: [{id, purpose, channel, text, text_version, given_at,
 *                source: {kind, form, client, recorded_by}, state, expires_at, confirmed_at,
 *                withdrawn_at, withdrawn_how, withdrawn_by}],
 *    subscriptions: [{list: {id, slug, name, purpose}, since, ended_at, ended_how}],
 *    marketing_bans: [{channel, since, source}],
 *    records: [{id, type, name, on, data?, updated_at?,
 *               history?: [{member, old, new, actor, at}]}],
 *    requests: [{id, type, channel, received_at, due_on, extended_to, extension_reason,
 *                subject_told_at, state, verification: {method, at}|null,
 *                assessment: {kind, fee_cents}|null, refusal_reason, closed_at,
 *                identification, details, steps: [{at, action, actor}]}],
 *    mailings: [{id, subject, purpose, state, sent_at, opens: [at]}],
 *    event_registrations: [{event: {id, title, format, place, url, starts_at, ends_at,
 *                                   co_organiser: {id, name}|null}, registered_on, consents}],
 *    event_attendance: [{event: {id, title}, session: {id, title, starts_at, ends_at, place,
 *                                                      url}}],
 *    event_meetings: [{event: {id, title}, id, starts_at, ends_at, place}],
 *    event_chat_messages: [{event: {id, title}, session: {id, title}, at, text}],
 *    disclosures: [{id, at, recipient: {id, name}, purpose, legal_basis,
 *                   categories: [{id, name}]}],
 *    usage_log: [{at, actor, action, purpose}]}
 *
 * An access request that covers the controller's other registers (core/request.h) adds
 * other_registers: [{register, included, export}] to this document; the letter gives each of
 * them a section of its own.
 *
 * Requests leave out the notes of their steps (the handlers' working notes, which never hold
 * the subject's data) and their outcome (not personal data); meetings leave out the other
 * parties, and the chat has only the subject's own messages (the others' are other people's
 * data, Art. 15(4)).
 *
 * Labels and names are the declaration's Finnish texts; ids are kept so a letter can use
 * another language. The henkilötunnus and sensitive attributes are given in full: this is
 * the subject's own copy. Values the change history holds masked stay masked.
 *
 * With EXPORT_PORTABLE only data the subject provided is given (names, attributes and
 * contact points whose source the declaration marks `kind: subject`; their consents without
 * client, recorded_by, expires_at and withdrawn_by; subscriptions; event registrations
 * without the co-organiser; the messages they wrote in the chat of virtual sessions),
 * without status, dates, affiliations, history, bans, records, requests, mailings,
 * attendance, meetings, disclosures or the usage log; KERR_REFUSED (field "legal_basis")
 * when the subject is processed on a basis other than a (consent) or b (contract).
 *
 * Only the operator, a manager of `rid` or the self-service actor (core/selfservice.h, the
 * subject themselves after opening a mailed link) may export (KERR_FORBIDDEN otherwise).
 * The export
 * is logged as action "export" on the person (reason "access" or "portability") with
 * ctx->purpose, which is set to EXPORT_PURPOSE when it is NULL; nothing is returned unless
 * the entry is logged. KERR_NOTFOUND with field "register" for an unknown register, with
 * field "person" when the register has no such person.
 */
int export_subject(struct kctx *ctx, const char *rid, int64_t person_id, unsigned flags,
                   json_t **out);

/*
 * Appends the names, attributes and contact points of export `export` (from export_subject,
 * normally a portable one) to `out` as CSV (RFC 4180, CRLF line ends, every field quoted):
 * a header row `section,field,value,source,collected_at`, then one row per value; then the
 * consents, subscriptions and event registrations, one row per member, the field named by
 * the element's place in its list and the member's path ("1.event.title"). A cell
 * beginning with =, +, - or @ is prefixed with an apostrophe so that a spreadsheet does not
 * run it as a formula. Returns 0, or KERR_INVALID (nothing appended) when `export` is not an
 * export document.
 */
int export_csv(const json_t *export, struct buf *out);

/*
 * Appends export `export` to `out` as a self-contained HTML letter in `lang`: the subject's
 * data in plain sections, labelled from the register's declaration in that language (Finnish
 * where it has none, marked), then the Art. 15(1)(a)–(h) information as the register's privacy
 * notice gives it: controller, purposes and legal bases, categories, sources, recipients,
 * transfers, retention, automated decisions, the rights and the complaint authority. An
 * access export with other_registers (core/request.h) then has one section per entry, under
 * a heading with that register's declared name: for an included one the data held there and
 * that register's own Art. 15 information (all but the controller, which is the same),
 * labelled from its declaration, its headings one level down and its ids prefixed with
 * "register-RID-"; for one not included, a paragraph saying that its manager answers for it
 * separately. Every text goes through the escaping writers. Reads only the declarations, so
 * it logs nothing. Returns 0, KERR_INVALID (not an export document, or an entry of
 * other_registers without a register or, included, without that register's export) or
 * KERR_NOTFOUND (field "register": a register is gone); nothing is appended on error.
 */
int export_letter(struct kctx *ctx, const json_t *export, enum lang lang, struct buf *out);

/* The language the subject of `export` deals in: their attribute `language` when it is fi,
 * sv or en (as an enum lang), else -1. The letter is written in it unless asked otherwise. */
int export_subject_lang(const json_t *export);

#endif
