/*
 * Advisory and customer-service records (E-02 … E-04) and service statistics (E-05). A
 * record is a person_records row of a declared record type (so the retention rules and the
 * customer-event clock treat it like any other record) with content: a JSON object whose
 * members are allowed per record type by a table in service.c, each with its type and
 * whether it is required. Every change keeps member-by-member history; every read and change
 * is in the usage log. Making a record also counts it in the service statistics, which hold
 * no personal data and so stay when the record and its person go.
 */
#ifndef KORTISTO_SERVICE_H
#define KORTISTO_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct buf;
struct kctx;

/*
 * Makes a record about person `person_id` of `rid` from `in` = {type, on, data}: `type` a
 * record type the register declares and service.c has content for, `on` the day (YYYY-MM-DD,
 * not after today; absent: today), `data` the content. A type declared customer_event: true
 * moves the person's last_customer_event. *id gets the record's id. An editor of `rid` or
 * the operator; a restricted or passivated person only by a manager. KERR_FORBIDDEN,
 * KERR_NOTFOUND (register, person, organisation_id), KERR_REFUSED (type not declared or
 * without content, person restricted), KERR_INVALID (an unknown, missing or bad member,
 * named).
 */
int service_record_add(struct kctx *ctx, const char *rid, int64_t person_id, json_t *in,
                       int64_t *id);

/* The records with content of person `person_id`, as {person, items: [record…]} in the
 * order they were made; *out is the caller's. A viewer of `rid` or the operator; logged as a
 * read concerning the person. KERR_NOTFOUND, KERR_REFUSED (person restricted). */
int service_record_list(struct kctx *ctx, const char *rid, int64_t person_id, json_t **out);

/*
 * The records of `rid` whose content names organisation `org_id` (job offers, introductions
 * to the employer, its open positions), of record type `type` (NULL: any of them), oldest
 * first: *out = {organisation, items: [record]}. Restricted and passivated persons' records
 * are left out below manager. A viewer; logged as a read of the persons whose records are
 * shown. KERR_NOTFOUND (organisation), KERR_INVALID (a type whose content names no
 * organisation).
 */
int service_records_of_org(struct kctx *ctx, const char *rid, int64_t org_id, const char *type,
                           json_t **out);

/* Record `id` of `rid` as {id, register, person_id, type, on, created_at, created_by,
 * updated_at, updated_by, version, data} and with `history` its changes [{member, old, new,
 * actor, at}]; *out is the caller's. Same rights and errors as service_record_list. */
int service_record_get(struct kctx *ctx, const char *rid, int64_t id, bool history, json_t **out);

/* Appends appointment record `id` of `rid` to `out` as an iCalendar object (RFC 5545) with
 * one VEVENT: UID record-ID@RID.kortisto (stable through changes; SEQUENCE counts them),
 * DTSTART and DTEND from data.start and data.end in UTC, SUMMARY from topic, LOCATION from
 * place or else channel, STATUS:CANCELLED for a cancelled one. Same rights, errors and usage
 * log as service_record_get; KERR_REFUSED (field "type", named) for a record of another
 * type. */
int service_record_ics(struct kctx *ctx, const char *rid, int64_t id, struct buf *out);

/* Appends all appointment records of person `person_id` to `out` as one iCalendar object,
 * a VEVENT each as service_record_ics writes it (none: a calendar without events). Same
 * rights, errors and usage log as service_record_list. */
int service_person_ics(struct kctx *ctx, const char *rid, int64_t person_id, struct buf *out);

/* Applies `patch` = {data: {member: value | null}} (a JSON merge patch of the content; null
 * removes an optional member) to record `id`, keeping each changed member's old and new
 * value in its history. An editor; errors as service_record_add. */
int service_record_change(struct kctx *ctx, const char *rid, int64_t id, json_t *patch);

/* Deletes record `id` with its content and history. The statistics keep their count. An
 * editor; KERR_NOTFOUND, KERR_REFUSED (person restricted). */
int service_record_delete(struct kctx *ctx, const char *rid, int64_t id);

/* The service statistics of `rid` for months `from` … `to` (YYYY-MM, each may be NULL: no
 * bound) as {register, from, to, rows: [{period, service, channel, municipality, count}]};
 * *out is the caller's. No personal data, so nothing is logged. A viewer of `rid` or the
 * operator. KERR_INVALID (a bad month). */
int service_stats(struct kctx *ctx, const char *rid, const char *from, const char *to,
                  json_t **out);

/* The record types that have content, with their members, as a JSON array [{type, members:
 * [{name, type, required, choices}]}] the caller owns (for --help and the documentation). */
json_t *service_schema(void);

#endif
